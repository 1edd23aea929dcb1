#!/usr/bin/env bash
# The conformance suite on the patched Wasmtime and on upstream releases.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
  cat <<USAGE
Usage: scripts/conformance.sh [--backend NAME]... [--seeds N] [--start S]

Runs every scenario in tests/scenarios/ and N generated seeds (S..S+N) on
each backend named, with the same runner, generator and model:

  patched      Wasmtime 44.0.3 with the series (work/wasmtime)
  upstream-45  wasmtime 45.0.3 from the crates registry
  upstream-48  wasmtime 48.0.8 from the crates registry

All three by default. Prints one line per scenario and per failing seed,
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
  --backend NAME  run on NAME (repeatable; default: all three)
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
      [[ " ${CONFORMANCE_BACKENDS[*]} " == *" $2 "* ]] || die "unknown backend '$2' (known: ${CONFORMANCE_BACKENDS[*]})"
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
[[ ${#selected[@]} -gt 0 ]] || selected=("${CONFORMANCE_BACKENDS[@]}")

# The backend's runner binary.
bin_of() {
  case "$1" in
    patched) echo conformance ;;
    upstream-*) echo "conformance-$1" ;;
  esac
}

[[ -d "$PATCHED_TREE" ]] || "$ROOT/scripts/apply.sh"
cd "$ROOT"
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
