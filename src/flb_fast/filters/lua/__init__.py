"""The ``lua`` filter: run a user's Lua function on every record (Fluent Bit's ``filter_lua``).

The function gets ``(tag, timestamp, record)`` and returns ``(code, timestamp, record)``: -1 drops
the record, 0 keeps it unchanged, 1 replaces it and its time, 2 replaces it and keeps its time; a
returned array of records splits the record into several (``plugins/filter_lua/lua.c``
``cb_lua_filter``). Scripts run in LuaJIT, the Lua Fluent Bit embeds, so a script written for
Fluent Bit (Lua 5.1 with ``bit``, ``table.maxn``, ``unpack``) runs unchanged.

A chunk crosses into Lua once: the records become Lua tables in one lupa call (a dict many
records share, such as the pod metadata, converted once and copied in Lua), ``batch.lua`` calls the
function on every record and writes all the results as one JSON text, and one msgspec call turns
that into the new records. Records handed to Lua are copies and every replaced record is a new
dict, so a script never changes a dict that other records share (the pod metadata the kubernetes
filter attaches to every record of a pod); a shared map the script left as it was comes back as
the original dict rather than being written out and decoded again.

Differences from Fluent Bit, each on purpose:
- A Lua error, or a table Fluent Bit cannot turn into records, keeps that record unchanged
  (and logs the error with the script's line); Fluent Bit returns the whole chunk untouched,
  even the records already processed. ``protected_mode off`` (a crash on a Lua error in Fluent
  Bit) behaves the same way, with a warning.
- The key order of a replaced record is the order Lua's ``pairs`` gives, as in Fluent Bit, but
  Lua's hashing differs between LuaJIT builds, so it need not be the same order.
- Records carry no metadata here: a five-parameter function gets empty group and metadata
  tables (as Fluent Bit gives records without them), and the metadata it returns is dropped.
- ``FLB_ENV`` holds ``HOSTNAME`` only; Fluent Bit adds the config file's ``@SET`` variables.
"""

from __future__ import annotations

import importlib
import math
import os
import socket
from importlib import resources
from typing import Any, ClassVar

import msgspec

from flb_fast.config.errors import PluginConfigError
from flb_fast.config.options import BOOL, STR, Option, OptionTable
from flb_fast.filters.base import Filter
from flb_fast.plugin import PluginContext
from flb_fast.record import Chunk

# LuaJIT as Fluent Bit embeds it; lupa's Lua 5.1 speaks the same language where a wheel lacks LuaJIT.
LUPA_MODULES = ("lupa.luajit21", "lupa.lua51")
NS_PER_SECOND = 1_000_000_000
_decode = msgspec.json.Decoder().decode


def lua_runtime(modules: tuple[str, ...] = LUPA_MODULES) -> Any:
    """A new Lua state from the first of lupa's ``modules`` installed, without lupa's ``python.eval``
    and builtins (a script has no business in the agent's Python)."""
    for name in modules:
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        return module.LuaRuntime(register_eval=False, register_builtins=False)
    raise ImportError(f"the lua filter needs one of {', '.join(modules)}")


def script_path(script: str, conf_path: str | None) -> str:
    """The script file as ``lua_config_create`` finds it: from the working directory, else (a relative
    path) from the config file's folder; an unreadable file is a config error."""
    path = script
    if not os.path.exists(script) and not os.path.isabs(script) and conf_path:
        path = os.path.join(conf_path, script)
    if not os.access(path, os.R_OK) or not os.path.isfile(path):
        raise PluginConfigError("script", f"cannot access script '{path}'")
    return path


# Integers Lua numbers (doubles) hold exactly.
MAX_EXACT_INT = 2**53


def round_trips(value: Any) -> bool:
    """Whether ``value`` comes back from Lua unchanged when the script leaves it alone: no null (nil
    removes a key), no integral float (it comes back an integer), no integer a double cannot hold,
    only text keys and no bytes."""
    if isinstance(value, dict):
        return all(type(key) is str and round_trips(item) for key, item in value.items())
    if isinstance(value, list):
        return all(round_trips(item) for item in value)
    if isinstance(value, str | bool):
        return True
    if isinstance(value, int):
        return -MAX_EXACT_INT <= value <= MAX_EXACT_INT
    if isinstance(value, float):
        return math.isfinite(value) and not value.is_integer()
    return False


class _Conversion:
    """One chunk's records on their way into Lua."""

    def __init__(self, lua: Any) -> None:
        self.lua = lua
        self.tables: Any = None
        self.passed: list[int] = []
        self.converted: dict[int, Any] = {}  # id(container) -> its Lua table
        self.checked: set[int] = set()
        self.reused: list[Any] = []  # record values a returned record may refer to (1-based in Lua)
        self._origins: dict[Any, int] = {}

    def reuse(self, table: Any, value: Any) -> None:
        self.reused.append(value)
        self._origins[table] = len(self.reused)

    def origins(self) -> Any:
        """The Lua table -> index of the reusable values, or nil."""
        return self.lua.table_from(self._origins) if self._origins else None


class LuaFilter(Filter):
    name = "lua"
    description = "Lua Scripting Filter"
    # lupa's Lua modules, the first installed one runs the scripts (bench.bench_lua compares them).
    lua_modules: ClassVar[tuple[str, ...]] = LUPA_MODULES
    OPTIONS = OptionTable(
        Option("script", STR, None, "path of the Lua script"),
        Option("code", STR, None, "Lua source code (instead of a script file)"),
        Option("call", STR, None, "name of the Lua function called for each record"),
        Option("type_int_key", STR, None, "space-separated keys whose numbers are turned into integers"),
        Option("type_array_key", STR, None, "space-separated keys whose tables are turned into arrays"),
        Option("protected_mode", BOOL, "true", "run the function in protected mode (an error keeps the record)"),
        Option("time_as_table", BOOL, "false", "pass the timestamp as a table {sec=..., nsec=...} instead of a number"),
        Option("enable_flb_null", BOOL, "false", "pass null values as flb_null instead of nil (which removes the key)"),
    )

    def __init__(self, ctx: PluginContext, options: Any) -> None:
        super().__init__(ctx, options)
        self.config_warnings: list[tuple[str, str]] = []
        if options.code is not None:
            source, chunkname, label = options.code.encode(), "fluentbit.lua", "fluentbit.lua"
            source_option = "code"
        elif options.script is not None:
            path = script_path(options.script, ctx.conf_path)
            with open(path, "rb") as handle:
                source = handle.read()
            chunkname, label, source_option = "@" + path, path, "script"
        else:
            raise PluginConfigError("script", "no script path defined")
        if not options.call:
            raise PluginConfigError("call", "function name defined by 'call' is not set")
        self.call: str = options.call
        self.convert_types: bool = bool(options.type_int_key or options.type_array_key)
        self.time_as_table: bool = options.time_as_table
        self.flb_null: bool = options.enable_flb_null
        lua = lua_runtime(self.lua_modules)
        lua.globals().FLB_ENV = lua.table_from({"HOSTNAME": socket.gethostname()})
        batch = resources.files(__package__).joinpath("batch.lua").read_text()
        int_keys = (options.type_int_key or "").split()
        array_keys = (options.type_array_key or "").split()
        self._run, load_script, callback_args, self._mark_array, self._null = lua.execute(
            batch, self.call, self.time_as_table, lua.table_from(int_keys), lua.table_from(array_keys), label,
            self.flb_null, name="=flb_fast.lua",
        )
        stage, message = load_script(source, chunkname)
        if stage == "load":
            raise PluginConfigError(source_option, f"error loading script: {message}")
        if stage == "run":
            raise PluginConfigError(source_option, f"invalid lua content: {message}")
        if stage == "call":
            raise PluginConfigError("call", f"function {self.call} is not found")
        self.nargs: int = callback_args()
        self._lua = lua
        if not options.protected_mode:
            self.config_warnings.append(("protected_mode", "protected_mode off is not supported: a Lua error is "
                                         "logged and the record kept, as with protected_mode on"))
        if self.nargs == 5:
            self.config_warnings.append(("call", f"function {self.call} takes group and metadata arguments: "
                                         "records have no metadata here, so it gets empty tables and the metadata "
                                         "it returns is dropped"))

    async def filter(self, chunk: Chunk) -> Chunk | None:
        records, timestamps = chunk.records, chunk.timestamps
        conversion = self._convert(records)
        passed = conversion.passed
        if not passed:
            return chunk
        lua = self._lua
        stamps = [timestamps[index] for index in passed]
        if self.time_as_table:
            times = None
            secs, nsecs = zip(*(divmod(ns, NS_PER_SECOND) for ns in stamps), strict=True)
            lua_secs, lua_nsecs = lua.table_from(secs), lua.table_from(nsecs)
        else:
            times = lua.table_from([sec + nsec / 1e9 for sec, nsec in (divmod(ns, NS_PER_SECOND) for ns in stamps)])
            lua_secs = lua_nsecs = None
        text = self._run(chunk.tag, conversion.tables, len(passed), times, lua_secs, lua_nsecs, self.nargs,
                         conversion.origins())
        entries, messages = _decode(text)
        for message in messages:
            self.ctx.log.error("%s", message)
        if not any(entries):
            return chunk
        results = dict(zip(passed, entries, strict=True))
        reused = conversion.reused
        new_stamps: list[int] = []
        new_records: list[dict[str, Any]] = []
        for index, (stamp, record) in enumerate(zip(timestamps, records, strict=True)):
            entry = results.get(index, 0)
            if entry == 0:
                new_stamps.append(stamp)
                new_records.append(record)
                continue
            if entry == -1:
                continue
            if entry[0] == 1:
                stamp = entry[1] * NS_PER_SECOND + entry[2]
                replaced = entry[3:-1]
            else:
                replaced = entry[1:-1]
            for key, number in entry[-1] or ():
                replaced[0][key] = reused[number - 1]
            new_stamps.extend([stamp] * len(replaced))
            new_records.extend(replaced)
        if not new_records:
            return None
        chunk.timestamps, chunk.records = new_stamps, new_records
        return chunk

    def _convert(self, records: list[dict[str, Any]]) -> _Conversion:
        """The records as one Lua table of tables, with the indexes of the records in it.

        A dict or list in a record is converted once per chunk however many records share it (the
        kubernetes filter's pod metadata), and ``batch.lua`` gives each record its own copy. Each is
        converted from a fresh copy: lupa turns a container met twice in one conversion into an empty
        table. A record whose text cannot be UTF-8 (a lone surrogate) stays out of Lua and passes
        unchanged.
        """
        table_from = self._lua.table_from
        conversion = _Conversion(self._lua)
        rows: list[dict[str, Any]] = []
        for index, record in enumerate(records):
            try:
                rows.append({key: self._value(value, conversion) for key, value in record.items()})
            except UnicodeEncodeError:
                self._unconvertible()
                continue
            conversion.passed.append(index)
        try:
            conversion.tables = table_from(rows, recursive=True)
            return conversion
        except UnicodeEncodeError:
            pass
        tables, kept = [], []
        for index, row in zip(conversion.passed, rows, strict=True):
            try:
                tables.append(table_from(row))
            except UnicodeEncodeError:
                self._unconvertible()
                continue
            kept.append(index)
        conversion.tables, conversion.passed = table_from(tables), kept
        return conversion

    def _unconvertible(self) -> None:
        self.ctx.log.error("record with text that is not valid UTF-8 passed unchanged")

    def _value(self, value: Any, conversion: _Conversion) -> Any:
        """A record's value as lupa may convert it: containers already as Lua tables (one per object).

        A container met a second time in the chunk, whose values Lua gives back as they are, may
        come back as this very object when the script leaves it unchanged (``batch.lua`` run).
        """
        if isinstance(value, dict | list):
            key = id(value)
            table = conversion.converted.get(key)
            if table is None:
                fresh = self._fresh(value)
                table = conversion.converted[key] = (
                    self._lua.table_from(fresh, recursive=True) if isinstance(fresh, dict | list) else fresh
                )
            elif key not in conversion.checked:
                conversion.checked.add(key)
                if not self.convert_types and round_trips(value):
                    conversion.reuse(table, value)
            return table
        if value is None and self.flb_null:
            return self._null
        return value

    def _fresh(self, value: Any) -> Any:
        """A copy of ``value`` with empty arrays marked as arrays (so that they come back as arrays)
        and, with ``enable_flb_null``, null values as ``flb_null``."""
        if isinstance(value, dict):
            return {key: self._fresh(item) for key, item in value.items()}
        if isinstance(value, list):
            if not value:
                return self._mark_array(self._lua.table())
            return [self._fresh(item) for item in value]
        if value is None and self.flb_null:
            return self._null
        return value
