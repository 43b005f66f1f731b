"""The per-record work of the filter: K8S-Logging.Exclude, Merge_Log, metadata attach.

Fluent Bit's ``cb_kube_filter`` + ``pack_map_content`` + ``merge_log_handler``, on dicts in
place. What Fluent Bit does per record, and so do we:

- ``log`` is parsed by the pod's suggested parser, else ``Merge_Parser``, else as JSON: one
  of them, never a chain. Only a JSON *object* merges. On failure the record is left as is.
  JSON here is read by Fluent Bit's jsmn reader's rules (flb_fast/jsmn.py: ``1e300`` is 1,
  ``01`` is 1, raw tabs in strings are kept, a repeated key at its last place): msgspec reads
  the log first, and the rare log it refuses or may read otherwise (a float with an unsigned
  exponent somewhere in the text, an integer past 64 bits, a key that may repeat) goes to that
  reader.
- Merged keys go after the record's own keys, or under ``Merge_Log_Key`` (only when there is
  at least one), string values trimmed of trailing newlines (``Merge_Log_Trim``). ``Keep_Log
  Off`` drops ``log`` once it was merged.
- A parser (annotation or Merge_Parser) that finds a time sets the record's time; one that
  does not sets it to now. JSON never changes it.
- ``kubernetes`` (the one shared dict of the pod) and ``kubernetes_namespace`` go last.

A merged key the record already has replaces it: the record's own is removed and the merged
one comes after the record's keys, as Fluent Bit 4.2.8 writes it; a merged ``kubernetes`` gives
way to the metadata map, which still goes last (recorded: tests/data/fluent-bit/kube_merge_log*).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import msgspec

from flb_fast.compiled import core_part
from flb_fast.filters.kubernetes.meta import NO_PROPS, Props
from flb_fast.json_line import json_shape
from flb_fast.parsers.base import ParseResult, ParserRegistry
from flb_fast.parsers.types import INT64_MIN, UINT64_MAX
from flb_fast.record import Chunk

_decode = msgspec.json.decode
_DecodeError = msgspec.DecodeError
_SPACE = " \t\r\n"


# 2.3x faster than merge_json_logs below on bench_kubernetes; None (merge_json_logs is then
# the path) when the extension lacks it. The same for merge_parsed_logs and attach.
_core_merge = core_part("kube_merge_json_logs")
_core_merge_parsed = core_part("kube_merge_parsed_logs")
_core_attach = core_part("kube_attach")


def trim_value(value: str) -> str:
    """``kubernetes.c value_trim_size``: drop trailing newlines and literal ``\\n``/``\\r`` pairs
    (never the first character)."""
    size = len(value)
    i = size - 1
    while i > 0:
        char = value[i]
        if char == "\n":
            size -= 1
            i -= 1
        elif value[i - 1] == "\\" and char in "nr":
            size -= 2
            i -= 2
        else:
            break
    return value[:size] if size != len(value) else value


def _trim_all(obj: dict[str, Any]) -> None:
    for key, value in obj.items():
        if value.__class__ is str and value and value[-1] in "\nnr":
            obj[key] = trim_value(value)


def json_object(log: Any) -> dict[str, Any] | None:
    """``log`` decoded as Merge_Log reads it (flb_fast/jsmn.py) when it is one object
    (whitespace around it allowed); the Python twin of ``_core.kube_merge_json_logs``'s reading."""
    if log.__class__ is not str or not log:
        return None
    first = log[0]
    if first != "{" and (first not in _SPACE or log.lstrip(_SPACE)[:1] != "{"):
        return None
    try:
        obj = _decode(log)
    except _DecodeError:
        from flb_fast import jsmn  # only for the rare log msgspec refuses: its regexes cost start-up time

        return jsmn.read_object(log)
    if obj.__class__ is not dict:
        return None
    unusual = _unusual_number(obj)
    if unusual:
        from flb_fast import jsmn

        if unusual == 2 or jsmn.has_unsigned_exponent(log):
            return jsmn.read_object(log)
    if _repeats_a_key(log, obj):
        from flb_fast import jsmn

        return jsmn.read_ordered(log)
    return obj


def _repeats_a_key(log: str, obj: dict[str, Any]) -> bool:
    """Whether a key repeats in the JSON ``log`` msgspec read as ``obj``: then the text has more
    colons outside its strings (one per member) than ``obj`` has keys at every depth. msgspec
    keeps such a key at its first place; Fluent Bit at its last (jsmn.py)."""
    colons, keys, _long_number = json_shape(log.encode("utf-8", "surrogatepass"), obj)
    return colons > keys


def _unusual_number(value: Any) -> int:
    """2 when ``value`` holds an integer past 64 bits, else 1 when it holds a float, else 0: the
    only numbers msgspec may read otherwise than jsmn's reader (a float with a '.' or a signed
    exponent is strtod's number, as msgspec reads it)."""
    found = 0
    for item in value.values() if value.__class__ is dict else value:
        kind = item.__class__
        if kind is float:
            found = 1
        elif kind is int:
            if item < INT64_MIN or item > UINT64_MAX:
                return 2
        elif kind is dict or kind is list:
            found = max(found, _unusual_number(item))
            if found == 2:
                return 2
    return found


class RecordProcessor:
    """Applies one pod's settings to a chunk's records, in place."""

    def __init__(self, options: Any, parsers: ParserRegistry) -> None:
        self.merge_log = bool(options.merge_log)
        self.merge_log_key = options.merge_log_key or None
        self.trim = bool(options.merge_log_trim)
        self.keep_log = bool(options.keep_log)
        self.merge_parser = options.merge_parser or None
        self.parsers = parsers

    def apply(self, chunk: Chunk, kube: dict | None, namespace: dict | None, props: Props = NO_PROPS) -> bool:
        """Process the chunk; False when every record was excluded."""
        if props.stdout_exclude or props.stderr_exclude:
            mask = [not _excluded(rec, props) for rec in chunk.records]
            if not all(mask):
                chunk.keep(mask)
                if not chunk.records:
                    return False
        if self.merge_log:
            groups = self._parser_groups(chunk.records, props)
            if groups is None:
                self._merge_json(chunk.records)
            else:
                self._merge_groups(chunk, groups)
        if kube is not None or namespace is not None:
            (_core_attach or attach)(chunk.records, kube, namespace)
        return True

    def _parser_groups(self, records: list[dict], props: Props) -> dict[str | None, list[int]] | None:
        """The indexes of the records each parser reads (None: JSON), or None when every
        record is plain JSON merging."""
        if props.stdout_parser and props.stdout_parser == props.stderr_parser:
            # One parser for both streams (``fluentbit.io/parser``): every record, whatever its stream.
            return {props.stdout_parser: list(range(len(records)))}
        if props.stdout_parser or props.stderr_parser:
            groups: dict[str | None, list[int]] = {}
            for index, rec in enumerate(records):
                groups.setdefault(_suggested_parser(rec, props) or self.merge_parser, []).append(index)
            return groups
        if self.merge_parser:
            return {self.merge_parser: list(range(len(records)))}
        return None

    def _merge_json(self, records: list[dict]) -> None:
        (_core_merge or merge_json_logs)(records, self.merge_log_key, self.trim, self.keep_log)

    def _merge_groups(self, chunk: Chunk, groups: dict[str | None, list[int]]) -> None:
        """One ``parse_batch`` per parser; the records of no parser (or of one not defined) as JSON."""
        records = chunk.records
        merge = _core_merge_parsed or merge_parsed_logs
        for name, indexes in groups.items():
            parser = self.parsers.get(name) if name is not None else None
            if parser is None:
                self._merge_json([records[i] for i in indexes])
            else:
                merge(records, chunk.timestamps, indexes, parser.parse_batch, self.merge_log_key, self.trim,
                      self.keep_log, time.time_ns())


def merge_json_logs(records: list[dict], key: str | None, trim: bool, keep_log: bool) -> int:
    """The Python twin of ``_core.kube_merge_json_logs`` (and its test oracle)."""
    merged = 0
    for rec in records:
        log = rec.get("log")
        if log.__class__ is dict:
            _merge(rec, log, key, False, keep_log)
        else:
            obj = json_object(log)
            if obj is None:
                continue
            _merge(rec, obj, key, trim, keep_log)
        merged += 1
    return merged


def merge_parsed_logs(
    records: list[dict], timestamps: list[int], indexes: list[int],
    parse_batch: Callable[[Sequence[str | bytes]], list[ParseResult | None]],
    key: str | None, trim: bool, keep_log: bool, now_ns: int,
) -> int:
    """The Python twin of ``_core.kube_merge_parsed_logs`` (and its test oracle): the string
    ``log`` values of ``records[indexes]`` in one ``parse_batch``; a parsed one sets the record's
    time (``now_ns`` when the parser found none) and merges; a map ``log`` merges untrimmed."""
    merged = 0
    string_indexes = []
    for index in indexes:
        log = records[index].get("log")
        if log.__class__ is str:
            string_indexes.append(index)
        elif log.__class__ is dict:
            _merge(records[index], log, key, False, keep_log)
            merged += 1
    if not string_indexes:
        return merged
    for index, result in zip(string_indexes, parse_batch([records[i]["log"] for i in string_indexes]), strict=True):
        if result is None:
            continue
        ts, obj = result
        timestamps[index] = ts if ts > 0 else now_ns
        _merge(records[index], obj, key, trim, keep_log)
        merged += 1
    return merged


def _merge(rec: dict, obj: dict, key: str | None, trim: bool, keep_log: bool) -> None:
    if trim:
        _trim_all(obj)
    if not keep_log:
        del rec["log"]
    if key is None:
        for name in obj:
            if name in rec:
                del rec[name]
        rec.update(obj)
    elif obj:
        rec[key] = obj


def attach(records: list[dict], kube: dict | None, namespace: dict | None) -> None:
    """The Python twin of ``_core.kube_attach``: the metadata maps set last in every record."""
    if namespace is None:
        for rec in records:
            rec.pop("kubernetes", None)
            rec["kubernetes"] = kube
    elif kube is None:
        for rec in records:
            rec.pop("kubernetes_namespace", None)
            rec["kubernetes_namespace"] = namespace
    else:
        for rec in records:
            rec.pop("kubernetes", None)
            rec.pop("kubernetes_namespace", None)
            rec["kubernetes"] = kube
            rec["kubernetes_namespace"] = namespace


def _excluded(rec: dict, props: Props) -> bool:
    stream = rec.get("stream")
    if stream == "stdout":
        return props.stdout_exclude
    if stream == "stderr":
        return props.stderr_exclude
    return props.stdout_exclude and props.stderr_exclude


def _suggested_parser(rec: dict, props: Props) -> str | None:
    stream = rec.get("stream")
    if stream == "stdout":
        return props.stdout_parser
    if stream == "stderr":
        return props.stderr_parser
    return props.stdout_parser if props.stdout_parser == props.stderr_parser else None
