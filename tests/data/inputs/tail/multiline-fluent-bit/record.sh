#!/bin/sh
# Re-records what Fluent Bit gives for every multiline-* case here (tail with multiline.parser):
#   FLUENT_BIT=/path/to/fluent-bit tests/data/inputs/tail/multiline-fluent-bit/record.sh
# Each case folder holds fluent-bit.conf (stdout json_lines), input.log and maybe parsers.conf;
# Fluent Bit runs in the folder for 8 s (past the 4 s multiline flush timeout), and its records
# go to expected.jsonl, its version to fluent-bit-version.txt and the time the run started to
# recorded-at.txt (dates from then on are ingestion times, not times read from the input).
set -eu
cd "$(dirname "$0")"
for case in multiline-*/; do
    (
        cd "$case"
        "$FLUENT_BIT" --version | head -1 > fluent-bit-version.txt
        date +%s > recorded-at.txt
        timeout -s TERM 8 "$FLUENT_BIT" -c fluent-bit.conf 2>/dev/null | grep '^{' > expected.jsonl || true
    )
done
