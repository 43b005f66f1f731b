#!/bin/sh
# Re-records what Fluent Bit does when a file it tails with a DB is renamed while it is stopped:
#   FLUENT_BIT=/path/to/fluent-bit tests/data/inputs/tail/restart-after-rename/record.sh
# For each case, in a temporary folder: logs/app.log gets 3 lines, Fluent Bit runs 4 s (reads
# them, saves the offset) and stops; app.log is renamed app.log.1; Fluent Bit starts again, and
# 3 s later a line is appended to app.log.1 and a new app.log is written; 4 s later it stops.
# Cases: glob-matches-renamed (Path logs/*.log*) and glob-misses-renamed (Path logs/*.log).
# summarize.py writes <case>.json: records per output file, DB rows, the input's db: lines.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
"$FLUENT_BIT" --version | head -1 > "$here/fluent-bit-version.txt"
for case in glob-matches-renamed:'*.log*' glob-misses-renamed:'*.log'; do
    name=${case%%:*}
    GLOB=${case#*:}
    export GLOB
    work=$(mktemp -d)
    (
        cd "$work"
        cp "$here/fluent-bit.conf" .
        mkdir logs
        printf 'first 1\nfirst 2\nfirst 3\n' > logs/app.log
        timeout -s TERM 4 "$FLUENT_BIT" -c fluent-bit.conf > /dev/null 2> stderr1.txt || true
        stat -c %i logs/app.log > renamed.inode
        mv logs/app.log logs/app.log.1
        "$FLUENT_BIT" -c fluent-bit.conf > /dev/null 2> stderr2.txt &
        pid=$!
        sleep 3
        echo 'after restart' >> logs/app.log.1
        echo 'new file' > logs/app.log
        sleep 4
        kill -TERM $pid
        wait $pid || true
    )
    python3 "$here/summarize.py" "$work" > "$here/$name.json"
    rm -rf "$work"
done
