#!/bin/sh
# Re-records Fluent Bit's pause and resume lines for a tail input with Mem_Buf_Limit 200k whose
# output (opensearch, to hold_server.py, which answers each request after 3 s) cannot keep up:
#   FLUENT_BIT=/path/to/fluent-bit tests/data/inputs/tail/mem-buf-limit-pause/record.sh
# app.log (30,000 lines of 92 bytes) is written in a temporary folder; Fluent Bit runs there for
# 12 s. Its [input] lines go to fluent-bit.log, its version to fluent-bit-version.txt.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
HOLD_PORT=${HOLD_PORT:-22031}
export HOLD_PORT
python3 -c "
with open('$work/app.log', 'w') as f:
    for i in range(30000):
        f.write('line %06d %s\n' % (i, 'x' * 80))
"
cp "$here/fluent-bit.conf" "$work/"
python3 "$here/hold_server.py" "$HOLD_PORT" 3 &
server=$!
sleep 0.5
cd "$work"
"$FLUENT_BIT" --version | head -1 > "$here/fluent-bit-version.txt"
timeout -s INT 12 "$FLUENT_BIT" -c fluent-bit.conf > /dev/null 2> stderr.txt || true
kill $server
grep '\[input\]' stderr.txt > "$here/fluent-bit.log"
