#!/usr/bin/env bash
# Regenerate patches/ from the commits of the patched tree.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
  cat <<USAGE
Usage: scripts/refresh.sh [--check] [--tree DIR] [--base REV]

Turns the commits of the patched tree since the base into patches/NNNN-*.patch
and patches/series (format-patch style, numbered, no signature, zeroed
commit ids so that an unedited tree gives no diff).

Workflow: edit inside work/wasmtime, commit (git commit --fixup=<patch commit>,
then git rebase -i --autosquash $BASE_TAG), then run this script.

Options:
  --check      write nothing; exit non-zero, naming each patch, when patches/
               no longer matches the commits of the tree
  --tree DIR   the patched tree (default: work/wasmtime)
  --base REV   where the series starts in that tree (default: tag '$BASE_TAG')
  -h, --help   show this help
USAGE
}

check=0
tree="$PATCHED_TREE"
base="$BASE_TAG"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --check)
      check=1
      shift
      ;;
    --tree)
      [[ $# -ge 2 ]] || die "--tree needs a directory"
      tree="$2"
      shift 2
      ;;
    --base)
      [[ $# -ge 2 ]] || die "--base needs a revision"
      base="$2"
      shift 2
      ;;
    -h | --help)
      usage
      exit 0
      ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
done

[[ -d "$tree" ]] || die "$tree: no such directory (run scripts/apply.sh first)"
g -C "$tree" rev-parse --verify --quiet "$base^{commit}" >/dev/null ||
  die "$tree has no revision '$base'"
[[ -z "$(g -C "$tree" status --porcelain --untracked-files=no)" ]] ||
  die "$tree has uncommitted changes; commit them into the right patch first"

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
g -C "$tree" -c diff.noprefix=false -c format.signature= -c diff.algorithm=myers \
  format-patch --quiet --zero-commit --no-signature --no-renames --full-index \
  --numbered --output-directory "$out" "$base..HEAD"
(cd "$out" && find . -maxdepth 1 -name '*.patch' -printf '%f\n' | LC_ALL=C sort) >"$out/series"

if [[ "$check" -eq 1 ]]; then
  stale=0
  while read -r p; do
    if [[ ! -f "$PATCHES/$p" ]]; then
      note "refresh: $p is in the tree but not in patches/"
      stale=1
    elif ! cmp -s "$out/$p" "$PATCHES/$p"; then
      note "refresh: $p differs from the tree's commit"
      stale=1
    fi
  done <"$out/series"
  while read -r p; do
    [[ -f "$out/$p" ]] || {
      note "refresh: $p is in patches/ but not in the tree"
      stale=1
    }
  done < <(series_patches)
  if [[ "$stale" -eq 0 ]] && ! cmp -s "$out/series" "$SERIES_FILE"; then
    note "refresh: patches/series is out of date"
    stale=1
  fi
  [[ "$stale" -eq 0 ]] || die "patches/ does not match $tree (run scripts/refresh.sh)"
  note "refresh: patches/ matches $tree ($(wc -l <"$out/series") patches)"
  exit 0
fi

find "$PATCHES" -maxdepth 1 -name '*.patch' -delete
cp "$out"/*.patch "$PATCHES"/ 2>/dev/null || true
cp "$out/series" "$SERIES_FILE"
note "refresh: wrote $(wc -l <"$SERIES_FILE") patches to patches/"
