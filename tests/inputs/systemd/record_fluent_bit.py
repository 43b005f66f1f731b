"""Record Fluent Bit's output for each systemd golden case (not a test; run by hand).

    python -m tests.inputs.systemd.record_fluent_bit /path/to/fluent-bit

Writes the journal of ``tests/data/inputs/systemd/entries.json`` with systemd-journal-remote,
runs Fluent Bit's ``systemd`` input on it once per ``<case>.conf`` (the input's options, one per
line) with the ``file`` output in its default format (``tag: [seconds.nanoseconds, record]``),
and stores what it wrote as ``<case>.expected``. Each ``<case>.export`` (entries in the journal
export format, as bytes: values that are not UTF-8, fields in a given order) is written to a
journal of its own and read with ``Tag sd.*``, into ``<case>.expected``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.inputs.systemd.journal import write_entries, write_journal

DATA = Path(__file__).resolve().parents[2] / "data" / "inputs" / "systemd"
RUN_SECONDS = 3.0
EXPORT_CASE_OPTIONS = "Tag sd.*\n"


def entries() -> list[tuple[int, list[tuple[str, str]]]]:
    return [(realtime, [(key, value) for key, value in fields])
            for realtime, fields in json.loads((DATA / "entries.json").read_text())]


def record(fluent_bit: str, tmp: Path, journal_dir: Path, case: str, options_text: str) -> None:
    out = tmp / case
    out.mkdir()
    options = "".join(f"    {line}\n" for line in options_text.splitlines() if line.strip())
    conf = tmp / f"{case}.fluent-bit.conf"
    conf.write_text(
        "[SERVICE]\n    Flush 0.2\n    Grace 1\n"
        f"[INPUT]\n    Name systemd\n    Path {journal_dir}\n{options}"
        f"[OUTPUT]\n    Name file\n    Match *\n    Path {out}\n    File all.log\n"
    )
    process = subprocess.Popen([fluent_bit, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(RUN_SECONDS)
    process.terminate()
    process.wait(timeout=30)
    recorded = out / "all.log"
    (DATA / f"{case}.expected").write_bytes(recorded.read_bytes() if recorded.exists() else b"")
    print(case, len((DATA / f"{case}.expected").read_bytes().splitlines()), "records")


def main(fluent_bit: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        journal_dir = Path(tmp, "journal")
        journal_dir.mkdir()
        write_entries(journal_dir / "system.journal", entries())
        for case in sorted(DATA.glob("*.conf")):
            record(fluent_bit, Path(tmp), journal_dir, case.stem, case.read_text())
        for export in sorted(DATA.glob("*.export")):
            export_dir = Path(tmp, f"{export.stem}.journal")
            export_dir.mkdir()
            write_journal(export_dir / "system.journal", export.read_bytes())
            record(fluent_bit, Path(tmp), export_dir, export.stem, EXPORT_CASE_OPTIONS)


if __name__ == "__main__":
    main(sys.argv[1])
