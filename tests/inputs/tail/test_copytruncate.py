"""find_copy: which sibling a copytruncate left of a tailed file, by name and by the bytes before our offset."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from flb_fast.inputs.tail.copytruncate import find_copy, later_copies
from flb_fast.inputs.tail.file import TailFile, new_splitter, open_readonly

READ = b"one\ntwo\n"
UNREAD = b"three\n"


@pytest.fixture
def tailed(tmp_path: Path) -> Iterator[TailFile]:
    """``app.log`` read up to the end of ``READ``, then truncated."""
    log = tmp_path / "app.log"
    log.write_bytes(READ)
    fd = open_readonly(str(log))
    file = TailFile(str(log), fd, os.fstat(fd), "tag", new_splitter(32768, False, False), None, len(READ))
    os.truncate(log, 0)
    yield file
    file.close()


def found(file: TailFile, tailed_keys: frozenset[tuple[int, int]] = frozenset()) -> str | None:
    copy = find_copy(file, tailed_keys)
    if copy is None:
        return None
    os.close(copy.fd)
    return os.path.basename(copy.path)


@pytest.mark.parametrize("name", ["app.log.1", "app.log.20240101-120000", "app.log.2024-01-01", "app.log-20240101"])
def test_the_copy_is_found_under_the_usual_rotated_names(tailed: TailFile, tmp_path: Path, name: str) -> None:
    (tmp_path / name).write_bytes(READ + UNREAD)
    assert found(tailed) == name


@pytest.mark.parametrize("name", ["app.log.1.gz", "app.log-20240101.xz", "app.log1", "other.log.1"])
def test_other_names_are_never_taken_for_the_copy(tailed: TailFile, tmp_path: Path, name: str) -> None:
    (tmp_path / name).write_bytes(READ + UNREAD)
    assert found(tailed) is None


def test_a_sibling_with_other_bytes_before_our_offset_is_not_the_copy(tailed: TailFile, tmp_path: Path) -> None:
    (tmp_path / "app.log.1").write_bytes(b"one\nTWO\n" + UNREAD)
    assert found(tailed) is None


def test_the_newest_sibling_that_matches_wins(tailed: TailFile, tmp_path: Path) -> None:
    older, other, newest = tmp_path / "app.log.3", tmp_path / "app.log.2", tmp_path / "app.log.1"
    older.write_bytes(READ + UNREAD)
    other.write_bytes(b"not the same bytes at all\n")
    newest.write_bytes(READ + b"four\n")
    for age, path in enumerate([newest, other, older]):
        os.utime(path, ns=(1_700_000_000_000_000_000 - age * 10**9,) * 2)
    assert found(tailed) == "app.log.1"
    newest.write_bytes(b"ONE\n" + READ[4:] + b"four\n")
    os.utime(newest, ns=(1_700_000_000_000_000_000,) * 2)
    assert found(tailed) == "app.log.3"


def test_a_copy_with_nothing_after_our_offset_is_not_returned(tailed: TailFile, tmp_path: Path) -> None:
    (tmp_path / "app.log.1").write_bytes(READ)
    assert found(tailed) is None


def test_a_sibling_tailed_already_is_left_to_itself(tailed: TailFile, tmp_path: Path) -> None:
    copy = tmp_path / "app.log.1"
    copy.write_bytes(READ + UNREAD)
    st = copy.stat()
    assert found(tailed, frozenset({(st.st_dev, st.st_ino)})) is None


def test_the_copy_is_looked_for_beside_the_real_file_not_its_symlink(tmp_path: Path) -> None:
    pod = tmp_path / "pods" / "app"
    pod.mkdir(parents=True)
    (pod / "0.log").write_bytes(READ)
    link = tmp_path / "app.log"
    link.symlink_to(pod / "0.log")
    fd = open_readonly(str(link))
    file = TailFile(str(link), fd, os.fstat(fd), "tag", new_splitter(32768, False, False), None, len(READ))
    try:
        (tmp_path / "app.log.1").write_bytes(READ + UNREAD)
        (pod / "0.log.1").write_bytes(READ + UNREAD)
        os.truncate(pod / "0.log", 0)
        copy = find_copy(file, frozenset())
        assert copy is not None
        os.close(copy.fd)
        assert copy.path == str(pod / "0.log.1")
    finally:
        file.close()


def later_names(file: TailFile) -> list[str]:
    copy = find_copy(file, frozenset())
    assert copy is not None
    later = later_copies(file, copy, frozenset({(copy.st.st_dev, copy.st.st_ino)}))
    os.close(copy.fd)
    for each in later:
        os.close(each.fd)
    return [os.path.basename(each.path) for each in later]


def set_mtime(path: Path, seconds: int) -> None:
    os.utime(path, (seconds, seconds))


def test_copies_made_after_the_copy_are_later_copies_oldest_first(tailed: TailFile, tmp_path: Path) -> None:
    (tmp_path / "app.log.1").write_bytes(READ + UNREAD)
    (tmp_path / "app.log.2").write_bytes(b"four\n")
    (tmp_path / "app.log.3").write_bytes(b"five\n")
    set_mtime(tmp_path / "app.log.1", 1_700_000_000)
    set_mtime(tmp_path / "app.log.3", 1_700_000_001)
    set_mtime(tmp_path / "app.log.2", 1_700_000_002)
    assert later_names(tailed) == ["app.log.3", "app.log.2"]


def test_copies_older_than_the_copy_or_empty_are_not_later_copies(tailed: TailFile, tmp_path: Path) -> None:
    (tmp_path / "app.log.1").write_bytes(READ + UNREAD)
    (tmp_path / "app.log.2").write_bytes(b"zero\n")
    (tmp_path / "app.log.3").write_bytes(b"")
    (tmp_path / "app.log.4.gz").write_bytes(b"compressed")
    set_mtime(tmp_path / "app.log.2", 1_600_000_000)
    set_mtime(tmp_path / "app.log.1", 1_700_000_000)
    set_mtime(tmp_path / "app.log.3", 1_700_000_001)
    set_mtime(tmp_path / "app.log.4.gz", 1_700_000_001)
    assert later_names(tailed) == []
