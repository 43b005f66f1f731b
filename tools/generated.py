"""Run Fluent Bit and flb-fast on generated records and filter chains, and print where they differ.

Each seed makes one case folder: ``input.jsonl`` (generated records: strings with escapes and
non-ASCII text, ints up to 64 bits, doubles, booleans, nulls, nested maps and arrays, JSON text),
``parsers.conf`` and ``fluent-bit.conf``, which tails the records (``Exit_On_Eof``) through the
generated filters into stdout ``json_lines``. Both agents run the folder's config; a seed whose
stdout differs is printed with the first record that differs, and its folder is kept.

    python -m tools.generated filters --fluent-bit /path/to/fluent-bit --seeds 0:200
    python -m tools.generated lua --fluent-bit /path/to/fluent-bit --seeds 0:200 --keep /tmp/cases
    python -m tools.generated multiline --fluent-bit /path/to/fluent-bit --seeds 0:200
    python -m tools.generated rules --fluent-bit /path/to/fluent-bit --seeds 0:200
    python -m tools.generated multiline_filter --fluent-bit /path/to/fluent-bit --seeds 0:200
    python -m tools.generated docker --fluent-bit /path/to/fluent-bit --seeds 0:200
    python -m tools.generated cri --fluent-bit /path/to/fluent-bit --seeds 0:200
    python -m tools.generated times --fluent-bit /path/to/fluent-bit --seeds 0:200
    python -m tools.generated kube --fluent-bit /path/to/fluent-bit --seeds 0:200
    python -m tools.generated cloudwatch --fluent-bit /path/to/fluent-bit --seeds 0:200
    python -m tools.generated firehose --fluent-bit /path/to/fluent-bit --seeds 0:200
    python -m tools.generated kinesis --fluent-bit /path/to/fluent-bit --seeds 0:200

``filters`` chains one to three of grep, modify (with conditions), nest, record_modifier and the
parser filter; ``lua`` runs one of a few scripts (keep, change, add values, split, drop) over the
records, compared without regard to key order (Fluent Bit's order there follows LuaJIT's table
order, which changes from one run to the next); ``multiline`` tails generated lines (stack-trace
shapes, JSON, text that is not UTF-8, carriage returns) with the old multiline mode: a firstline
parser ending with a string, a number or JSON, zero to two ``Parser_N``, and Path_Key, Offset_Key,
Key or Skip_Empty_Lines; ``rules`` tails blocks of java, python, go and ruby traces, stamped
lines, JSON and text through ``multiline.parser`` naming the built-in parsers, a generated
``[MULTILINE_PARSER]`` (regex rules, maybe a parser and its ``key_content``) or both;
``multiline_filter`` sends the same lines as records (``log``, ``stream``) through the multiline
filter with those parsers, buffered or not, or messages a Docker logging driver split through its
``partial_message`` mode; ``docker`` tails Docker json-file entries (escapes,
non-ASCII, control characters, lines over 16 KiB split as Docker splits them, stdout and stderr)
through ``Parser docker`` and Docker_Mode, with or without Docker_Mode_Parser; ``cri`` tails
containerd's CRI lines (messages split into ``P`` parts, streams interleaved, lines containerd
would not write) through ``multiline.parser cri`` or ``Parser cri``; ``times`` reads times written
by one of ``TIME_FORMATS`` (fields past their range, cut short, more after them) through a regex
parser with or without Time_Keep, Time_Strict and Time_Offset, printing each record's time and
comparing a read time (a time the parser did not read) as the same; ``kube`` tails Docker logs of
generated pods (labels, annotations, the ``fluentbit.io/parser`` and ``exclude`` annotations,
owner references, pods without an IP) through the kubernetes filter with a random choice of its
options, against the tests' Kubernetes API server (one per case), the records of its files
compared in any order of files; ``cloudwatch``, ``firehose`` and ``kinesis`` send generated
records (each with its own time) through cloudwatch_logs, kinesis_firehose or kinesis_streams to
the tests' endpoints, which keep what they accept, and compare the events or records' data each
agent's requests put. The differences
known and not followed are listed in the README (Fluent Bit's faults, and what its duplicate keys
do to later filters).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from tools.differential import start_kube_api

KEYS = ["a", "b", "log", "msg", "k1", "k2", "Mem", "Mem.used", "nested", "x_y", "level"]
STRINGS = ["hello", "", "a b", "123", "1.5", "true", "\u00fcn\u00ef", "tab\there", 'qu"ote', "error", "warn", "-7",
           "0x1F", "1e3", " pad ", '{"j":1,"log":"in"}', '{"a":{"b":2}}', "x=1", "key=val ue", '{"x":1,"x":2}',
           "[1,2]"]
NUMBERS = [0, 1, -3, 42, 2**40, 2**63 - 1, 1.5, -0.25, 3.0, 1e20, 0.1]
REGEXES = ["^h", "o$", "^$", ".*", "err|warn", "^[0-9]+$", "\\d", "^a", "\u00fc", "b.*", "^(a|b)$", "^M.*", "x_"]
PREFIXES = ["M", "Mem", "k", "a", "x"]
RECORDS_PER_CASE = 25
# A case's tail options and its filter sections (``write_config``).
Case = tuple[list[str], list[list[str]]]
# The tail options of the cases whose input is records, one JSON object a line.
JSONL_TAIL = ["Path input.jsonl", "Parser json"]
# An agent's run on one case ends in well under a second; this bounds a stuck one.
RUN_SECONDS = 60
LUA_SCRIPTS = {
    "keep": "function cb(tag, ts, record) return 0, ts, record end",
    "same": "function cb(tag, ts, record) return 1, ts, record end",
    "add": 'function cb(tag, ts, record) record["n"] = 1.5 record["i"] = 10 record["f"] = 3.0 '
           'record["t"] = {1, 2, 3} record["e"] = {} record["m"] = {x = 1} return 1, ts, record end',
    "split": 'function cb(tag, ts, record) return 1, ts, {record, {only = "x"}} end',
    "drop": 'function cb(tag, ts, record) if record["a"] ~= nil then return -1, ts, record end return 0, ts, record end',
}


def value(rng: random.Random, depth: int = 0) -> Any:
    roll = rng.random()
    if roll < 0.45:
        return rng.choice(STRINGS)
    if roll < 0.68:
        return rng.choice(NUMBERS)
    if roll < 0.74:
        return rng.choice([True, False])
    if roll < 0.78 or depth >= 2:
        return None
    if roll < 0.9:
        return {key: value(rng, depth + 1) for key in rng.sample(KEYS, rng.randint(0, 3))}
    return [value(rng, depth + 1) for _ in range(rng.randint(0, 3))]


def record(rng: random.Random) -> dict[str, Any]:
    return {key: value(rng) for key in rng.sample(KEYS, rng.randint(1, 6))}


def word(rng: random.Random) -> str:
    """A value for Set/Add/Record: one word, as the config reads it."""
    return rng.choice(["v1", "v2", "123", "yes", "hello", "1.5"])


def modify(rng: random.Random) -> list[str]:
    one, two = rng.sample(KEYS, 2)
    conditions = [f"Key_exists {one}", f"Key_does_not_exist {one}", f"A_key_matches {rng.choice(REGEXES)}",
                  f"No_key_matches {rng.choice(REGEXES)}", f"Key_value_equals {one} {word(rng)}",
                  f"Key_value_does_not_equal {one} {word(rng)}", f"Key_value_matches {one} {rng.choice(REGEXES)}",
                  f"Key_value_does_not_match {one} {rng.choice(REGEXES)}"]
    # Copying or renaming a key onto itself is a Fluent Bit fault the README names: never generated.
    rules = [f"Set {one} {word(rng)}", f"Add {one} {word(rng)}", f"Remove {one}",
             f"Remove_wildcard {rng.choice(PREFIXES)}", f"Remove_regex {rng.choice(REGEXES)}", f"Rename {one} {two}",
             f"Hard_rename {one} {two}", f"Copy {one} {two}", f"Hard_copy {one} {two}",
             f"Move_to_start {rng.choice(PREFIXES)}", f"Move_to_end {rng.choice(PREFIXES)}"]
    chosen = [f"Condition {rng.choice(conditions)}" for _ in range(rng.randint(0, 2))]
    return ["Name modify", *chosen, *(rng.choice(rules) for _ in range(rng.randint(1, 4)))]


def nest(rng: random.Random) -> list[str]:
    if rng.random() < 0.5:
        wildcards = [f"Wildcard {rng.choice(['k*', 'Mem*', 'a', 'log', '*', 'x_*'])}" for _ in range(rng.randint(1, 2))]
        lines = ["Name nest", "Operation nest", *wildcards, f"Nest_under {rng.choice(['nested', 'sub', 'a'])}"]
        if rng.random() < 0.4:
            lines.append(f"Remove_prefix {rng.choice(['k', 'Mem', 'x_'])}")
        return lines
    lines = ["Name nest", "Operation lift", f"Nested_under {rng.choice(['nested', 'a', 'b'])}"]
    if rng.random() < 0.5:
        lines.append(f"Add_prefix {rng.choice(['p_', 'n.'])}")
    return lines


def grep(rng: random.Random) -> list[str]:
    kind = rng.choice(["Regex", "Exclude"])
    rules = []
    for _ in range(rng.randint(1, 2)):
        key = rng.choice(KEYS) if rng.random() < 0.8 else f"$nested['{rng.choice(KEYS)}']"
        rules.append(f"{kind} {key} {rng.choice(REGEXES)}")
    if len(rules) > 1 and rng.random() < 0.5:
        rules.append(f"Logical_Op {rng.choice(['and', 'or'])}")
    return ["Name grep", *rules]


def record_modifier(rng: random.Random) -> list[str]:
    kind = rng.choice(["Remove_key", "Allowlist_key", None])
    lines = ["Name record_modifier"]
    for _ in range(rng.randint(1, 3)):
        if kind is None or rng.random() < 0.4:
            lines.append(f"Record {rng.choice(KEYS)} {word(rng)}")
        else:
            lines.append(f"{kind} {rng.choice(KEYS)}")
    return lines


def parser(rng: random.Random) -> list[str]:
    lines = ["Name parser", f"Key_Name {rng.choice(['log', 'msg', 'a'])}", f"Parser {rng.choice(['json', 'kv'])}"]
    for option in ("Reserve_Data", "Preserve_Key"):
        if rng.random() < 0.5:
            lines.append(f"{option} {rng.choice(['On', 'Off'])}")
    return lines


FILTERS: list[Callable[[random.Random], list[str]]] = [grep, modify, nest, record_modifier, parser]
PARSERS = """\
[PARSER]
    Name   json
    Format json

[PARSER]
    Name   kv
    Format regex
    Regex  ^(?<key>[a-z]+)=(?<val>.*)$
"""


def filter_sections(rng: random.Random) -> list[list[str]]:
    return [rng.choice(FILTERS)(rng) for _ in range(rng.randint(1, 3))]


def lua_section(rng: random.Random) -> list[str]:
    """A lua filter calling ``cb`` in ``script.lua``."""
    lines = ["Name lua", "script script.lua", "call cb"]
    if rng.random() < 0.3:
        lines.append(f"type_int_key {rng.choice(['a', 'i', 'k1 k2'])}")
    if rng.random() < 0.3:
        lines.append(f"type_array_key {rng.choice(['a', 't', 'b'])}")
    return lines


MULTILINE_PARSERS = """\
[PARSER]
    Name        first
    Format      regex
    Regex       ^(?<time>\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d) (?<level>[A-Z]+) (?<log>.*)$
    Time_Key    time
    Time_Format %Y-%m-%d %H:%M:%S

[PARSER]
    Name        typed
    Format      regex
    Regex       ^(?<time>\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d) (?<msg>.*) code=(?<code>\\d+)$
    Time_Key    time
    Time_Format %Y-%m-%d %H:%M:%S
    Types       code:integer

[PARSER]
    Name        json
    Format      json

[PARSER]
    Name        frame
    Format      regex
    Regex       ^\\s+at (?<frame>\\S+)$

[PARSER]
    Name        cause
    Format      regex
    Regex       ^Caused by: (?<cause>.*)$
"""
# Lines for the old multiline mode: first lines of each firstline parser, lines Parser_N match,
# and text (escapes, non-ASCII, bytes that are not UTF-8, JSON, carriage returns).
MULTILINE_FIRSTS = {
    "first": [b"2026-01-02 03:04:05 ERROR boom", b"2026-01-02 03:04:06 INFO ok \xc3\xa9", b"2026-01-02 03:04:07 WARN ",
              b"2026-01-02 03:04:08 DEBUG {\"a\":1}"],
    "typed": [b"2026-01-02 03:04:05 boom code=500", b"2026-01-02 03:04:06 ok code=200",
              b"2026-01-02 03:04:07 x code=18446744073709551615"],
    "json": [b'{"log":"a json first","n":1}', b'{"msg":"tab\\there","lvl":"E"}', b'{"a":{"b":2},"z":"last"}'],
}
MULTILINE_MORE = [b"  at com.example.Handler", b"\tat x.Y", b"Caused by: timeout", b"plain text", b"with \xff byte",
                  b"quote \" and \\ backslash", b"\xe6\x97\xa5\xe6\x9c\xac", b"trailing cr\r", b"{\"k\":\"v\"}", b"x"]


def multiline_case(rng: random.Random, folder: Path) -> Case:
    """``input.log``, ``parsers.conf`` and the tail options of an old-multiline case (Fluent Bit's
    known losses, README, are not generated: no empty line it sees, no Parser_N line before the
    first match)."""
    (folder / "parsers.conf").write_text(MULTILINE_PARSERS)
    firstline = rng.choice(sorted(MULTILINE_FIRSTS))
    more = rng.sample(["frame", "cause"], rng.randint(0, 2))
    # Empty lines only where Skip_Empty_Lines drops them before the multiline mode sees them.
    skip_empty = rng.random() < 0.3
    continuations = MULTILINE_MORE + [b"", b"\r"] if skip_empty else MULTILINE_MORE
    lines = [rng.choice([b"plain text", b"junk before", b"with \xff byte"]) for _ in range(rng.randint(0, 2))]
    for _ in range(rng.randint(1, 6)):
        lines.append(rng.choice(MULTILINE_FIRSTS[firstline]))
        lines += [rng.choice(continuations) for _ in range(rng.randint(0, 4))]
    (folder / "input.log").write_bytes(b"".join(line + b"\n" for line in lines))
    options = ["Multiline On", f"Parser_Firstline {firstline}",
               *(f"Parser_{index} {name}" for index, name in enumerate(more, 1))]
    if skip_empty:
        options.append("Skip_Empty_Lines On")
    for option, values in (("Path_Key", ["file"]), ("Offset_Key", ["offset"]), ("Key", ["message"])):
        if rng.random() < 0.3:
            options.append(f"{option} {rng.choice(values)}")
    return ["Path input.log", *options], []


# Blocks of lines for multiline.parser: the built-in parsers' traces, stamped lines, JSON, text.
RULES_BLOCKS = [
    [b"Exception in thread \"main\" java.lang.IllegalStateException: boom", b"\tat com.example.A.run(A.java:10)",
     b"\tat com.example.B.main(B.java:5)"],
    [b"java.lang.RuntimeException: outer", b"\tat x.Y.z(Y.java:1)", b"Caused by: java.io.IOException: inner",
     b"\tat a.B.c(B.java:2)", b"\t... 3 more"],
    [b"Traceback (most recent call last):", b'  File "app.py", line 3, in <module>', b"    main()",
     b"ValueError: bad \xc3\xa9"],
    [b"panic: runtime error: index out of range", b"", b"goroutine 1 [running]:", b"main.main()",
     b"\t/app/main.go:7 +0x1d", b"exit status 2"],
    [b"app.rb:3:in `/': divided by 0 (ZeroDivisionError)", b"\tfrom app.rb:3:in `<main>'"],
    [b"2026-01-02T03:04:05Z Exception: stamped", b"2026-01-02T03:04:06Z   at stamped.frame", b"2026-01-02T03:04:07Z done"],
    [b"plain text"], [b"with \xff byte"], [b""], [b"  indented text"], [b"[INFO] bracketed"],
    [b'{"log":"Exception: in json","n":1}'], [b'{"log":"  at json.frame"}'],
]
RULES_STARTS = [r"/^Exception/", r"/^[A-Z][a-z]+/", r"/^\[/", r"/^\d{4}-/", r"/^(Exception|Traceback|panic)/"]
RULES_CONTINUATIONS = [r"/^\s+at /", r"/^\s/", r"/^Caused by/", r"/^\t/", r"/^$/", r"/^[a-z]/"]
RULES_PARSERS = """\
[PARSER]
    Name        stamped
    Format      regex
    Regex       ^(?<time>\\d{4}-\\d{2}-\\d{2}T[^ ]+) (?<message>.*)$
    Time_Key    time
    Time_Format %Y-%m-%dT%H:%M:%SZ

[PARSER]
    Name        json
    Format      json
"""


def rules_lines(rng: random.Random) -> list[bytes]:
    """Blocks of trace lines, then a last line no rule continues: Fluent Bit 4.2.8 crashes
    (SIGSEGV) when it stops with a group still open, and these cases stop at the end of the file."""
    return [*(line for _ in range(rng.randint(2, 8)) for line in rng.choice(RULES_BLOCKS)), b"# END"]


def rules_case(rng: random.Random, folder: Path) -> Case:
    """``input.log``, ``parsers.conf`` and the tail options of a ``multiline.parser`` case."""
    (folder / "input.log").write_bytes(b"".join(line + b"\n" for line in rules_lines(rng)))
    return ["Path input.log", f"multiline.parser {rules_parsers(rng, folder)}"], []


def partial_message_records(rng: random.Random) -> list[dict[str, Any]]:
    """Messages a Docker logging driver split (``partial_message``, ``partial_id``,
    ``partial_ordinal``, ``partial_last``), interleaved with each other and with whole lines."""
    pending: list[list[dict[str, Any]]] = []
    for number in range(rng.randint(1, 5)):
        stream = rng.choice(["stdout", "stderr"])
        count = rng.randint(1, 4)
        pending.append([{"log": f"m{number} part {ordinal} {rng.choice(STRINGS)}", "partial_message": "true",
                         "partial_id": f"id{number}", "partial_ordinal": str(ordinal),
                         "partial_last": "true" if ordinal == count else "false", "stream": stream}
                        for ordinal in range(1, count + 1)])
    records: list[dict[str, Any]] = []
    while pending:
        if rng.random() < 0.2:
            records.append({"log": rng.choice(STRINGS), "stream": rng.choice(["stdout", "stderr"])})
        message = rng.choice(pending)
        records.append(message.pop(0))
        if not message:
            pending.remove(message)
    return records


def filter_rules_case(rng: random.Random, folder: Path) -> Case:
    """``input.jsonl`` (each line a record's ``log``, with a ``stream``) and ``parsers.conf`` of a
    multiline filter case; the filter's section: multiline parsers on traces, or partial_message
    mode on split messages."""
    if rng.random() < 0.3:
        (folder / "parsers.conf").write_text(RULES_PARSERS)
        (folder / "input.jsonl").write_text("".join(
            json.dumps(record, ensure_ascii=False) + "\n" for record in partial_message_records(rng)))
        # Buffer Off: Fluent Bit crashes when a message's parts time out (the filter's warning).
        return JSONL_TAIL, [["Name multiline", "multiline.key_content log", "mode partial_message"]]
    records = [{"log": line.decode("utf-8", "surrogateescape"), "stream": rng.choice(["stdout", "stdout", "stderr"])}
               for line in rules_lines(rng)]
    (folder / "input.jsonl").write_bytes(b"".join(
        json.dumps(record, ensure_ascii=False).encode("utf-8", "surrogateescape") + b"\n" for record in records))
    section = ["Name multiline", "multiline.key_content log", f"multiline.parser {rules_parsers(rng, folder)}"]
    if rng.random() < 0.4:
        section.append("buffer off")
    return JSONL_TAIL, [section]


def rules_parsers(rng: random.Random, folder: Path) -> str:
    """``parsers.conf`` with a generated ``[MULTILINE_PARSER]`` or not, and the multiline parsers to
    name: the built-in java, python, go and ruby, the generated one (regex rules, maybe a parser
    first and its ``key_content``), or both."""
    names = rng.sample(["java", "python", "go", "ruby"], rng.randint(0, 2))
    sections = RULES_PARSERS
    if not names or rng.random() < 0.4:
        rules = [f'rule "start_state" "{rng.choice(RULES_STARTS)}" "cont"']
        rules += [f'rule "cont" "{pattern}" "cont"' for pattern in rng.sample(RULES_CONTINUATIONS, rng.randint(1, 3))]
        header = ["name custom", "type regex", "flush_timeout 1000"]
        choice = rng.choice([None, "stamped", "json"])
        if choice == "stamped":
            header += ["parser stamped", "key_content message"]
        elif choice == "json":
            header += ["parser json", "key_content log"]
        sections += "\n[MULTILINE_PARSER]\n" + "".join(f"    {line}\n" for line in header + rules)
        names.insert(rng.randint(0, len(names)), "custom")
    (folder / "parsers.conf").write_text(sections)
    return ", ".join(names)


# The docker parser of Fluent Bit's parsers.conf.
DOCKER_PARSER = """\
[PARSER]
    Name        docker
    Format      json
    Time_Key    time
    Time_Format %Y-%m-%dT%H:%M:%S.%L
    Time_Keep   On
"""
DOCKER_PARSERS = DOCKER_PARSER + """
[PARSER]
    Name        firstline
    Format      regex
    Regex       ^\\{"log":"\\d{4}-
"""
# What a container writes: first lines of a record (dated), continuation lines, text with
# escapes, non-ASCII and control characters, and long lines Docker splits into 16 KiB parts.
DOCKER_TEXTS = ["2026-01-02 03:04:05 ERROR boom", "2026-01-02 03:04:06 INFO ok", "\tat com.example.A",
                "  continued", "plain", "", "caf\u00e9 \u65e5\u672c", 'quote " and \\', "ctrl \u0001 \t end",
                "{\"inner\":\"json\"}", "a <b> & c"]


def docker_case(rng: random.Random, folder: Path) -> Case:
    """``input.log`` (Docker json-file entries, some split as Docker splits lines over 16 KiB) and
    the tail options of a Docker_Mode case, with or without Docker_Mode_Parser."""
    entries = []
    for second in range(rng.randint(3, 12)):
        stream = rng.choice(["stdout", "stdout", "stderr"])
        time_text = f"2026-01-02T03:04:{second:02d}.{rng.randint(0, 999999999):09d}Z"
        text = rng.choice(DOCKER_TEXTS)
        if rng.random() < 0.25:
            text += rng.choice("xyz") * rng.randint(16384, 40000)
        parts = [text[start:start + 16384] for start in range(0, max(len(text), 1), 16384)] or [""]
        for index, part in enumerate(parts):
            log = part + ("\n" if index == len(parts) - 1 else "")
            entry = json.dumps({"log": log, "stream": stream, "time": time_text}, separators=(",", ":"),
                               ensure_ascii=False)
            # Docker (Go's encoding/json) writes non-ASCII as it is and escapes <, > and &.
            entries.append(entry.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))
    (folder / "input.log").write_text("".join(entry + "\n" for entry in entries))
    (folder / "parsers.conf").write_text(DOCKER_PARSERS)
    options = ["Path input.log", "Parser docker", "Docker_Mode On", "Docker_Mode_Flush 1", "Buffer_Max_Size 128k"]
    if rng.random() < 0.5:
        options.append("Docker_Mode_Parser firstline")
    return options, []


CRI_PARSERS = """\
[PARSER]
    Name        cri
    Format      regex
    Regex       ^(?<time>[^ ]+) (?<stream>stdout|stderr) (?<logtag>[^ ]*) (?<message>.*)$
    Time_Key    time
    Time_Format %Y-%m-%dT%H:%M:%S.%L%z
    Time_Keep   On
"""
# What containerd writes after its time, stream and tag: text with escapes, non-ASCII, bytes that
# are not UTF-8, JSON, tabs, carriage returns, nothing at all.
CRI_TEXTS = [b"2026-01-02 03:04:05 ERROR boom", b"\tat com.example.A", b"plain", b"", b"caf\xc3\xa9 \xe6\x97\xa5",
             b'{"inner":"json","n":1}', b'quote " and \\', b"with \xff byte", b"trailing cr\r", b"two  spaces ",
             b"F P stdout"]
CRI_TIMES = ["2026-01-02T03:04:{second:02d}.{fraction}Z", "2026-01-02T03:04:{second:02d}.{fraction}+02:00",
             "2026-01-02T03:04:{second:02d}Z", "2026-01-02T03:04:{second:02d}.{fraction}-07:30"]
# Lines containerd would not write: no tag, an unknown stream, a time that does not parse, text.
CRI_ODD_LINES = [b"2026-01-02T03:04:05.1Z stdout", b"2026-01-02T03:04:05.1Z stdlog F text", b"yesterday stdout F text",
                 b"not a cri line", b"2026-01-02T03:04:05.1Z stderr X tagged", b""]


def cri_case(rng: random.Random, folder: Path) -> Case:
    """``input.log`` (containerd's CRI lines: messages split into ``P`` parts ended by an ``F``,
    stdout and stderr interleaved, some lines containerd would not write) and the tail options:
    ``multiline.parser cri`` (alone, after ``docker`` or with Path_Key, Offset_Key, Key) or
    ``Parser cri``."""
    lines: list[bytes] = []
    for second in range(rng.randint(3, 12)):
        if rng.random() < 0.1:
            lines.append(rng.choice(CRI_ODD_LINES))
            continue
        stream = rng.choice([b"stdout", b"stdout", b"stderr"])
        stamp = rng.choice(CRI_TIMES).format(second=second, fraction=rng.randint(0, 999999999)).encode()
        for _ in range(rng.choice([0, 0, 1, 2])):
            lines.append(b"%s %s P %s" % (stamp, stream, rng.choice(CRI_TEXTS)))
        lines.append(b"%s %s F %s" % (stamp, stream, rng.choice(CRI_TEXTS)))
    (folder / "input.log").write_bytes(b"".join(line + b"\n" for line in lines))
    (folder / "parsers.conf").write_text(CRI_PARSERS)
    mode = rng.choice(["multiline.parser cri", "multiline.parser docker, cri", "Parser cri"])
    options = ["Path input.log", mode]
    if mode != "Parser cri":
        for option, values in (("Path_Key", ["file"]), ("Offset_Key", ["offset"]), ("Key", ["message"])):
            if rng.random() < 0.2:
                options.append(f"{option} {rng.choice(values)}")
    return options, []


# Time_Format values met in the wild, each written out by a template of strftime-like directives
# (``time_text``) for the strings a case tries.
TIME_FORMATS = ["%Y-%m-%dT%H:%M:%S.%L%z", "%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S.%L", "%Y-%m-%d %H:%M:%S",
                "%Y-%m-%d %H:%M:%S,%L", "%d/%b/%Y:%H:%M:%S %z", "%b %d %H:%M:%S", "%s", "%Y-%m-%dT%H:%M:%S.%LZ",
                "%a, %d %b %Y %H:%M:%S %Z", "%Y%m%d %H%M%S", "%m/%d/%Y %I:%M:%S %p", "%y-%m-%d %T", "%e %b %Y %H:%M",
                "%Y-%m-%dT%H:%M:%S.%L%Z", "%j %Y %H:%M:%S", "%Y-%m-%dT%H:%M:%S.%L %z"]
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
ZONES = ["Z", "+0200", "-05:30", "+02", "+1400", "-1200", "+0000", "UTC", "+2", "-0000", "z"]
ZONE_NAMES = ["UTC", "GMT", "CET", "EST", "Z", "PST"]
TIME_OFFSETS = ["+0200", "-0530", "+02:00", "Z", "-0000"]


def directive_text(rng: random.Random, directive: str) -> str:
    """A value for one directive: mostly in range, sometimes past it or written another way."""
    odd = rng.random() < 0.12
    if directive == "Y":
        # (Years before 1000 are times Fluent Bit drops, as those before 1970: README.)
        return str(rng.choice([1970, 1999, 2000, 2024, 2026, 2037, 2038, 2099])) if not odd else rng.choice(["20x6", ""])
    if directive == "y":
        return f"{rng.randint(0, 99):02d}"
    if directive == "m":
        return f"{rng.randint(1, 12):02d}" if not odd else rng.choice(["13", "0", "7", "00"])
    if directive in "de":
        day = f"{rng.randint(1, 31):02d}" if not odd else rng.choice(["32", "00", "5", "29"])
        return day if directive == "d" else day.replace("0", " ", 1) if day.startswith("0") else day
    if directive in "HI":
        top = 23 if directive == "H" else 12
        return f"{rng.randint(0 if directive == 'H' else 1, top):02d}" if not odd else rng.choice(["24", "7", "99"])
    if directive == "M":
        return f"{rng.randint(0, 59):02d}" if not odd else rng.choice(["60", "5"])
    if directive == "S":
        return f"{rng.randint(0, 59):02d}" if not odd else rng.choice(["60", "61", "9"])
    if directive == "L":
        return "".join(rng.choice("0123456789") for _ in range(rng.choice([1, 3, 6, 9, 9, 12])))
    if directive == "z":
        return rng.choice(ZONES)
    if directive == "Z":
        return rng.choice(ZONE_NAMES)
    if directive == "b":
        month = rng.choice(MONTHS)
        return month if not odd else rng.choice([month.lower(), month.upper(), "September", "Sept"])
    if directive == "a":
        return rng.choice(DAYS) if not odd else rng.choice(["Monday", "mon", "Xyz"])
    if directive == "p":
        return rng.choice(["AM", "PM", "am", "pm"])
    if directive == "j":
        return f"{rng.randint(1, 366):03d}"
    if directive == "s":
        return str(rng.choice([0, 1, 1796685829, 2147483647, 4102444800, -1])) if odd else str(rng.randint(0, 2**31))
    if directive == "T":
        return f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}"
    return "%" + directive


def time_text(rng: random.Random, time_format: str) -> str:
    """A time written by ``time_format``'s directives, sometimes cut short, padded or with more after it."""
    parts = time_format.split("%")
    text = parts[0] + "".join(directive_text(rng, part[:1]) + part[1:] for part in parts[1:])
    roll = rng.random()
    if roll < 0.06:
        return text[: rng.randint(0, len(text))]
    if roll < 0.1:
        return text + rng.choice([" trailing", "Z", ".5", "  "])
    if roll < 0.13:
        return " " + text
    return text


def times_case(rng: random.Random, folder: Path) -> Case:
    """``input.log`` (lines of a time and a message) and a regex parser reading the time by one of
    ``TIME_FORMATS``, with or without Time_Keep, Time_Strict, Time_Offset."""
    time_format = rng.choice(TIME_FORMATS)
    lines = [f"{time_text(rng, time_format)}|message {index}" for index in range(rng.randint(3, 10))]
    (folder / "input.log").write_text("".join(line + "\n" for line in lines))
    options = ["    Name        times", "    Format      regex", "    Regex       ^(?<time>[^|]*)\\|(?<msg>.*)$",
               "    Time_Key    time", f"    Time_Format {time_format}"]
    for option, values in (("Time_Keep", ["On", "Off"]), ("Time_Strict", ["On", "Off"]),
                           ("Time_Offset", TIME_OFFSETS)):
        if rng.random() < 0.4:
            options.append(f"    {option} {rng.choice(values)}")
    (folder / "parsers.conf").write_text("[PARSER]\n" + "".join(option + "\n" for option in options))
    return ["Path input.log", "Parser times"], []


KUBE_PARSERS = DOCKER_PARSER + """
[PARSER]
    Name        json
    Format      json

[PARSER]
    Name        nginx
    Format      regex
    Regex       ^(?<remote>[^ ]*) (?<host>[^ ]*) (?<user>[^ ]*) \\[(?<time>[^\\]]*)\\] "(?<method>\\S+)(?: +(?<path>[^\\"]*?)(?: +\\S*)?)?" (?<code>[^ ]*) (?<size>[^ ]*)(?: "(?<referer>[^\\"]*)" "(?<agent>[^\\"]*)")
    Time_Key    time
    Time_Format %d/%b/%Y:%H:%M:%S %z
"""
KUBE_LABEL_KEYS = ["app", "tier", "app.kubernetes.io/name", "k8s-app", "team", "version", "a.b/c-d"]
KUBE_VALUES = ["web", "", "v1.2", "front-end", "x_y", "UPPER", "a.b", "caf\u00e9", 'quote"d']
KUBE_ANNOTATION_KEYS = ["team", "prometheus.io/scrape", "kubernetes.io/psp", "note"]
KUBE_TEXTS = ['127.0.0.1 - - [25/Nov/2026:13:00:00 +0000] "GET /a HTTP/1.1" 200 12 "-" "curl/8"',
              "plain text", "", "  {\"x\":1}  ", '{"level":"info","msg":"x\\ny"}', "[1,2]", '{"a":1,"a":2}',
              '{"log":"inner","stream":"x"}', '{"kubernetes":"mine"}', "{not json", '{"n":1e400}']
# The kubernetes filter's options a case may set, with the values it picks from.
KUBE_OPTIONS = {"Merge_Log": ["On", "Off"], "Merge_Log_Key": ["data", "app"], "Merge_Log_Trim": ["On", "Off"],
                "Keep_Log": ["On", "Off"], "Labels": ["On", "Off"], "Annotations": ["On", "Off"],
                "K8S-Logging.Parser": ["On", "Off"], "K8S-Logging.Exclude": ["On", "Off"],
                "Namespace_Labels": ["On", "Off"], "Owner_References": ["On", "Off"]}


def kube_pod(rng: random.Random, name: str, namespace: str) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """A pod's JSON as the API server answers it, and its (container, container id) pairs."""
    containers = [(f"c{index}", "".join(rng.choice("0123456789abcdef") for _ in range(64)))
                  for index in range(rng.randint(1, 2))]
    metadata: dict[str, Any] = {"name": name, "namespace": namespace, "uid": f"uid-{name}", "resourceVersion": "1"}
    if rng.random() < 0.8:
        metadata["labels"] = {key: rng.choice(KUBE_VALUES) for key in rng.sample(KUBE_LABEL_KEYS, rng.randint(0, 4))}
    annotations = {key: rng.choice(KUBE_VALUES) for key in rng.sample(KUBE_ANNOTATION_KEYS, rng.randint(0, 2))}
    if rng.random() < 0.3:
        annotations["fluentbit.io/parser"] = rng.choice(["json", "nginx", "missing"])
    if rng.random() < 0.15:
        annotations["fluentbit.io/exclude"] = rng.choice(["true", "false"])
    if annotations:
        metadata["annotations"] = annotations
    if rng.random() < 0.5:
        metadata["ownerReferences"] = [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": f"{name}-rs",
                                        "uid": "rs-uid", "controller": True}]
    status: dict[str, Any] = {"phase": "Running", "containerStatuses": [
        {"name": container, "containerID": f"docker://{cid}", "image": f"registry/{container}:1",
         "imageID": f"registry/{container}@sha256:" + "ab" * 32, "ready": True, "restartCount": 0}
        for container, cid in containers]}
    if rng.random() < 0.8:
        status["podIP"] = f"10.0.0.{rng.randint(1, 250)}"
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "status": status,
           "spec": {"nodeName": "node-1", "containers": [{"name": c, "image": f"registry/{c}:1"} for c, _ in containers]}}
    return pod, containers


def kube_case(rng: random.Random, folder: Path) -> Case:
    """Pods (``kube.json``, served by the tests' Kubernetes API server), their containers' Docker
    logs (nginx lines, JSON, text that is no JSON object) and a kubernetes filter with a random
    choice of its options."""
    pods, namespaces = [], {}
    (folder / "logs").mkdir()
    for index in range(rng.randint(1, 3)):
        namespace = rng.choice(["default", "prod", "kube-system"])
        namespaces[namespace] = {"apiVersion": "v1", "kind": "Namespace",
                                 "metadata": {"name": namespace, "uid": f"ns-{namespace}",
                                              "labels": {"env": rng.choice(KUBE_VALUES)}}}
        pod, containers = kube_pod(rng, f"app{index}-{rng.randint(0, 99)}", namespace)
        pods.append(pod)
        for container, cid in containers:
            texts = [rng.choice(KUBE_TEXTS) if rng.random() < 0.6 else json.dumps(record(rng))
                     for _ in range(rng.randint(1, 5))]
            entries = [json.dumps({"log": text + "\n", "stream": rng.choice(["stdout", "stderr"]),
                                   "time": f"2026-11-25T13:00:0{second}.5Z"}) for second, text in enumerate(texts)]
            name = f"{pod['metadata']['name']}_{namespace}_{container}-{cid}.log"
            (folder / "logs" / name).write_text("".join(entry + "\n" for entry in entries))
    (folder / "kube.json").write_text(json.dumps({"pods": pods, "namespaces": list(namespaces.values())}))
    (folder / "parsers.conf").write_text(KUBE_PARSERS)
    section = ["Name kubernetes", "Kube_URL ${KUBE_URL}", "Kube_CA_File ${KUBE_CA_FILE}",
               "Kube_Token_File ${KUBE_TOKEN_FILE}", "Kube_Tag_Prefix kube.logs."]
    for option in rng.sample(sorted(KUBE_OPTIONS), rng.randint(0, 5)):
        section.append(f"{option} {rng.choice(KUBE_OPTIONS[option])}")
    return ["Path logs/*.log", "Parser docker"], [section]


TIMED_PARSERS = PARSERS + """
[PARSER]
    Name        timed
    Format      json
    Time_Key    t
    Time_Format %Y-%m-%dT%H:%M:%S.%L
"""


def cloudwatch_output(rng: random.Random) -> list[str]:
    """A cloudwatch_logs output to the tests' endpoint (``ENDPOINT_PORT``, ``ENDPOINT_CA_FILE``): a group,
    a stream name or prefix, maybe ``log_key`` and group or stream templates."""
    lines = ["Name cloudwatch_logs", "region us-east-1", "endpoint 127.0.0.1", "port ${ENDPOINT_PORT}",
             "tls.ca_file ${ENDPOINT_CA_FILE}", "auto_create_group true", "log_group_name group-1"]
    lines.append(rng.choice(["log_stream_name stream-1", "log_stream_prefix prefix-"]))
    # log_key on a key whose value is no string, or that is no record key but starts with one,
    # meets Fluent Bit's faults (README): every record's log is a string.
    if rng.random() < 0.4:
        lines.append("log_key log")
    if rng.random() < 0.3:
        lines.append("log_group_template " + rng.choice(["g-$route", "$route", "g.$TAG", "$absent"]))
    if rng.random() < 0.3:
        lines.append("log_stream_template " + rng.choice(["s-$route", "$TAG[1]", "$route.$TAG[0]"]))
    return lines


# The delivery stream or stream the firehose and kinesis kinds send to.
FIREHOSE_STREAM = "stream-1"


def firehose_output(rng: random.Random) -> list[str]:
    """A kinesis_firehose output to the tests' Firehose endpoint, maybe with ``log_key`` or
    ``time_key`` (and its format)."""
    return ["Name kinesis_firehose", f"delivery_stream {FIREHOSE_STREAM}", *_stream_options(rng)]


def kinesis_output(rng: random.Random) -> list[str]:
    """A kinesis_streams output to the tests' Kinesis endpoint, options as ``firehose_output``'s.
    Its partition keys are random (kinesis_api.c): the records' data are compared, not the keys."""
    return ["Name kinesis_streams", f"stream {FIREHOSE_STREAM}", *_stream_options(rng)]


def _stream_options(rng: random.Random) -> list[str]:
    lines = ["region us-east-1", "endpoint 127.0.0.1", "tls.ca_file ${ENDPOINT_CA_FILE}"]
    if rng.random() < 0.3:
        lines.append("log_key log")
    elif rng.random() < 0.4:
        lines.append(f"time_key {rng.choice(['time', 'log', 'ts'])}")
        if rng.random() < 0.5:
            lines.append(f"time_key_format {rng.choice(['%Y-%m-%dT%H:%M:%S.%3N', '%s', '%Y%m%d %H:%M:%S.%L'])}")
    return lines


# Values of the key the cloudwatch kind's templates read. Fluent Bit writes a template's value into
# CreateLogStream's JSON without escaping it (a tab or a quote fails the whole flush) and takes an
# empty one as the name: neither is generated.
ROUTES = ["alpha", "beta-1", "x.y", 7, 1.5, True]


# The kinds whose case writes its own input: each gives the tail options and the filter sections.
TAILED_CASES: dict[str, Callable[[random.Random, Path], Case]] = {
    "multiline": multiline_case, "rules": rules_case, "docker": docker_case, "multiline_filter": filter_rules_case,
    "cri": cri_case, "times": times_case, "kube": kube_case,
}
# The kinds whose case has a kube.json: both agents run against the tests' Kubernetes API server
# serving it (tools/differential.py), one server per case.
KUBE_KINDS = frozenset({"kube"})
# The kinds whose records go to one of the tests' AWS endpoints, and the output each case has
# (``run_both`` compares what the endpoint accepted).
ENDPOINT_OUTPUTS: dict[str, Callable[[random.Random], list[str]]] = {"cloudwatch": cloudwatch_output,
                                                                      "firehose": firehose_output,
                                                                      "kinesis": kinesis_output}
# The kinds whose records are printed with their time (``date``): a time the parser did not read
# is the time the line was read, which two runs do not share (``as_fluent_bit_holds_times``).
DATED_KINDS = frozenset({"times"})
# A printed time this close to now is a read time.
READ_TIME_SECONDS = 3600


def write_case(folder: Path, seed: int, kind: str) -> None:
    """The case of ``seed``: the same folder for the same seed and kind."""
    rng = random.Random(f"{kind}-{seed}")
    if kind in TAILED_CASES:
        folder.mkdir(parents=True, exist_ok=True)
        write_config(folder, *TAILED_CASES[kind](rng, folder), dated=kind in DATED_KINDS)
        return
    records = [record(rng) for _ in range(RECORDS_PER_CASE)]
    if kind == "lua":
        # Integers Fluent Bit hands to Lua through an undefined cast (README): not generated.
        records = [json.loads(json.dumps(r).replace(str(2**63 - 1), "77")) for r in records]
    folder.mkdir(parents=True, exist_ok=True)
    output = None
    tail = JSONL_TAIL
    if kind == "lua":
        (folder / "script.lua").write_text(LUA_SCRIPTS[rng.choice(sorted(LUA_SCRIPTS))] + "\n")
        sections = [lua_section(rng)]
    elif kind in ENDPOINT_OUTPUTS:
        # Each record its own time, one millisecond after the one before: the events' timestamps.
        records = [{**r, "log": rng.choice(STRINGS), "route": rng.choice(ROUTES), "t": f"2026-11-25T13:00:00.{index:03d}"}
                   for index, r in enumerate(records)]
        sections, output, tail = [], ENDPOINT_OUTPUTS[kind](rng), ["Path input.jsonl", "Parser timed"]
    else:
        sections = filter_sections(rng)
    (folder / "input.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))
    (folder / "parsers.conf").write_text(TIMED_PARSERS)
    write_config(folder, tail, sections, output=output)


def write_config(folder: Path, tail_options: list[str], sections: list[list[str]], dated: bool = False,
                  output: list[str] | None = None) -> None:
    """``fluent-bit.conf``: tail with ``tail_options`` until the end of its file, the filters, and
    ``output``'s section or stdout (printing each record's time as ``date`` when ``dated``)."""
    tag = "kube.*" if (folder / "kube.json").exists() else "app.log"
    lines = ["[SERVICE]", "Flush 0.2", "Grace 1", "Log_Level error", "Parsers_File parsers.conf",
             "[INPUT]", "Name tail", *tail_options, f"Tag {tag}", "Read_From_Head On", "Exit_On_Eof On"]
    for section in sections:
        lines += ["[FILTER]", *section, "Match *"]
    lines += ["[OUTPUT]", "Match *", *(output or ["Name stdout", "Format json_lines",
                                                  "json_date_key date" if dated else "json_date_key false"])]
    (folder / "fluent-bit.conf").write_text("".join(
        f"{line}\n" if line.startswith("[") else f"    {line}\n" for line in lines))


def printed(command: Sequence[str], folder: Path, env: dict[str, str] | None = None) -> tuple[int, list[str]]:
    """The agent's exit status and the JSON lines it printed (``env`` added to its environment)."""
    run = subprocess.run([*command, "-q", "-c", "fluent-bit.conf"], cwd=folder, capture_output=True,
                         stdin=subprocess.DEVNULL, timeout=RUN_SECONDS, env={**os.environ, **(env or {})})
    return run.returncode, [line for line in run.stdout.decode("utf-8", "replace").splitlines() if line.startswith("{")]


# How each kind's lines are compared: as text (how numbers and characters are written counts), as
# JSON with its key order (multiline's bytes that are not UTF-8 become U+E000 + byte, which
# Fluent Bit writes as UTF-8 and flb-fast as a \u escape: the same text once read), or as JSON
# without regard to key order (lua, above).
COMPARED_AS = {"filters": "text", "lua": "unordered", "multiline": "ordered", "rules": "ordered",
               "multiline_filter": "ordered", "docker": "ordered", "cri": "ordered", "times": "ordered",
               "kube": "ordered", "cloudwatch": "text", "firehose": "text", "kinesis": "text"}
# The kinds whose lines are compared in any order of their files (kube) or of their log streams
# (cloudwatch: ``[group, stream, timestamp, message]`` sorts by stream, then time).
SORTED_KINDS = frozenset({"kube", "cloudwatch", "firehose", "kinesis"})


def as_fluent_bit_holds_times(fluent_bit: list[str], flb_fast: list[str]) -> tuple[list[str], list[str]]:
    """Both agents' lines with the times Fluent Bit cannot hold set aside (README): it keeps an
    event time's seconds in 32 bits and drops a record whose seconds then read as a negative
    int32, so flb-fast's dates are compared as those 32 bits and its records Fluent Bit drops are
    left out; a record at second -1 (1969-12-31 23:59:59) starts a group in Fluent Bit, whose
    ``__internal__`` key the next record printed carries, left out too. A date near now on either
    side is the time its line was read, which two runs do not share: both read ``"read time"``."""
    held = []
    for line in flb_fast:
        record = json.loads(line)
        date = record.get("date")
        if isinstance(date, float):
            seconds = math.floor(date)
            wrapped = seconds % 2**32
            if wrapped >= 2**31:
                continue
            record["date"] = wrapped + (date - seconds)
        held.append(json.dumps(_read_times_alike(record)))
    printed = []
    for line in fluent_bit:
        record = json.loads(line)
        record.pop("__internal__", None)
        printed.append(json.dumps(_read_times_alike(record)))
    return printed, held


def _read_times_alike(record: dict[str, Any]) -> dict[str, Any]:
    """``record`` with a ``date`` near now (the time its line was read) as ``"read time"``."""
    date = record.get("date")
    if isinstance(date, float) and abs(date - time.time()) < READ_TIME_SECONDS:
        record["date"] = "read time"
    return record


def first_difference(fluent_bit: list[str], flb_fast: list[str], compared_as: str) -> tuple[str, str] | None:
    def same(one: str, two: str) -> bool:
        if compared_as == "text":
            return one == two
        if compared_as == "ordered":
            return list(json.loads(one).items()) == list(json.loads(two).items())
        return json.loads(one) == json.loads(two)

    for index in range(max(len(fluent_bit), len(flb_fast))):
        one = fluent_bit[index] if index < len(fluent_bit) else "(none)"
        two = flb_fast[index] if index < len(flb_fast) else "(none)"
        if "(none)" in (one, two) or not same(one, two):
            return one, two
    return None


def run_both(kind: str, folder: Path, services: Path, fluent_bit: Path) -> tuple[int, list[str], int, list[str]]:
    """Each agent's exit status and lines on the case in ``folder``: what it printed, or for the
    kinds of ``ENDPOINT_OUTPUTS`` what the endpoint accepted from it (``[group, stream,
    timestamp, message]`` of each CloudWatch event, ``[stream, "", 0, data]`` of each Firehose
    record, in order). Services a case needs run in ``services``, the same for both agents."""
    agents = [[str(fluent_bit)], [sys.executable, "-m", "flb_fast"]]
    results: list[tuple[int, list[str]]] = []
    with ExitStack() as stack:
        env: dict[str, str] | None = None
        endpoint = None
        if kind in KUBE_KINDS:
            services.mkdir()
            env = start_kube_api(stack, services, json.loads((folder / "kube.json").read_text()))
        elif kind in ENDPOINT_OUTPUTS:
            env, endpoint = start_endpoint(stack, services, streams=kind != "cloudwatch")
        for command in agents:
            status, lines = printed(command, folder, env)
            if endpoint is not None:
                lines = [json.dumps(event, ensure_ascii=False) for event in endpoint.kept_events]
                endpoint.reset()
            results.append((status, lines))
    return results[0][0], results[0][1], results[1][0], results[1][1]


def start_endpoint(stack: ExitStack, services: Path, streams: bool = False) -> tuple[dict[str, str], Any]:
    """The tests' CloudWatch Logs endpoint, or with ``streams`` their Firehose and Kinesis endpoint
    (on port 443, where Fluent Bit's kinesis_firehose and kinesis_streams connect whatever their
    endpoint says), over TLS, keeping what it accepts, and the environment a case's config and
    credentials read."""
    from tests.fakes.certs import make_certs
    from tests.fakes.cloudwatch_logs_server import CloudWatchLogsServer
    from tests.fakes.moto_server import FAKE_CREDENTIALS
    from tests.fakes.stream_server import StreamServer

    certs = make_certs(services / "certs", "endpoint")
    server = StreamServer(tls=certs, port=443, streams=[FIREHOSE_STREAM], keep_events=True) if streams \
        else CloudWatchLogsServer(tls=certs, keep_events=True)
    endpoint = stack.enter_context(server)
    return {**FAKE_CREDENTIALS, "ENDPOINT_PORT": str(endpoint.port), "ENDPOINT_CA_FILE": str(certs.ca_file)}, endpoint


def main(argv: Sequence[str] | None = None) -> int:
    parser_ = argparse.ArgumentParser(prog="python -m tools.generated", description=__doc__.split("\n")[0])
    parser_.add_argument("kind", choices=sorted(COMPARED_AS))
    parser_.add_argument("--fluent-bit", type=Path, required=True)
    parser_.add_argument("--seeds", default="0:100", help="first:end (end excluded)")
    parser_.add_argument("--keep", type=Path, default=None,
                         help="where the folders of differing seeds are copied (default: a new temporary folder)")
    args = parser_.parse_args(argv)
    first, end = (int(part) for part in args.seeds.split(":"))
    keep: Path | None = args.keep
    differing = 0
    with tempfile.TemporaryDirectory(prefix="flb-generated-") as work:
        for seed in range(first, end):
            folder = Path(work) / f"{args.kind}-{seed}"
            write_case(folder, seed, args.kind)
            status_fb, lines_fb, status_ours, lines_ours = run_both(
                args.kind, folder, Path(work) / f"services-{seed}", args.fluent_bit)
            if args.kind in DATED_KINDS:
                lines_fb, lines_ours = as_fluent_bit_holds_times(lines_fb, lines_ours)
            if args.kind in SORTED_KINDS:
                lines_fb, lines_ours = sorted(lines_fb), sorted(lines_ours)
            difference = first_difference(lines_fb, lines_ours, COMPARED_AS[args.kind])
            if status_fb == status_ours and difference is None:
                continue
            differing += 1
            if keep is None:
                keep = Path(tempfile.mkdtemp(prefix="flb-generated-differing-"))
            shutil.copytree(folder, keep / folder.name, dirs_exist_ok=True)
            print(f"seed {seed} ({keep / folder.name}): exit {status_fb} / {status_ours}")
            if difference is not None:
                print(f"  fluent-bit: {difference[0]}\n  flb-fast:   {difference[1]}")
    print(f"{end - first} seeds, {differing} differing")
    return 1 if differing else 0


if __name__ == "__main__":
    sys.exit(main())
