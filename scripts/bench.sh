#!/usr/bin/env bash
# Benchmark the patched Wasmtime against the pristine base, in one run.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
  cat <<USAGE
Usage: scripts/bench.sh [--reps N] [--scale N] [--no-callgrind] [--smoke]

Builds crates/bench twice in release mode, against the patched tree
(work/wasmtime) and against the pristine base (work/base, through a cargo
--config override of [patch.crates-io]), runs every case alternately on the
two builds, and writes BENCHMARKS.md and benchmarks.png (cost per task
against live tasks) at the top of the project. Instruction counts come from
valgrind's callgrind (installed from Debian's packages when missing).

Cases: host and guest calls, 1 to 10 000 live tasks, the poll (bench-poll,
patched build only), peak RSS, and HTTP requests through wasmtime-wasi-http's
ProxyHandler over loopback (the pristine build also uses the pristine
wasi-http crate).

Takes about 45 minutes on 2 cores from scratch: the two release builds take
about 18 minutes, callgrind most of the rest.

Options:
  --reps N        repetitions per case (default 11)
  --scale N       multiply the operations per run (default 1)
  --no-callgrind  skip the instruction counts
  --smoke         only run every case once, tiny, on a debug build (what
                  scripts/test.sh does through cargo test)
  -h, --help      show this help
USAGE
}

reps=11
scale=1
callgrind=(--callgrind)
smoke=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --reps | --scale)
      [[ $# -ge 2 && "$2" =~ ^[0-9]+$ ]] || die "$1 takes a whole number"
      [[ "$1" == --reps ]] && reps="$2" || scale="$2"
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
  --reps "$reps" --scale "$scale" "${callgrind[@]}" \
  --out "$ROOT/BENCHMARKS.md" --plot "$ROOT/benchmarks.png"
cat "$ROOT/BENCHMARKS.md"
