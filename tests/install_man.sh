#!/bin/bash
# install_man.sh: each program's manual page (docs/man/PROGRAM.1) renders with man -l without a
# groff warning, has the usual sections, names the program's --version, and lists exactly the
# long options the program's --help lists. unsharp-review is checked only when it is built.
# usage: install_man.sh CLASSIFY_PROGRAM TRAIN_PROGRAM [REVIEW_PROGRAM [OTHER_PROGRAM...]] (each
# the built program; REVIEW_PROGRAM empty when the build has none; OTHER_PROGRAM: unsharp-runs)
set -uo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
NAME=install_man
fail() { echo "$NAME: FAIL: $*" >&2; exit 1; }
skip() { echo "$NAME: SKIP: $*" >&2; exit 77; }
command -v man >/dev/null || skip "man is not installed (man-db)"
command -v groff >/dev/null || skip "groff is not installed (groff-base)"
T=$(mktemp -d /tmp/unsharp-man-XXXXXX)
trap 'rm -rf "$T"' EXIT
unset MAN_KEEP_FORMATTING MANPAGER PAGER
export MANWIDTH=80 LC_ALL=C.UTF-8

long_options() { grep -o -- '--[a-z][a-z0-9-]*' | sort -u; }

checked=0
[ -n "${3:-}" ] || echo "$NAME: unsharp-review is not built: its page is not checked" >&2
for bin in "$@"; do
  [ -n "$bin" ] || continue
  [ -x "$bin" ] || fail "$bin is missing"
  prog=$(basename "$bin") page=$SRC/docs/man/$(basename "$bin").1
  [ -f "$page" ] || fail "no manual page $page"
  man --warnings -l "$page" 2> "$T/warn" | col -b > "$T/$prog.txt"
  [ -s "$T/$prog.txt" ] || fail "$page renders to nothing"
  [ ! -s "$T/warn" ] || { cat "$T/warn" >&2; fail "$page: groff warnings"; }
  for section in NAME SYNOPSIS DESCRIPTION OPTIONS "EXIT STATUS" FILES ENVIRONMENT EXAMPLES "SEE ALSO"; do
    grep -q "^$section\$" "$T/$prog.txt" || fail "$page has no $section section"
  done
  version=$("$bin" --version | awk '{ print $NF }')
  [ -n "$version" ] && grep -q "unsharp $version" "$T/$prog.txt" || fail "$page does not say version $version"
  "$bin" --help > "$T/$prog.help" || fail "$prog --help failed"
  long_options < "$T/$prog.help" > "$T/$prog.help.opts"
  long_options < "$T/$prog.txt" > "$T/$prog.man.opts"
  [ -s "$T/$prog.help.opts" ] || fail "$prog --help lists no long option"
  diff "$T/$prog.help.opts" "$T/$prog.man.opts" > "$T/diff" ||
    { cat "$T/diff" >&2; fail "$prog: long options of --help (<) and of the manual page (>) differ"; }
  echo "$NAME: $prog: $(wc -l < "$T/$prog.help.opts") long options, page and --help agree" >&2
  checked=$((checked + 1))
done
[ $checked -ge 2 ] || fail "fewer than two pages checked"
echo "$NAME: ok" >&2
