"""The real flb-fast command: tail -> s3 -> moto, every line once, across a crash and restart."""

from __future__ import annotations

import contextlib
import signal
import sqlite3

from tests.outputs.aws.e2e import agent, expected, numbered_log
from tests.outputs.s3.test_s3 import BUCKET, bucket, objects

OUTPUT = """\
[OUTPUT]
    Name             s3
    Match            kube.*
    region           us-east-1
    endpoint         {endpoint}
    bucket           {bucket}
    store_dir        {store}
    s3_key_format    /logs/$TAG[1]/$INDEX.json
    static_file_path On
    upload_timeout   {timeout}
    json_date_key    false
"""


def uploaded_lines(s3) -> list[str]:
    return [line for _, data in sorted(objects(s3).items()) for line in data.decode().splitlines()]


def buffered_bytes(folder) -> int:
    return sum(path.stat().st_size for path in (folder / "s3").rglob("buffer"))


def committed_offset(folder) -> int:
    """The tail offset saved in its DB (Fluent Bit's in_tail_files table); 0 before it exists."""
    try:
        with contextlib.closing(sqlite3.connect(folder / "tail.db", timeout=5)) as db:
            return max((row[0] for row in db.execute("SELECT offset FROM in_tail_files")), default=0)
    except sqlite3.Error:
        return 0


def test_lines_are_uploaded_on_upload_timeout(moto, tmp_path) -> None:
    s3 = bucket(moto)
    numbered_log(tmp_path, 500)
    fields = {"endpoint": moto.url, "bucket": BUCKET, "store": tmp_path / "s3", "timeout": "1s"}
    with agent(tmp_path, OUTPUT, **fields) as running:
        running.wait_for(lambda: len(uploaded_lines(s3)) >= 500, "500 lines in S3")
        result = running.stop()
    assert result.returncode == 0, result.stderr
    assert uploaded_lines(s3) == expected(500)
    assert sorted(objects(s3))[0] == "logs/app/0.json"


def test_a_killed_agent_loses_nothing_its_successor_uploads(moto, tmp_path) -> None:
    s3 = bucket(moto)
    numbered_log(tmp_path, 300)
    fields = {"endpoint": moto.url, "bucket": BUCKET, "store": tmp_path / "s3", "timeout": "1h"}
    first = agent(tmp_path, OUTPUT, **fields)
    with first:
        first.wait_for(lambda: buffered_bytes(tmp_path) >= len("\n".join(expected(300))) + 1, "all lines buffered")
        # Nothing acknowledges tail offsets yet: wait for the DB so the successor does not re-read.
        size = (tmp_path / "app.log").stat().st_size
        first.wait_for(lambda: committed_offset(tmp_path) == size, "the tail offset saved")
        first.stop(signal.SIGKILL)
    assert objects(s3) == {}
    with agent(tmp_path, OUTPUT, **fields) as second:
        second.wait_started()
        result = second.stop()
    assert result.returncode == 0, result.stderr
    assert uploaded_lines(s3) == expected(300)
