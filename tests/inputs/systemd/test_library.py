"""Which libsystemd the systemd input loads: the system's libsystemd.so.0, else the copy in
cysystemd's wheel, else start-up fails naming what is missing."""

from __future__ import annotations

import pytest

from flb_fast import _core
from flb_fast.inputs.systemd import library
from tests.inputs.systemd.harness import systemd_input
from tests.inputs.systemd.journal import write_entries

MISSING = "/nonexistent/libsystemd.so.0"
T0 = 1_700_000_000_000_000


def test_the_systems_libsystemd_comes_first():
    assert library.load(library.SYSTEM_LIBRARY, library.bundled_directory()).path == library.SYSTEM_LIBRARY


def test_without_it_the_copy_in_cysystemds_wheel_reads_the_journal(tmp_path):
    bundled = library.bundled_directory()
    assert bundled is not None, "cysystemd is a dependency: its wheel carries libsystemd"
    loaded = library.load(MISSING, bundled)
    assert loaded.path.startswith(str(bundled / "libsystemd-"))
    write_entries(tmp_path / "a.journal", [(T0, [("MESSAGE", "through the bundled copy")])])
    journal = _core.Journal(loaded, str(tmp_path), "", "", False, False, False, 8000)
    journal.seek_head()
    [(tag, timestamps, records, _size)], _cursor, status, broken = journal.read(10, 1 << 20, "sd", False)
    journal.close()
    assert (tag, timestamps, records[0]["MESSAGE"], status, broken) == ("sd", [T0 * 1000], "through the bundled copy",
                                                                         0, 0)


def test_neither_is_an_error_naming_both(tmp_path):
    with pytest.raises(OSError, match=r"libsystemd is missing: cannot load /nonexistent/libsystemd\.so\.0: .*"
                                      r"and cysystemd is not installed \(install libsystemd0, or pip install cysystemd\)"):
        library.load(MISSING, None)
    with pytest.raises(OSError, match=f"and no libsystemd-\\*\\.so\\* in {tmp_path}"):
        library.load(MISSING, tmp_path)


def test_a_library_without_the_journal_calls_is_refused():
    with pytest.raises(OSError, match="cannot use libc.so.6: no symbol sd_journal_open"):
        _core.SystemdLibrary("libc.so.6", [])


def test_the_input_does_not_start_without_libsystemd(run, tmp_path, monkeypatch):
    monkeypatch.setattr(library, "default", lambda: library.load(MISSING, None))
    plugin, _ = systemd_input(tmp_path, tag="sd")
    with pytest.raises(OSError, match="libsystemd is missing"):
        run(plugin.start())

