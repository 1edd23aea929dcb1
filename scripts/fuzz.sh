#!/usr/bin/env bash
# Long runs of the generated conformance scenarios.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
  cat <<USAGE
Usage: scripts/fuzz.sh [--backend NAME | --http] [--seconds N] [--seeds N] [--start SEED]

Generates random component graphs and host scripts from consecutive seeds,
runs each against a backend's Wasmtime (debug assertions on) and checks the
count, the poll and the waker after every host action against the reference
model (crates/conformance/src/generate.rs). Stops at the first failing seed,
shrinks it and writes it to target/fuzz-failures/NAME/seed-N.wast, a
scenario file ready to go into tests/scenarios/ as a regression test.

With --http, runs the randomized schedules of ProxyHandler's queue instead
(crates/http-host/tests/host/schedule.rs): every seed's schedule on a paused
clock, every rule checked after it; the failing seeds are shrunk and printed
as tests to paste into that file.

Builds with the 'fuzz' profile (optimised, debug assertions on; the first
build takes several minutes), or the debug profile with --debug.

Options:
  --backend NAME  a backend of scripts/conformance.sh (default: the
                  patched Wasmtime, the first of them)
  --http       the schedules of ProxyHandler's queue
  --debug      use the (already built) debug profile instead
  --seconds N  stop after N seconds (default 60)
  --seeds N    stop after N seeds
  --start S    first seed (default: taken from the clock and printed)
  -h, --help   show this help
USAGE
}

args=()
profile=fuzz
backend=
http=0
seconds=
seeds=
start=
while [[ $# -gt 0 ]]; do
  case "$1" in
    --http)
      http=1
      shift
      ;;
    --debug)
      profile=dev
      shift
      ;;
    --backend)
      [[ $# -ge 2 ]] || die "--backend needs a value"
      backend="$2"
      shift 2
      ;;
    --seconds | --seeds | --start)
      [[ $# -ge 2 ]] || die "$1 needs a value"
      [[ "$2" =~ ^[0-9]+$ ]] || die "$1 takes a whole number, not '$2'"
      args+=("$1" "$2")
      case "$1" in
        --seconds) seconds="$2" ;;
        --seeds) seeds="$2" ;;
        --start) start="$2" ;;
      esac
      shift 2
      ;;
    -h | --help)
      usage
      exit 0
      ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
done

[[ -d "$PATCHED_TREE" ]] || die "no patched tree at $PATCHED_TREE (run scripts/apply.sh first; every backend builds in the workspace)"
cd "$ROOT"
if [[ "$http" -eq 1 ]]; then
  [[ -z "$backend" ]] || die "--http and --backend go separately"
  start="${start:-$(date +%s)}"
  # As for the scenarios: 60 seconds unless a number of seeds is asked for.
  if [[ -z "$seconds" && -z "$seeds" ]]; then seconds=60; fi
  note "fuzz: HTTP schedules from seed $start"
  HTTP_SCHEDULE_START="$start" HTTP_SCHEDULE_SEEDS="${seeds:-1000000000}" \
    HTTP_SCHEDULE_SECONDS="${seconds:-0}" \
    cargo test --quiet --profile "$profile" -p http-host --test host \
    schedule::generated_schedules_keep_the_rules -- --exact --nocapture
  exit
fi
backends="$(conformance_backends)"
backend="${backend:-$(awk 'NR == 1 { print $1 }' <<<"$backends")}"
check_backend "$backend" "$backends"
read -r _ package _ bin < <(awk -v b="$backend" '$1 == b' <<<"$backends")
cargo run --quiet --profile "$profile" -p "$package" --bin "$bin" -- \
  --out "$ROOT/target/fuzz-failures" "${args[@]}"
