#!/bin/sh
# Re-record Fluent Bit's output for every case folder given (default: all), from this folder:
#   FLUENT_BIT=/path/to/fluent-bit ./record.sh [grep/legacy ...]
# Each case's fluent-bit.conf tails input.jsonl (Exit_On_Eof) through its filters into stdout json_lines.
set -e
cd "$(dirname "$0")"
for case in ${@:-*/*/}; do
    (cd "$case" && "${FLUENT_BIT:-fluent-bit}" -q -c fluent-bit.conf > expected.jsonl)
done
