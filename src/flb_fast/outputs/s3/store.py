"""The S3 output's buffer on disk (``store_dir``), so that a restart loses nothing.

Each tag has a directory holding:

- ``buffer``: lines appended by flushes, not yet handed to an upload;
- ``<seq>.part`` / ``<seq>.last``: sealed pieces awaiting upload, in order (``.last`` completes
  the object: upload_timeout or total_file_size reached);
- ``state.json``: the tag, the current object's key and start time, each piece's object key,
  the open multipart upload (key, id, parts) and ``done_seq``, the last piece fully handled.

A piece is deleted only after its upload is recorded in ``state.json``; a piece whose sequence
number is at most ``done_seq`` was already uploaded (the agent stopped between the two steps)
and is dropped rather than sent twice.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

STATE_FILE = "state.json"
BUFFER_FILE = "buffer"
INDEX_FILE = "index"


def _write_atomically(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


class Piece:
    """A sealed piece of a tag's data, awaiting upload."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.seq = int(path.stem)
        self.last = path.suffix == ".last"

    @property
    def size(self) -> int:
        return self.path.stat().st_size

    def read(self) -> bytes:
        return self.path.read_bytes()


class TagStore:
    """One tag's buffered data and upload state.

    The current object gets its key when its first line is buffered; every piece sealed from
    it records that key, so pieces of an object that is complete but not yet uploaded keep
    theirs while later lines start the next object.
    """

    def __init__(self, directory: Path, tag: str) -> None:
        self.directory = directory
        self.tag = tag
        self.state: dict[str, Any] = {
            "tag": tag,
            "key": None,
            "object_started": None,
            "object_bytes": 0,
            "upload": None,
            "piece_keys": {},
            "done_seq": 0,
            "next_seq": 1,
        }
        directory.mkdir(parents=True, exist_ok=True)
        state_path = directory / STATE_FILE
        if state_path.exists():
            self.state.update(json.loads(state_path.read_bytes()))
        self.buffer_path = directory / BUFFER_FILE
        self._buffer = open(self.buffer_path, "ab")
        self.retired = False

    @classmethod
    def directory_for(cls, root: Path, tag: str) -> Path:
        return root / hashlib.sha1(tag.encode()).hexdigest()[:20]

    def save(self) -> None:
        _write_atomically(self.directory / STATE_FILE, json.dumps(self.state).encode())

    @property
    def buffer_bytes(self) -> int:
        return self._buffer.tell()

    @property
    def object_bytes(self) -> int:
        """Bytes of the current object: sealed into pieces plus buffered."""
        return self.state["object_bytes"] + self.buffer_bytes

    def append(self, data: bytes, first_time: float, new_key: Callable[[float], str]) -> None:
        if self.state["key"] is None:
            self.state.update(key=new_key(first_time), object_started=time.time(), object_bytes=0)
            self.save()
        self._buffer.write(data)
        self._buffer.flush()

    def due(self, timeout_seconds: float) -> bool:
        started = self.state["object_started"]
        return started is not None and time.time() - started >= timeout_seconds

    def seal(self, last: bool) -> None:
        """Move the buffered lines into the next piece; ``last`` completes the current object."""
        size = self.buffer_bytes
        if self.state["key"] is None or (size == 0 and not (last and self.state["object_bytes"])):
            return
        seq = self.state["next_seq"]
        self.state["next_seq"] = seq + 1
        self.state["piece_keys"][str(seq)] = self.state["key"]
        if last:
            self.state.update(key=None, object_started=None, object_bytes=0)
        else:
            self.state["object_bytes"] += size
        self.save()
        piece = self.directory / f"{seq:010d}.{'last' if last else 'part'}"
        self._buffer.close()
        if size:
            os.replace(self.buffer_path, piece)
        else:
            piece.touch()
        self._buffer = open(self.buffer_path, "ab")

    def pieces(self) -> list[Piece]:
        """Sealed pieces in order; those already handled are removed."""
        found = sorted(
            (Piece(path) for path in self.directory.iterdir() if path.suffix in (".part", ".last")),
            key=lambda piece: piece.seq,
        )
        pending = []
        for piece in found:
            if piece.seq <= self.state["done_seq"]:
                piece.path.unlink(missing_ok=True)
            else:
                pending.append(piece)
        return pending

    def key_of(self, piece: Piece) -> str:
        return self.state["piece_keys"][str(piece.seq)]

    def done(self, piece: Piece) -> None:
        """Record ``piece`` as uploaded (and its object as complete if it was the last), then delete it."""
        self.state["done_seq"] = piece.seq
        self.state["piece_keys"].pop(str(piece.seq), None)
        if piece.last:
            self.state["upload"] = None
        self.save()
        piece.path.unlink(missing_ok=True)

    @property
    def idle(self) -> bool:
        """Nothing buffered, sealed or open."""
        return self.state["key"] is None and self.state["upload"] is None and not self.pieces()

    def retire(self) -> bool:
        """If the tag is idle and nothing is buffered: close the buffer and remove the tag's
        folder (True). A folder holding anything else is left in place."""
        if not self.idle or self.buffer_bytes:
            return False
        self._buffer.close()
        self.retired = True
        for name in (BUFFER_FILE, STATE_FILE):
            (self.directory / name).unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            self.directory.rmdir()
        return True

    def disk_bytes(self) -> int:
        if self.retired:
            return 0
        return sum(path.stat().st_size for path in self.directory.iterdir() if path.is_file())

    def close(self) -> None:
        self._buffer.close()


class IndexCounter:
    """``$INDEX``: a counter of objects kept in ``store_dir`` across restarts."""

    def __init__(self, root: Path) -> None:
        self.path = root / INDEX_FILE
        self.value = int(self.path.read_text()) if self.path.exists() else 0

    def next(self) -> int:
        value = self.value
        self.value += 1
        _write_atomically(self.path, str(self.value).encode())
        return value
