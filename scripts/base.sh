#!/usr/bin/env bash
# Materialise the pristine Wasmtime base from the crates registry.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
  cat <<USAGE
Usage: scripts/base.sh [--dest DIR]

Fetches the Wasmtime crates named in patches/BASE, at the version named there,
from the crates registry with the ordinary cargo client, and lays them out like
a Wasmtime checkout (crates/wasmtime, crates/wasi-http, ...) in a git
repository whose single commit, tagged '$BASE_TAG', is the pristine base.

The default destination is work/base. An existing base is verified (version,
checksums of every file the series touches, clean tree) and reused.

Options:
  --dest DIR   lay the base out in DIR instead (must not exist yet)
  -h, --help   show this help
USAGE
}

dest="$BASE_TREE"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --dest)
      [[ $# -ge 2 ]] || die "--dest needs a directory"
      dest="$2"
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
[[ -n "$version" ]] || die "patches/BASE names no version"

verify_base() {
  local dir="$1" found
  g -C "$dir" rev-parse --verify --quiet "refs/tags/$BASE_TAG" >/dev/null ||
    die "$dir is not a base made by this script (no '$BASE_TAG' tag); remove it and run again"
  found=$(tree_version "$dir") || die "$dir: cannot find the Wasmtime version"
  [[ "$found" == "$version" ]] ||
    die "$dir holds Wasmtime $found, patches/BASE expects $version; remove it and run again"
  [[ -z "$(g -C "$dir" status --porcelain)" ]] ||
    die "$dir has uncommitted changes; remove it and run again"
  [[ "$(g -C "$dir" rev-parse HEAD)" == "$(g -C "$dir" rev-parse "$BASE_TAG^{commit}")" ]] ||
    die "$dir is not at its '$BASE_TAG' commit; remove it and run again"
  check_base_files "$dir" || die "$dir does not match the checksums in patches/BASE"
}

if [[ -e "$dest" ]]; then
  verify_base "$dest"
  note "base: Wasmtime $version ready at $dest"
  exit 0
fi

mkdir -p "$WORK"
scratch="$WORK/.fetch"
tmp="$dest.tmp.$$"
trap 'rm -rf "$tmp"' EXIT
rm -rf "$scratch"
mkdir -p "$scratch"
{
  printf '[package]\nname = "wasmtime-base-fetch"\nversion = "0.0.0"\nedition = "2021"\n'
  printf 'publish = false\n\n[lib]\npath = "lib.rs"\n\n[dependencies]\n'
  while read -r name _; do
    printf '%s = { version = "=%s", default-features = false }\n' "$name" "$version"
  done < <(base_crates)
  # Its own workspace, so that the project's workspace does not adopt it.
  printf '\n[workspace]\n'
} >"$scratch/Cargo.toml"
: >"$scratch/lib.rs"

note "base: fetching Wasmtime $version crates from the registry"
cargo fetch --quiet --manifest-path "$scratch/Cargo.toml"
meta=$(cargo metadata --quiet --format-version 1 --manifest-path "$scratch/Cargo.toml")

mkdir -p "$tmp"
while read -r name path; do
  src=$(grep -o "\"[^\"]*/$name-$version/Cargo.toml\"" <<<"$meta" | head -n 1 | tr -d '"') ||
    true
  [[ -n "$src" ]] || die "cargo did not fetch $name $version"
  src=$(dirname "$src")
  mkdir -p "$tmp/$path"
  # Everything the registry published, minus cargo's own bookkeeping.
  tar -C "$src" --exclude=./.cargo-ok -cf - . | tar -C "$tmp/$path" -xf -
done < <(base_crates)
rm -rf "$scratch"

g -C "$tmp" init --quiet
g -C "$tmp" add --all --force
GIT_AUTHOR_DATE="$FIXED_DATE" GIT_COMMITTER_DATE="$FIXED_DATE" \
  g -C "$tmp" commit --quiet -m "Wasmtime $version as published in the crates registry"
g -C "$tmp" tag "$BASE_TAG"
check_base_files "$tmp" ||
  die "the registry's Wasmtime $version does not match the checksums in patches/BASE"
mv "$tmp" "$dest"
trap - EXIT
note "base: Wasmtime $version ready at $dest ($(g -C "$dest" rev-parse --short HEAD))"
