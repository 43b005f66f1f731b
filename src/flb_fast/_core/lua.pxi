# The lua filter's records to and from LuaJIT's string.buffer serialization format
# (https://luajit.org/ext_buffer.html#serialize_format; LuaJIT src/lj_serialize.c), so that a
# slice of a chunk crosses into Lua as one string that Lua's C decoder turns into tables (buffer.decode), and
# the results come back as one string that Lua's C encoder writes (buffer.encode) and
# lua_decode_results reads here. filters/lua/__init__.py and batch.lua describe the protocol.
#
# The format: nil 0x00, false 0x01, true 0x02, NULL lightuserdata 0x03, int 0x06 int32,
# number 0x07 double, tables 0x08-0x0d (empty, hash h.U, 0-based array a.U, mixed, 1-based
# array a.U with a-1 entries, mixed 1-based), 0x0e (index-1).U before a table whose metatable is
# the index'th of the buffer's metatable dict, 0x0f (index-1).U for a dict string, strings as
# (len+0x20).U then the bytes; every fixed-width number little-endian and .U a prefix-encoded
# 32-bit unsigned number (0x00-0xdf itself, 0xe0-0x1fdf in two bytes, above that 0xff + 4 bytes).

from libc.math cimport floor, isfinite, trunc
from libc.stdint cimport int32_t, int64_t, uint32_t
from libc.string cimport memcmp, memcpy
from cpython.mem cimport PyMem_Realloc, PyMem_Free
from cpython.unicode cimport PyUnicode_AsUTF8AndSize

cdef enum:
    _LUA_NIL = 0x00
    _LUA_FALSE = 0x01
    _LUA_TRUE = 0x02
    _LUA_NULL = 0x03
    _LUA_LIGHTUD32 = 0x04
    _LUA_LIGHTUD64 = 0x05
    _LUA_INT = 0x06
    _LUA_NUM = 0x07
    _LUA_TAB = 0x08
    _LUA_TAB_MT = 0x0e
    _LUA_DICT_STR = 0x0f
    _LUA_INT64 = 0x10
    _LUA_UINT64 = 0x11
    _LUA_COMPLEX = 0x12
    _LUA_STR = 0x20
    # The indexes (minus one) of batch.lua's marks in its buffers' metatable dict: a table from a
    # record's array or map, as Fluent Bit's flb_lua_pushmsgpack marks them (src/flb_lua.c).
    _LUA_ARRAY_MT = 0
    _LUA_MAP_MT = 1
    # LuaJIT refuses to encode or decode tables nested deeper (LJ_SERIALIZE_DEPTH, lj_buffer.c):
    # a record nested deeper cannot go to Lua.
    _LUA_MAX_DEPTH = 100
    # The first output buffer of a chunk (grown by doubling).
    _LUA_BUFFER_START = 65536
    # A LuaBuffer keeps its memory for the next chunk up to this size: four times a chunk's bytes
    # (storage/store.py CHUNK_MAX_BYTES, 2 MB as Fluent Bit's FLB_INPUT_CHUNK_FS_MAX_SIZE), as the
    # serialized records run a little larger than the raw lines they came from.
    _LUA_BUFFER_KEEP = 8 * 1024 * 1024

# 2**63: numbers from Lua below it (and at least -2**63) that hold an integer become ints, as
# flb_lua_tomsgpack packs them (lua_isinteger: lua_tointeger(n) == n).
cdef double _LUA_INT64_LIMIT = 9223372036854775808.0
# What a number under a type_int_key key becomes when it is past 64 bits, infinite or NaN:
# Fluent Bit casts it with (int64_t)lua_tonumber (flb_lua.c flb_lua_tomsgpack), undefined in C
# for those values; on x86-64 (cvttsd2si) every one of them is INT64_MIN.
cdef object _LUA_INT64_PAST_RANGE = -(1 << 63)
# Python ints a double holds exactly go to Lua as numbers of the same value.
cdef int64_t _LUA_MAX_EXACT = 9007199254740992


class LuaTableAmbiguous(Exception):
    """A table whose record form depends on Lua's own view of it (its length operator with holes,
    keys that are not strings): batch.lua writes it again in a form without doubt."""


class LuaUnconvertible(ValueError):
    """A record value Lua cannot hold as it is."""


cdef class LuaBuffer:
    """The bytes a chunk is written into, kept from chunk to chunk (up to _LUA_BUFFER_KEEP) so that
    each chunk does not map fresh memory."""

    cdef char *data
    cdef Py_ssize_t size
    cdef Py_ssize_t capacity

    def __cinit__(self):
        self.data = NULL
        self.size = 0
        self.capacity = 0

    def __dealloc__(self):
        PyMem_Free(self.data)

    cdef int reserve(self, Py_ssize_t extra) except -1:
        cdef Py_ssize_t need = self.size + extra
        cdef Py_ssize_t capacity = self.capacity or _LUA_BUFFER_START
        cdef char *grown
        if need <= self.capacity:
            return 0
        while capacity < need:
            capacity *= 2
        grown = <char *>PyMem_Realloc(self.data, capacity)
        if grown == NULL:
            raise MemoryError()
        self.data = grown
        self.capacity = capacity
        return 0

    cdef inline int byte(self, unsigned char value) except -1:
        if self.size + 1 > self.capacity:
            self.reserve(1)
        self.data[self.size] = <char>value
        self.size += 1
        return 0

    cdef int unsigned(self, uint32_t value) except -1:
        """A prefix-encoded .U number."""
        self.reserve(5)
        if value < 0xe0:
            self.data[self.size] = <char>value
            self.size += 1
        elif value < 0x1fe0:
            value -= 0xe0
            self.data[self.size] = <char>(0xe0 | (value >> 8))
            self.data[self.size + 1] = <char>(value & 0xff)
            self.size += 2
        else:
            self.data[self.size] = <char>0xff
            memcpy(self.data + self.size + 1, &value, 4)
            self.size += 5
        return 0

    cdef int number(self, double value) except -1:
        self.reserve(9)
        self.data[self.size] = <char>_LUA_NUM
        memcpy(self.data + self.size + 1, &value, 8)
        self.size += 9
        return 0

    cdef int string(self, const char *text, Py_ssize_t length) except -1:
        if length > 0x7fffffff - _LUA_STR:
            raise LuaUnconvertible("a string longer than Lua's serialization holds")
        self.unsigned(<uint32_t>(length + _LUA_STR))
        self.reserve(length)
        memcpy(self.data + self.size, text, length)
        self.size += length
        return 0

    cdef bytes take(self):
        """What was written, the buffer emptied."""
        cdef bytes written = _bytes_from_size(self.data, self.size)
        self.size = 0
        if self.capacity > _LUA_BUFFER_KEEP:
            PyMem_Free(self.data)
            self.data = NULL
            self.capacity = 0
        return written


cdef class _LuaEncoder:
    """Writes Python values as Lua values: a dict becomes a map and a list an array, each marked
    as Fluent Bit marks them; None is nil (which removes a map's key) or, with enable_flb_null,
    the NULL light userdata flb_null stands for; a str goes as its UTF-8 bytes (one that has none,
    a lone surrogate, cannot go)."""

    cdef LuaBuffer out
    cdef bint flb_null
    cdef dict key_index
    cdef list keys
    cdef Py_ssize_t max_keys

    def __cinit__(self, LuaBuffer out, bint flb_null, dict key_index, list keys, Py_ssize_t max_keys):
        self.out = out
        self.flb_null = flb_null
        self.key_index = key_index
        self.keys = keys
        self.max_keys = max_keys

    cdef int text(self, object value) except -1:
        cdef Py_ssize_t length
        cdef const char *data = PyUnicode_AsUTF8AndSize(value, &length)
        self.out.string(data, length)
        return 0

    cdef int key(self, object key) except -1:
        cdef object index
        if type(key) is not str:
            raise LuaUnconvertible(f"a map key that is not text ({type(key).__name__})")
        index = self.key_index.get(key)
        if index is None and len(self.keys) < self.max_keys:
            PyUnicode_AsUTF8AndSize(key, NULL)  # a key Lua cannot hold stays out of the dict
            index = len(self.keys)
            self.keys.append(key)
            self.key_index[key] = index
        if index is None:
            return self.text(key)
        self.out.byte(_LUA_DICT_STR)
        self.out.unsigned(<uint32_t>index)
        return 0

    cdef int value(self, object value, int depth) except -1:
        cdef type kind = type(value)
        cdef object key, item
        cdef Py_ssize_t count
        if kind is str:
            return self.text(value)
        if kind is dict:
            if depth >= _LUA_MAX_DEPTH:
                raise LuaUnconvertible(f"a record nested deeper than {_LUA_MAX_DEPTH} levels")
            self.out.byte(_LUA_TAB_MT)
            self.out.byte(_LUA_MAP_MT)
            count = len(<dict>value)
            if count == 0:
                return self.out.byte(_LUA_TAB)
            self.out.byte(_LUA_TAB + 1)
            self.out.unsigned(<uint32_t>count)
            for key, item in (<dict>value).items():
                self.key(key)
                self.value(item, depth + 1)
            return 0
        if kind is list or kind is tuple:
            if depth >= _LUA_MAX_DEPTH:
                raise LuaUnconvertible(f"a record nested deeper than {_LUA_MAX_DEPTH} levels")
            self.out.byte(_LUA_TAB_MT)
            self.out.byte(_LUA_ARRAY_MT)
            count = len(value)
            if count == 0:
                return self.out.byte(_LUA_TAB)
            self.out.byte(_LUA_TAB + 4)
            self.out.unsigned(<uint32_t>(count + 1))
            for item in value:
                self.value(item, depth + 1)
            return 0
        if kind is bool:
            return self.out.byte(_LUA_TRUE if value else _LUA_FALSE)
        if kind is int:
            if -_LUA_MAX_EXACT <= value <= _LUA_MAX_EXACT:
                return self.out.number(<double><int64_t>value)
            try:
                return self.out.number(float(value))
            except OverflowError:
                raise LuaUnconvertible("an integer too large for a Lua number") from None
        if kind is float:
            return self.out.number(<double>value)
        if value is None:
            return self.out.byte(_LUA_NULL if self.flb_null else _LUA_NIL)
        if kind is bytes:
            return self.out.string(<const char *>_bytes_data(value), _bytes_size(value))
        raise LuaUnconvertible(f"a value of type {kind.__name__}")


cdef bint _lua_round_trips(object value):
    """Whether ``value`` comes back from Lua as an equal value when the script leaves it alone: no
    None (nil removes a map key, a hole in an array), no integral float (it comes back an int), no
    int a double cannot hold, only text keys and no bytes."""
    cdef type kind = type(value)
    cdef object key, item
    if kind is str or kind is bool:
        return True
    if kind is dict:
        for key, item in (<dict>value).items():
            if type(key) is not str or not _lua_round_trips(item):
                return False
        return True
    if kind is list:
        for item in <list>value:
            if not _lua_round_trips(item):
                return False
        return True
    if kind is int:
        return -_LUA_MAX_EXACT <= value <= _LUA_MAX_EXACT
    if kind is float:
        return isfinite(<double>value) and floor(<double>value) != <double>value
    return False


def lua_encode_records(list records, list timestamps, bint time_as_table, bint flb_null, dict key_index,
                       list keys, Py_ssize_t max_keys, bint find_shared, LuaBuffer buffer=None,
                       Py_ssize_t first=0, Py_ssize_t max_bytes=0):
    """Records from ``first`` in Lua's serialization format, for batch.lua's run: up to the end of
    the chunk or, with ``max_bytes``, the first record that brings the payload to that size.

    Returns (payload, passed, failed, shared, shared_payload, end): per record that can go to Lua,
    its time (a number of seconds, or with ``time_as_table`` the seconds then the nanoseconds) then
    the record; the indexes of those records; (index, reason) of the others; with
    ``find_shared``, the dicts and lists found as a record value more than once (the pod metadata
    every record of a pod shares) that Lua gives back unchanged when the script leaves them alone,
    and those values in the same format, one after the other; the index after the last record
    written. Map keys go as entries of the buffers' dict (``keys``, indexed by ``key_index``), new
    keys added while there are fewer than ``max_keys``. ``buffer``: the memory to write into, a
    new one when None.
    """
    cdef _LuaEncoder encoder = _LuaEncoder(buffer or LuaBuffer(), flb_null, key_index, keys, max_keys)
    cdef LuaBuffer out = encoder.out
    cdef Py_ssize_t index, start
    cdef Py_ssize_t count = len(records)
    cdef list passed = []
    cdef list failed = []
    cdef list shared = []
    cdef dict seen = {}
    cdef object record, stamp, key, item, identity
    cdef bytes payload
    cdef int64_t ns, sec, nsec
    out.size = 0  # what an earlier call left, had it stopped on an error
    index = first
    while index < count and (max_bytes == 0 or out.size < max_bytes):
        record = records[index]
        start = out.size
        stamp = timestamps[index]
        ns = stamp
        sec = ns // 1000000000
        nsec = ns - sec * 1000000000
        if nsec < 0:
            sec -= 1
            nsec += 1000000000
        try:
            if time_as_table:
                out.number(<double>sec)
                out.number(<double>nsec)
            else:
                out.number(<double>sec + <double>nsec / 1e9)
            encoder.value(record, 0)
        except (UnicodeEncodeError, LuaUnconvertible) as error:
            out.size = start
            failed.append((index, str(error) if type(error) is LuaUnconvertible else "text that is not valid UTF-8"))
            index += 1
            continue
        passed.append(index)
        index += 1
        if find_shared:
            for key, item in (<dict>record).items():
                if type(item) is dict or type(item) is list:
                    identity = id(item)
                    if identity not in seen:
                        seen[identity] = False
                    elif seen[identity] is False:
                        seen[identity] = True
                        if _lua_round_trips(item):
                            shared.append(item)
    payload = out.take()
    for item in shared:
        encoder.value(item, 1)
    return payload, passed, failed, shared, out.take(), index


cdef class _LuaReader:
    """Reads what batch.lua wrote with buffer.encode into records, with Fluent Bit's conversion
    (flb_lua_tomsgpack, src/flb_lua.c): a number holding an integer becomes an int; a table marked
    as an array (or under a type_array_key key) is an array of its length (#t), one marked as a
    map is a map, any other an array of table.maxn(t) entries when that is above 0, else a map;
    a number under a type_int_key key is truncated to an int (-2**63 when it is past 64 bits,
    infinite or NaN, as Fluent Bit's cast gives on x86-64); nil and NULL are None. Where the
    serialized form alone cannot tell (#t of a table with holes, keys that are not text) it
    raises LuaTableAmbiguous, for batch.lua to write that record again without doubt."""

    cdef const unsigned char *data
    cdef Py_ssize_t pos
    cdef Py_ssize_t end
    cdef list keys
    cdef dict key_index
    cdef Py_ssize_t max_keys
    cdef object int_prefixes
    cdef object array_prefixes
    cdef dict shared

    def __cinit__(self, bytes data, list keys, dict key_index, Py_ssize_t max_keys, object int_prefixes,
                  object array_prefixes, dict shared):
        self.shared = shared
        self.data = <const unsigned char *>_bytes_data(data)
        self.pos = 0
        self.end = _bytes_size(data)
        self.keys = keys
        self.key_index = key_index
        self.max_keys = max_keys
        self.int_prefixes = int_prefixes
        self.array_prefixes = array_prefixes

    cdef int need(self, Py_ssize_t size) except -1:
        if self.end - self.pos < size:
            raise ValueError("truncated Lua serialization")
        return 0

    cdef inline unsigned char tag(self) except? 0xff:
        self.need(1)
        self.pos += 1
        return self.data[self.pos - 1]

    cdef uint32_t unsigned_after(self, unsigned char first) except? 0xffffffff:
        cdef uint32_t value
        if first < 0xe0:
            return first
        if first != 0xff:
            self.need(1)
            self.pos += 1
            return ((<uint32_t>(first & 0x1f) << 8) | self.data[self.pos - 1]) + 0xe0
        self.need(4)
        memcpy(&value, self.data + self.pos, 4)
        self.pos += 4
        return value

    cdef inline uint32_t unsigned(self) except? 0xffffffff:
        return self.unsigned_after(self.tag())

    cdef double double(self) except? -1.0:
        cdef double value
        self.need(8)
        memcpy(&value, self.data + self.pos, 8)
        self.pos += 8
        return value

    cdef object text(self, uint32_t length):
        cdef Py_ssize_t start = self.pos
        self.need(length)
        self.pos += length
        return _str_from_utf8(<const char *>self.data + start, length, _INVALID_UTF8)

    cdef object number(self, unsigned char tag):
        cdef double value
        cdef int32_t small
        if tag == _LUA_INT:
            self.need(4)
            memcpy(&small, self.data + self.pos, 4)
            self.pos += 4
            return small
        value = self.double()
        if floor(value) == value and -_LUA_INT64_LIMIT <= value < _LUA_INT64_LIMIT:
            return <int64_t>value
        return value

    cdef int skip(self) except -1:
        """Past one value."""
        cdef unsigned char tag = self.tag()
        cdef uint32_t count, hashed, i
        if tag >= _LUA_STR:
            count = self.unsigned_after(tag) - _LUA_STR
            self.need(count)
            self.pos += count
            return 0
        if tag <= _LUA_NULL:
            return 0
        if tag == _LUA_LIGHTUD32 or tag == _LUA_INT:
            self.need(4)
            self.pos += 4
            return 0
        if tag == _LUA_LIGHTUD64 or tag == _LUA_NUM or tag == _LUA_INT64 or tag == _LUA_UINT64:
            self.need(8)
            self.pos += 8
            return 0
        if tag == _LUA_COMPLEX:
            self.need(16)
            self.pos += 16
            return 0
        if tag == _LUA_DICT_STR:
            self.unsigned()
            return 0
        if tag == _LUA_TAB_MT:
            self.unsigned()
            tag = self.tag()
        if tag < _LUA_TAB or tag > _LUA_TAB + 5:
            raise ValueError(f"unknown Lua serialization tag {tag:#x}")
        count = hashed = 0
        if tag >= _LUA_TAB + 2:
            count = self.unsigned()
            if tag >= _LUA_TAB + 4 and count > 0:
                count -= 1
        if tag & 1:
            hashed = self.unsigned()
        for i in range(count + 2 * hashed):
            self.skip()
        return 0

    cdef bint key_is_text(self) except -1:
        """Whether the value at the current position is a string (a map key)."""
        self.need(1)
        return self.data[self.pos] >= _LUA_STR or self.data[self.pos] == _LUA_DICT_STR

    cdef object key(self):
        cdef unsigned char tag = self.tag()
        cdef uint32_t length
        cdef object text
        if tag == _LUA_DICT_STR:
            return self.dict_string()
        length = self.unsigned_after(tag) - _LUA_STR
        text = self.text(length)
        if len(self.keys) < self.max_keys and text not in self.key_index:
            self.key_index[text] = len(self.keys)
            self.keys.append(text)
        return text

    cdef object dict_string(self):
        cdef uint32_t index = self.unsigned()
        if index >= <uint32_t>len(self.keys):
            raise ValueError("a Lua dict string out of range")
        return self.keys[index]

    cdef object value(self, bint as_array):
        """The value at the current position; ``as_array``: a table under a type_array_key key."""
        cdef unsigned char tag = self.tag()
        cdef uint32_t metatable = 0xffffffff
        if tag >= _LUA_STR:
            return self.text(self.unsigned_after(tag) - _LUA_STR)
        if tag == _LUA_DICT_STR:
            return self.dict_string()
        if tag == _LUA_NUM or tag == _LUA_INT:
            return self.number(tag)
        if tag == _LUA_TRUE:
            return True
        if tag == _LUA_FALSE:
            return False
        if tag == _LUA_NIL or tag == _LUA_NULL:
            return None
        if tag == _LUA_TAB_MT:
            metatable = self.unsigned()
            tag = self.tag()
        if _LUA_TAB <= tag <= _LUA_TAB + 5:
            return self.table(tag, metatable, as_array, None)
        # Light userdata other than NULL and FFI numbers: Fluent Bit leaves them out.
        raise LuaTableAmbiguous()

    cdef object table(self, unsigned char tag, uint32_t metatable, bint as_array, dict original):
        cdef uint32_t count = 0
        cdef uint32_t hashed = 0
        cdef uint32_t i
        cdef bint zero_based
        cdef list items
        cdef dict record
        cdef object key
        if tag >= _LUA_TAB + 2:
            count = self.unsigned()
        if tag & 1:
            hashed = self.unsigned()
        zero_based = _LUA_TAB + 2 <= tag < _LUA_TAB + 4
        if zero_based:
            # t[0] set: a key that is not text in a map, left out of an array; Lua decides.
            raise LuaTableAmbiguous()
        if count > 0:
            count -= 1
        if as_array or metatable == _LUA_ARRAY_MT:
            # #t: the entries from 1 up to the first nil, when there is only one such border.
            items = []
            for i in range(count):
                self.need(1)
                if self.data[self.pos] == _LUA_NIL:
                    raise LuaTableAmbiguous()
                items.append(self.value(False))
            self.skip_text_keyed(hashed)
            return items
        if count > 0:
            if metatable == _LUA_MAP_MT:
                raise LuaTableAmbiguous()
            # table.maxn(t) entries, a nil among them None.
            items = [self.value(False) for i in range(count)]
            self.skip_text_keyed(hashed)
            return items
        record = {}
        for i in range(hashed):
            if not self.key_is_text():
                raise LuaTableAmbiguous()
            key = self.key()
            record[key] = self.entry(key, original)
        return record

    cdef int skip_text_keyed(self, uint32_t hashed) except -1:
        """Past the map part of an array, whose numeric keys would change its length."""
        cdef uint32_t i
        for i in range(hashed):
            if not self.key_is_text():
                raise LuaTableAmbiguous()
            self.skip()
            self.skip()
        return 0

    cdef object entry(self, object key, dict original):
        """A map entry's value, converted as type_int_key / type_array_key say; with ``original``
        (the record the script got), an unchanged value that record shared is that very object."""
        cdef unsigned char tag
        cdef double number
        cdef object before, encoded
        cdef Py_ssize_t size
        self.need(1)
        tag = self.data[self.pos]
        if original is not None and (tag == _LUA_TAB_MT or _LUA_TAB <= tag <= _LUA_TAB + 5):
            before = original.get(key)
            if before is not None:
                encoded = self.shared.get(id(before))
                if encoded is not None:
                    size = _bytes_size(encoded)
                    if self.end - self.pos >= size and memcmp(self.data + self.pos, _bytes_data(encoded), size) == 0:
                        self.pos += size
                        return before
        if self.int_prefixes is not None and (tag == _LUA_NUM or tag == _LUA_INT) and key in self.int_prefixes:
            if tag == _LUA_INT:
                return self.number(self.tag())
            self.pos += 1
            number = trunc(self.double())
            if not -_LUA_INT64_LIMIT <= number < _LUA_INT64_LIMIT:
                return _LUA_INT64_PAST_RANGE
            return <int64_t>number
        return self.value(self.array_prefixes is not None and key in self.array_prefixes)

    cdef object result(self, dict original):
        """A returned value as records: a map is one record, an array of maps one record per map;
        anything else None."""
        cdef unsigned char tag = self.tag()
        cdef uint32_t metatable = 0xffffffff
        cdef object value
        if tag == _LUA_TAB_MT:
            metatable = self.unsigned()
            tag = self.tag()
        if not (_LUA_TAB <= tag <= _LUA_TAB + 5):
            if tag == _LUA_FALSE:
                return None
            self.pos -= 1
            self.skip()
            return None
        value = self.table(tag, metatable, False, original)
        if type(value) is dict:
            return [value]
        for record in <list>value:
            if type(record) is not dict:
                return None
        return value


def lua_split_values(bytes data, Py_ssize_t count):
    """The first ``count`` serialized values of ``data``, each as its own bytes."""
    cdef _LuaReader reader = _LuaReader(data, [], {}, 0, None, None, {})
    cdef list values = []
    cdef Py_ssize_t start
    for _ in range(count):
        start = reader.pos
        reader.skip()
        values.append(data[start:reader.pos])
    return values


def lua_decode_results(bytes data, Py_ssize_t count, list originals, dict shared_bytes, list keys, dict key_index,
                       Py_ssize_t max_keys, object int_prefixes, object array_prefixes):
    """batch.lua's results for ``count`` records: per record 0 (keep it), -1 (drop it), 1 then the
    seconds and nanoseconds then the value (replace it and its time) or 2 then the value (replace
    it). Returns one entry per record: 0, -1, (time in ns or None, records), None when the value
    is no record or array of records (Fluent Bit keeps the record and logs an error), or False
    when batch.lua must write it again (LuaTableAmbiguous); and the positions of the None and
    False entries. ``originals`` are the records the script got (for ``shared_bytes``: id(shared
    value) -> its bytes from Lua, see lua_encode_records)."""
    cdef _LuaReader reader = _LuaReader(data, keys, key_index, max_keys, int_prefixes, array_prefixes, shared_bytes)
    cdef list entries = []
    cdef list specials = []
    cdef Py_ssize_t index, start
    cdef object code, stamp, records
    for index in range(count):
        code = reader.value(False)
        if code == 0 or code == -1:
            entries.append(code)
            continue
        stamp = None
        if code == 1:
            stamp = int(reader.value(False)) * 1000000000 + int(reader.value(False))
        start = reader.pos
        try:
            records = reader.result(originals[index] if shared_bytes else None)
        except LuaTableAmbiguous:
            reader.pos = start
            reader.skip()
            specials.append(index)
            entries.append(False)
            continue
        if records is None:
            specials.append(index)
            entries.append(None)
        else:
            entries.append((stamp, records))
    return entries, specials


def lua_merge_results(list timestamps, list records, Py_ssize_t first, Py_ssize_t end, list passed, list entries,
                      list stamps, list out):
    """Appends to ``stamps`` and ``out`` the times and records from ``first`` to ``end`` after the
    script: ``entries`` (0, -1 or (time in ns or None, records), as lua_decode_results gives them)
    for the records at ``passed`` (in order), every other record kept."""
    cdef Py_ssize_t index, position = 0
    cdef Py_ssize_t count = len(passed)
    cdef Py_ssize_t next_passed = passed[0] if count else -1
    cdef object entry, stamp, record
    for index in range(first, end):
        if index == next_passed:
            entry = entries[position]
            position += 1
            next_passed = passed[position] if position < count else -1
            if type(entry) is tuple:
                stamp = (<tuple>entry)[0]
                if stamp is None:
                    stamp = timestamps[index]
                for record in <list>(<tuple>entry)[1]:
                    stamps.append(stamp)
                    out.append(record)
                continue
            if entry == -1:
                continue
        stamps.append(timestamps[index])
        out.append(records[index])
