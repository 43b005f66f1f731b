# The systemd input's journal reader (inputs/systemd): libsystemd's public sd-journal API called
# from here, one pass per batch of entries, each entry's record, tag and data size built in C as
# Fluent Bit's plugins/in_systemd/systemd.c builds them (in_systemd_collect,
# systemd_enumerate_data_store, tag_compose). inputs/systemd/records.py is the Python reference
# of the record and tag shaping, checked against journal_records() by tests.
#
# libsystemd is loaded at run time (dlopen/dlsym), never linked: a machine without the
# libsystemd-dev headers builds the module, and one without libsystemd at all still runs every
# other plugin. The prototypes below are those of <systemd/sd-journal.h>, all in libsystemd since
# LIBSYSTEMD_209. Which file is loaded is inputs/systemd/library.py's choice: the system's
# libsystemd.so.0 first, else the copy cysystemd's wheel carries.
#
# Values are text: each field's bytes decoded as UTF-8, an invalid byte written as Fluent Bit's
# JSON outputs write it (the flb_fast.invalid_utf8 handler, flb_fast/text.py).

from libc.stdint cimport uint64_t
from libc.stdlib cimport free as _jr_free
from libc.string cimport memchr as _jr_memchr, memcmp as _jr_memcmp
from cpython.dict cimport PyDict_GetItem as _jr_dict_get
from cpython.mem cimport PyMem_Malloc as _jr_malloc, PyMem_Free as _jr_mem_free
from cpython.ref cimport PyObject as _JrPyObject

import os as _jr_os


cdef extern from *:
    """
    #include <dlfcn.h>
    #include <stddef.h>
    #include <stdint.h>
    #include <stdio.h>
    #include <string.h>

    typedef struct sd_journal sd_journal;
    /* The sd-journal calls used, in the order of flb_sd_names. */
    typedef struct {
        int (*open)(sd_journal **ret, int flags);
        int (*open_directory)(sd_journal **ret, const char *path, int flags);
        void (*close)(sd_journal *j);
        int (*add_match)(sd_journal *j, const void *data, size_t size);
        int (*add_disjunction)(sd_journal *j);
        int (*add_conjunction)(sd_journal *j);
        int (*seek_head)(sd_journal *j);
        int (*seek_tail)(sd_journal *j);
        int (*seek_cursor)(sd_journal *j, const char *cursor);
        int (*previous)(sd_journal *j);
        int (*next)(sd_journal *j);
        int (*next_skip)(sd_journal *j, uint64_t skip);
        int (*get_realtime_usec)(sd_journal *j, uint64_t *ret);
        void (*restart_data)(sd_journal *j);
        int (*enumerate_data)(sd_journal *j, const void **data, size_t *length);
        int (*get_data)(sd_journal *j, const char *field, const void **data, size_t *length);
        int (*get_cursor)(sd_journal *j, char **cursor);
        int (*get_fd)(sd_journal *j);
        int (*process)(sd_journal *j);
    } flb_sd_api;

    static const char *const flb_sd_names[] = {
        "sd_journal_open", "sd_journal_open_directory", "sd_journal_close", "sd_journal_add_match",
        "sd_journal_add_disjunction", "sd_journal_add_conjunction", "sd_journal_seek_head",
        "sd_journal_seek_tail", "sd_journal_seek_cursor", "sd_journal_previous", "sd_journal_next",
        "sd_journal_next_skip", "sd_journal_get_realtime_usec", "sd_journal_restart_data",
        "sd_journal_enumerate_data", "sd_journal_get_data", "sd_journal_get_cursor",
        "sd_journal_get_fd", "sd_journal_process",
    };
    #define FLB_SD_COUNT (sizeof(flb_sd_names) / sizeof(flb_sd_names[0]))
    typedef char flb_sd_api_is_a_table[sizeof(flb_sd_api) == FLB_SD_COUNT * sizeof(void (*)(void)) ? 1 : -1];

    /* RTLD_LOCAL: the library's symbols stay out of the process's global scope. */
    static void *flb_sd_dlopen(const char *path, char *error, size_t error_size) {
        void *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
        if (handle == NULL) {
            const char *why = dlerror();
            snprintf(error, error_size, "%s", why != NULL ? why : "dlopen failed");
        }
        return handle;
    }

    /* Fill api from handle; 0, or -1 with the missing symbol's name in error. */
    static int flb_sd_bind(void *handle, flb_sd_api *api, char *error, size_t error_size) {
        size_t i;
        void *slot;
        for (i = 0; i < FLB_SD_COUNT; i++) {
            slot = dlsym(handle, flb_sd_names[i]);
            if (slot == NULL) {
                snprintf(error, error_size, "no symbol %s", flb_sd_names[i]);
                return -1;
            }
            memcpy((char *)api + i * sizeof(void (*)(void)), &slot, sizeof(slot));
        }
        return 0;
    }
    #define FLB_SD_LOCAL_ONLY 1
    """
    ctypedef struct sd_journal:
        pass
    ctypedef struct flb_sd_api:
        int (*open)(sd_journal **ret, int flags) nogil
        int (*open_directory)(sd_journal **ret, const char *path, int flags) nogil
        void (*close)(sd_journal *j) nogil
        int (*add_match)(sd_journal *j, const void *data, size_t size) nogil
        int (*add_disjunction)(sd_journal *j) nogil
        int (*add_conjunction)(sd_journal *j) nogil
        int (*seek_head)(sd_journal *j) nogil
        int (*seek_tail)(sd_journal *j) nogil
        int (*seek_cursor)(sd_journal *j, const char *cursor) nogil
        int (*previous)(sd_journal *j) nogil
        int (*next)(sd_journal *j) nogil
        int (*next_skip)(sd_journal *j, uint64_t skip) nogil
        int (*get_realtime_usec)(sd_journal *j, uint64_t *ret) nogil
        void (*restart_data)(sd_journal *j) nogil
        int (*enumerate_data)(sd_journal *j, const void **data, size_t *length) nogil
        int (*get_data)(sd_journal *j, const char *field, const void **data, size_t *length) nogil
        int (*get_cursor)(sd_journal *j, char **cursor) nogil
        int (*get_fd)(sd_journal *j) nogil
        int (*process)(sd_journal *j) nogil
    void *flb_sd_dlopen(const char *path, char *error, size_t error_size)
    int flb_sd_bind(void *handle, flb_sd_api *api, char *error, size_t error_size)
    int FLB_SD_LOCAL_ONLY  # SD_JOURNAL_LOCAL_ONLY, as systemd_config.c opens the local journal


# Keys up to this length are lowercased in a stack buffer, longer ones in a heap one, and kept
# for the next entry (journald caps field names at 64 bytes, journal-file.c
# JOURNAL_FIELD_NAME_MAX; a crafted file may not).
cdef enum:
    _JR_KEY_STACK = 256
    _JR_ERROR_SIZE = 512

# systemd.c tag_compose: the unit name of "_SYSTEMD_UNIT=<unit>" and the tag part for none.
cdef const char *_JR_UNIT_FIELD = b"_SYSTEMD_UNIT"
cdef const char *_JR_UNIT_DATA = b"_SYSTEMD_UNIT="
cdef Py_ssize_t _JR_UNIT_PREFIX = 14  # len("_SYSTEMD_UNIT=")


cdef class SystemdLibrary:
    """One loaded libsystemd: ``SystemdLibrary(path, preload)`` dlopens each of ``preload`` it can
    (the libraries ``path`` needs, in whatever order they load), then ``path``, and binds the
    sd_journal calls. ``OSError`` names the file and what failed. A library, once loaded, stays
    loaded for the life of the process; each ``Journal`` copies the calls it was opened with."""

    cdef flb_sd_api api
    cdef readonly str path

    def __cinit__(self, str path, list preload):
        cdef char error[_JR_ERROR_SIZE]
        cdef void *handle
        pending = [_jr_os.fsencode(p) for p in preload]
        progress = True
        while pending and progress:
            progress = False
            for dependency in list(pending):
                if flb_sd_dlopen(dependency, error, _JR_ERROR_SIZE) != NULL:
                    pending.remove(dependency)
                    progress = True
        encoded = _jr_os.fsencode(path)
        handle = flb_sd_dlopen(encoded, error, _JR_ERROR_SIZE)
        if handle == NULL:
            raise OSError(f"cannot load {path}: {error.decode(errors='replace')}")
        if flb_sd_bind(handle, &self.api, error, _JR_ERROR_SIZE) != 0:
            raise OSError(f"cannot use {path}: {error.decode(errors='replace')}")
        self.path = path


cdef inline object _jr_text(const char *data, Py_ssize_t length):
    return _str_from_utf8(data, length, _INVALID_UTF8)


cdef object _jr_lower_text(const char *data, Py_ssize_t length):
    """``data`` lowercased as tolower() does in the C locale (ASCII letters only, as bytes.lower()),
    as text."""
    cdef char stack_copy[_JR_KEY_STACK]
    cdef char *lowered
    cdef Py_ssize_t i
    stack_copy[0] = 0
    if length <= _JR_KEY_STACK:
        lowered = &stack_copy[0]
    else:
        lowered = <char *>_jr_malloc(length)
        if lowered == NULL:
            raise MemoryError()
    for i in range(length):
        lowered[i] = data[i] + 32 if b'A' <= data[i] <= b'Z' else data[i]
    try:
        return _jr_text(lowered, length)
    finally:
        if lowered != &stack_copy[0]:
            _jr_mem_free(lowered)


cdef class _JrTexts:
    """The text of the last bytes seen at each field position of an entry, handed out again when
    the next entry has the same bytes there: entries of one source repeat their field names and
    most values (_HOSTNAME, _BOOT_ID, _SYSTEMD_UNIT, PRIORITY...) in the same order, so most of
    a record's strings are decoded once and shared, not decoded and held once per record."""

    cdef list raw
    cdef list text
    cdef Py_ssize_t slots, longest
    cdef bint lower

    def __cinit__(self, Py_ssize_t slots, Py_ssize_t longest, bint lower):
        self.raw = [None] * slots
        self.text = [None] * slots
        self.slots = slots
        self.longest = longest
        self.lower = lower

    cdef object get(self, Py_ssize_t slot, const char *data, Py_ssize_t length):
        cdef object cached
        if slot >= self.slots or length > self.longest:
            return _jr_lower_text(data, length) if self.lower else _jr_text(data, length)
        cached = self.raw[slot]
        if (cached is not None and _bytes_size(cached) == length
                and _jr_memcmp(_bytes_data(cached), data, length) == 0):
            return self.text[slot]
        text = _jr_lower_text(data, length) if self.lower else _jr_text(data, length)
        self.raw[slot] = _bytes_from_size(data, length)
        self.text[slot] = text
        return text


# Field positions whose last name and value are kept (journald writes about 30 fields per
# entry), and the longest value kept: longer ones (messages) rarely repeat. Units whose tag is
# kept (a node's journal interleaves a handful: kubelet, containerd, docker, sshd...).
cdef enum:
    _JR_SLOTS = 64
    _JR_VALUE_LONGEST = 64
    _JR_UNITS = 16


cdef int _jr_store(dict record, const char *data, Py_ssize_t length, bint strip, _JrTexts names,
                   _JrTexts values, Py_ssize_t slot) except -1:
    """systemd.c systemd_enumerate_data_store: one ``FIELD=value`` (the ``slot``-th field taken
    from its entry) into ``record``; 1 if taken, 0 if it has no ``=`` (Fluent Bit's "broken
    entry")."""
    cdef const char *sep
    cdef const char *key = data
    cdef Py_ssize_t key_length
    cdef _JrPyObject *seen
    if strip and length > 0 and data[0] == b'_':
        key += 1
        length -= 1
    sep = <const char *>_jr_memchr(key, b'=', length)
    if sep == NULL:
        return 0
    key_length = sep - key
    name = names.get(slot, key, key_length)
    value = values.get(slot, sep + 1, length - key_length - 1)
    seen = _jr_dict_get(record, name)
    if seen == NULL:
        record[name] = value
    elif type(<object>seen) is list:
        (<list>seen).append(value)
    else:
        # A second value: the array takes the place of the second (cfl_kvlist_remove, then insert).
        first = <object>seen
        del record[name]
        record[name] = [first, value]
    return 1


def journal_records(list entries, bint strip_underscores, bint lowercase, Py_ssize_t max_fields):
    """``[(record, size, broken), ...]`` of entries given as lists of their ``FIELD=value``
    datas, as ``Journal.read`` builds them, one after the other (records.py
    ``RecordShaper.record`` is the reference)."""
    cdef _JrTexts names = _JrTexts(_JR_SLOTS, _JR_KEY_STACK, lowercase)
    cdef _JrTexts values = _JrTexts(_JR_SLOTS, _JR_VALUE_LONGEST, False)
    cdef list out = []
    cdef list datas
    cdef dict record
    cdef Py_ssize_t size, broken, taken
    cdef bytes data
    for datas in entries:
        record = {}
        size = broken = taken = 0
        for data in datas:
            if taken >= max_fields:
                break
            if _jr_store(record, _bytes_data(data), _bytes_size(data), strip_underscores, names, values, taken):
                taken += 1
                size += _bytes_size(data)
            else:
                broken += 1
        out.append((record, size, broken))
    return out


cdef class Journal:
    """An open journal (``sd_journal``) and how its entries become records.

    ``Journal(library, path, tag_prefix, tag_suffix, dynamic_tag, strip_underscores, lowercase,
    max_fields)``: ``path`` a directory (``sd_journal_open_directory``) or ``None`` for the local
    machine's journal (``sd_journal_open`` with SD_JOURNAL_LOCAL_ONLY), as systemd_config.c opens
    it. Calls that fail raise ``OSError`` with the errno libsystemd returned, except those whose
    result Fluent Bit only logs, which return it."""

    # A copy of the library's table: the library, once loaded, is never unloaded.
    cdef flb_sd_api table
    cdef flb_sd_api *api
    cdef sd_journal *j
    cdef str tag_prefix, tag_suffix
    cdef bint dynamic_tag, strip
    cdef Py_ssize_t max_fields
    cdef object unknown_tag
    cdef list units, unit_tags
    cdef Py_ssize_t next_unit
    cdef _JrTexts names, values

    def __cinit__(self, SystemdLibrary library, path, str tag_prefix, str tag_suffix, bint dynamic_tag,
                  bint strip_underscores, bint lowercase, Py_ssize_t max_fields):
        cdef int ret
        self.table = library.api
        self.api = &self.table
        if path is None:
            ret = self.api.open(&self.j, FLB_SD_LOCAL_ONLY)
        else:
            encoded = _jr_os.fsencode(path)
            ret = self.api.open_directory(&self.j, encoded, 0)
        if ret < 0:
            self.j = NULL
            raise OSError(-ret, f"could not open the Journal: {_jr_os.strerror(-ret)}")
        self.tag_prefix = tag_prefix
        self.tag_suffix = tag_suffix
        self.dynamic_tag = dynamic_tag
        self.strip = strip_underscores
        self.max_fields = max_fields
        self.unknown_tag = f"{tag_prefix}unknown{tag_suffix}"
        self.units = []
        self.unit_tags = []
        self.next_unit = 0
        self.names = _JrTexts(_JR_SLOTS, _JR_KEY_STACK, lowercase)
        self.values = _JrTexts(_JR_SLOTS, _JR_VALUE_LONGEST, False)

    def __dealloc__(self):
        if self.j != NULL:
            self.api.close(self.j)

    cdef sd_journal *_open(self) except NULL:
        if self.j == NULL:
            raise ValueError("the journal is closed")
        return self.j

    def close(self):
        if self.j != NULL:
            self.api.close(self.j)
            self.j = NULL

    def add_match(self, bytes match, bint conjunction):
        """sd_journal_add_match, then sd_journal_add_conjunction (AND) or _disjunction (OR), as
        systemd_config.c adds each Systemd_Filter; OSError(errno, which call) if one fails."""
        cdef sd_journal *j = self._open()
        cdef int ret = self.api.add_match(j, _bytes_data(match), _bytes_size(match))
        if ret < 0:
            raise OSError(-ret, "sd_journal_add_match")
        ret = self.api.add_conjunction(j) if conjunction else self.api.add_disjunction(j)
        if ret < 0:
            raise OSError(-ret, "sd_journal_add_conjunction" if conjunction else "sd_journal_add_disjunction")

    def seek_head(self):
        return self.api.seek_head(self._open())

    def seek_tail(self, uint64_t skip):
        """systemd_config.c Read_From_Tail: the tail, back one, then forward ``skip`` entries
        (systemd bug #9934); the number skipped, or a negative errno."""
        cdef sd_journal *j = self._open()
        self.api.seek_tail(j)
        self.api.previous(j)
        return self.api.next_skip(j, skip)

    def seek_cursor(self, str cursor):
        """sd_journal_seek_cursor and, if it worked (0), one step onto that entry so that the
        next read is the entry after it; the seek's result."""
        cdef sd_journal *j = self._open()
        encoded = cursor.encode()
        cdef int ret = self.api.seek_cursor(j, encoded)
        if ret == 0:
            self.api.next_skip(j, 1)
        return ret

    def fileno(self):
        cdef int fd = self.api.get_fd(self._open())
        if fd < 0:
            raise OSError(-fd, f"sd_journal_get_fd: {_jr_os.strerror(-fd)}")
        return fd

    def process(self):
        """sd_journal_process: SD_JOURNAL_NOP (0), _APPEND (1), _INVALIDATE (2) or a negative errno."""
        return self.api.process(self._open())

    cdef object _unit_tag(self, const char *data, size_t length):
        """systemd.c tag_compose with the unit of ``_SYSTEMD_UNIT=<unit>`` (``data``). The tags of
        the last ``_JR_UNITS`` units are kept: entries of a few units interleave."""
        cdef Py_ssize_t unit_length = <Py_ssize_t>length - _JR_UNIT_PREFIX
        cdef Py_ssize_t n
        cdef bytes unit
        if unit_length < 0:
            return self.unknown_tag
        data += _JR_UNIT_PREFIX
        for n in range(len(self.units)):
            unit = <bytes>self.units[n]
            if _bytes_size(unit) == unit_length and _jr_memcmp(_bytes_data(unit), data, unit_length) == 0:
                return self.unit_tags[n]
        tag = self.tag_prefix + _jr_text(data, unit_length) + self.tag_suffix
        if len(self.units) < _JR_UNITS:
            self.units.append(_bytes_from_size(data, unit_length))
            self.unit_tags.append(tag)
        else:
            self.units[self.next_unit] = _bytes_from_size(data, unit_length)
            self.unit_tags[self.next_unit] = tag
            self.next_unit = (self.next_unit + 1) % _JR_UNITS
        return tag

    def read(self, Py_ssize_t max_entries, Py_ssize_t max_bytes, str fixed_tag, bint cursor):
        """One pass: up to ``max_entries`` entries, ending early once their data passes
        ``max_bytes`` (systemd.c: "pause if we have processed more than 1MB"). Returns
        ``(groups, cursor, status, broken)``.

        ``groups``: ``[tag, timestamps (ns), records, size]`` per tag, in the order the tags first
        appear, each tag's records in journal order (Fluent Bit appends each run of a tag to that
        tag's input chunk). ``cursor``: that of the last entry read, if asked for, one was read and
        no error ended the pass, else None. ``status``: 1 if the pass ended on a bound (more may be waiting), 0 at the end
        of the journal, a negative errno if an entry could not be read (sd_journal_next or
        sd_journal_get_realtime_usec). ``broken``: fields without ``=`` left out (Fluent Bit's
        "Skip %d broken entries")."""
        cdef sd_journal *j = self._open()
        cdef flb_sd_api *api = self.api
        cdef list groups = []
        cdef dict by_tag = {}
        cdef list group = None
        cdef dict record
        cdef object tag, group_tag = None
        cdef Py_ssize_t read = 0, total = 0, entry_size, taken, broken = 0
        cdef int ret, status = 0
        cdef uint64_t usec
        cdef const void *data
        cdef size_t length
        cdef char *last_cursor = NULL
        while True:
            if read >= max_entries or total > max_bytes:
                status = 1
                break
            ret = api.next(j)
            if ret <= 0:
                status = ret
                break
            ret = api.get_realtime_usec(j, &usec)
            if ret != 0:
                status = ret if ret < 0 else -1
                break
            read += 1
            # systemd.c restarts the data cursor on each entry. The tag's unit is the first
            # _SYSTEMD_UNIT met while enumerating (what sd_journal_get_data finds), looked up
            # apart only if Max_Fields ended the enumeration before one was met.
            api.restart_data(j)
            record = {}
            taken = 0
            entry_size = 0
            tag = None if self.dynamic_tag else fixed_tag
            while True:
                if taken >= self.max_fields:
                    if tag is None:
                        api.restart_data(j)
                        if api.get_data(j, _JR_UNIT_FIELD, &data, &length) == 0:
                            tag = self._unit_tag(<const char *>data, length)
                    break
                if api.enumerate_data(j, &data, &length) <= 0:
                    break
                if (tag is None and length >= <size_t>_JR_UNIT_PREFIX and (<const char *>data)[0] == b'_'
                        and _jr_memcmp(data, _JR_UNIT_DATA, _JR_UNIT_PREFIX) == 0):
                    tag = self._unit_tag(<const char *>data, length)
                if _jr_store(record, <const char *>data, <Py_ssize_t>length, self.strip, self.names,
                             self.values, taken):
                    taken += 1
                    entry_size += <Py_ssize_t>length
                else:
                    broken += 1
            if tag is None:
                tag = self.unknown_tag
            if group is None or (tag is not group_tag and tag != group_tag):
                group = by_tag.get(tag)
                if group is None:
                    group = [tag, [], [], 0]
                    by_tag[tag] = group
                    groups.append(group)
                group_tag = tag
            (<list>group[1]).append(usec * 1000)
            (<list>group[2]).append(record)
            group[3] = <Py_ssize_t>group[3] + entry_size
            total += entry_size
        # After an error the journal may stand on an entry not read: no cursor then.
        if cursor and read and status >= 0 and api.get_cursor(j, &last_cursor) >= 0 and last_cursor != NULL:
            try:
                return groups, <bytes>last_cursor, status, broken
            finally:
                _jr_free(last_cursor)
        return groups, None, status, broken
