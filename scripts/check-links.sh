#!/usr/bin/env bash
# Check that every relative link in the project's Markdown resolves.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
  cat <<USAGE
Usage: scripts/check-links.sh [--root DIR] [FILE...]

Checks every relative link and image in README.md and the Markdown files
under docs/ (or in the FILEs given, relative to the root): the file or directory it names must
exist inside the root, and a '#fragment' into a Markdown file must name one
of its headings, as GitHub makes anchors of them (lowercase, spaces to '-',
punctuation other than '-' and '_' dropped, '-1', '-2'... for repeats) or an
explicit <a name="..."> / id="...". Links with a scheme (https:, mailto:)
and links inside code spans or fenced code blocks are not checked.

Prints one line per broken link, naming the file, the line and the link,
and exits non-zero if there is any.

Options:
  --root DIR  the tree to check (default: the project's root)
  -h, --help  show this help
USAGE
}

root="$ROOT"
files=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --root)
      [[ $# -ge 2 ]] || die "--root needs a directory"
      root="$2"
      shift 2
      ;;
    -h | --help)
      usage
      exit 0
      ;;
    -*) die "unknown argument '$1' (see --help)" ;;
    *)
      files+=("$1")
      shift
      ;;
  esac
done

[[ -d "$root" ]] || die "$root: no such directory"
root=$(cd "$root" && pwd -P)
if [[ ${#files[@]} -eq 0 ]]; then
  [[ -f "$root/README.md" ]] && files+=(README.md)
  if [[ -d "$root/docs" ]]; then
    mapfile -t -O "${#files[@]}" files < <(cd "$root" && find docs -name '*.md' -type f | LC_ALL=C sort)
  fi
fi
[[ ${#files[@]} -gt 0 ]] || die "no Markdown files to check in $root"

python3 - "$root" "${files[@]}" <<'PY'
import os
import re
import sys

root = sys.argv[1]
files = sys.argv[2:]

FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")
CODE_SPAN = re.compile(r"(`+)(.+?)\1")
# [text](target "title") and ![alt](target); the text may hold one level of
# brackets, the target one level of parentheses.
INLINE = re.compile(
    r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*(<[^>]*>|[^()\s]*(?:\([^()\s]*\)[^()\s]*)*)"
    r"(?:\s+(?:\"[^\"]*\"|'[^']*'))?\s*\)"
)
REFDEF = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*(<[^>]*>|\S+)")
HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)(?:\s+#+)?\s*$")
HTML_ANCHOR = re.compile(r"<a\s[^>]*\b(?:name|id)\s*=\s*[\"']([^\"']+)[\"']", re.I)
SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def prose_lines(path):
    """(line number, text) of every line outside fenced code blocks."""
    fence = None
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            m = FENCE.match(line)
            if fence is None and m:
                fence = m.group(1)[0] * len(m.group(1))
                continue
            if fence is not None:
                if line.strip().startswith(fence):
                    fence = None
                continue
            yield n, line.rstrip("\n")


def slug(text):
    """GitHub's anchor for a heading's text."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)  # links: their text
    text = CODE_SPAN.sub(lambda m: m.group(2), text)
    text = re.sub(r"<[^>]+>", "", text)  # inline HTML
    text = text.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


anchor_cache = {}


def anchors(path):
    if path not in anchor_cache:
        found, seen = set(), {}
        for _, line in prose_lines(path):
            found.update(HTML_ANCHOR.findall(line))
            m = HEADING.match(line)
            if not m:
                continue
            s = slug(m.group(2))
            if s in seen:
                seen[s] += 1
                found.add(f"{s}-{seen[s]}")
            else:
                seen[s] = 0
                found.add(s)
        anchor_cache[path] = found
    return anchor_cache[path]


def problem(source, target):
    """What is wrong with the relative link `target` in `source`, or None."""
    path, _, fragment = target.partition("#")
    if path:
        if path.startswith("/"):
            return "absolute paths do not resolve on GitHub; make it relative"
        dest = os.path.normpath(os.path.join(os.path.dirname(source), path))
        if os.path.commonpath([root, os.path.realpath(dest)]) != root:
            return "points outside the repository"
        if not os.path.exists(dest):
            return "no such file"
    else:
        dest = source
    if fragment and dest.endswith(".md") and os.path.isfile(dest):
        if fragment not in anchors(dest):
            return f"no heading with anchor '#{fragment}' in {os.path.relpath(dest, root)}"
    return None


broken = checked = 0
for rel in files:
    source = os.path.join(root, rel)
    if not os.path.isfile(source):
        print(f"check-links: {rel}: no such file", file=sys.stderr)
        broken += 1
        continue
    for n, line in prose_lines(source):
        m = REFDEF.match(line)
        targets = [m.group(1)] if m else []
        targets += INLINE.findall(CODE_SPAN.sub(lambda c: " " * len(c.group(0)), line))
        for target in targets:
            target = target.strip("<>")
            if not target or SCHEME.match(target) or target.startswith("//"):
                continue
            checked += 1
            why = problem(source, target)
            if why:
                print(f"check-links: {rel}:{n}: broken link '{target}': {why}", file=sys.stderr)
                broken += 1

if broken:
    print(f"check-links: {broken} broken link(s) in {len(files)} file(s)", file=sys.stderr)
    sys.exit(1)
print(f"check-links: {checked} relative links in {len(files)} files resolve", file=sys.stderr)
PY
