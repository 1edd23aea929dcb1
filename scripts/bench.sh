#!/usr/bin/env bash
# Benchmark the patched Wasmtime against the pristine base, in one run.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
  cat <<USAGE
Usage: scripts/bench.sh [--reps N] [--pairs N] [--scale X] [--no-callgrind] [--smoke]

Builds crates/bench twice in release mode, against the patched tree
(work/wasmtime) and against the pristine base (work/base, through a cargo
--config override of [patch.crates-io]), runs every case on the two builds
side by side, alternating short batches between a patched and a pristine
process, and writes BENCHMARKS.md and benchmarks.png (cost per task against
live tasks) at the top of the project. Instruction counts come from
valgrind's callgrind (installed from Debian's packages when missing).

Cases: host and guest calls, 1 to 10 000 live tasks, the poll (bench-poll,
patched build only), peak RSS, and HTTP requests through wasmtime-wasi-http's
ProxyHandler over loopback (the pristine build also uses the pristine
wasi-http crate).

Takes about 35 minutes on 2 cores from scratch: the two release builds take
about 18 minutes, callgrind about 10, the timed cases about 6.

Options:
  --reps N        process pairs per case (default 6)
  --pairs N       batch pairs per process pair (default 40)
  --scale X       multiply the operations per batch (default 1; may be a
                  fraction)
  --no-callgrind  skip the instruction counts
  --smoke         only run the comparison tiny, on a debug build, with the
                  patched binary standing in for both (what scripts/test.sh
                  does through cargo test)
  -h, --help      show this help
USAGE
}

reps=6
pairs=40
scale=1
callgrind=(--callgrind)
smoke=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --reps | --pairs)
      [[ $# -ge 2 && "$2" =~ ^[1-9][0-9]*$ ]] || die "$1 takes a positive whole number"
      [[ "$1" == --reps ]] && reps="$2" || pairs="$2"
      shift 2
      ;;
    --scale)
      [[ $# -ge 2 && "$2" =~ ^[0-9]*\.?[0-9]+$ ]] || die "--scale takes a positive number"
      scale="$2"
      shift 2
      ;;
    --no-callgrind)
      callgrind=()
      shift
      ;;
    --smoke)
      smoke=1
      shift
      ;;
    -h | --help)
      usage
      exit 0
      ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
done

cd "$ROOT"
"$ROOT/scripts/apply.sh"
if [[ "$smoke" -eq 1 ]]; then
  cargo run --quiet -p bench -- smoke
  exit 0
fi

[[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ]] || install_deb fonts-dejavu-core
if [[ ${#callgrind[@]} -gt 0 ]] && ! command -v valgrind >/dev/null 2>&1; then
  install_deb valgrind
fi

note "bench: building against the patched tree"
cargo build --quiet --release -p bench
note "bench: building against the pristine base"
cargo build --quiet --release -p bench --no-default-features \
  --config "patch.crates-io.wasmtime.path=\"$BASE_TREE/crates/wasmtime\"" \
  --config "patch.crates-io.wasmtime-wasi-http.path=\"$BASE_TREE/crates/wasi-http\"" \
  --target-dir "$ROOT/target/pristine"

"$ROOT/target/release/bench" compare --pristine "$ROOT/target/pristine/release/bench" \
  --reps "$reps" --pairs "$pairs" --scale "$scale" "${callgrind[@]}" \
  --out "$ROOT/BENCHMARKS.md" --plot "$ROOT/benchmarks.png"
cat "$ROOT/BENCHMARKS.md"
