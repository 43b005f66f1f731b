"""``storage.type filesystem``: every batch is written to its chunk's file before the input moves on.

Layout as Fluent Bit's (``flb_storage.c``, chunkio): one directory per input instance under
``storage.path`` (``<storage.path>/tail.0/``), one file per chunk, removed once every output
that matched it has taken it. Our own compact format (Fluent Bit's chunkio files are not
read back by flb_fast, nor ours by it)::

    b"FLBFAST1"                                  magic
    frame: <u32 payload length><u32 crc32><payload>
      first frame   msgpack {"tag": tag}
      then          msgpack [timestamps_ns, records, size] per batch, in order

A batch is one frame appended with one write, so a crash mid-write leaves at most a torn last
frame: on start it is cut off (the batch was never acknowledged, so its input reads it again).
``storage.checksum On`` stores and checks each frame's CRC32 (chunkio's ``CIO_CHECKSUM``);
``storage.sync full`` makes each write durable with ``fsync`` (chunkio's ``CIO_FULL_SYNC``).

File work runs off the event loop: writes and seals in order on one worker thread, removals on
a second one, so that a delivered chunk's file goes at once rather than behind the writes queued
meanwhile (a file still there after a crash is sent again). A write that lands after its file's
removal goes to the unlinked file, harmlessly; a chunk removed before its file was even created
is never created.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import struct
import time
import zlib
from collections.abc import Callable
from typing import Any

import msgspec

from flb_fast.engine.executors import BoundedExecutor
from flb_fast.log import component_logger
from flb_fast.record import Chunk

MAGIC = b"FLBFAST1"
FRAME = struct.Struct("<II")
SUFFIX = ".flb"
# A chunk file that cannot be read is renamed with this suffix (storage.delete_irrecoverable_chunks Off).
CORRUPT_SUFFIX = ".corrupt"
# Chunk files are private to the agent, as chunkio creates them (0600).
FILE_MODE = 0o600

_encode = msgspec.msgpack.Encoder().encode
_decode = msgspec.msgpack.Decoder().decode


class CorruptChunk(Exception):
    """A chunk file whose header cannot be read: nothing in it can be trusted."""


class ChunkFile:
    """One chunk's file; ``pending`` (loop side) counts writes queued but not yet done."""

    __slots__ = ("path", "input_name", "chunk_id", "tag", "size", "records", "fd", "failed", "pending", "removed")

    def __init__(self, path: str, input_name: str, chunk_id: int, tag: str) -> None:
        self.path = path
        self.input_name = input_name
        self.chunk_id = chunk_id
        self.tag = tag
        self.size = 0
        self.records = 0
        self.fd = -1
        self.failed = False
        self.pending = 0
        self.removed = False


class FilesystemBackend:
    """Chunk files under ``storage.path``; see the module docstring."""

    # A batch written here survives the process: its input may commit its position at once.
    durable = True

    def __init__(self, root: str, sync_full: bool, checksum: bool, delete_irrecoverable: bool) -> None:
        self.root = root
        self.sync_full = sync_full
        self.checksum = checksum
        self.delete_irrecoverable = delete_irrecoverable
        self.log = component_logger("storage")
        self._worker = BoundedExecutor("storage", 1)
        self._remover = BoundedExecutor("storage-remove", 1)
        self._disk_error: str | None = None

    # -- writing (called on the loop; the work is queued on the worker) -----------------------

    def create(self, chunk_id: int, tag: str, input_name: str) -> ChunkFile:
        name = f"{chunk_id}-{time.time_ns() // 1_000_000_000}.{time.time_ns() % 1_000_000_000}{SUFFIX}"
        file = ChunkFile(os.path.join(self.root, input_name, name), input_name, chunk_id, tag)
        self._worker.submit(self._open, file, self._frame(_encode({"tag": tag})))
        return file

    def write(self, file: ChunkFile, chunk: Chunk, written: Callable[[bool], None]) -> None:
        """Append one batch; ``written(ok)`` runs on the loop once it is on disk (or failed)."""
        loop = asyncio.get_running_loop()
        file.pending += 1
        file.size += chunk.size
        file.records += len(chunk)
        frame = self._frame(_encode((chunk.timestamps, chunk.records, chunk.size)))

        def report(future: Any) -> None:
            ok = not future.cancelled() and future.exception() is None and future.result()
            with contextlib.suppress(RuntimeError):  # the loop is gone: the process is leaving
                loop.call_soon_threadsafe(self._report, file, ok, written)

        self._worker.submit(self._append, file, frame).add_done_callback(report)

    def _report(self, file: ChunkFile, ok: bool, written: Callable[[bool], None]) -> None:
        file.pending -= 1
        if not ok:
            file.failed = True
        written(ok)

    def seal(self, file: ChunkFile) -> None:
        """No more batches for this chunk: close its descriptor."""
        self._worker.submit(self._close, file)

    def remove(self, file: ChunkFile) -> None:
        file.removed = True
        self._remover.submit(self._unlink, file)

    async def load(self, file: ChunkFile) -> Chunk:
        return await self._worker.run(self._read, file)

    async def drain(self) -> None:
        """Wait until every queued file operation has run."""
        await self._worker.run(lambda: None)
        await self._remover.run(lambda: None)

    def _frame(self, payload: bytes) -> bytes:
        return FRAME.pack(len(payload), zlib.crc32(payload) if self.checksum else 0) + payload

    # -- the worker thread ---------------------------------------------------------------------

    def _open(self, file: ChunkFile, header: bytes) -> None:
        if file.removed:
            return
        try:
            os.makedirs(os.path.dirname(file.path), exist_ok=True)
            file.fd = os.open(file.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, FILE_MODE)
            self._write_all(file.fd, MAGIC + header)
        except OSError as exc:
            self._failed(file, exc)
            return
        if file.removed:
            # Removed between the check above and the open: the remover's unlink found no file yet.
            self._unlink(file)

    def _append(self, file: ChunkFile, frame: bytes) -> bool:
        if file.fd < 0:
            # Removed before it was created: every output has decided on the chunk already.
            return file.removed
        try:
            self._write_all(file.fd, frame)
        except OSError as exc:
            self._failed(file, exc)
            return False
        if self._disk_error is not None:
            self.log.info("writing chunks to %s again", self.root)
            self._disk_error = None
        return True

    def _write_all(self, fd: int, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        if self.sync_full:
            os.fsync(fd)

    def _failed(self, file: ChunkFile, exc: OSError) -> None:
        """The disk refused a write: the chunk stays in memory only (and is acknowledged on delivery)."""
        if self._disk_error != exc.strerror:
            self._disk_error = exc.strerror
            self.log.error("cannot write chunk %s: %s; its records are kept in memory until delivered",
                           file.path, exc.strerror)
        if file.fd >= 0:
            os.close(file.fd)
            file.fd = -1

    def _close(self, file: ChunkFile) -> None:
        if file.fd >= 0:
            os.close(file.fd)
            file.fd = -1

    def _unlink(self, file: ChunkFile) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(file.path)

    def _read(self, file: ChunkFile) -> Chunk:
        with open(file.path, "rb") as handle:
            data = handle.read()
        tag, batches, _end, _problem = self._parse(data)
        timestamps: list[int] = []
        records: list[dict[str, Any]] = []
        size = 0
        for batch_timestamps, batch_records, batch_size in batches:
            timestamps.extend(batch_timestamps)
            records.extend(batch_records)
            size += batch_size
        return Chunk(tag, timestamps, records, size)

    def _parse(self, data: bytes) -> tuple[str, list[Any], int, str | None]:
        """(tag, batches, end of the last good frame, what is wrong after it or None)."""
        if not data.startswith(MAGIC):
            raise CorruptChunk("not a chunk file (bad magic)")
        offset = len(MAGIC)
        tag: str | None = None
        batches: list[Any] = []
        while offset < len(data):
            if offset + FRAME.size > len(data):
                problem = "a partial frame header"
                break
            length, crc = FRAME.unpack_from(data, offset)
            start = offset + FRAME.size
            payload = data[start:start + length]
            if len(payload) < length:
                problem = "a partial frame"
                break
            if self.checksum and crc and zlib.crc32(payload) != crc:
                problem = "a frame whose checksum does not match"
                break
            try:
                value = _decode(payload)
                if tag is None:
                    tag = value["tag"]
                    if not isinstance(tag, str):
                        raise TypeError("tag")
                else:
                    timestamps, records, size = value
                    if len(timestamps) != len(records) or not isinstance(size, int):
                        raise TypeError("batch")
                    batches.append(value)
            except (msgspec.DecodeError, KeyError, TypeError, ValueError):
                problem = "an undecodable frame"
                break
            offset = start + length
        else:
            problem = None
        if tag is None:
            raise CorruptChunk(problem or "no header")
        return tag, batches, offset, problem

    # -- start-up ------------------------------------------------------------------------------

    async def recover(self, input_names: list[str]) -> list[ChunkFile]:
        """The chunk files of ``input_names`` a previous run left, checked and in chunk id order."""
        return await self._worker.run(self._recover, input_names)

    def _recover(self, input_names: list[str]) -> list[ChunkFile]:
        found: list[ChunkFile] = []
        for input_name in input_names:
            directory = os.path.join(self.root, input_name)
            try:
                names = os.listdir(directory)
            except FileNotFoundError:
                continue
            for name in names:
                if not name.endswith(SUFFIX):
                    continue
                file = self._check(os.path.join(directory, name), input_name)
                if file is not None:
                    found.append(file)
        found.sort(key=lambda file: file.chunk_id)
        return found

    def _check(self, path: str, input_name: str) -> ChunkFile | None:
        """A recovered chunk file, cut back to its last good frame; ``None`` if nothing in it is usable."""
        try:
            chunk_id = int(os.path.basename(path).split("-", 1)[0])
            with open(path, "rb") as handle:
                data = handle.read()
            tag, batches, end, problem = self._parse(data)
        except (ValueError, CorruptChunk, OSError) as exc:
            self._set_aside(path, str(exc))
            return None
        if problem is not None:
            self.log.warning("chunk file %s ends with %s (an interrupted write): %d bytes cut off, %d batches kept",
                             path, problem, len(data) - end, len(batches))
            with open(path, "r+b") as handle:
                handle.truncate(end)
        if not batches:
            os.unlink(path)
            return None
        file = ChunkFile(path, input_name, chunk_id, tag)
        file.size = sum(batch[2] for batch in batches)
        file.records = sum(len(batch[1]) for batch in batches)
        return file

    def _set_aside(self, path: str, reason: str) -> None:
        """``storage.delete_irrecoverable_chunks``: delete the file, else rename it out of the way."""
        try:
            if self.delete_irrecoverable:
                os.unlink(path)
                self.log.error("chunk file %s is irrecoverable (%s): deleted", path, reason)
            else:
                os.rename(path, path + CORRUPT_SUFFIX)
                self.log.error("chunk file %s is irrecoverable (%s): moved to %s", path, reason, path + CORRUPT_SUFFIX)
        except OSError as exc:
            self.log.error("chunk file %s is irrecoverable (%s) and cannot be moved: %s", path, reason, exc.strerror)

    def close(self) -> None:
        self._worker.shutdown()
        self._remover.shutdown()
