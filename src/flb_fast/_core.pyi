"""Types of the compiled hot path (flb_fast/_core.pyx and its _core/*.pxi sections)."""

from collections.abc import Callable, Iterable

class LineSplitter:
    buffer_max_size: int
    skip_long_lines: bool
    skip_empty_lines: bool
    truncate_long_lines: bool
    truncated_lines: int
    crlf_lines: list[int]
    cut_lines: list[int]
    skipped_lines: int
    skipped_bytes: int
    long_line: bool
    def __init__(
        self, buffer_max_size: int, skip_long_lines: bool, skip_empty_lines: bool = False,
        truncate_long_lines: bool = False,
    ) -> None: ...
    @property
    def pending(self) -> int: ...
    @property
    def max_line_bytes(self) -> int: ...
    def feed(self, data: bytes | bytearray | memoryview, base: int = 0) -> list[bytes]: ...
    def take_starts(self, read_positions: bool = False) -> memoryview: ...
    def flush(self) -> bytes | None: ...

def parse_time_rfc3339(value: str | bytes, zone: bool = False, strict: bool = True) -> int: ...
def parse_time_clf(value: str) -> int | None: ...
def docker_unmarked(lines: list[bytes]) -> list[int]: ...

class JsonLinesDecoder:
    key: str
    time_key: str | None
    time_keep: bool
    time_parser: Callable[[str], int] | None
    time_errors: int
    def __init__(
        self, key: str, time_key: str | None, time_keep: bool, time_parser: Callable[[str], int] | None = None
    ) -> None: ...
    def decode(self, lines: list[bytes], read_time_ns: int) -> tuple[list[int], list[dict[str, object]], int]: ...

def decode_json_lines(
    lines: list[bytes],
    read_time_ns: int,
    key: str,
    time_key: str | None,
    time_keep: bool,
    time_parser: Callable[[str], int] | None = None,
) -> tuple[list[int], list[dict[str, object]], int]: ...
def json_shape(line: bytes, value: object) -> tuple[int, int, bool]: ...
def decode_cri_lines(
    lines: list[bytes], read_time_ns: int
) -> tuple[list[int], list[dict[str, object]], list[int], int]: ...

class Inotify:
    MODIFY: int
    ATTRIB: int
    CLOSE_WRITE: int
    MOVED_FROM: int
    MOVED_TO: int
    CREATE: int
    DELETE: int
    DELETE_SELF: int
    MOVE_SELF: int
    UNMOUNT: int
    Q_OVERFLOW: int
    IGNORED: int
    ONLYDIR: int
    DONT_FOLLOW: int
    EXCL_UNLINK: int
    ISDIR: int
    def fileno(self) -> int: ...
    @property
    def closed(self) -> bool: ...
    def close(self) -> None: ...
    def add_watch(self, path: str | bytes, mask: int) -> int: ...
    def rm_watch(self, wd: int) -> bool: ...
    def read(self) -> list[tuple[int, int, int, bytes]]: ...

class RegexProgram:
    names: list[tuple[str, int]]
    def __init__(
        self, code: list[int], classes: bytes, group_count: int, names: list[tuple[str, int]], anchored: bool
    ) -> None: ...
    def spans(self, text: str) -> list[tuple[int, int]] | None: ...
    def parse_lines(
        self,
        lines: list[bytes],
        read_time_ns: int,
        key: str,
        skip_empty: bool,
        time_field: str | None,
        time_keep: bool,
        time_parse: Callable[[str], int | None] | None,
        time_failed: Callable[[str], object],
        finish: Callable[[dict[str, object]], dict[str, object]] | None = None,
        time_clf: bool = False,
    ) -> tuple[list[int], list[dict[str, object]], int]: ...

def parse_logfmt_lines(
    lines: list[bytes],
    read_time_ns: int,
    key: str,
    time_key: str | None,
    time_keep: bool,
    no_bare_keys: bool,
    typed: bool,
    time_parse: Callable[[str], int | None] | None,
    time_failed: Callable[[str], object],
    unescape: Callable[[str], str],
    finish: Callable[[dict[str, object]], dict[str, object]] | None = None,
) -> tuple[list[int], list[dict[str, object]], int]: ...

def kube_trim_value(value: str) -> str: ...
def kube_merge_json_logs(records: list[dict[str, object]], key: str | None, trim: bool, keep_log: bool) -> int: ...
def kube_merge_parsed_logs(
    records: list[dict[str, object]], timestamps: list[int], indexes: list[int],
    parse_batch: Callable[[list[str]], Iterable[object]], key: str | None, trim: bool, keep_log: bool, now_ns: int,
) -> int: ...
def kube_attach(records: list[dict[str, object]], kube: dict[str, object] | None,
                namespace: dict[str, object] | None) -> None: ...
class CwlEvents:
    def __len__(self) -> int: ...

class CwlBodyWriter:
    def __init__(self, max_event_bytes: int, max_batch_bytes: int, event_overhead: int, max_batch_events: int,
                 max_span_ms: int) -> None: ...
    def events(self, items: list[object], timestamps_ns: list[int], encode: Callable[[object], bytes],
               fallback: Callable[[int], bytes]) -> CwlEvents: ...
    def body(self, head: bytes, events: CwlEvents, first: int) -> tuple[bytes, int, int]: ...

JSON_MEMO_ENTRIES: int
JSON_MEMO_BYTES: int

def records_json(
    records: list[dict[str, object]],
    encode: Callable[[object], bytes],
    fallback: Callable[[int], bytes],
    suffix: bytes,
) -> list[bytes]: ...
def records_batch_end(
    datas: list[bytes], keys: list[str | None] | None, start: int, max_records: int, max_bytes: int
) -> int: ...
def records_body(
    head: bytes,
    datas: list[bytes],
    keys: list[str | None] | None,
    start: int,
    end: int,
    key_json: Callable[[object], bytes],
) -> bytes: ...
def grep_keep(
    records: list[dict[str, object]],
    excludes: list[bool],
    keys: list[str],
    subkeys: list[tuple[str | int, ...]],
    searches: list[Callable[[str], object]],
    logical_op: int,
) -> list[bool]: ...
def modify_rule(
    records: list[dict[str, object]], selected: Iterable[int] | None, kind: int, key: str, val: str
) -> None: ...
def nest_lift(records: list[dict[str, object]], key: str, add_prefix: str, remove_prefix: str) -> None: ...
class LuaTableAmbiguous(Exception): ...
class LuaBuffer: ...
class LuaUnconvertible(ValueError): ...
def lua_encode_records(
    records: list[dict[str, object]], timestamps: list[int], time_as_table: bool, flb_null: bool,
    key_index: dict[str, int], keys: list[str], max_keys: int, find_shared: bool, buffer: LuaBuffer | None = None,
    first: int = 0, max_bytes: int = 0,
) -> tuple[bytes, list[int], list[tuple[int, str]], list[object], bytes, int]: ...
def lua_split_values(data: bytes, count: int) -> list[bytes]: ...
def lua_decode_results(
    data: bytes, count: int, originals: list[dict[str, object]], shared_bytes: dict[int, bytes], keys: list[str],
    key_index: dict[str, int], max_keys: int, int_prefixes: frozenset[str] | None,
    array_prefixes: frozenset[str] | None,
) -> tuple[list[object], list[int]]: ...
def lua_merge_results(
    timestamps: list[int], records: list[dict[str, object]], first: int, end: int, passed: list[int],
    entries: list[object], stamps: list[int], out: list[dict[str, object]],
) -> None: ...
def footprint_measure(sample: list[object], max_depth: int) -> tuple[int, int]: ...

class SystemdLibrary:
    path: str
    def __init__(self, path: str, preload: list[str]) -> None: ...

def journal_records(
    entries: list[list[bytes]], strip_underscores: bool, lowercase: bool, max_fields: int
) -> list[tuple[dict[str, object], int, int]]: ...

class Journal:
    def __init__(
        self, library: SystemdLibrary, path: str | None, tag_prefix: str, tag_suffix: str, dynamic_tag: bool,
        strip_underscores: bool, lowercase: bool, max_fields: int,
    ) -> None: ...
    def close(self) -> None: ...
    def add_match(self, match: bytes, conjunction: bool) -> None: ...
    def seek_head(self) -> int: ...
    def seek_tail(self, skip: int) -> int: ...
    def seek_cursor(self, cursor: str) -> int: ...
    def fileno(self) -> int: ...
    def process(self) -> int: ...
    def read(
        self, max_entries: int, max_bytes: int, fixed_tag: str | None, cursor: bool
    ) -> tuple[list[list[object]], str | None, int, int]: ...
