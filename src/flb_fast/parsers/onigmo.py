"""Onigmo (Ruby syntax) regular expressions, as users write them in parsers.conf, for Python's ``re``.

Fluent Bit compiles every ``Regex`` with Onigmo's Ruby syntax (``src/flb_regex.c``:
``ONIG_SYNTAX_RUBY``, UTF-8, ``/pattern/imx`` accepted). Users copy those patterns from Rubular,
so flb_fast must read them unchanged. Python 3.11's ``re`` already has atomic groups and
possessive quantifiers; what differs is spelling and a few semantics, translated here once at
config time so the per-line work stays in ``re``'s C matcher:

- ``(?<name>...)`` / ``(?'name'...)`` named groups and ``\\k<name>`` back-references;
- ``\\h`` / ``\\H`` (hex digit), ``\\z``, ``\\Z``, ``\\e``, ``\\x{HHHH}``, ``\\R``;
- POSIX brackets ``[[:alpha:]]`` and nested classes ``[a[bc]]`` (union);
- ``^`` and ``$`` always match at line boundaries in Ruby (``re.MULTILINE``); Ruby's ``m`` option
  is Python's ``s`` (dot matches newline); ``\\d \\s \\w`` are ASCII in Ruby syntax (``re.ASCII``);
- a mid-pattern ``(?i)`` applies to the end of its enclosing group (Python only accepts inline
  flags at the start), so it becomes a scoped ``(?i:...)`` group.

Constructs Onigmo has and ``re`` cannot express (``\\p{...}``, ``\\g<name>`` calls, ``(?~...)``,
class intersection ``&&``, duplicate group names) raise ``ValueError`` naming the construct, so the
user gets a config error at start-up instead of different records at run time.
"""

from __future__ import annotations

import re
import warnings

_POSIX_CLASSES = {
    "alnum": "a-zA-Z0-9",
    "alpha": "a-zA-Z",
    "ascii": "\\x00-\\x7f",
    "blank": " \\t",
    "cntrl": "\\x00-\\x1f\\x7f",
    "digit": "0-9",
    "graph": "\\x21-\\x7e",
    "lower": "a-z",
    "print": "\\x20-\\x7e",
    "punct": "!-/:-@\\[-`{-~",
    "space": " \\t\\n\\r\\f\\v",
    "upper": "A-Z",
    "word": "a-zA-Z0-9_",
    "xdigit": "0-9a-fA-F",
}

# Escapes whose Onigmo meaning Python spells differently (outside a character class).
_ESCAPES = {
    "h": "[0-9a-fA-F]",
    "H": "[^0-9a-fA-F]",
    "z": "\\Z",
    "Z": "(?=\\n?\\Z)",
    "e": "\\x1b",
    "R": "(?:\\r\\n|[\\n\\v\\f\\r\\x85\\u2028\\u2029])",
}
# The same inside a character class.
_CLASS_ESCAPES = {"h": "0-9a-fA-F", "e": "\\x1b"}
_UNSUPPORTED_ESCAPES = {
    "p": "Unicode property \\p{...}",
    "P": "Unicode property \\P{...}",
    "g": "subexpression call \\g<...>",
    "X": "extended grapheme cluster \\X",
    "G": "search start anchor \\G",
    "K": "keep \\K",
    "y": "text segment boundary \\y",
    "Y": "text segment boundary \\Y",
}
_RUBY_FLAGS = {"i": "i", "m": "s", "x": "x"}
_GROUP_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def split_delimiters(pattern: str) -> tuple[str, str]:
    """``/pattern/imx`` -> (pattern, options), as ``check_option`` in ``flb_regex.c`` reads it."""
    if len(pattern) >= 2 and pattern[0] == "/":
        last = pattern.rfind("/")
        if last > 0:
            options = pattern[last + 1 :]
            if all(ch in "imxo" for ch in options):
                return pattern[1:last], options
    return pattern, ""


class _Translator:
    def __init__(self, pattern: str) -> None:
        self.src = pattern
        self.pos = 0
        self.out: list[str] = []
        self.names: set[str] = set()
        # One entry per open group: how many scoped-flag groups opened inside it must be
        # closed when it closes (a mid-group ``(?i)`` turns into ``(?i:`` ... ``)``).
        self.pending_closes: list[int] = [0]

    def fail(self, what: str) -> ValueError:
        return ValueError(f"{what} at position {self.pos} is not supported")

    def run(self) -> str:
        src = self.src
        while self.pos < len(src):
            ch = src[self.pos]
            if ch == "\\":
                self.escape()
            elif ch == "[":
                self.char_class()
            elif ch == "(":
                self.group_open()
            elif ch == ")":
                self.out.append(")" * self.pending_closes.pop())
                if not self.pending_closes:
                    raise ValueError(f"unbalanced ')' at position {self.pos}")
                self.out.append(")")
                self.pos += 1
            else:
                self.out.append(ch)
                self.pos += 1
        self.out.append(")" * self.pending_closes.pop())
        if self.pending_closes:
            raise ValueError("missing ')'")
        return "".join(self.out)

    def escape(self) -> None:
        src = self.src
        if self.pos + 1 >= len(src):
            raise ValueError("pattern ends with a lone backslash")
        nxt = src[self.pos + 1]
        if nxt in _ESCAPES:
            self.out.append(_ESCAPES[nxt])
            self.pos += 2
        elif nxt in _UNSUPPORTED_ESCAPES:
            raise self.fail(_UNSUPPORTED_ESCAPES[nxt])
        elif nxt == "k" and self.pos + 2 < len(src) and src[self.pos + 2] in "<'":
            close = ">" if src[self.pos + 2] == "<" else "'"
            end = src.find(close, self.pos + 3)
            if end < 0:
                raise self.fail("unterminated \\k<name>")
            name = src[self.pos + 3 : end]
            if not _GROUP_NAME.fullmatch(name):
                raise self.fail(f"back-reference \\k<{name}>")
            self.out.append(f"(?P={name})")
            self.pos = end + 1
        elif nxt == "x" and self.pos + 2 < len(src) and src[self.pos + 2] == "{":
            self.out.append(self.hex_brace())
        else:
            self.out.append(src[self.pos : self.pos + 2])
            self.pos += 2

    def hex_brace(self) -> str:
        end = self.src.find("}", self.pos)
        if end < 0:
            raise self.fail("unterminated \\x{...}")
        code = int(self.src[self.pos + 3 : end], 16)
        self.pos = end + 1
        return f"\\U{code:08x}"

    def char_class(self) -> None:
        """Copy one ``[...]`` class, flattening POSIX brackets and nested (union) classes."""
        src = self.src
        self.pos += 1
        parts = ["["]
        if self.pos < len(src) and src[self.pos] == "^":
            parts.append("^")
            self.pos += 1
        parts.append(self.class_body(first=True))
        parts.append("]")
        self.out.append("".join(parts))

    def class_body(self, first: bool) -> str:
        src = self.src
        parts: list[str] = []
        if first and self.pos < len(src) and src[self.pos] == "]":
            parts.append("\\]")
            self.pos += 1
        while self.pos < len(src):
            ch = src[self.pos]
            if ch == "]":
                self.pos += 1
                return "".join(parts)
            if ch == "\\":
                if self.pos + 1 >= len(src):
                    break
                nxt = src[self.pos + 1]
                if nxt in _CLASS_ESCAPES:
                    parts.append(_CLASS_ESCAPES[nxt])
                    self.pos += 2
                elif nxt in "HpPR":
                    raise self.fail(f"\\{nxt} inside a character class")
                elif nxt == "x" and self.pos + 2 < len(src) and src[self.pos + 2] == "{":
                    parts.append(self.hex_brace())
                else:
                    parts.append(src[self.pos : self.pos + 2])
                    self.pos += 2
            elif ch == "[":
                posix = re.match(r"\[:(\^?)([a-z]+):\]", src[self.pos :])
                if posix:
                    if posix.group(1) or posix.group(2) not in _POSIX_CLASSES:
                        raise self.fail(f"POSIX bracket {posix.group(0)}")
                    parts.append(_POSIX_CLASSES[posix.group(2)])
                    self.pos += posix.end()
                else:
                    self.pos += 1
                    if self.pos < len(src) and src[self.pos] == "^":
                        raise self.fail("negated nested character class")
                    parts.append(self.class_body(first=True))
            elif ch == "&" and src.startswith("&&", self.pos):
                raise self.fail("character class intersection &&")
            elif ch in "&~|":
                # Python reserves doubled set operators inside classes (FutureWarning).
                parts.append("\\" + ch)
                self.pos += 1
            else:
                parts.append(ch)
                self.pos += 1
        raise ValueError("unterminated character class")

    def group_open(self) -> None:
        src = self.src
        rest = src[self.pos + 1 :]
        if not rest.startswith("?"):
            self.open_group("(", 1)
            return
        if rest.startswith("?<") and not rest.startswith(("?<=", "?<!")) or rest.startswith("?'"):
            close = ">" if rest[1] == "<" else "'"
            end = rest.find(close, 2)
            name = rest[2:end] if end > 0 else ""
            if not _GROUP_NAME.fullmatch(name):
                raise self.fail(f"group name '{name}'")
            if name in self.names:
                raise self.fail(f"duplicate group name '{name}'")
            self.names.add(name)
            self.open_group(f"(?P<{name}>", end + 2)
            return
        if rest.startswith("?~"):
            raise self.fail("absence operator (?~...)")
        if rest.startswith("?#"):
            end = src.find(")", self.pos)
            self.pos = len(src) if end < 0 else end + 1
            return
        flags = re.match(r"\?([imx]*)(?:-([imx]*))?([:)])", rest)
        if flags and (flags.group(1) or flags.group(2) is not None):
            on = "".join(_RUBY_FLAGS[f] for f in flags.group(1))
            off = "".join(_RUBY_FLAGS[f] for f in (flags.group(2) or ""))
            spec = on + (f"-{off}" if off else "")
            if flags.group(3) == ":":
                self.open_group(f"(?{spec}:", flags.end() + 1)
            else:
                # (?i) alone: scoped to the rest of the enclosing group, closed with it.
                self.out.append(f"(?{spec}:")
                self.pending_closes[-1] += 1
                self.pos += flags.end() + 1
            return
        # (?:, (?=, (?!, (?<=, (?<!, (?> are spelled the same in both.
        self.open_group("(", 1)

    def open_group(self, text: str, consumed: int) -> None:
        self.out.append(text)
        self.pos += consumed
        self.pending_closes.append(0)


def translate(pattern: str) -> tuple[str, int]:
    """Python ``re`` source and flags for an Onigmo/Ruby ``Regex`` value; ``ValueError`` if impossible."""
    body, options = split_delimiters(pattern)
    flags = re.MULTILINE | re.ASCII
    if "i" in options:
        flags |= re.IGNORECASE
    if "m" in options:
        flags |= re.DOTALL
    if "x" in options:
        flags |= re.VERBOSE
    return _Translator(body).run(), flags


def compile_onigmo(pattern: str) -> re.Pattern[str]:
    """Compile a Fluent Bit ``Regex``; ``ValueError`` says why it cannot be used."""
    source, flags = translate(pattern)
    try:
        with warnings.catch_warnings():
            # Odd class contents (``[+--]``) keep Python's literal meaning without a FutureWarning.
            warnings.simplefilter("ignore", FutureWarning)
            return re.compile(source, flags)
    except re.error as exc:
        raise ValueError(f"invalid regex: {exc}") from None
