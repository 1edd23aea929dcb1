#!/usr/bin/env bash
# Build the `wasmtime` CLI of the patched tree (or of the pristine base), with
# only what `wasmtime serve` needs.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# The CLI features `wasmtime serve` needs for a WASIp3 component: the command
# itself, `run` (its options and WASI context), the component-model async ABI
# (`-Wcomponent-model-async`, `-Sp3`), Cranelift to compile the guest, the
# pooling allocator, which `serve` uses by default where the host allows it,
# and logging (`WASMTIME_LOG`), through which `serve` reports every instance
# it drops.
FEATURES="run,serve,component-model-async,cranelift,pooling-allocator,logging"
TARGET="$ROOT/target/cli"

usage() {
  cat <<USAGE
Usage: scripts/build-cli.sh [--pristine | --cli-src DIR]

Builds the 'wasmtime' binary of the wasmtime-cli package that sits at the
root of work/wasmtime (the patched tree), against the Wasmtime crates of that
same tree, with --no-default-features --features $FEATURES.
Prints the path of the binary on stdout; everything else goes to stderr.

The package is built from $TARGET/src-<side>: a manifest that adds
[workspace] and a [patch.crates-io] section pointing wasmtime and
wasmtime-wasi-http at the tree, next to links to the tree's sources, so that
neither the tree nor the project's workspace is touched. Both sides share
the target directory $TARGET (the registry dependencies are built once);
the binary is linked to $TARGET/<side>/wasmtime.

Runs scripts/apply.sh first if the tree is missing.

Options:
  --pristine  build the same from work/base, without the series
  --cli-src DIR
              build the CLI package's own sources (src/, build.rs) from DIR,
              a copy of the patched tree with changes of its own there
              (scripts/mutants.sh), against the patched tree's crates; its
              side is "mutant", and only the wasmtime-cli package is rebuilt
  -h, --help  show this help
USAGE
}

side="patched"
tree="$PATCHED_TREE"
cli_src=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --pristine)
      side="pristine"
      tree="$BASE_TREE"
      ;;
    --cli-src)
      [[ $# -ge 2 ]] || die "--cli-src needs a directory"
      [[ -d "$2/src/commands" ]] || die "--cli-src: $2 has no src/commands"
      side="mutant"
      cli_src="$(cd "$2" && pwd)"
      shift
      ;;
    -h | --help)
      usage
      exit 0
      ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
  shift
done

[[ -d "$tree" ]] || "$ROOT/scripts/apply.sh"
[[ -f "$tree/Cargo.toml" && -d "$tree/src/commands" ]] ||
  die "$tree has no wasmtime-cli package at its root (is 'crate wasmtime-cli .' in patches/BASE?)"

src="$TARGET/src-$side"
mkdir -p "$src" "$TARGET/$side"

# Links to the sources, so that edits in the tree are seen as they are.
for f in build.rs src; do
  ln -sfn "${cli_src:-$tree}/$f" "$src/$f"
done
# The lock file as published, on the first build only: cargo then records the
# path dependencies in this copy.
[[ -f "$src/Cargo.lock" ]] || cp "$tree/Cargo.lock" "$src/Cargo.lock"
# The manifest, rewritten only when it changes so that cargo sees no change.
manifest=$(mktemp)
trap 'rm -f "$manifest"' EXIT
{
  cat "$tree/Cargo.toml"
  printf '\n# Added by scripts/build-cli.sh.\n[workspace]\n\n[patch.crates-io]\n'
  printf 'wasmtime = { path = "%s" }\n' "$tree/crates/wasmtime"
  printf 'wasmtime-wasi-http = { path = "%s" }\n' "$tree/crates/wasi-http"
} >"$manifest"
if ! cmp -s "$manifest" "$src/Cargo.toml"; then
  cp "$manifest" "$src/Cargo.toml"
fi

# The package has the same identity on every side (the root of a workspace of
# its own), so cargo keeps one fingerprint for it: after a build of another
# side, it could take the other side's binary for up to date. Rebuild the
# package itself whenever the side or its sources differ from the last build.
stamp="$TARGET/last-build"
this_build="$side ${cli_src:-$tree}"
if [[ -f "$stamp" && "$(cat "$stamp")" != "$this_build" ]]; then
  cargo clean --quiet --manifest-path "$src/Cargo.toml" --target-dir "$TARGET" -p wasmtime-cli >&2
fi
# Written first: a build that fails halfway still leaves this side's files.
printf '%s\n' "$this_build" >"$stamp"

note "build-cli: building the $side wasmtime CLI ($FEATURES)"
start=$(date +%s)
cargo build --manifest-path "$src/Cargo.toml" --target-dir "$TARGET" \
  --bin wasmtime --no-default-features --features "$FEATURES" \
  --config 'profile.dev.debug="line-tables-only"' >&2
note "build-cli: done in $(($(date +%s) - start))s"

# Both sides build into the same target directory, and to the same file: the
# package sits at the root of a workspace of its own on each side, so cargo
# names its binary alike, and the linker rewrites that file in place. Keep a
# copy of each side's binary, not a hard link that the next build rewrites.
bin="$TARGET/$side/wasmtime"
rm -f "$bin"
cp "$TARGET/debug/wasmtime" "$bin"
printf '%s\n' "$bin"
