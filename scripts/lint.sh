#!/usr/bin/env bash
# Lint the project's shell scripts, its Markdown links and the formatting of
# its own and the patched Rust sources.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
  cat <<USAGE
Usage: scripts/lint.sh

Runs shellcheck on every script of the project (installing it from Debian's
packages when it is missing), scripts/check-links.sh on README.md and
docs/ (every relative link must name an existing file or heading),
rustfmt --check on the project's own Rust files, and rustfmt --check on every
Rust file the series touches in the patched tree.
USAGE
}

help_or_no_args "$@"

if ! command -v shellcheck >/dev/null 2>&1; then
  note "lint: installing shellcheck"
  install_deb shellcheck
fi
cd "$ROOT"
shellcheck -x scripts/*.sh .ci/run
note "lint: shellcheck clean"

"$ROOT/scripts/check-links.sh"

mapfile -t own < <(g -C "$ROOT" ls-files '*.rs')
rustfmt --edition 2024 --check "${own[@]}"
note "lint: rustfmt clean (${#own[@]} files of the suite)"

if [[ -d "$PATCHED_TREE" ]]; then
  files=()
  while read -r f; do
    [[ "$f" == *.rs ]] && files+=("$PATCHED_TREE/$f")
  done < <(g -C "$PATCHED_TREE" diff --name-only "$BASE_TAG" HEAD)
  if [[ ${#files[@]} -gt 0 ]]; then
    rustfmt --edition 2024 --check "${files[@]}"
    note "lint: rustfmt clean (${#files[@]} files of the series)"
  fi
fi
