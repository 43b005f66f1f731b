"""What a tail with a DB did across a restart, in a form two agents can be compared by:
``python3 summarize.py <run folder>`` prints JSON with the records per output file (tag, log,
in order), the DB rows (name, offset, and the inode as the file it belongs to: "renamed" is the
file that was renamed while the agent was stopped, "new" the one created after) and the input's
db: lines, without their time."""

import json
import os
import sqlite3
import sys

run = sys.argv[1]
inodes = {"renamed": int(open(os.path.join(run, "renamed.inode")).read())}
new_log = os.path.join(run, "logs", "app.log")
if os.path.exists(new_log):
    inodes["new"] = os.stat(new_log).st_ino
label = {inode: name for name, inode in inodes.items()}
records = {}
for name in sorted(os.listdir(os.path.join(run, "out"))):
    with open(os.path.join(run, "out", name)) as handle:
        for line in handle:
            tag, event = line.split(": ", 1)
            records.setdefault(name, []).append([tag, json.loads(event)[1]["log"]])
rows = sqlite3.connect(os.path.join(run, "tail.db")).execute("SELECT name, offset, inode FROM in_tail_files ORDER BY id")
db = [[name, offset, label.get(inode, "other")] for name, offset, inode in rows]
lines = []
for stderr in ("stderr1.txt", "stderr2.txt"):
    with open(os.path.join(run, stderr), errors="replace") as handle:
        lines.append([line.split("] ", 1)[1].rstrip("\n") for line in handle if "[input:tail:tail.0] db:" in line])
print(json.dumps({"records": records, "db": db, "db_lines": lines}, indent=1, sort_keys=True))
