"""Real journal files for the tests, written by systemd-journal-remote from an export-format stream.

The export format (systemd's JOURNAL_EXPORT_FORMATS) is the journal's own interchange format:
``FIELD=value`` lines, a value holding a newline in the binary form (name, newline, little-endian
64-bit length, bytes, newline), a blank line after each entry. systemd-journal-remote turns it
into a journal file the way journald writes one, appending when the file exists, so the input
reads files made by systemd's own writer.
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
from collections.abc import Iterable, Sequence
from pathlib import Path

import pytest

BOOT_ID = "0123456789abcdef0123456789abcdef"
_CANDIDATES = ("/lib/systemd/systemd-journal-remote", "/usr/lib/systemd/systemd-journal-remote")

Entry = tuple[int, Sequence[tuple[str, str]]]


def journal_remote() -> str:
    for candidate in _CANDIDATES:
        if os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which("systemd-journal-remote")
    if found is None:
        pytest.fail("systemd-journal-remote is not installed: apt-get install -y systemd-journal-remote")
    return found


def export_stream(entries: Iterable[Entry]) -> bytes:
    """Entries ``(realtime_usec, [(FIELD, value), ...])`` in the journal export format (one boot,
    the monotonic clock following the realtime one)."""
    out = bytearray()
    for realtime_usec, fields in entries:
        out += f"__REALTIME_TIMESTAMP={realtime_usec}\n__MONOTONIC_TIMESTAMP={realtime_usec}\n_BOOT_ID={BOOT_ID}\n".encode()
        for key, value in fields:
            data = value.encode()
            if b"\n" in data:
                out += key.encode() + b"\n" + struct.pack("<Q", len(data)) + data + b"\n"
            else:
                out += key.encode() + b"=" + data + b"\n"
        out += b"\n"
    return bytes(out)


def write_journal(path: Path, stream: bytes) -> None:
    """Write (or append) the export ``stream`` to the journal file ``path`` (``*.journal``)."""
    subprocess.run([journal_remote(), f"--output={path}", "-"], input=stream, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=60)


def write_entries(path: Path, entries: Iterable[Entry]) -> None:
    write_journal(path, export_stream(entries))
