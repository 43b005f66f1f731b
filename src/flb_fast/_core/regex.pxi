# Regex parsers' hot path: a whole batch of lines matched and turned into records in C.
#
# The program comes from flb_fast/parsers/regex_program.py, compiled from re's own parse of
# the (Onigmo-translated) pattern, and this machine backtracks in exactly re's order: leftmost
# start, then alternatives left to right, greedy repeats longest first, lazy ones shortest
# first, groups restored on backtracking. So a match gives the same group values as
# re.search; tests/parsers/test_regex_program.py checks that on random lines.
#
# Lines are decoded to str first (invalid UTF-8 becomes U+FFFD, as on the Python path), texts
# given as str are taken as they are, and either is matched on the str's own storage (1, 2 or 4 bytes per character), so a group is a substring
# of that str. A class is a 256-bit map over Latin-1 plus one byte saying whether characters
# beyond Latin-1 belong to it (patterns naming such characters stay on re).

from cpython.mem cimport PyMem_Malloc, PyMem_Realloc, PyMem_Free
from libc.stdint cimport int64_t, uint8_t, uint16_t, uint32_t
from libc.string cimport memcpy

cdef extern from "Python.h":
    dict _rx_dict_copy "PyDict_Copy"(object o)
    int _rx_str_kind "PyUnicode_KIND"(object o)
    object _rx_substring "PyUnicode_Substring"(object o, Py_ssize_t start, Py_ssize_t end)

# Opcodes: flb_fast/parsers/regex_program.py (a lazy repeat's fifth word is the class its
# continuation can start with, or -1: the repeat takes any other character without trying it).
cdef enum:
    RX_CLASS = 0
    RX_SPLIT = 1
    RX_JMP = 2
    RX_SAVE = 3
    RX_BOL = 4
    RX_EOL = 5
    RX_BOS = 6
    RX_EOS = 7
    RX_WORDB = 8
    RX_NWORDB = 9
    RX_REPEAT = 10
    RX_LAZY = 11
    RX_MATCH = 12
    RX_EOS_NL = 13

# Backtrack entries.
cdef enum:
    BT_PC = 0
    BT_RESTORE = 1
    BT_GREEDY = 2
    BT_LAZY = 3

ctypedef struct _RxFrame:
    int kind
    int pc
    Py_ssize_t a
    Py_ssize_t b

# Per-call working memory (group positions, backtrack stack): allocated for each batch, so one
# program may serve callers in several threads (its callbacks can release the GIL mid-batch).
ctypedef struct _RxState:
    Py_ssize_t *caps
    _RxFrame *stack
    Py_ssize_t stack_cap

# A str's storage: PyUnicode_1BYTE_KIND, 2BYTE_KIND or 4BYTE_KIND code units.
ctypedef fused _rx_char:
    uint8_t
    uint16_t
    uint32_t

# Bytes per class: a 256-bit map, then the membership of every character beyond Latin-1.
DEF _RX_CLASS_BYTES = 33

cdef object _RX_MISSING = object()


cdef inline bint _rx_in(const unsigned char *cls, uint32_t c) noexcept nogil:
    if c < 256:
        return (cls[c >> 3] >> (c & 7)) & 1
    return cls[32]

cdef inline bint _rx_word(const _rx_char *s, Py_ssize_t n, Py_ssize_t i) noexcept nogil:
    cdef uint32_t c
    if i < 0 or i >= n:
        return False
    c = s[i]
    return (c >= 48 and c <= 57) or (c >= 65 and c <= 90) or (c >= 97 and c <= 122) or c == 95


cdef int _rx_push(_RxState *st, Py_ssize_t top, int kind, int pc, Py_ssize_t a, Py_ssize_t b) except -1:
    cdef _RxFrame *grown
    if top >= st.stack_cap:
        grown = <_RxFrame *> PyMem_Realloc(st.stack, sizeof(_RxFrame) * st.stack_cap * 2)
        if not grown:
            raise MemoryError()
        st.stack = grown
        st.stack_cap *= 2
    st.stack[top].kind = kind
    st.stack[top].pc = pc
    st.stack[top].a = a
    st.stack[top].b = b
    return 0


cdef class RegexProgram:
    """One compiled regex parser program; ``parse_lines`` runs a batch, ``spans`` one text (tests)."""

    cdef int *code
    cdef Py_ssize_t code_len
    cdef unsigned char *classes
    cdef int ncaps
    cdef bint anchored
    cdef readonly list names
    # ``names`` split for the batch loop: each field's name, and its group number in ``groups``.
    cdef list field_names
    cdef int *groups

    def __cinit__(self, list code, bytes classes, int group_count, list names, bint anchored):
        cdef Py_ssize_t i
        self.code_len = len(code)
        self.code = <int *> PyMem_Malloc(sizeof(int) * (self.code_len + 1))
        self.classes = <unsigned char *> PyMem_Malloc(len(classes) + 1)
        self.ncaps = 2 * group_count
        if not self.code or not self.classes:
            raise MemoryError()
        for i in range(self.code_len):
            self.code[i] = code[i]
        memcpy(self.classes, <const char *> classes, len(classes))
        self.names = names
        self.anchored = anchored
        self.field_names = [name for name, _group in names]
        self.groups = <int *> PyMem_Malloc(sizeof(int) * (len(names) + 1))
        if not self.groups:
            raise MemoryError()
        for i in range(len(names)):
            self.groups[i] = names[i][1]

    def __dealloc__(self):
        PyMem_Free(self.code)
        PyMem_Free(self.classes)
        PyMem_Free(self.groups)

    cdef int _state_init(self, _RxState *st) except -1:
        st.stack_cap = 256
        st.caps = <Py_ssize_t *> PyMem_Malloc(sizeof(Py_ssize_t) * (self.ncaps + 1))
        st.stack = <_RxFrame *> PyMem_Malloc(sizeof(_RxFrame) * st.stack_cap)
        if not st.caps or not st.stack:
            PyMem_Free(st.caps)
            PyMem_Free(st.stack)
            raise MemoryError()
        return 0

    cdef int _search_text(self, _RxState *st, str text) except -1:
        """1 and ``st.caps`` set when the program matches somewhere in ``text``."""
        cdef int kind = _rx_str_kind(text)
        cdef void *data = _str_data(text)
        cdef Py_ssize_t n = _str_length(text)
        if kind == 1:
            return _rx_search(self, st, <const uint8_t *> data, n)
        if kind == 2:
            return _rx_search(self, st, <const uint16_t *> data, n)
        return _rx_search(self, st, <const uint32_t *> data, n)

    def spans(self, str text):
        """Group spans ``[(start, end) or (-1, -1), ...]`` of the first match, or None (tests)."""
        cdef _RxState st
        self._state_init(&st)
        try:
            if not self._search_text(&st, text):
                return None
            return [(st.caps[2 * i], st.caps[2 * i + 1]) for i in range(self.ncaps // 2)]
        finally:
            PyMem_Free(st.caps)
            PyMem_Free(st.stack)

    def parse_lines(self, list lines, int64_t read_time_ns, str key, bint skip_empty, time_field,
                    bint time_keep, object time_parse, object time_failed, object finish=None,
                    bint time_clf=False) -> tuple:
        """``(timestamps_ns, records, failed)`` for a batch of lines, as ``RegexParser.parse_lines``.

        A line is bytes (decoded as tail decodes it) or str (matched as it is: the kubernetes
        and parser filters' texts).

        ``time_parse(text) -> ns or None`` reads the time field (results are cached per batch);
        ``time_failed(text)`` counts one that does not parse; ``finish(record) -> record``, when
        given, runs on each parsed record after the time lookup (Types, decoders). With
        ``time_clf`` (a ``%d/%b/%Y:%H:%M:%S %z`` Time_Format, whose ``time_parse`` reads a
        canonical text as ``parse_time_clf`` does) such a text is read here, without a call
        out; ``time_parse`` reads the others.
        """
        cdef list timestamps = []
        cdef list records = []
        cdef Py_ssize_t failed = 0
        cdef dict times_seen = {}
        cdef object read_time = read_time_ns
        cdef _RxState st
        self._state_init(&st)
        try:
            self._parse_into(&st, lines, read_time, key, skip_empty, time_field, time_keep, time_parse, time_failed,
                             finish, time_clf, timestamps, records, times_seen, &failed)
        finally:
            PyMem_Free(st.caps)
            PyMem_Free(st.stack)
        return timestamps, records, failed

    cdef int _parse_into(self, _RxState *st, list lines, object read_time, str key, bint skip_empty, object time_field,
                         bint time_keep, object time_parse, object time_failed, object finish, bint time_clf,
                         list timestamps, list records, dict times_seen, Py_ssize_t *failed) except -1:
        cdef object line, text, value, ns, result, name
        cdef dict record
        cdef Py_ssize_t start, end, i
        cdef Py_ssize_t count = len(self.field_names)
        cdef Py_ssize_t time_at = -1
        cdef int64_t clf_ns
        cdef int group
        cdef bint ascii
        cdef list field_names = self.field_names
        # The time field is read as its group is met, so it is never inserted only to be removed
        # (group names are unique: parsers/onigmo.py rejects a name given twice).
        if time_field is not None and time_field in field_names:
            time_at = field_names.index(time_field)
        # Every record starts as a copy of this one, whose keys are the fields in order (the time
        # field only with Time_Keep): the copy takes the key table whole, sized once, and each
        # field then replaces a value; a field left out (empty, or a time that does not parse) is
        # removed, which keeps the others in their order.
        cdef dict template = dict.fromkeys([name for i, name in enumerate(field_names) if i != time_at or time_keep])
        for line in lines:
            if type(line) is str:
                text = line
            else:
                if type(line) is not bytes:
                    line = bytes(line)
                text = _str_from_utf8(_bytes_data(line), _bytes_size(line), _INVALID_UTF8)
            if self.ncaps == 0 or not self._search_text(st, text):
                failed[0] += 1
                timestamps.append(read_time)
                records.append({key: text})
                continue
            record = _rx_dict_copy(template)
            ascii = _str_is_compact_ascii(text)
            ns = read_time
            for i in range(count):
                group = self.groups[i]
                start = st.caps[2 * group - 2]
                end = st.caps[2 * group - 1]
                name = field_names[i]
                if start < 0 or end <= start:
                    if skip_empty:
                        if i != time_at or time_keep:
                            del record[name]
                        continue
                    value = ""
                elif i == time_at and time_clf and not time_keep and ascii:
                    # A time the record does not keep, read in place: no str made only to be dropped.
                    clf_ns = _clf_ns_ascii(<const unsigned char *> _str_data(text) + start, end - start)
                    if clf_ns != _CLF_NONE:
                        if clf_ns != 0:
                            ns = clf_ns
                        continue
                    value = _rx_field(text, ascii, start, end)
                else:
                    value = _rx_field(text, ascii, start, end)
                if i == time_at:
                    result = _rx_time_of(value, time_clf, time_parse, times_seen)
                    if result is None:
                        time_failed(value)
                        if time_keep:
                            del record[name]
                        continue
                    if result != 0:
                        ns = result
                    if not time_keep:
                        continue
                record[name] = value
            if finish is not None:
                record = finish(record)
            timestamps.append(ns)
            records.append(record)
        return 0


cdef inline object _rx_field(object text, bint ascii, Py_ssize_t start, Py_ssize_t end):
    """``text[start:end]``: of an ASCII text longer than one character, copied straight into a
    new str (PyUnicode_Substring's checks and calls are the same copy with more around it)."""
    cdef object value
    if ascii and end - start > 1:
        value = _str_new(end - start, 127)
        memcpy(_str_data(value), <const char *> _str_data(text) + start, end - start)
        return value
    return _rx_substring(text, start, end)


cdef object _rx_time_of(object value, bint time_clf, object time_parse, dict times_seen):
    """The time field's nanoseconds (0: none), or None when it does not parse: a canonical CLF
    text read here with ``time_clf``, any other through ``time_parse`` once per batch."""
    cdef int64_t clf_ns
    cdef object result
    if time_clf:
        clf_ns = _clf_ns(value)
        if clf_ns != _CLF_NONE:
            return clf_ns
    result = times_seen.get(value, _RX_MISSING)
    if result is _RX_MISSING:
        result = time_parse(value)
        times_seen[value] = result
    return result


cdef int _rx_match_at(RegexProgram prog, _RxState *st, const _rx_char *s, Py_ssize_t n,
                      Py_ssize_t start) except -1:
    """1 and ``st.caps`` set when the program matches at ``start``; 0 otherwise."""
    cdef int *code = prog.code
    cdef Py_ssize_t *caps = st.caps
    cdef const unsigned char *bitmap
    cdef const unsigned char *stop
    cdef int pc = 0
    cdef int op
    cdef Py_ssize_t sp = start
    cdef Py_ssize_t top = 0
    cdef Py_ssize_t count, low, high, i
    cdef _RxFrame *frame
    for i in range(prog.ncaps):
        caps[i] = -1
    while True:
        op = code[pc]
        if op == RX_CLASS:
            if sp < n and _rx_in(prog.classes + _RX_CLASS_BYTES * code[pc + 1], s[sp]):
                sp += 1
                pc += 2
                continue
        elif op == RX_REPEAT:
            bitmap = prog.classes + _RX_CLASS_BYTES * code[pc + 1]
            low = code[pc + 2]
            high = code[pc + 3]
            count = 0
            while (high < 0 or count < high) and sp + count < n and _rx_in(bitmap, s[sp + count]):
                count += 1
            if count >= low:
                if count > low:
                    _rx_push(st, top, BT_GREEDY, pc + 4, sp + low, sp + count)
                    top += 1
                sp += count
                pc += 4
                continue
        elif op == RX_LAZY:
            bitmap = prog.classes + _RX_CLASS_BYTES * code[pc + 1]
            low = code[pc + 2]
            count = 0
            while count < low and sp + count < n and _rx_in(bitmap, s[sp + count]):
                count += 1
            if count == low:
                sp += count
                if code[pc + 4] >= 0:
                    high = code[pc + 3]
                    stop = prog.classes + _RX_CLASS_BYTES * code[pc + 4]
                    while (high < 0 or count < high) and sp < n and _rx_in(bitmap, s[sp]) and not _rx_in(stop, s[sp]):
                        sp += 1
                        count += 1
                _rx_push(st, top, BT_LAZY, pc, sp, count)
                top += 1
                pc += 5
                continue
        elif op == RX_SPLIT:
            _rx_push(st, top, BT_PC, code[pc + 2], sp, 0)
            top += 1
            pc = code[pc + 1]
            continue
        elif op == RX_JMP:
            pc = code[pc + 1]
            continue
        elif op == RX_SAVE:
            _rx_push(st, top, BT_RESTORE, code[pc + 1], caps[code[pc + 1]], 0)
            top += 1
            caps[code[pc + 1]] = sp
            pc += 2
            continue
        elif op == RX_BOL:
            if sp == 0 or s[sp - 1] == 10:
                pc += 1
                continue
        elif op == RX_EOL:
            if sp == n or s[sp] == 10:
                pc += 1
                continue
        elif op == RX_BOS:
            if sp == 0:
                pc += 1
                continue
        elif op == RX_EOS:
            if sp == n:
                pc += 1
                continue
        elif op == RX_EOS_NL:
            if sp == n or (sp == n - 1 and s[sp] == 10):
                pc += 1
                continue
        elif op == RX_WORDB:
            if _rx_word(s, n, sp - 1) != _rx_word(s, n, sp):
                pc += 1
                continue
        elif op == RX_NWORDB:
            # re (3.11-3.13) never matches \B in an empty string (_sre SRE_AT_NON_BOUNDARY).
            if n > 0 and _rx_word(s, n, sp - 1) == _rx_word(s, n, sp):
                pc += 1
                continue
        elif op == RX_MATCH:
            return 1
        # Failure: resume at the most recent choice point.
        while True:
            if top == 0:
                return 0
            frame = &st.stack[top - 1]
            if frame.kind == BT_RESTORE:
                caps[frame.pc] = frame.a
                top -= 1
            elif frame.kind == BT_PC:
                pc = frame.pc
                sp = frame.a
                top -= 1
                break
            elif frame.kind == BT_GREEDY:
                frame.b -= 1
                sp = frame.b
                pc = frame.pc
                if frame.b <= frame.a:
                    top -= 1
                break
            else:  # BT_LAZY: take one more character if the repeat allows it (and those its stop class allows)
                high = code[frame.pc + 3]
                bitmap = prog.classes + _RX_CLASS_BYTES * code[frame.pc + 1]
                sp = frame.a
                count = frame.b
                if (high < 0 or count < high) and sp < n and _rx_in(bitmap, s[sp]):
                    sp += 1
                    count += 1
                    if code[frame.pc + 4] >= 0:
                        stop = prog.classes + _RX_CLASS_BYTES * code[frame.pc + 4]
                        while (high < 0 or count < high) and sp < n and _rx_in(bitmap, s[sp]) and \
                                not _rx_in(stop, s[sp]):
                            sp += 1
                            count += 1
                    frame.a = sp
                    frame.b = count
                    pc = frame.pc + 5
                    break
                top -= 1

cdef int _rx_search(RegexProgram prog, _RxState *st, const _rx_char *s, Py_ssize_t n) except -1:
    cdef Py_ssize_t start = 0
    while start <= n:
        if _rx_match_at(prog, st, s, n, start):
            return 1
        if prog.anchored:
            while start < n and s[start] != 10:
                start += 1
        start += 1
    return 0

