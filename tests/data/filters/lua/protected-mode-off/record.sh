#!/bin/sh
# Re-records what Fluent Bit does when a lua filter with Protected_Mode Off meets a runtime error
# (fail.lua raises one on the record "boom" of input.log):
#   FLUENT_BIT=/path/to/fluent-bit tests/data/filters/lua/protected-mode-off/record.sh
# Fluent Bit runs in a copy of this folder (at most 10 s); its exit status goes to exit-status.txt,
# its records to stdout.jsonl, LuaJIT's PANIC line from its stderr to panic.txt, its version to
# fluent-bit-version.txt.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$here/fluent-bit.conf" "$here/fail.lua" "$here/input.log" "$work/"
cd "$work"
"$FLUENT_BIT" --version | head -1 > "$here/fluent-bit-version.txt"
status=0
timeout -s TERM 10 "$FLUENT_BIT" -c fluent-bit.conf > stdout.txt 2> stderr.txt || status=$?
echo "$status" > "$here/exit-status.txt"
grep '^{' stdout.txt > "$here/stdout.jsonl" || true
grep '^PANIC' stderr.txt > "$here/panic.txt" || true
