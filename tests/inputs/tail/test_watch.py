"""The inotify wrapper and the watchers built on it."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from flb_fast import _core
from flb_fast.inputs.tail.file import TailFile
from flb_fast.inputs.tail.watch import Callbacks, InotifyWatcher, StatWatcher
from flb_fast.log import plugin_logger

LOG = plugin_logger("input", "tail", "tail.0")


def test_inotify_read_returns_every_pending_event_and_never_blocks(tmp_path: Path) -> None:
    inotify = _core.Inotify()
    assert inotify.read() == []
    log = tmp_path / "a.log"
    log.write_text("")
    file_wd = inotify.add_watch(str(log), _core.Inotify.MODIFY | _core.Inotify.MOVE_SELF)
    dir_wd = inotify.add_watch(str(tmp_path), _core.Inotify.CREATE)
    with open(log, "a") as handle:
        handle.write("x\n")
    (tmp_path / "b.log").write_text("")
    os.rename(log, tmp_path / "a.log.1")
    assert inotify.read() == [(file_wd, _core.Inotify.MODIFY, 0, b""), (dir_wd, _core.Inotify.CREATE, 0, b"b.log"),
                              (file_wd, _core.Inotify.MOVE_SELF, 0, b"")]
    assert inotify.rm_watch(file_wd) is True
    inotify.close()
    assert inotify.closed


def test_inotify_add_watch_on_a_missing_path_raises_oserror(tmp_path: Path) -> None:
    inotify = _core.Inotify()
    try:
        inotify.add_watch(str(tmp_path / "missing"), _core.Inotify.MODIFY)
    except OSError as exc:
        assert exc.filename == str(tmp_path / "missing")
    else:
        raise AssertionError("expected OSError")
    finally:
        inotify.close()


def tail_file(path: Path) -> TailFile:
    fd = os.open(path, os.O_RDONLY)
    return TailFile(str(path), fd, os.fstat(fd), "tag", None, None, 0)


def test_inotify_watcher_reports_data_and_renames_of_the_open_file(tmp_path: Path, run) -> None:
    log = tmp_path / "a.log"
    log.write_text("")
    seen: list[tuple[str, str]] = []

    async def scenario() -> None:
        watcher = InotifyWatcher(Callbacks(lambda f: seen.append(("data", f.path)),
                                           lambda f: seen.append(("moved", f.path)), lambda: seen.append(("all", ""))),
                                 LOG)
        watcher.start()
        file = tail_file(log)
        watcher.add(file)
        with open(log, "a") as handle:
            handle.write("x\n")
        os.rename(log, tmp_path / "b.log")
        for _ in range(500):
            if ("moved", str(log)) in seen:
                break
            await asyncio.sleep(0.01)
        watcher.remove(file)
        watcher.stop()
        file.close()

    run(scenario())
    assert seen[0] == ("data", str(log))
    assert ("moved", str(log)) in seen


def test_stat_watcher_asks_for_a_check_of_all_files_periodically(run) -> None:
    checks: list[int] = []

    async def scenario() -> None:
        watcher = StatWatcher(Callbacks(lambda f: None, lambda f: None, lambda: checks.append(1)), LOG)
        watcher.start()
        while len(checks) < 2:
            await asyncio.sleep(0.05)
        watcher.stop()

    run(scenario())
    assert len(checks) >= 2
