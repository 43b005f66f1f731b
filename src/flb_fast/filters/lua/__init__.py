"""The ``lua`` filter: run a user's Lua function on every record (Fluent Bit's ``filter_lua``).

The function gets ``(tag, timestamp, record)`` and returns ``(code, timestamp, record)``: -1 drops
the record, 0 keeps it unchanged, 1 replaces it and its time, 2 replaces it and keeps its time; a
returned array of records splits the record into several (``plugins/filter_lua/lua.c``
``cb_lua_filter``). Scripts run in LuaJIT, the Lua Fluent Bit embeds, so a script written for
Fluent Bit (Lua 5.1 with ``bit``, ``table.maxn``, ``unpack``) runs unchanged.

A chunk crosses into Lua a slice of records at a time (SLICE_BYTES), each slice as one string in
LuaJIT's serialization format (``string.buffer``):
``flb_fast._core.lua_encode_records`` writes the records, ``batch.lua`` decodes them with
``buffer.decode``, calls the function on every record and writes all the results with
``buffer.encode``, and ``flb_fast._core.lua_decode_results`` turns them into the new records with
Fluent Bit's conversion rules, so every conversion runs in C. Map keys travel as indexes into a
dictionary both sides keep (the buffers' ``dict`` option). Records handed to Lua are decoded
afresh for each record and every replaced record is a new dict, so a script never changes a dict
that other records share (the pod metadata the kubernetes filter attaches to every record of a
pod); a shared map the script left as it was comes back as the original dict rather than a copy.

With ``protected_mode off`` a Lua error ends the agent as it ends Fluent Bit (``lua_call`` outside
``lua_pcall``): LuaJIT's panic line ``PANIC: unprotected error in call to Lua API (<error>)`` on
stderr and exit status 1, at once, records not yet delivered left behind (recorded:
tests/data/filters/lua/protected-mode-off). A tail DB then resumes from the last delivered line.

Differences from Fluent Bit, each on purpose:
- With protected_mode on, a Lua error, or a table Fluent Bit cannot turn into records, keeps
  that record unchanged (and logs the error with the script's line); Fluent Bit returns the
  whole chunk untouched, even the records already processed.
- The key order of a replaced record is the order Lua's ``pairs`` gives, as in Fluent Bit, but
  Lua's hashing differs between LuaJIT builds, so it need not be the same order.
- A record nested deeper than 100 levels (LuaJIT's serialization limit) passes unchanged, logged;
  a returned table nested that deep keeps its record, as a table Fluent Bit cannot convert.
- Records carry no metadata here: a five-parameter function gets empty group and metadata
  tables (as Fluent Bit gives records without them), and the metadata it returns is dropped.
- ``FLB_ENV`` holds ``HOSTNAME`` only; Fluent Bit adds the config file's ``@SET`` variables.
- An integer of the record from 2**63 - 512 up (a double rounds it to 2**63) reaches the script
  as that double, and goes back as one; Fluent Bit hands it over through a cast that C leaves
  undefined there (flb_lua.c ``lua_pushinteger(l, (double) o->via.u64)``): the script gets
  -2**63 on x86-64, 2**63 - 1 on arm64.
"""

from __future__ import annotations

import importlib
import os
import socket
from importlib import resources
from typing import Any, NoReturn

from flb_fast import _core
from flb_fast.config.errors import PluginConfigError
from flb_fast.config.options import BOOL, STR, Option, OptionTable
from flb_fast.filters.base import Filter
from flb_fast.log import write_stderr
from flb_fast.plugin import PluginContext
from flb_fast.record import Chunk

# LuaJIT 2.1 as Fluent Bit embeds it: its string.buffer serialization carries the records.
LUPA_MODULES = ("lupa.luajit21",)
# Map keys both sides keep as the buffers' dictionary, at most this many (records with ever-new
# keys cannot grow it without bound; keys past it travel as plain strings).
MAX_DICT_KEYS = 4096
# A chunk goes to Lua a slice at a time, each slice's records about this many serialized bytes: the
# strings that carry them then stay below LuaJIT's allocator's mmap threshold (128 KiB,
# DEFAULT_MMAP_THRESHOLD in LuaJIT's lj_alloc.c), so no slice maps and unmaps fresh memory
# (measured: 2,000-record chunks of lifted kubernetes records cost about a quarter less CPU).
SLICE_BYTES = 96 * 1024
# How batch.lua words a Lua error (Fluent Bit's "error code %d: %s", LUA_ERRRUN being 2).
LUA_ERROR_PREFIX = "error code 2: "


def lua_runtime(modules: tuple[str, ...] = LUPA_MODULES) -> Any:
    """A new Lua state from the first of lupa's ``modules`` installed, without lupa's ``python.eval``
    and builtins (a script has no business in the agent's Python). Lua strings are bytes on both
    sides (the serialized records are not text)."""
    for name in modules:
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        return module.LuaRuntime(encoding=None, register_eval=False, register_builtins=False)
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


def panic(message: str) -> NoReturn:
    """What a Lua error outside protected mode does to Fluent Bit: LuaJIT's default panic handler
    (lj_api.c ``panic``) writes this line to stderr, then the process exits with status 1."""
    write_stderr(f"PANIC: unprotected error in call to Lua API ({message})\n")
    os._exit(1)


class LuaFilter(Filter):
    name = "lua"
    description = "Lua Scripting Filter"
    OPTIONS = OptionTable(
        Option("script", STR, None, "path of the Lua script"),
        Option("code", STR, None, "Lua source code (instead of a script file)"),
        Option("call", STR, None, "name of the Lua function called for each record"),
        Option("type_int_key", STR, None, "space-separated keys whose numbers are turned into integers"),
        Option("type_array_key", STR, None, "space-separated keys whose tables are turned into arrays"),
        Option("protected_mode", BOOL, "true",
               "run the function in protected mode: a Lua error is logged and keeps the record (off: it ends the agent)"),
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
        self.label = label
        self.time_as_table: bool = options.time_as_table
        self.flb_null: bool = options.enable_flb_null
        lua = lua_runtime()
        lua.globals().FLB_ENV = lua.table_from({b"HOSTNAME": socket.gethostname().encode()})
        batch = resources.files(__package__).joinpath("batch.lua").read_bytes()
        int_keys = (options.type_int_key or "").split()
        array_keys = (options.type_array_key or "").split()
        # An entry key converts when it is a prefix of (or equal to) a configured key (flb_lua.c strncmp).
        self._int_prefixes = frozenset(key[:i] for key in int_keys for i in range(len(key) + 1)) or None
        self._array_prefixes = frozenset(key[:i] for key in array_keys for i in range(len(key) + 1)) or None
        self._run, self._canonical, load_script, callback_args = lua.execute(
            batch, self.call.encode(), self.time_as_table, lua.table_from([key.encode() for key in int_keys]),
            lua.table_from([key.encode() for key in array_keys]), label.encode(), self.flb_null, name=b"=flb_fast.lua",
        )
        stage, message = load_script(source, chunkname.encode())
        message = message.decode(errors="replace")
        if stage == b"load":
            raise PluginConfigError(source_option, f"error loading script: {message}")
        if stage == b"run":
            raise PluginConfigError(source_option, f"invalid lua content: {message}")
        if stage == b"call":
            raise PluginConfigError("call", f"function {self.call} is not found")
        self.nargs: int = callback_args()
        self._lua = lua
        # The map keys of the buffers' dictionary, and how many of them Lua has been given.
        self._keys: list[str] = []
        self._key_index: dict[str, int] = {}
        self._lua_keys = 0
        self._buffer = _core.LuaBuffer()
        self.protected_mode: bool = options.protected_mode
        if self.nargs == 5:
            self.config_warnings.append(("call", f"function {self.call} takes group and metadata arguments: "
                                         "records have no metadata here, so it gets empty tables and the metadata "
                                         "it returns is dropped"))

    async def filter(self, chunk: Chunk) -> Chunk | None:
        records, timestamps = chunk.records, chunk.timestamps
        tag = chunk.tag.encode(errors="surrogateescape")
        new_stamps: list[int] = []
        new_records: list[dict[str, Any]] = []
        start = 0
        while start < len(records):
            start = self._run_slice(tag, timestamps, records, start, new_stamps, new_records)
        if not new_records:
            return None
        chunk.timestamps, chunk.records = new_stamps, new_records
        return chunk

    def _run_slice(self, tag: bytes, timestamps: list[int], records: list[dict[str, Any]], start: int,
                   new_stamps: list[int], new_records: list[dict[str, Any]]) -> int:
        """Runs the script on the records from ``start`` that make up to SLICE_BYTES, appends the
        times and records that result, and returns the index of the next record."""
        keys = self._keys
        payload, passed, failed, shared, shared_payload, end = _core.lua_encode_records(
            records, timestamps, self.time_as_table, self.flb_null, self._key_index, keys, MAX_DICT_KEYS,
            self._int_prefixes is None and self._array_prefixes is None, self._buffer, start, SLICE_BYTES,
        )
        for _, reason in failed:
            self.ctx.log.error("record with %s passed unchanged", reason)
        entries: list[Any] = []
        if passed:
            new_keys = None
            if len(keys) != self._lua_keys:
                new_keys = self._lua.table_from([key.encode() for key in keys])
                self._lua_keys = len(keys)
            results, shared_results, messages = self._run(
                tag, payload, len(passed), self.nargs, new_keys, shared_payload, len(shared)
            )
            shared_bytes = (
                {id(value): encoded
                 for value, encoded in zip(shared, _core.lua_split_values(shared_results, len(shared)), strict=True)}
                if shared else {}
            )
            entries, specials = _core.lua_decode_results(
                results, len(passed), [records[index] for index in passed] if shared else [], shared_bytes, keys,
                self._key_index, MAX_DICT_KEYS, self._int_prefixes, self._array_prefixes,
            )
            if specials or len(messages):
                self._log(entries, specials, messages)
        _core.lua_merge_results(timestamps, records, start, end, passed, entries, new_stamps, new_records)
        return end

    def _log(self, entries: list[Any], specials: list[int], messages: Any) -> None:
        """Lua's messages in record order, each record's "invalid table" last. A record whose value
        only Lua can read (``False``) is written again by batch.lua's canonical and read anew."""
        lines = [(messages[i], messages[i + 1].decode(errors="replace")) for i in range(1, len(messages) + 1, 2)]
        if not self.protected_mode:
            errors = sorted(line for line in lines if line[1].startswith(LUA_ERROR_PREFIX))
            if errors:
                panic(errors[0][1][len(LUA_ERROR_PREFIX):])
        for position in specials:
            entry = entries[position]
            if entry is False:
                entry = entries[position] = _core.lua_decode_results(
                    self._canonical(position + 1), 1, [], {}, self._keys, self._key_index, MAX_DICT_KEYS,
                    self._int_prefixes, self._array_prefixes,
                )[0][0]
            if entry is None:
                entries[position] = 0
                lines.append((position + 1, f"invalid table returned at {self.call}(), {self.label}"))
        lines.sort(key=lambda line: line[0])
        for _, message in lines:
            self.ctx.log.error("%s", message)
