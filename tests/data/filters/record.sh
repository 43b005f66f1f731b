#!/bin/sh
# Re-record Fluent Bit's output for every case folder given (default: all), from this folder:
#   FLUENT_BIT=/path/to/fluent-bit ./record.sh [grep/legacy ...]
# Each case's fluent-bit.conf (or fluent-bit.yaml) tails input.jsonl (Exit_On_Eof) through its filters into
# stdout json_lines.
set -e
cd "$(dirname "$0")"
for case in ${@:-*/*/}; do
    conf=fluent-bit.conf; [ -f "$case/fluent-bit.yaml" ] && conf=fluent-bit.yaml
    (cd "$case" && "${FLUENT_BIT:-fluent-bit}" -q -c $conf > expected.jsonl)
done
