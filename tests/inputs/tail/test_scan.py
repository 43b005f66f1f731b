"""Path globbing with Exclude_Path and Ignore_Older."""

from __future__ import annotations

import os
from pathlib import Path

from flb_fast.inputs.tail.scan import is_excluded, scan


def touch(path: Path) -> Path:
    path.write_text("x\n")
    return path


def test_exclude_patterns_match_the_whole_path_with_star_spanning_slashes() -> None:
    assert is_excluded("/var/log/a.gz", ["*.gz"])
    assert not is_excluded("/var/log/a.log", ["*.gz", "/other/*"])


def test_scan_returns_regular_files_once_per_inode_in_pattern_order(tmp_path: Path) -> None:
    b, a = touch(tmp_path / "b.log"), touch(tmp_path / "a.log")
    (tmp_path / "link.log").symlink_to(a)
    (tmp_path / "dir.log").mkdir()
    found = scan([str(tmp_path / "*.log")], [], 0)
    assert [path for path, _ in found] == [str(a), str(b)]
    assert found[0][1].st_ino == a.stat().st_ino


def test_scan_follows_symlinks_to_files_elsewhere(tmp_path: Path) -> None:
    target = touch(tmp_path / "target")
    (tmp_path / "c.log").symlink_to(target)
    assert [path for path, _ in scan([str(tmp_path / "*.log")], [], 0)] == [str(tmp_path / "c.log")]


def test_scan_drops_excluded_and_too_old_files(tmp_path: Path) -> None:
    touch(tmp_path / "a.log")
    touch(tmp_path / "b.gz")
    old = touch(tmp_path / "old.log")
    os.utime(old, (0, 0))
    found = scan([str(tmp_path / "*")], ["*.gz"], 3600)
    assert [path for path, _ in found] == [str(tmp_path / "a.log")]
