#!/bin/sh
# Re-records what Fluent Bit gives for every case here (tail multiline.parser past [SERVICE]
# multiline_buffer_limit 4k):
#   FLUENT_BIT=/path/to/fluent-bit tests/data/inputs/tail/multiline-buffer-limit/record.sh
# Each case folder holds fluent-bit.conf (stdout json_lines, monitoring API on $HTTP_PORT),
# input.log and maybe parsers.conf. Fluent Bit runs in the folder for 7 s (past the 4 s multiline
# flush timeout); then its /api/v1/metrics answer goes to metrics.json, and on SIGTERM its records
# to expected.jsonl, its tail warnings (without their time) to warnings.txt, its version to
# fluent-bit-version.txt and the time the run started to recorded-at.txt (dates from then on are
# ingestion times, not times read from the input).
set -eu
cd "$(dirname "$0")"
HTTP_PORT=${HTTP_PORT:-22029}
export HTTP_PORT
for case in */; do
    (
        cd "$case"
        "$FLUENT_BIT" --version | head -1 > fluent-bit-version.txt
        date +%s > recorded-at.txt
        "$FLUENT_BIT" -c fluent-bit.conf > stdout.txt 2> stderr.txt &
        pid=$!
        sleep 7
        curl -s "http://127.0.0.1:$HTTP_PORT/api/v1/metrics" > metrics.json || true
        kill -TERM $pid
        wait $pid || true
        grep '^{' stdout.txt > expected.jsonl || true
        grep '\[ warn\] \[input:' stderr.txt | sed 's/^\[[^]]*\] //' > warnings.txt || true
        rm stdout.txt stderr.txt
    )
done
