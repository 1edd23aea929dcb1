#!/usr/bin/env bash
# Prove the conformance suite bites: every mutant of the series must fail it.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
  cat <<USAGE
Usage: scripts/mutants.sh [MUTANT...]

Each file in mutants/ is a small patch on top of the series that breaks one
thing (a count-down dropped on one exit path, a count-down at return instead
of exit, a double count-down, a waker never woken, ...). For each one this
script builds the patched Wasmtime with the mutant applied (in work/mutant,
through a cargo --config override of [patch.crates-io], so the real patched
tree is never touched) and runs the conformance scenarios. A mutant is
caught when at least one scenario fails, including by a panic or a debug
assertion inside Wasmtime, which the test harness reports as a failure.

Exits non-zero unless every mutant is caught. With MUTANT names (file names
with or without .patch), runs only those.

Each mutant rebuilds the wasmtime crate: about 2-3 minutes each on 2 cores.
USAGE
}

mutants=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    -h | --help)
      usage
      exit 0
      ;;
    -*) die "unknown argument '$1' (see --help)" ;;
    *)
      m="${1%.patch}.patch"
      [[ -f "$ROOT/mutants/$m" ]] || die "no mutant mutants/$m"
      mutants+=("$ROOT/mutants/$m")
      ;;
  esac
  shift
done
if [[ ${#mutants[@]} -eq 0 ]]; then
  mutants=("$ROOT"/mutants/*.patch)
fi
[[ -f "${mutants[0]}" ]] || die "no mutants in mutants/"
[[ -d "$PATCHED_TREE" ]] || die "no patched tree at $PATCHED_TREE (run scripts/apply.sh first)"

tree="$WORK/mutant"
caught=0
missed=()
for m in "${mutants[@]}"; do
  name=$(basename "$m" .patch)
  rm -rf "$tree"
  g clone --quiet "$PATCHED_TREE" "$tree"
  g -C "$tree" apply "$m" || die "mutant $name does not apply to the series"
  note "==> mutant $name"
  this=1
  for suite in scenarios generated; do
    log=$(mktemp)
    # Shrinking a failing generated plan is for humans; here the first
    # failing seed is enough.
    if (cd "$ROOT" && CONFORMANCE_NO_SHRINK=1 cargo test --quiet -p conformance --test "$suite" \
      --config "patch.crates-io.wasmtime.path=\"$tree/crates/wasmtime\"" >"$log" 2>&1); then
      note "    $suite: NOT caught, every test passed"
      this=0
    else
      if ! grep -q '^test result: FAILED' "$log"; then
        sed 's/^/    /' "$log" | tail -n 20 >&2
        rm -f "$log"
        die "mutant $name: the $suite suite did not run (build failure?)"
      fi
      if [[ "$suite" == scenarios ]]; then
        failed=$(sed -n 's/^---- \(.*\) stdout ----$/\1/p' "$log")
        note "    scenarios: caught by $(wc -l <<<"$failed"): $(paste -sd' ' <<<"$failed")"
      else
        note "    generated: caught by $(grep -o 'seed [0-9]* fails' "$log" | head -n 1 || echo "a panic")"
      fi
    fi
    rm -f "$log"
  done
  if [[ "$this" -eq 1 ]]; then
    caught=$((caught + 1))
  else
    missed+=("$name")
  fi
done
rm -rf "$tree"

note "mutants: ${#mutants[@]} run, $caught caught"
if [[ ${#missed[@]} -gt 0 ]]; then
  die "mutants not caught: ${missed[*]}"
fi
