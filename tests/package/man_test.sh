#!/usr/bin/env bash
# Each generated man page renders with man(1), opens with a NAME section naming it ("name -
# summary") followed by DESCRIPTION, and groff and tbl find nothing wrong with its markup.
# Usage: man_test.sh MAN_DIR
set -uo pipefail
dir=$1
status=0
for page in cmdgate.1 cmdgate-rules.5 cmdgated.8; do
  name=${page%.*}
  if ! out=$(MANWIDTH=100 LC_ALL=C.UTF-8 man -l "$dir/$page" 2>/dev/null </dev/null); then
    echo "FAIL $page: man -l failed" >&2
    status=1
    continue
  fi
  complaints=$(MANWIDTH=100 LC_ALL=C.UTF-8 man -l "$dir/$page" 2>&1 >/dev/null </dev/null |
               grep -v -e "^warning: file '<standard input>', around line" \
                       -e 'table wider than line width')
  sections=$(grep -E '^[A-Z][A-Z ]+$' <<<"$out" | head -2 | tr '\n' ' ')
  # man justifies a wrapped line: spaces squeezed.
  name_line=$(awk '/^NAME$/ {getline; print; exit}' <<<"$out" | tr -s ' ')
  if [[ $sections != "NAME DESCRIPTION " ]]; then
    echo "FAIL $page: first sections are '$sections', expected NAME and DESCRIPTION" >&2
    status=1
  elif [[ $name_line != *"$name - "?* ]]; then
    echo "FAIL $page: NAME says '$name_line', expected '$name - ...'" >&2
    status=1
  elif [[ -n $complaints ]]; then
    # Wide tables are wrapped and fine; anything else is broken markup.
    echo "FAIL $page: $complaints" >&2
    status=1
  else
    echo "ok $page: $name_line"
  fi
done
exit $status
