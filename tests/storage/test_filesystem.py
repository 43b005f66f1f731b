"""Chunk files: written batch by batch, read back in order, checked at start (torn, corrupt)."""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path

import pytest

from flb_fast.record import Chunk
from flb_fast.storage.filesystem import MAGIC, FilesystemBackend


def backend(root: Path, checksum: bool = True, delete_irrecoverable: bool = False) -> FilesystemBackend:
    return FilesystemBackend(str(root), sync_full=False, checksum=checksum, delete_irrecoverable=delete_irrecoverable)


def batch(*numbers: int) -> Chunk:
    return Chunk("app", [1_000 + n for n in numbers], [{"n": n} for n in numbers], 10 * len(numbers))


async def write_chunk(store: FilesystemBackend, chunk_id: int, *batches: Chunk) -> tuple[str, list[bool]]:
    """Write ``batches`` into a new chunk file of input ``tail.0``; (its path, each write's outcome)."""
    file = store.create(chunk_id, "app", "tail.0")
    written: list[bool] = []
    for each in batches:
        store.write(file, each, written.append)
    store.seal(file)
    await store.drain()
    await asyncio.sleep(0)  # outcomes come back through the loop
    return file.path, written


@pytest.fixture
def storage_logs(caplog):
    caplog.set_level(logging.INFO, logger="flb_fast.storage")
    return caplog


def test_batches_written_to_a_chunk_file_are_read_back_in_order(tmp_path: Path, run) -> None:
    store = backend(tmp_path)

    async def scenario():
        path, written = await write_chunk(store, 7, batch(1, 2), batch(3))
        files = await store.recover(["tail.0"])
        chunk = await store.load(files[0])
        return path, written, files, chunk

    path, written, files, chunk = run(scenario())
    store.close()
    assert written == [True, True]
    assert os.path.dirname(path) == str(tmp_path / "tail.0")
    assert [(f.chunk_id, f.tag, f.records, f.size) for f in files] == [(7, "app", 3, 30)]
    assert (chunk.tag, chunk.timestamps, chunk.records, chunk.size) == ("app", [1001, 1002, 1003],
                                                                        [{"n": 1}, {"n": 2}, {"n": 3}], 30)


def test_recovered_chunks_come_in_chunk_id_order(tmp_path: Path, run) -> None:
    store = backend(tmp_path)

    async def scenario():
        for chunk_id in (12, 3, 40):
            await write_chunk(store, chunk_id, batch(chunk_id))
        return [file.chunk_id for file in await store.recover(["tail.0", "dummy.0"])]

    assert run(scenario()) == [3, 12, 40]
    store.close()


def test_a_chunk_file_removed_is_gone_and_not_recovered(tmp_path: Path, run) -> None:
    store = backend(tmp_path)

    async def scenario():
        path, _ = await write_chunk(store, 1, batch(1))
        file = (await store.recover(["tail.0"]))[0]
        store.remove(file)
        await store.drain()
        return path, await store.recover(["tail.0"])

    path, left = run(scenario())
    store.close()
    assert not os.path.exists(path)
    assert left == []


def test_a_chunk_removed_while_its_file_is_being_created_leaves_no_file(tmp_path: Path, run, monkeypatch) -> None:
    store = backend(tmp_path)
    real_open = os.open
    racing = []

    def open_after_the_remover_ran(path, flags, mode=0o777):
        # The loop removes the chunk and the remover unlinks before the worker's open creates the file.
        if path.endswith(".flb") and not racing:
            racing.append(path)
            [file] = created
            file.removed = True  # store.remove(file) on the loop ...
            store._unlink(file)  # ... and its unlink on the remover thread, both done already
        return real_open(path, flags, mode)

    monkeypatch.setattr("flb_fast.storage.filesystem.os.open", open_after_the_remover_ran)
    created = []

    async def scenario():
        created.append(store.create(1, "app", "tail.0"))
        await store.drain()

    run(scenario())
    store.close()
    assert len(racing) == 1
    assert not os.path.exists(racing[0])


def test_a_torn_last_batch_is_cut_off_and_the_batches_before_it_kept(tmp_path: Path, run, storage_logs) -> None:
    store = backend(tmp_path)

    async def scenario():
        path, _ = await write_chunk(store, 1, batch(1), batch(2, 3))
        with open(path, "r+b") as handle:
            handle.truncate(os.path.getsize(path) - 5)
        files = await store.recover(["tail.0"])
        return path, files, await store.load(files[0])

    path, files, chunk = run(scenario())
    store.close()
    assert (files[0].records, chunk.records) == (1, [{"n": 1}])
    assert f"chunk file {path} ends with a partial frame (an interrupted write): " in storage_logs.text
    assert (tmp_path / "tail.0").joinpath(os.path.basename(path)).exists()


def test_a_batch_whose_checksum_does_not_match_is_cut_off(tmp_path: Path, run, storage_logs) -> None:
    store = backend(tmp_path, checksum=True)

    async def scenario():
        path, _ = await write_chunk(store, 1, batch(1), batch(2))
        data = bytearray(Path(path).read_bytes())
        data[-2] ^= 0xFF
        Path(path).write_bytes(bytes(data))
        files = await store.recover(["tail.0"])
        return path, await store.load(files[0])

    path, chunk = run(scenario())
    store.close()
    assert chunk.records == [{"n": 1}]
    assert "ends with a frame whose checksum does not match" in storage_logs.text


def test_an_unreadable_chunk_file_is_moved_aside_and_start_up_goes_on(tmp_path: Path, run, storage_logs) -> None:
    store = backend(tmp_path)

    async def scenario():
        good, _ = await write_chunk(store, 2, batch(2))
        (tmp_path / "tail.0" / "1-0.0.flb").write_bytes(b"\x00garbage" * 10)
        (tmp_path / "tail.0" / "3-0.0.flb").write_bytes(MAGIC[:4])
        return good, [file.chunk_id for file in await store.recover(["tail.0"])]

    good, recovered = run(scenario())
    store.close()
    assert recovered == [2]
    assert sorted(os.listdir(tmp_path / "tail.0")) == sorted(
        ["1-0.0.flb.corrupt", "3-0.0.flb.corrupt", os.path.basename(good)])
    bad = tmp_path / "tail.0" / "1-0.0.flb"
    assert (f"chunk file {bad} is irrecoverable (not a chunk file (bad magic)): moved to {bad}.corrupt"
            in storage_logs.text)


def test_delete_irrecoverable_chunks_deletes_an_unreadable_chunk_file(tmp_path: Path, run, storage_logs) -> None:
    store = backend(tmp_path, delete_irrecoverable=True)
    (tmp_path / "tail.0").mkdir()
    bad = tmp_path / "tail.0" / "1-0.0.flb"
    bad.write_bytes(b"not a chunk")

    assert run(store.recover(["tail.0"])) == []
    store.close()
    assert os.listdir(tmp_path / "tail.0") == []
    assert f"chunk file {bad} is irrecoverable (not a chunk file (bad magic)): deleted" in storage_logs.text


def test_a_write_the_disk_refuses_is_reported_failed(tmp_path: Path, run, storage_logs) -> None:
    (tmp_path / "tail.0").write_text("a file where the input's directory should be")
    store = backend(tmp_path)
    path, written = run(write_chunk(store, 1, batch(1)))
    store.close()
    assert written == [False]
    assert f"cannot write chunk {path}: " in storage_logs.text


def test_storage_sync_full_makes_each_write_durable_with_fsync(tmp_path: Path, run, monkeypatch) -> None:
    synced: list[int] = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(fd), real_fsync(fd)))
    store = FilesystemBackend(str(tmp_path), sync_full=True, checksum=False, delete_irrecoverable=False)
    run(write_chunk(store, 1, batch(1), batch(2)))
    store.close()
    assert len(synced) == 3  # the header, then each batch
