# The memory estimate of storage/footprint.py: the walk over a chunk's sampled records in C.
#
# footprint.py's ``measure_chunk`` is the reference (tests/storage/test_footprint.py compares
# the two on generated records). Each object is counted once, by address, in a small
# open-addressing table instead of two Python dicts keyed by ``id()``; what is counted is the
# same ``sys.getsizeof`` of every object reached within ``max_depth`` levels. The size of an
# ASCII str (most record values) is read from its header, as ``unicode_sizeof`` in CPython's
# Objects/unicodeobject.c computes it, instead of calling ``sys.getsizeof``.

from cpython.mem cimport PyMem_Calloc, PyMem_Free
from cpython.ref cimport PyObject
from libc.stdint cimport uintptr_t

import sys as _fp_sys

cdef object _fp_getsizeof = _fp_sys.getsizeof

cdef extern from "Python.h":
    bint _fp_dict_next "PyDict_Next"(object d, Py_ssize_t *pos, PyObject **key, PyObject **value)
    PyObject *_fp_list_item "PyList_GET_ITEM"(object o, Py_ssize_t i)
    Py_ssize_t _fp_list_size "PyList_GET_SIZE"(object o)
    Py_ssize_t _fp_refcount "Py_REFCNT"(PyObject *o)
    ctypedef struct PyASCIIObject:
        pass

ctypedef struct _FpSlot:
    PyObject *obj      # NULL: empty
    Py_ssize_t total   # bytes counted for it and what it holds; -1 once met in another record
    Py_ssize_t first   # the sampled record it was first met in

ctypedef struct _FpTable:
    _FpSlot *slots
    Py_ssize_t mask
    Py_ssize_t used
    Py_ssize_t moved   # bytes found shared between sampled records

cdef enum:
    # Slots to start with (a power of two): a few sampled records of a dozen objects each.
    _FP_FIRST_SLOTS = 256


cdef inline Py_ssize_t _fp_hash(PyObject *obj, Py_ssize_t mask) noexcept:
    cdef uintptr_t h = <uintptr_t> obj
    return <Py_ssize_t> ((h >> 4) ^ (h >> 12)) & mask


cdef _FpSlot *_fp_find(_FpTable *t, PyObject *obj) noexcept:
    """The slot of ``obj``, or the empty slot where it would go."""
    cdef Py_ssize_t i = _fp_hash(obj, t.mask)
    while t.slots[i].obj != NULL and t.slots[i].obj != obj:
        i = (i + 1) & t.mask
    return &t.slots[i]


cdef int _fp_grow(_FpTable *t) except -1:
    cdef _FpSlot *old = t.slots
    cdef Py_ssize_t old_size = t.mask + 1
    cdef Py_ssize_t i
    cdef _FpSlot *slot
    t.slots = <_FpSlot *> PyMem_Calloc(2 * old_size, sizeof(_FpSlot))
    if t.slots == NULL:
        t.slots = old
        raise MemoryError()
    t.mask = 2 * old_size - 1
    for i in range(old_size):
        if old[i].obj != NULL:
            slot = _fp_find(t, old[i].obj)
            slot[0] = old[i]
    PyMem_Free(old)
    return 0


cdef inline Py_ssize_t _fp_sizeof(object obj) except -1:
    """``sys.getsizeof(obj)``, read from the header of a compact ASCII str."""
    if type(obj) is str and _str_is_compact_ascii(obj):
        return <Py_ssize_t> sizeof(PyASCIIObject) + _str_length(obj) + 1
    return _fp_getsizeof(obj)


cdef inline bint _fp_is_text(PyObject *obj) noexcept:
    return type(<object> obj) is str or type(<object> obj) is bytes


cdef bint _fp_add(_FpTable *t, object obj, Py_ssize_t total, Py_ssize_t first) except -1:
    """Enter ``obj`` in the table unless there: whether it was new."""
    cdef _FpSlot *slot = _fp_find(t, <PyObject *> obj)
    if slot.obj != NULL:
        return False
    if 2 * (t.used + 1) > t.mask + 1:
        _fp_grow(t)
        slot = _fp_find(t, <PyObject *> obj)
    slot.obj = <PyObject *> obj
    slot.total = total
    slot.first = first
    t.used += 1
    return True


cdef int _fp_open(_FpTable *t) except -1:
    t.slots = <_FpSlot *> PyMem_Calloc(_FP_FIRST_SLOTS, sizeof(_FpSlot))
    if t.slots == NULL:
        raise MemoryError()
    t.mask = _FP_FIRST_SLOTS - 1
    t.used = 0
    t.moved = 0
    return 0


cdef Py_ssize_t _fp_measure(_FpTable *t, object obj, Py_ssize_t index, int depth, int max_depth) except -1:
    """footprint.py ``_measure``: the bytes of ``obj`` and what it holds not met before."""
    cdef _FpSlot *slot = _fp_find(t, <PyObject *> obj)
    cdef Py_ssize_t total, pos, i
    cdef PyObject *key
    cdef PyObject *value
    if slot.obj != NULL:
        if slot.total >= 0 and slot.first != index:
            t.moved += slot.total
            slot.total = -1
        return 0
    total = _fp_sizeof(obj)
    if depth < max_depth:
        if type(obj) is dict:
            pos = 0
            while _fp_dict_next(obj, &pos, &key, &value):
                total += _fp_measure(t, <object> key, index, depth + 1, max_depth)
            pos = 0
            while _fp_dict_next(obj, &pos, &key, &value):
                # A record's text values were counted exactly (footprint_measure).
                if depth > 0 or not _fp_is_text(value):
                    total += _fp_measure(t, <object> value, index, depth + 1, max_depth)
        elif type(obj) is list:
            i = 0
            while i < _fp_list_size(obj):
                total += _fp_measure(t, <object> _fp_list_item(obj, i), index, depth + 1, max_depth)
                i += 1
    # Entered once what it holds is counted (the table may have grown meanwhile); a record that
    # holds itself was entered deeper down, with less: footprint.py keeps the outermost count too.
    if not _fp_add(t, obj, total, index):
        slot = _fp_find(t, <PyObject *> obj)
        slot.total = total
        slot.first = index
    return total


def footprint_measure(list records, list sample, int max_depth) -> tuple:
    """``(exact, measured, shared)``: footprint.py ``measure_chunk(records, sample)`` (see there), in C.

    A text value only its record holds, in a record only the chunk holds (reference count 1 for
    both: no other object can lead to it), is counted without entering the table; the walk of the
    sampled records passes over their text values. Every other one is counted once by address.
    """
    cdef _FpTable t
    cdef _FpTable seen    # footprint.py ``seen``: records held more than once, their text counted
    cdef Py_ssize_t exact = 0
    cdef Py_ssize_t measured = 0
    cdef Py_ssize_t index = 0
    cdef Py_ssize_t pos
    cdef PyObject *key
    cdef PyObject *value
    cdef object record
    cdef bint sole
    _fp_open(&t)
    try:
        _fp_open(&seen)
        try:
            for record in records:
                if type(record) is dict:
                    # The loop holds one reference to ``record`` besides the list's.
                    sole = _fp_refcount(<PyObject *> record) == 2
                    if not sole and not _fp_add(&seen, record, 0, 0):
                        continue
                    pos = 0
                    while _fp_dict_next(record, &pos, &key, &value):
                        if _fp_is_text(value):
                            if sole and _fp_refcount(value) == 1:
                                exact += _fp_sizeof(<object> value)
                            elif _fp_add(&t, <object> value, -1, -1):
                                exact += _fp_sizeof(<object> value)
        finally:
            PyMem_Free(seen.slots)
        for record in sample:
            measured += _fp_measure(&t, record, index, 0, max_depth)
            index += 1
    finally:
        PyMem_Free(t.slots)
    return exact, measured, t.moved
