#!/usr/bin/env bash
# The conformance suite on the patched Wasmtime and on upstream releases.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
  cat <<USAGE
Usage: scripts/conformance.sh [--backend NAME]... [--seeds N] [--start S]

Runs every scenario in tests/scenarios/ and N generated seeds (S..S+N) on
each backend named, with the same runner, generator and model: the patched
Wasmtime and upstream releases (see CONFORMANCE.md; 'cargo run -p
conformance --no-default-features --bin backends' lists them). All of them
by default. Prints one line per scenario and per failing seed,
then 'NAME: summary: N passed, N failed' for each backend, and exits
non-zero on any unexpected result. A scenario expected to fail on a backend
('(fails-on ...)', with the reason) counts as passed when it fails so.
Failing seeds are shrunk into target/conformance-failures/NAME/. Each
backend's output is also kept in target/conformance/NAME.log.

Prepares the base and applies the series first if needed: the workspace
builds against the patched tree whichever backend runs. Builds what
'cargo test --workspace' builds (after it, nothing), then runs the backends'
runner binaries.

Options:
  --backend NAME  run on NAME (repeatable; default: all)
  --seeds N       generated seeds per backend (default 100)
  --start S       first seed (default 1000)
  -h, --help      show this help
USAGE
}

selected=()
seeds=100
start=1000
while [[ $# -gt 0 ]]; do
  case "$1" in
    --backend)
      [[ $# -ge 2 ]] || die "--backend needs a value"
      selected+=("$2")
      shift 2
      ;;
    --seeds | --start)
      [[ $# -ge 2 ]] || die "$1 needs a value"
      [[ "$2" =~ ^[0-9]+$ ]] || die "$1 takes a whole number, not '$2'"
      if [[ "$1" == --seeds ]]; then seeds="$2"; else start="$2"; fi
      shift 2
      ;;
    -h | --help)
      usage
      exit 0
      ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
done

[[ -d "$PATCHED_TREE" ]] || "$ROOT/scripts/apply.sh"
cd "$ROOT"
backends="$(conformance_backends)"
for b in "${selected[@]}"; do
  check_backend "$b" "$backends"
done
[[ ${#selected[@]} -gt 0 ]] || mapfile -t selected < <(awk '{ print $1 }' <<<"$backends")

# The backend's runner binary.
bin_of() {
  awk -v b="$1" '$1 == b { print $3 }' <<<"$backends"
}
# Built exactly as 'cargo test --workspace' builds them: selecting only some
# test targets would unify the crates' features differently and build every
# Wasmtime a second time, so inside scripts/test.sh nothing is built here.
cargo test --workspace --no-run --quiet

target_dir="${CARGO_TARGET_DIR:-$ROOT/target}"
mkdir -p "$target_dir/conformance"
rc=0
for b in "${selected[@]}"; do
  log="$target_dir/conformance/$b.log"
  if ! RUST_BACKTRACE=0 "$target_dir/debug/$(bin_of "$b")" --seeds "$seeds" --start "$start" \
    --out "$target_dir/conformance-failures/$b" "$ROOT/tests/scenarios" 2>&1 | tee "$log"; then
    rc=1
  fi
done
for b in "${selected[@]}"; do
  grep -h ': summary: ' "$target_dir/conformance/$b.log" || echo "$b: summary: no result"
done
exit "$rc"
