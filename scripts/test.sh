#!/usr/bin/env bash
# The one command that runs every test of the project.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
  cat <<USAGE
Usage: scripts/test.sh [--each] [--no-mutants]

Prepares the base and applies the series if needed (scripts/apply.sh), checks
the hygiene of the series, builds the patched wasmtime CLI for the end-to-end
tests (scripts/build-cli.sh), runs 'cargo test --workspace', runs the
standalone upstream reproducers (crates/upstream-reproducers, a workspace of
its own), runs the conformance suite on the three backends
(scripts/conformance.sh), runs the mutant check (scripts/mutants.sh), and
ends with a one-line summary.

Hygiene: the series applies to a fresh clone of the pristine base, and
scripts/refresh.sh --check finds patches/ identical to the patched tree.

Options:
  --each        also build the patched crate after each patch on its own
  --no-mutants  skip scripts/mutants.sh (it rebuilds Wasmtime once per mutant)
  -h, --help    show this help
USAGE
}

each=0
mutants=1
while [[ $# -gt 0 ]]; do
  case "$1" in
    --each) each=1 ;;
    --no-mutants) mutants=0 ;;
    -h | --help)
      usage
      exit 0
      ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
  shift
done

cd "$ROOT"
start=$(date +%s)
passed=0
failed=0
failures=()
step() {
  local name="$1" t0
  shift
  note "==> $name"
  t0=$(date +%s)
  if "$@"; then
    passed=$((passed + 1))
    note "    done in $(($(date +%s) - t0))s"
  else
    failed=$((failed + 1))
    failures+=("$name")
    note "FAILED: $name (after $(($(date +%s) - t0))s)"
  fi
}

"$ROOT/scripts/apply.sh"

hygiene_fresh_apply() {
  local tmp rc=0
  tmp=$(mktemp -d)
  g clone --quiet "$BASE_TREE" "$tmp/wasmtime"
  am_series "$tmp/wasmtime" || rc=1
  if [[ "$rc" -eq 0 ]] && [[ "$(g -C "$tmp/wasmtime" rev-parse 'HEAD^{tree}')" != "$(g -C "$PATCHED_TREE" rev-parse 'HEAD^{tree}')" ]]; then
    note "the series applied to a fresh base gives another tree than work/wasmtime"
    rc=1
  fi
  rm -rf "$tmp"
  return "$rc"
}
step "scripts are clean under shellcheck" "$ROOT/scripts/lint.sh"
step "series applies to a pristine base" hygiene_fresh_apply
step "patches/ matches the patched tree" "$ROOT/scripts/refresh.sh" --check

if [[ "$each" -eq 1 ]]; then
  # Check every crate a patch touches, with the crates of the same tree
  # standing in for their registry versions.
  build_each() {
    local tmp c i=0 rc=0 name path overrides files features
    tmp=$(mktemp -d)
    g clone --quiet "$PATCHED_TREE" "$tmp/wasmtime"
    overrides=()
    while read -r name path; do
      overrides+=(--config "patch.crates-io.$name.path=\"$tmp/wasmtime/$path\"")
    done < <(base_crates)
    for c in $(g -C "$tmp/wasmtime" rev-list --reverse "origin/HEAD" --not "$BASE_TAG"); do
      i=$((i + 1))
      g -C "$tmp/wasmtime" checkout --quiet --detach "$c"
      files=$(g -C "$tmp/wasmtime" diff --name-only "$c^" "$c")
      while read -r name path; do
        if [[ "$path" == "." ]]; then
          grep -qv '^crates/' <<<"$files" || continue
        else
          grep -q "^$path/" <<<"$files" || continue
        fi
        note "  patch $i ($(g -C "$tmp/wasmtime" log -1 --format=%s)): checking $name"
        features=()
        # The default features leave out the WASIp3 code of wasi-http.
        [[ "$name" == wasmtime-wasi-http ]] && features=(--features p3)
        if ! cargo check --quiet --manifest-path "$tmp/wasmtime/$path/Cargo.toml" \
          --target-dir "$ROOT/target/each" "${features[@]}" "${overrides[@]}"; then
          note "  patch $i does not build on its own"
          rc=1
        fi
      done < <(base_crates)
    done
    rm -rf "$tmp"
    return "$rc"
  }
  step "each patch builds on its own" build_each
fi

# The end-to-end tests (crates/http-e2e) run this binary; without it they
# fail, since they would build it themselves and hit the same error.
build_cli() {
  local bin
  bin=$("$ROOT/scripts/build-cli.sh") || return 1
  export WASMTIME_CLI="$bin"
}
step "the patched wasmtime CLI builds" build_cli

# Tests print their own summaries; keep the last one of each binary for ours.
log="$ROOT/target/test.log"
mkdir -p "$ROOT/target"
note "==> cargo test --workspace"
t0=$(date +%s)
set +e
cargo test --workspace 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
set -e
note "    done in $(($(date +%s) - t0))s"

# The standalone reproducers of upstream behaviours, each on its release's
# own wasmtime-wast: a workspace of its own (its Cargo.toml says why), built
# in this target directory to reuse what 'cargo test --workspace' built.
note "==> cargo test (crates/upstream-reproducers)"
t0=$(date +%s)
set +e
cargo test --manifest-path "$ROOT/crates/upstream-reproducers/Cargo.toml" \
  --target-dir "$ROOT/target" 2>&1 | tee -a "$log"
rc_repro=${PIPESTATUS[0]}
set -e
note "    done in $(($(date +%s) - t0))s"
tests_passed=$(awk '/^test result:/ { for (i = 1; i < NF; i++) if ($(i + 1) ~ /^passed/) n += $i } END { print n + 0 }' "$log")
tests_failed=$(awk '/^test result:/ { for (i = 1; i < NF; i++) if ($(i + 1) ~ /^failed/) n += $i } END { print n + 0 }' "$log")
if [[ "$rc" -ne 0 ]]; then
  failures+=("cargo test --workspace")
fi
if [[ "$rc_repro" -ne 0 ]]; then
  failures+=("upstream reproducers")
fi

# The same scenarios and generator on every backend, one summary each
# (cargo test ran seeds 0..200 on each; these are 100 more).
step "the suite on patched, upstream-45 and upstream-48" "$ROOT/scripts/conformance.sh"

if [[ "$mutants" -eq 1 ]]; then
  step "every mutant is caught" "$ROOT/scripts/mutants.sh"
fi

elapsed=$(($(date +%s) - start))
total_passed=$((passed + ${tests_passed:-0}))
total_failed=$((failed + ${tests_failed:-0}))
if [[ ("$rc" -ne 0 || "$rc_repro" -ne 0) && "${tests_failed:-0}" -eq 0 ]]; then
  total_failed=$((total_failed + 1))
fi
note "cargo tests: ${tests_passed:-0} passed, ${tests_failed:-0} failed; checks: $passed passed, $failed failed; ${elapsed}s"
if [[ ${#failures[@]} -gt 0 ]]; then
  note "failed: ${failures[*]}"
fi
echo "summary: $total_passed passed, $total_failed failed"
[[ "$total_failed" -eq 0 && ${#failures[@]} -eq 0 ]]
