#!/usr/bin/env bash
# Benchmark the patched Wasmtime against the pristine base, in one run.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

LOAD_FLAGS=(-Wcomponent-model-async "-Sp3,cli" --max-instance-reuse-count=1
  -Opooling-allocator=y)
# The load configurations: "pool-size clients" (the pool of component
# instances, the keep-alive clients). The second has far more clients than
# instances, so that most requests wait for room.
LOAD_CONFIGS=("12 8" "4 32")
LOAD_SECONDS=6

usage() {
  cat <<USAGE
Usage: scripts/bench.sh [--layouts N] [--reps N] [--pairs N] [--scale X] [--no-callgrind] [--smoke]

Builds crates/bench twice in release mode, against the patched tree
(work/wasmtime) and against the pristine base (work/base, through a cargo
--config override of [patch.crates-io]), runs every case on the two builds
side by side, alternating short batches between a patched and a pristine
process, and writes the report docs/benchmarks/BENCHMARKS.md and the plot
docs/benchmarks/benchmarks.png (cost per task against live tasks).
Instruction counts come from valgrind's callgrind (installed from Debian's
packages when missing).

Cases: host and guest calls, 1 to 10 000 live tasks, the poll (bench-poll,
patched build only), peak RSS, and HTTP requests through wasmtime-wasi-http's
ProxyHandler over loopback (the pristine build also uses the pristine
wasi-http crate).

Takes about 40 minutes on 2 cores from scratch: the two release builds take
about 18 minutes, callgrind about 10, the layouts and the timed cases the rest.

Timings are taken over several code layouts of each build: besides the
default build, each is relinked with rust-lld's --shuffle-sections under
seeds 1..N into target/layouts, so that where the linker happens to put a
function does not masquerade as the cost of the series. The comparison also
runs a control, pristine in one layout against pristine in the next.

Options:
  --layouts N     code layouts per build (default 8)
  --reps N        process pairs per case (default 40)
  --pairs N       batch pairs per process pair (default 6)
  --scale X       multiply the operations per batch (default 1; may be a
                  fraction)
  --no-callgrind  skip the instruction counts
  --smoke         only run the comparison tiny, on a debug build, with the
                  patched binary standing in for both (what scripts/test.sh
                  does through cargo test)
  --load          only run the load case (below) and update its section of
                  docs/benchmarks/BENCHMARKS.md

The load case (also run last by a full run): the pristine and the patched
wasmtime serve (scripts/build-cli.sh, debug builds) in turn, each with
$(printf '%s' "${LOAD_FLAGS[*]}") and
-Opooling-total-component-instances=P, serving the post-response guest
(about 100 ms of work after each response) to C keep-alive clients for
${LOAD_SECONDS}s on loopback (crates/http-e2e/src/bin/load.rs), for each
"P C" of $(printf '"%s" ' "${LOAD_CONFIGS[@]}")(P=4 with 32 clients: most requests
wait for room): requests/s, p50 and p99 latency, peak live instances, failed
requests and post-response lines lost.
  -h, --help      show this help
USAGE
}

layouts=8
load_only=0
reps=40
pairs=6
scale=1
callgrind=(--callgrind)
smoke=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --layouts | --reps | --pairs)
      [[ $# -ge 2 && "$2" =~ ^[1-9][0-9]*$ ]] || die "$1 takes a positive whole number"
      case "$1" in
        --layouts) layouts="$2" ;;
        --reps) reps="$2" ;;
        *) pairs="$2" ;;
      esac
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
    --load)
      load_only=1
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

report="$ROOT/docs/benchmarks/BENCHMARKS.md"
# `load_case`: runs the load case on both CLIs and puts its section at the end
# of the report, in place of the one there.
load_case() {
  local pristine patched dir section config pool clients cli label
  pristine=$("$ROOT/scripts/build-cli.sh" --pristine)
  patched=$("$ROOT/scripts/build-cli.sh")
  cargo build --quiet -p http-e2e --bin load
  dir=$(mktemp -d)
  cargo run --quiet -p http-guests --bin write-guests -- "$dir" >/dev/null
  section="$dir/load.md"
  {
    echo "<!-- load case: scripts/bench.sh --load -->"
    echo "## Under load: a full instance pool"
    echo
    echo "\`wasmtime serve ${LOAD_FLAGS[*]} -Opooling-total-component-instances=P\` (debug builds"
    echo "of both CLIs), the \`post_response\` guest (about 100 ms of work after each response),"
    echo "C keep-alive clients for ${LOAD_SECONDS} s on loopback, one CLI after the other"
    echo "($(date -u +%Y-%m-%d), \`scripts/bench.sh --load\`). Lines lost: 200 responses whose"
    echo "post-response line never reached the server's stdout. Peak live instances come from"
    echo "the patched server's report lines, counting each from the creation of its store (a"
    echo "store set up while a slot of the pool frees counts too); the pristine one logs none."
    echo
    echo "| CLI, pool P, clients C | requests/s | p50 ms | p99 ms | peak live instances | failed | lines lost |"
    echo "| --- | --- | --- | --- | --- | --- | --- |"
    for config in "${LOAD_CONFIGS[@]}"; do
      read -r pool clients <<<"$config"
      for cli in pristine patched; do
        label="$cli, P=$pool, C=$clients"
        if [[ "$cli" == pristine ]]; then cli="$pristine"; else cli="$patched"; fi
        "$ROOT/target/debug/load" --cli "$cli" --guest "$dir/post-response.wasm" \
          --clients "$clients" --seconds "$LOAD_SECONDS" --label "$label" -- \
          "${LOAD_FLAGS[@]}" "-Opooling-total-component-instances=$pool"
      done
    done
  } >"$section"
  [[ -f "$report" ]] || die "no $report to add the load case to (run a full scripts/bench.sh)"
  sed -i '/^<!-- load case: scripts\/bench.sh --load -->$/,$d' "$report"
  cat "$section" >>"$report"
  cat "$section"
  rm -rf "$dir"
}
if [[ "$load_only" -eq 1 ]]; then
  load_case
  exit 0
fi

[[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ]] || install_deb fonts-dejavu-core
if [[ ${#callgrind[@]} -gt 0 ]] && ! command -v valgrind >/dev/null 2>&1; then
  install_deb valgrind
fi

pristine_config=(
  --config "patch.crates-io.wasmtime.path=\"$BASE_TREE/crates/wasmtime\""
  --config "patch.crates-io.wasmtime-wasi-http.path=\"$BASE_TREE/crates/wasi-http\""
  --target-dir "$ROOT/target/pristine"
)

# The code layouts: the bench binary of each build relinked by rust-lld with
# its sections (one per function) shuffled.
host="$(rustc -vV | sed -n 's/^host: //p')"
gcc_ld="$(rustc --print sysroot)/lib/rustlib/$host/bin/gcc-ld"
[[ -x "$gcc_ld/ld.lld" ]] || die "no rust-lld in the Rust toolchain (looked for $gcc_ld/ld.lld)"
rm -rf "$ROOT/target/layouts"
mkdir -p "$ROOT/target/layouts"
note "bench: linking $layouts code layouts of each build"
for k in $(seq 1 "$layouts"); do
  link=(-C "link-arg=-B$gcc_ld" -C link-arg=-fuse-ld=lld -C "link-arg=-Wl,--shuffle-sections=*=$k")
  cargo rustc --quiet --release -p bench --bin bench -- "${link[@]}"
  cp "$ROOT/target/release/bench" "$ROOT/target/layouts/patched-$k"
  cargo rustc --quiet --release -p bench --bin bench --no-default-features "${pristine_config[@]}" \
    -- "${link[@]}"
  cp "$ROOT/target/pristine/release/bench" "$ROOT/target/layouts/pristine-$k"
done

# Last, the default builds: instruction counts, memory and the poll cases.
note "bench: building against the patched tree"
cargo build --quiet --release -p bench
note "bench: building against the pristine base"
cargo build --quiet --release -p bench --no-default-features "${pristine_config[@]}"

"$ROOT/target/release/bench" compare --pristine "$ROOT/target/pristine/release/bench" \
  --layouts "$ROOT/target/layouts" --reps "$reps" --pairs "$pairs" --scale "$scale" \
  "${callgrind[@]}" --out "$report" --plot "$ROOT/docs/benchmarks/benchmarks.png"
load_case >/dev/null
cat "$report"
