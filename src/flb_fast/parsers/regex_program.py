"""A translated pattern compiled into the program ``_core.RegexProgram`` runs (``_core/regex.pxi``).

Python's ``re`` is a fine matcher, but a parser calls it once per line and then builds the
record in Python; ``_core`` instead runs the whole batch in C: match, record, time. Its
matcher is a backtracking machine with exactly ``re``'s semantics (leftmost match, the same
greedy/lazy preference order, the same group values), fed from ``re``'s own parse of the
pattern (``re._parser``), so both engines read a pattern identically. A property test checks
that the two agree on every standard parser.

Only what the machine implements is compiled: literals, classes, ``.``, anchors, ``\\b``,
groups, alternation and greedy or lazy repeats. A pattern using anything else (look-around,
atomic groups, possessive repeats, back-references, a repeat of something that can match
empty, characters beyond Latin-1 in the pattern) gets ``None`` here and stays on ``re``.
"""

from __future__ import annotations

import re
from typing import Any

from msgspec import Struct

try:  # Python 3.11+: the parser behind re.compile
    from re import _constants as C  # type: ignore[attr-defined]
    from re import _parser  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - Python < 3.11 is not supported
    _parser = None

# Opcodes, mirrored in _core/regex.pxi.
OP_CLASS, OP_SPLIT, OP_JMP, OP_SAVE, OP_BOL, OP_EOL, OP_BOS, OP_EOS, OP_WORDB, OP_NWORDB, OP_REPEAT, \
    OP_LAZY, OP_MATCH, OP_EOS_NL = range(14)
UNBOUNDED = -1
MAX_PROGRAM = 50_000
# A lazy repeat whose continuation may start with anything, or match without a character.
NO_STOP = -1
# Words of each opcode (the opcode included).
_SIZE = {OP_CLASS: 2, OP_SPLIT: 3, OP_JMP: 2, OP_SAVE: 2, OP_BOL: 1, OP_EOL: 1, OP_BOS: 1, OP_EOS: 1, OP_WORDB: 1,
         OP_NWORDB: 1, OP_REPEAT: 4, OP_LAZY: 5, OP_MATCH: 1, OP_EOS_NL: 1}

_WORD = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
_DIGIT = frozenset(b"0123456789")
_SPACE = frozenset(b" \t\n\r\f\v")


class Unsupported(Exception):
    """The pattern uses something the compiled machine does not implement."""


class Program(Struct):
    code: list[int]
    classes: bytes  # per class: a 32-byte bitmap over Latin-1, then 1 byte: do characters beyond it belong
    group_count: int  # capture groups, group 0 excluded
    names: list[tuple[str, int]]  # named groups in re's groupdict order
    anchored_line_start: bool  # the pattern starts with ^ (only line starts can match)


class _Compiler:
    def __init__(self) -> None:
        self.code: list[int] = []
        self.classes: list[bytes] = []
        self.class_index: dict[bytes, int] = {}

    def class_id(self, chars: tuple[frozenset[int], bool]) -> int:
        members, beyond_latin1 = chars
        bitmap = bytearray(33)
        for member in members:
            bitmap[member >> 3] |= 1 << (member & 7)
        bitmap[32] = beyond_latin1
        key = bytes(bitmap)
        if key not in self.class_index:
            self.class_index[key] = len(self.classes)
            self.classes.append(key)
        return self.class_index[key]

    def emit(self, *words: int) -> int:
        self.code.extend(words)
        if len(self.code) > MAX_PROGRAM:
            raise Unsupported("program too large")
        return len(self.code) - len(words)

    # -- single characters -------------------------------------------------------------------

    @staticmethod
    def single_char(op: object, av: object, flags: int) -> tuple[frozenset[int], bool] | None:
        """What one item matches: (its Latin-1 code points, whether every character beyond Latin-1
        matches), or None when it is not a one-character item."""
        latin1 = frozenset(range(256))
        if op is C.LITERAL or op is C.NOT_LITERAL:
            chars = _fold({av}, flags)  # type: ignore[arg-type]
            return (latin1 - chars, True) if op is C.NOT_LITERAL else (chars, False)
        if op is C.ANY:
            return (latin1 if flags & re.DOTALL else latin1 - {10}), True
        if op is C.IN:
            negate = False
            members: set[int] = set()
            beyond = False
            for item_op, item_av in av:  # type: ignore[attr-defined]
                if item_op is C.NEGATE:
                    negate = True
                elif item_op is C.LITERAL:
                    members |= _fold({item_av}, flags)
                elif item_op is C.RANGE:
                    low, high = item_av
                    if high > 255:
                        raise Unsupported("class range beyond Latin-1")
                    members |= _fold(set(range(low, high + 1)), flags)
                elif item_op is C.CATEGORY:
                    chars, category_beyond = _category(item_av)
                    members |= chars
                    beyond = beyond or category_beyond
                else:
                    raise Unsupported(f"class item {item_op}")
            return (latin1 - members, not beyond) if negate else (frozenset(members), beyond)
        return None

    # -- structure ---------------------------------------------------------------------------

    def sequence(self, items: list[tuple[object, object]], flags: int) -> None:
        for op, av in items:
            self.item(op, av, flags)

    def item(self, op: object, av: object, flags: int) -> None:
        chars = self.single_char(op, av, flags)
        if chars is not None:
            self.emit(OP_CLASS, self.class_id(chars))
        elif op is C.SUBPATTERN:
            group: int
            add_flags: int
            del_flags: int
            sub: Any
            group, add_flags, del_flags, sub = av  # type: ignore[misc]
            inner = (flags | add_flags) & ~del_flags
            if group:
                self.emit(OP_SAVE, 2 * (group - 1))
            self.sequence(list(sub), inner)
            if group:
                self.emit(OP_SAVE, 2 * (group - 1) + 1)
        elif op is C.MAX_REPEAT or op is C.MIN_REPEAT:
            self.repeat(av, flags, greedy=op is C.MAX_REPEAT)  # type: ignore[arg-type]
        elif op is C.BRANCH:
            self.branch(av[1], flags)  # type: ignore[index]
        elif op is C.AT:
            self.emit(self.anchor(av, flags))
        else:
            raise Unsupported(str(op))

    def anchor(self, code: object, flags: int) -> int:
        if code is C.AT_BEGINNING:
            return OP_BOL if flags & re.MULTILINE else OP_BOS
        if code is C.AT_BEGINNING_STRING:
            return OP_BOS
        if code is C.AT_END:
            return OP_EOL if flags & re.MULTILINE else OP_EOS_NL
        if code is C.AT_END_STRING:
            return OP_EOS
        if code is C.AT_BOUNDARY and flags & re.ASCII:
            return OP_WORDB
        if code is C.AT_NON_BOUNDARY and flags & re.ASCII:
            return OP_NWORDB
        raise Unsupported(str(code))

    def branch(self, alternatives: list[object], flags: int) -> None:
        jumps = []
        for index, alternative in enumerate(alternatives):
            if index < len(alternatives) - 1:
                split = self.emit(OP_SPLIT, 0, 0)
                self.code[split + 1] = len(self.code)
                self.sequence(list(alternative), flags)  # type: ignore[call-overload]
                jumps.append(self.emit(OP_JMP, 0))
                self.code[split + 2] = len(self.code)
            else:
                self.sequence(list(alternative), flags)  # type: ignore[call-overload]
        for jump in jumps:
            self.code[jump + 1] = len(self.code)

    def repeat(self, av: tuple[int, int, object], flags: int, greedy: bool) -> None:
        low, high, sub = av
        high = UNBOUNDED if high == C.MAXREPEAT else high
        body = list(sub)  # type: ignore[call-overload]
        if len(body) == 1:
            chars = self.single_char(body[0][0], body[0][1], flags)
            if chars is not None:
                if greedy:
                    self.emit(OP_REPEAT, self.class_id(chars), low, high)
                else:
                    # The fifth word, the class that can start what follows, is set once the whole
                    # program is compiled (``_lazy_stops``).
                    self.emit(OP_LAZY, self.class_id(chars), low, high, NO_STOP)
                return
        if (high == UNBOUNDED or high > 1) and _nullable(body):
            raise Unsupported("repeat of an expression that can match empty")
        for _ in range(low):
            self.sequence(body, flags)
        if high == UNBOUNDED:
            loop = self.emit(OP_SPLIT, 0, 0)
            start = len(self.code)
            self.sequence(body, flags)
            self.emit(OP_JMP, loop)
            self._set_split(loop, start, len(self.code), greedy)
            return
        exits = []
        for _ in range(high - low):
            split = self.emit(OP_SPLIT, 0, 0)
            exits.append(split)
            start = len(self.code)
            self.sequence(body, flags)
            self._set_split(split, start, -1, greedy)
        for split in exits:
            self._set_split(split, -2, len(self.code), greedy)

    def _set_split(self, split: int, body: int, exit_: int, greedy: bool) -> None:
        """SPLIT a b tries a first: the body when greedy, the exit when lazy."""
        first, second = (1, 2) if greedy else (2, 1)
        if body >= 0:
            self.code[split + first] = body
        if exit_ >= 0:
            self.code[split + second] = exit_


def _first(code: list[int], pc: int, seen: set[int]) -> set[int] | None:
    """The classes one of which must hold the first character any match from ``pc`` consumes, or
    None when a match from there may consume none before an assertion or the end (or may not
    consume one first). ``seen``: positions already followed (a loop back consumed a character on
    the way: repeats of what can match empty are not compiled)."""
    if pc in seen:
        return set()
    seen.add(pc)
    op = code[pc]
    if op == OP_SAVE:
        return _first(code, pc + 2, seen)
    if op == OP_JMP:
        return _first(code, code[pc + 1], seen)
    if op == OP_SPLIT:
        first, second = _first(code, code[pc + 1], seen), _first(code, code[pc + 2], seen)
        return None if first is None or second is None else first | second
    if op == OP_CLASS:
        return {code[pc + 1]}
    if op in (OP_REPEAT, OP_LAZY):
        if code[pc + 2] > 0:
            return {code[pc + 1]}
        rest = _first(code, pc + _SIZE[op], seen)
        return None if rest is None else rest | {code[pc + 1]}
    return None


def _lazy_stops(compiler: _Compiler) -> None:
    """Each lazy repeat of one character class gets the class of the characters its continuation
    can start with: at any other character the continuation fails at once, so the machine takes
    such characters without trying it (``[^"]*?`` before ``(?: +\\S*)?"`` steps over all but spaces
    and quotes), which changes no match and no group."""
    code, pc = compiler.code, 0
    while pc < len(code):
        if code[pc] == OP_LAZY:
            first = _first(code, pc + _SIZE[OP_LAZY], set())
            if first is not None:
                stop = bytearray(33)
                for class_id in first:
                    for index, byte in enumerate(compiler.classes[class_id]):
                        stop[index] |= byte
                members = frozenset(c for c in range(256) if stop[c >> 3] >> (c & 7) & 1)
                code[pc + 4] = compiler.class_id((members, bool(stop[32])))
        pc += _SIZE[code[pc]]


def _fold(chars: set[int], flags: int) -> frozenset[int]:
    """Latin-1 members; IGNORECASE with ASCII folds ASCII letters only, as re does."""
    if any(c > 255 for c in chars):
        raise Unsupported("character beyond Latin-1")
    result = set(chars)
    if flags & re.IGNORECASE:
        if not flags & re.ASCII:
            raise Unsupported("Unicode case folding")
        result |= {c ^ 0x20 for c in result if 65 <= c <= 90 or 97 <= c <= 122}
    return frozenset(result)


def _category(code: object) -> tuple[frozenset[int], bool]:
    """ASCII categories (re.ASCII): \\d \\w \\s hold no character beyond Latin-1, their negations all."""
    table = {
        C.CATEGORY_DIGIT: _DIGIT, C.CATEGORY_WORD: _WORD, C.CATEGORY_SPACE: _SPACE,
    }
    negated = {C.CATEGORY_NOT_DIGIT: _DIGIT, C.CATEGORY_NOT_WORD: _WORD, C.CATEGORY_NOT_SPACE: _SPACE}
    if code in table:
        return frozenset(table[code]), False
    if code in negated:
        return frozenset(range(256)) - negated[code], True
    raise Unsupported(str(code))


def _nullable(items: list[tuple[object, object]]) -> bool:
    """Whether a sequence can match the empty string (a conservative answer is fine)."""
    for op, av in items:
        if op in (C.LITERAL, C.NOT_LITERAL, C.ANY, C.IN):
            return False
        if op is C.SUBPATTERN:
            if not _nullable(list(av[3])):  # type: ignore[index]
                return False
        elif op in (C.MAX_REPEAT, C.MIN_REPEAT):
            if av[0] > 0 and not _nullable(list(av[2])):  # type: ignore[index]
                return False
        elif op is C.BRANCH:
            if not any(_nullable(list(alt)) for alt in av[1]):  # type: ignore[index]
                return False
    return True


def compile_program(pattern: re.Pattern[str]) -> Program | None:
    """The machine program for a compiled ``re`` pattern (ASCII mode), or None to stay on ``re``."""
    if _parser is None or not pattern.flags & re.ASCII:
        return None
    try:
        tree = _parser.parse(pattern.pattern, pattern.flags)
        compiler = _Compiler()
        compiler.sequence(list(tree), tree.state.flags)
        compiler.emit(OP_MATCH)
        _lazy_stops(compiler)
    except Unsupported:
        return None
    names = sorted(pattern.groupindex.items(), key=lambda item: item[1])
    first = tree.data[0] if tree.data else None
    anchored = first is not None and first[0] is C.AT and first[1] is C.AT_BEGINNING and bool(pattern.flags & re.MULTILINE)
    return Program(compiler.code, b"".join(compiler.classes), pattern.groups, [(n, i) for n, i in names], anchored)
