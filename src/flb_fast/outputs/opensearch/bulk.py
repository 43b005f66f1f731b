"""The ``_bulk`` request body, one action line and one document line per record
(``opensearch.c`` ``opensearch_format``; ``out_es`` builds the same lines).

Each record's two lines are kept apart, so that a retry resends only the documents the cluster
did not accept. A document is the record with, first, the record time under ``Time_Key``
(unless the record has that key already, as Fluent Bit 4.2 skips it then), then the tag under
``Tag_Key`` with ``Include_Tag_Key``, rendered as Fluent Bit renders JSON (``fluent_json``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import msgspec

from flb_fast.outputs.fluent_json import JsonRecordEncoder
from flb_fast.record_accessor import MISSING, KeyAccessor, Template

NS_PER_SECOND = 1_000_000_000
# opensearch.c: the index built from Logstash_Prefix_Key is cut at 128 bytes.
MAX_PREFIX_KEY_BYTES = 128
# Write_Operation values and the action each sends (os_conf.c: upsert is sent as update).
WRITE_OPERATIONS = {"index": "index", "create": "create", "update": "update", "upsert": "update"}
_UPDATE_OPENING = b'{"doc":'
_UPSERT_OPENING = b'{"doc_as_upsert":true,"doc":'
_DOCUMENT_SEPARATOR = b"\n"


class BulkFormat(msgspec.Struct, frozen=True):
    """What shapes the lines: the plugin's options, resolved once."""

    index: str
    type_name: str | None  # None with Suppress_Type_Name
    write_operation: str
    time_key: str
    time_key_format: str
    time_key_nanos: bool
    logstash_format: bool
    logstash_prefix: str
    logstash_prefix_separator: str
    logstash_dateformat: str
    logstash_prefix_key: Template | None
    index_template: Template | None
    include_tag_key: bool
    tag_key: str
    replace_dots: bool
    generate_id: Callable[[bytes], str] | None
    id_key: KeyAccessor | None
    current_time_index: bool


def _hash_bytes(digest: int) -> bytes:
    """A 128-bit hash as the C plugins hold it in memory: its low 64 bits, then its high 64, little-endian."""
    return (digest & 0xFFFFFFFFFFFFFFFF).to_bytes(8, "little") + (digest >> 64).to_bytes(8, "little")


def opensearch_id(packed: bytes) -> str:
    """opensearch's Generate_ID: ``cfl_hash_128bits`` (XXH3-128) of the packed document, its
    bytes printed in UUID layout in upper case."""
    import xxhash

    text = _hash_bytes(xxhash.xxh3_128_intdigest(packed)).hex().upper()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def es_id(packed: bytes) -> str:
    """es's Generate_ID: ``MurmurHash3_x64_128`` (seed 42) of the packed document, printed as
    eight native 16-bit words, ``%04x%04x-%04x-%04x-%04x-%04x%04x%04x``."""
    import mmh3

    raw = _hash_bytes(mmh3.hash128(packed, seed=42, x64arch=True, signed=False))
    words = [int.from_bytes(raw[i:i + 2], "little") for i in range(0, 16, 2)]
    return "{:04x}{:04x}-{:04x}-{:04x}-{:04x}-{:04x}{:04x}{:04x}".format(*words)


def _msgpack_map(pairs: list[tuple[str, Any]]) -> bytes:
    """The msgpack map the C plugins pack before hashing: every pair, duplicate keys included."""
    count = len(pairs)
    if count < 16:
        header = bytes([0x80 | count])
    elif count < 0x10000:
        header = b"\xde" + count.to_bytes(2, "big")
    else:
        header = b"\xdf" + count.to_bytes(4, "big")
    encode = msgspec.msgpack.encode
    return header + b"".join(encode(key) + encode(value) for key, value in pairs)


def _replace_dots(value: Any) -> Any:
    """``os_pack_map_content``: dots in map keys become underscores, in nested maps and arrays too."""
    if isinstance(value, dict):
        return {key.replace(".", "_"): _replace_dots(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_replace_dots(item) for item in value]
    return value


def _document(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """The JSON document: Fluent Bit's JSON keeps the last of duplicate keys, at its own place."""
    document: dict[str, Any] = {}
    for key, value in pairs:
        document.pop(key, None)
        document[key] = value
    return document


class BulkEncoder:
    """Builds the per-record line pairs of one output."""

    def __init__(self, fmt: BulkFormat, log_warning: Callable[..., None]) -> None:
        self.fmt = fmt
        self._warn = log_warning
        self._json = JsonRecordEncoder()
        self._encoder = msgspec.json.Encoder()
        self._opening = {"update": _UPDATE_OPENING, "upsert": _UPSERT_OPENING}.get(fmt.write_operation.lower(), b"")
        self._action = WRITE_OPERATIONS[fmt.write_operation.lower()]

    def encode(self, tag: str, timestamps: list[int], records: list[dict[str, Any]]) -> tuple[list[bytes], int]:
        """One ``action\\ndocument\\n`` entry per record, in order, and how many records were left
        out (an update or upsert whose record has no usable ``_id``)."""
        fmt = self.fmt
        now_ns = time.time_ns()
        packed = [self._pairs(tag, timestamp, record) for timestamp, record in zip(timestamps, records, strict=True)]
        documents = [_document(pairs) for pairs in packed]
        bodies = self._json.encode(timestamps, documents, separator=_DOCUMENT_SEPARATOR).split(_DOCUMENT_SEPARATOR)
        entries = []
        skipped = 0
        for timestamp, record, pairs, body in zip(timestamps, records, packed, bodies, strict=True):
            meta: dict[str, str] = {"_index": self._index(tag, record, timestamp, now_ns)}
            if fmt.type_name is not None:
                meta["_type"] = fmt.type_name
            document_id = self._id(record, pairs)
            if document_id is not None:
                meta["_id"] = document_id
            elif self._action == "update":
                # es_format: an update without an _id cannot be sent; the record is skipped.
                skipped += 1
                continue
            action = self._encoder.encode({self._action: meta})
            if self._opening:
                body = self._opening + body + b"}"
            entries.append(action + b"\n" + body + b"\n")
        return entries, skipped

    def _pairs(self, tag: str, timestamp: int, record: dict[str, Any]) -> list[tuple[str, Any]]:
        """The document as the C plugins pack it: the time key, the tag key, then the record's
        pairs, a key the record has too appearing twice."""
        fmt = self.fmt
        body = _replace_dots(record) if fmt.replace_dots else record
        pairs: list[tuple[str, Any]] = [(fmt.time_key, self._time_text(timestamp))]
        if fmt.include_tag_key:
            pairs.append((fmt.tag_key, tag))
        pairs.extend(body.items())
        return pairs

    def _time_text(self, timestamp: int) -> str:
        seconds, nanos = divmod(timestamp, NS_PER_SECOND)
        text = time.strftime(self.fmt.time_key_format, time.gmtime(seconds))
        if self.fmt.time_key_nanos:
            return f"{text}.{nanos:09d}Z"
        return f"{text}.{nanos // 1_000_000:03d}Z"

    def _index(self, tag: str, record: dict[str, Any], timestamp: int, now_ns: int) -> str:
        """The index as ``opensearch_format`` chooses it. Index's strftime formats take the current
        time (except with Generate_ID, where Fluent Bit sends the name as written); Logstash names
        take the record's time unless Current_Time_Index."""
        fmt = self.fmt
        if fmt.logstash_format:
            prefix = fmt.logstash_prefix
            if fmt.logstash_prefix_key is not None:
                value = fmt.logstash_prefix_key.render(tag, record, check=False)
                if value:
                    prefix = value.encode()[:MAX_PREFIX_KEY_BYTES].decode(errors="ignore")
            seconds = (now_ns if fmt.current_time_index else timestamp) // NS_PER_SECOND
            return f"{prefix}{fmt.logstash_prefix_separator}{time.strftime(fmt.logstash_dateformat, time.gmtime(seconds))}"
        if fmt.index_template is not None and not fmt.current_time_index:
            return fmt.index_template.render(tag, record, check=False) or ""
        if fmt.current_time_index or fmt.generate_id is None:
            return time.strftime(fmt.index, time.gmtime(now_ns // NS_PER_SECOND))
        return fmt.index

    def _id(self, record: dict[str, Any], pairs: list[tuple[str, Any]]) -> str | None:
        fmt = self.fmt
        if fmt.id_key is not None:
            value = fmt.id_key.get(record)
            if isinstance(value, str):
                return value
            self._warn("the value of %s is %s", fmt.id_key.text, "missing" if value is MISSING else "not string")
            return None
        if fmt.generate_id is not None:
            return fmt.generate_id(_msgpack_map(pairs))
        return None
