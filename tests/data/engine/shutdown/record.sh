#!/bin/sh
# Re-records Fluent Bit's log lines from SIGTERM to its exit (tail -> stdout, Grace 2):
#   FLUENT_BIT=/path/to/fluent-bit tests/data/engine/shutdown/record.sh
# Fluent Bit runs in a copy of this folder; 3 s after its start it gets SIGTERM. Its stderr lines
# from 'caught signal' on go to fluent-bit.log, its version to fluent-bit-version.txt.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$here/fluent-bit.conf" "$here/input.log" "$work/"
cd "$work"
"$FLUENT_BIT" --version | head -1 > "$here/fluent-bit-version.txt"
"$FLUENT_BIT" -c fluent-bit.conf > /dev/null 2> stderr.txt &
pid=$!
sleep 3
kill -TERM $pid
wait $pid || true
sed -n '/caught signal/,$p' stderr.txt > "$here/fluent-bit.log"
