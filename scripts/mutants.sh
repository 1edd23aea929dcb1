#!/usr/bin/env bash
# Prove the test suites bite: every mutant of the series must fail them.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
  cat <<USAGE
Usage: scripts/mutants.sh [MUTANT...]

Each file in mutants/ is a small patch on top of the series that breaks one
thing (a count-down dropped on one exit path, a waker never woken, the
post-return budget ignored, the shutdown guard missing, ...). For each one
this script applies it to a copy of the patched tree (work/mutant, reset
between mutants; the real patched tree is never touched), builds against
that copy through cargo --config overrides of [patch.crates-io], and runs the
suites the mutant names. A mutant is caught by a suite when at least one of
its tests fails, a panic or a debug assertion inside Wasmtime included.

The suites, named in a "Suites:" line before the diff (default: scenarios
generated):

  scenarios   the conformance scenarios (cargo test -p conformance --test scenarios)
  generated   the generated seeds (cargo test -p conformance --test generated)
  http-host   the ProxyHandler tests, the schedules included
              (cargo test -p http-host --test host)
  http-e2e    the wasmtime serve tests, against the mutant's CLI
              (scripts/build-cli.sh --cli-src work/mutant); such a mutant
              touches only the CLI's own sources (src/); a wait for the
              server gives up after 15 s (HTTP_E2E_BOUND_SECS) instead of 60
  reproducers the standalone .wast reproducers on the patched backend
              (cargo test --manifest-path crates/upstream-reproducers/Cargo.toml);
              each runs in a process of its own, so one that aborts is a
              named failure

A "Breaks:" line says which rule the mutant breaks, and is printed with
its verdict. A "Tests:" line names the tests (filters of the test binary,
e.g. dispatch::request_after_shutdown, or a reproducer's
waitable-set-drop-with-stackful-waiter::patched) of the http-host,
http-e2e or reproducers suite that must catch the mutant; only those run. A "Why:" line says why a mutant is left to fewer suites. Exits non-zero
unless every suite named catches its mutant. With MUTANT names (file names
with or without .patch), runs only those.

A component mutant rebuilds the wasmtime crate (about a minute on 2 cores);
an http-e2e one rebuilds the CLI against the copy (several minutes the first
time, then only the wasmtime-cli package).
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

# Every mutant names known suites, before anything is built.
suites_of() {
  local line
  line=$(sed -n '/^diff --git /q; s/^Suites:[[:space:]]*//p' "$1")
  printf '%s\n' "${line:-scenarios generated}"
}
for m in "${mutants[@]}"; do
  for suite in $(suites_of "$m"); do
    case "$suite" in
      scenarios | generated | http-host | reproducers) ;;
      http-e2e)
        if git apply --numstat "$m" | cut -f3 | grep -qv '^src/'; then
          die "mutant $(basename "$m"): an http-e2e mutant may touch only src/"
        fi
        ;;
      *) die "mutant $(basename "$m"): unknown suite '$suite' (see --help)" ;;
    esac
  done
done

# One copy of the patched tree for all mutants, reset before each: only the
# files a mutant touches change. Only the crates a mutant touches are taken
# from the copy (the others stay those of the patched tree), so cargo
# rebuilds only them and what depends on them.
tree="$WORK/mutant"
rm -rf "$tree"
g clone --quiet "$PATCHED_TREE" "$tree"
overrides=()
set_overrides() {
  local files name path
  files=$(g -C "$tree" apply --numstat "$1" | cut -f3)
  overrides=()
  while read -r name path; do
    [[ "$path" != "." ]] || continue
    if grep -q "^$path/" <<<"$files"; then
      overrides+=(--config "patch.crates-io.$name.path=\"$tree/$path\"")
    fi
  done < <(base_crates)
}

# `run_suite SUITE LOG`: runs SUITE against the mutant tree; fails when a test
# fails. Every suite is selected from the whole workspace, so that cargo
# resolves the same features for all of them (and for `cargo test
# --workspace`) and builds each crate once per mutant.
run_suite() {
  local cli
  case "$1" in
    scenarios | generated)
      # Shrinking a failing generated plan is for humans; here the first
      # failing seed is enough.
      (cd "$ROOT" && CONFORMANCE_NO_SHRINK=1 cargo test --quiet --workspace --test "$1" \
        "${overrides[@]}") >"$2" 2>&1
      ;;
    http-host)
      (cd "$ROOT" && cargo test --quiet --workspace --test host \
        "${overrides[@]}" -- "${tests[@]}") >"$2" 2>&1
      ;;
    reproducers)
      # Its own workspace (see its Cargo.toml), in the same target directory
      # as scripts/test.sh builds it.
      (cd "$ROOT" && cargo test --quiet --manifest-path crates/upstream-reproducers/Cargo.toml \
        --target-dir "$ROOT/target" "${overrides[@]}" -- "${tests[@]}") >"$2" 2>&1
      ;;
    http-e2e)
      if ! cli=$("$ROOT/scripts/build-cli.sh" --cli-src "$tree" 2>"$2"); then
        return 2
      fi
      # A test that catches such a mutant often waits for something the
      # server never does; it gives up after 15 s instead of the usual 60.
      (cd "$ROOT" && WASMTIME_CLI="$cli" HTTP_E2E_BOUND_SECS=15 cargo test --quiet --workspace \
        --test serve --test serve_limits "${overrides[@]}" -- "${tests[@]}") >"$2" 2>&1
      ;;
  esac
}

caught=0
missed=()
for m in "${mutants[@]}"; do
  name=$(basename "$m" .patch)
  g -C "$tree" checkout --quiet -- .
  g -C "$tree" clean --quiet -fd
  set_overrides "$m"
  tests=()
  read -ra tests < <(sed -n '/^diff --git /q; s/^Tests:[[:space:]]*//p' "$m") || true
  g -C "$tree" apply "$m" || die "mutant $name does not apply to the series"
  note "==> mutant $name"
  t0=$(date +%s)
  breaks=$(sed -n '/^diff --git /q; s/^Breaks:[[:space:]]*//p' "$m")
  [[ -z "$breaks" ]] || note "    breaks: $breaks"
  this=1
  for suite in $(suites_of "$m"); do
    log=$(mktemp)
    if run_suite "$suite" "$log"; then
      note "    $suite: NOT caught, every test passed"
      this=0
    elif ! grep -q '^test result: FAILED' "$log"; then
      sed 's/^/    /' "$log" | tail -n 20 >&2
      rm -f "$log"
      die "mutant $name: the $suite suite did not run (build failure?)"
    elif [[ "$suite" == generated ]]; then
      note "    generated: caught by $(grep -o 'seed [0-9]* fails' "$log" | head -n 1 || echo "a panic")"
    else
      failed=$(sed -n 's/^---- \(.*\) stdout ----$/\1/p; t; s/^---- \(.*\) ----$/\1/p' "$log")
      note "    $suite: caught by $(wc -l <<<"$failed"): $(paste -sd' ' <<<"$failed")"
    fi
    rm -f "$log"
  done
  why=$(sed -n '/^diff --git /q; s/^Why:[[:space:]]*//p' "$m")
  [[ -z "$why" ]] || note "    (only $(suites_of "$m"): $why)"
  note "    done in $(($(date +%s) - t0))s"
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
