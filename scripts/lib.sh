# shellcheck shell=bash
# Shared helpers for the project's scripts. Source it; do not run it.
# shellcheck disable=SC2034 # the variables are used by the scripts that source this
#
# Everything here is about the pinned Wasmtime base and the patch series:
# where they live, how to read `patches/BASE`, and how to make git commits
# reproducible.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PATCHES="$ROOT/patches"
BASE_FILE="$PATCHES/BASE"
SERIES_FILE="$PATCHES/series"
WORK="${WASMTIME_PATCHES_WORK:-$ROOT/work}"
# The pristine base as a git repository (one commit, tagged).
BASE_TREE="$WORK/base"
# The patched tree the workspace builds against.
PATCHED_TREE="$WORK/wasmtime"
BASE_TAG="pristine"

# Fixed identities and dates: applying the series twice gives the same commits.
export GIT_AUTHOR_NAME="wasmtime-patches" GIT_AUTHOR_EMAIL="wasmtime-patches@localhost"
export GIT_COMMITTER_NAME="wasmtime-patches" GIT_COMMITTER_EMAIL="wasmtime-patches@localhost"
FIXED_DATE="2026-01-01T00:00:00+00:00"

die() {
  printf 'error: %s\n' "$*" >&2
  exit 1
}

note() {
  printf '%s\n' "$*" >&2
}

# git without the user's global or system configuration getting in the way.
g() {
  GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null git -c core.autocrlf=false \
    -c advance.detachedHead=false -c init.defaultBranch=main "$@"
}

# `base_version`: the Wasmtime version the series is written against.
base_version() {
  awk '$1 == "version" { print $2; exit }' "$BASE_FILE"
}

# `base_accept`: the version prefix of the releases the series accepts in a
# checkout whose touched files match (the `version` itself when BASE names
# none).
base_accept() {
  awk '$1 == "accept" { print $2; found = 1; exit }
    $1 == "version" && v == "" { v = $2 }
    END { if (!found) print v }' "$BASE_FILE"
}

# `accepts_version VERSION`: VERSION is a release the series accepts.
accepts_version() {
  local prefix
  prefix=$(base_accept)
  [[ -n "$prefix" && "$1" == "$prefix"* ]]
}

# `base_crates`: "name path" lines, one per crate laid out in the base.
base_crates() {
  awk '$1 == "crate" { print $2, $3 }' "$BASE_FILE"
}

# `base_files`: "sha256 path" lines, one per file the series touches.
base_files() {
  awk '$1 == "file" { print $2, $3 }' "$BASE_FILE"
}

# `series_patches`: the patch file names, in order.
series_patches() {
  grep -v '^[[:space:]]*\(#\|$\)' "$SERIES_FILE" || true
}

# `series_subjects`: the subject line of each patch, in order, as `git am`
# makes it (`git mailinfo` unfolds a long Subject: header wrapped over several
# lines, decodes it and drops the "[PATCH n/m]" prefix).
series_subjects() {
  local p
  while read -r p; do
    g mailinfo /dev/null /dev/null <"$PATCHES/$p" | sed -n 's/^Subject: //p'
  done < <(series_patches)
}

# `tree_version DIR`: the Wasmtime version found in a checkout-shaped tree
# (a real checkout keeps it in the root manifest, where the wasmtime crate's
# own says `version.workspace = true`; the registry layout in the crate's own,
# and its root manifest is the wasmtime-cli package's).
tree_version() {
  local dir="$1" f v
  for f in "$dir/crates/wasmtime/Cargo.toml" "$dir/Cargo.toml"; do
    [[ -f "$f" ]] || continue
    v=$(awk '
      /^\[/ { sect = $0 }
      (sect == "[package]" || sect == "[workspace.package]") && /^version *=/ {
        gsub(/.*= *"|".*/, ""); print; exit
      }' "$f")
    if [[ -n "$v" ]]; then
      printf '%s\n' "$v"
      return 0
    fi
  done
  return 1
}

# `check_base_files DIR`: every file the series touches has the pinned
# checksum. Prints one line per mismatch and fails if there is any.
check_base_files() {
  local dir="$1" sum path found bad=0
  while read -r sum path; do
    if [[ ! -f "$dir/$path" ]]; then
      note "  $path: missing (expected sha256 $sum)"
      bad=1
      continue
    fi
    found=$(sha256sum "$dir/$path" | cut -d' ' -f1)
    if [[ "$found" != "$sum" ]]; then
      note "  $path: modified (expected sha256 $sum, found $found)"
      bad=1
    fi
  done < <(base_files)
  return "$bad"
}

# `commit_subjects DIR REV N`: the subjects of the last N commits up to REV,
# oldest first.
commit_subjects() {
  g -C "$1" log --reverse --format=%s -n "$3" "$2"
}

# `has_series DIR`: HEAD of DIR ends with the commits of the series.
has_series() {
  local dir="$1" n
  n=$(series_patches | wc -l)
  [[ "$n" -gt 0 ]] || return 1
  [[ "$(g -C "$dir" rev-list --count HEAD)" -gt "$n" ]] || return 1
  [[ "$(commit_subjects "$dir" HEAD "$n")" == "$(series_subjects)" ]]
}

# `am_series DIR`: apply every patch of the series on top of HEAD in DIR, with
# fixed committer dates. On failure the tree is put back as it was.
am_series() {
  local dir="$1" head p log args=()
  head=$(g -C "$dir" rev-parse HEAD)
  while read -r p; do
    args+=("$PATCHES/$p")
  done < <(series_patches)
  [[ ${#args[@]} -gt 0 ]] || return 0
  log=$(mktemp)
  if ! GIT_COMMITTER_DATE="$FIXED_DATE" g -C "$dir" am --quiet --keep-cr \
    --committer-date-is-author-date "${args[@]}" >"$log" 2>&1; then
    g -C "$dir" am --abort >/dev/null 2>&1 || true
    g -C "$dir" reset --quiet --hard "$head"
    sed 's/^/  /' "$log" >&2
    rm -f "$log"
    return 1
  fi
  rm -f "$log"
}

# Install Debian packages (as root, or through sudo).
install_deb() {
  if [[ "$(id -u)" -eq 0 ]]; then
    apt-get update -qq >/dev/null && apt-get install -y -qq "$@" >/dev/null
  else
    sudo apt-get update -qq >/dev/null && sudo apt-get install -y -qq "$@" >/dev/null
  fi
}

# Argument handling of a script that takes none: --help prints `usage`.
help_or_no_args() {
  case "${1:-}" in
    -h | --help)
      usage
      exit 0
      ;;
    "") ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
}

# The conformance suite's backends, one a line: NAME PACKAGE RUNNER FUZZER
# (scripts/conformance.sh, scripts/fuzz.sh). The list is the suite's own
# (crates/conformance/src/backends.rs), asked of its `backends` tool, which
# builds without Wasmtime; like every cargo command here it needs the
# patched tree the workspace points at.
conformance_backends() {
  (cd "$ROOT" && cargo run --quiet -p conformance --no-default-features --bin backends) ||
    die "could not list the conformance backends"
}

# Dies unless $1 names a backend of the list $2 (conformance_backends'
# output), saying which backends there are.
check_backend() {
  awk -v b="$1" '$1 == b { found = 1 } END { exit !found }' <<<"$2" ||
    die "unknown backend '$1' (known: $(awk '{ print $1 }' <<<"$2" | paste -sd ' '))"
}
