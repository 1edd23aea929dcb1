#!/usr/bin/env bash
# Apply the patch series to the pinned base or to a Wasmtime checkout.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
  cat <<USAGE
Usage: scripts/apply.sh [--wasmtime-dir DIR [--branch NAME]]

Without options: prepares the pristine base from the crates registry
(scripts/base.sh) and applies the series in patches/ to a clone of it at
work/wasmtime, one commit per patch. That is the tree the workspace's
[patch.crates-io] section points at.

With --wasmtime-dir: applies the same series to your own git checkout of
bytecodealliance/wasmtime, as commits on a new branch. The checkout may be
at tag v$(base_version) or at any other $(base_accept)x release in which every file
the series touches is byte-identical to $(base_version)'s; apply.sh says which
release it found.

Before touching anything the base is checked: the version, the sha256 of every
file the series touches (patches/BASE), and a clean tree. Any mismatch, or a
series that does not apply, exits non-zero and leaves the tree as it was. A
tree that already has the series is reported and left alone (exit 0).

Options:
  --wasmtime-dir DIR  apply to this checkout instead of work/wasmtime
  --branch NAME       branch to create there (default: poll-no-interesting-tasks)
  -h, --help          show this help
USAGE
}

dir=""
branch="poll-no-interesting-tasks"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --wasmtime-dir)
      [[ $# -ge 2 ]] || die "--wasmtime-dir needs a directory"
      dir="$2"
      shift 2
      ;;
    --branch)
      [[ $# -ge 2 ]] || die "--branch needs a name"
      branch="$2"
      shift 2
      ;;
    -h | --help)
      usage
      exit 0
      ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
done

version=$(base_version)
count=$(series_patches | wc -l)
while read -r p; do
  [[ -f "$PATCHES/$p" ]] || die "patches/series names $p, which is not in patches/"
done < <(series_patches)

# Refuse a tree we must not touch; succeed early if the series is there.
# Returns 0 when the series still has to be applied.
check_tree() {
  local tree="$1" found
  [[ -d "$tree" ]] || die "$tree: no such directory"
  g -C "$tree" rev-parse --is-inside-work-tree >/dev/null 2>&1 ||
    die "$tree is not a git checkout"
  [[ "$(g -C "$tree" rev-parse --show-toplevel)" == "$(cd "$tree" && pwd -P)" ]] ||
    die "$tree is not the top of a git checkout"
  if [[ -n "$(g -C "$tree" status --porcelain --untracked-files=no)" ]]; then
    note "error: $tree has uncommitted changes; commit or stash them first:"
    g -C "$tree" status --short --untracked-files=no | sed 's/^/  /' >&2
    exit 1
  fi
  if has_series "$tree"; then
    note "apply: $tree already has the series ($count patches); nothing to do"
    exit 0
  fi
  found=$(tree_version "$tree") || die "$tree: cannot find a Wasmtime version (is it a Wasmtime checkout?)"
  accepts_version "$found" ||
    die "$tree is Wasmtime $found; the series is for Wasmtime $version (and $(base_accept)x releases whose files match)"
  if ! check_base_files "$tree"; then
    die "$tree (Wasmtime $found) does not match the pristine Wasmtime $version files listed in patches/BASE"
  fi
  if [[ "$found" == "$version" ]]; then
    note "apply: found Wasmtime $found, the release the series is written against"
  else
    note "apply: found Wasmtime $found; the files the series touches match the pinned $version sources"
  fi
}

if [[ -n "$dir" ]]; then
  check_tree "$dir"
  g -C "$dir" rev-parse --verify --quiet "refs/heads/$branch" >/dev/null &&
    die "$dir already has a branch '$branch'; pass --branch NAME"
  orig=$(g -C "$dir" symbolic-ref --quiet --short HEAD || g -C "$dir" rev-parse HEAD)
  g -C "$dir" checkout --quiet -b "$branch"
  if ! am_series "$dir"; then
    g -C "$dir" checkout --quiet "$orig"
    g -C "$dir" branch --quiet -D "$branch"
    die "the series does not apply to $dir; it was left as it was"
  fi
  note "apply: $count patches applied to $dir on branch '$branch'"
  exit 0
fi

"$ROOT/scripts/base.sh"
if [[ -e "$PATCHED_TREE" ]]; then
  check_tree "$PATCHED_TREE"
  [[ "$(g -C "$PATCHED_TREE" rev-parse HEAD)" == "$(g -C "$PATCHED_TREE" rev-parse "$BASE_TAG^{commit}")" ]] ||
    die "$PATCHED_TREE has commits that are not the series; turn them into patches with scripts/refresh.sh, or remove the tree"
  am_series "$PATCHED_TREE" || die "the series does not apply to $PATCHED_TREE; it was left as it was"
else
  tmp="$PATCHED_TREE.tmp.$$"
  trap 'rm -rf "$tmp"' EXIT
  g clone --quiet "$BASE_TREE" "$tmp"
  am_series "$tmp" || die "the series does not apply to the pristine base; nothing was written"
  mv "$tmp" "$PATCHED_TREE"
  trap - EXIT
fi
note "apply: $count patches applied; patched tree at $PATCHED_TREE ($(g -C "$PATCHED_TREE" rev-parse --short HEAD))"
