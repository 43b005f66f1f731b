# The per-record loops of the grep, modify and nest filters (filters/grep.py, modify.py,
# nest.py) over a whole chunk in C. Each function is the twin of a Python path that stays in
# its filter module as the reference (tests/core/test_filters.py compares them); regexes are
# still `re` patterns, called once per value they look at.

# What a key path gives when it is not in the record (record_accessor.MISSING's role here).
cdef object _filters_absent = object()


cdef inline object _filters_get(dict record, object key, tuple subkeys):
    """record_accessor.KeyAccessor.get: subkeys apply only when the top value is a map or an array."""
    cdef object value = record.get(key, _filters_absent)
    cdef object sub
    if not subkeys or not isinstance(value, (dict, list)):
        return value
    for sub in subkeys:
        if type(sub) is int:
            if not isinstance(value, list) or sub >= len(<list>value):
                return _filters_absent
            value = (<list>value)[sub]
        else:
            if not isinstance(value, dict):
                return _filters_absent
            value = (<dict>value).get(sub, _filters_absent)
            if value is _filters_absent:
                return value
    return value


def grep_keep(list records, list excludes, list keys, list subkeys, list searches, int logical_op):
    """Which records grep keeps, as grep.py's _keep_legacy (``logical_op`` 0) or _keep_and_or (1 AND,
    2 OR): one rule per position of the four lists (Exclude or not, top-level key, subkeys, the
    regex's ``search``). A rule matches a string value only."""
    cdef Py_ssize_t count = len(records)
    cdef Py_ssize_t rules = len(keys)
    cdef Py_ssize_t i, r
    cdef list keep = [True] * count
    cdef dict record
    cdef object value, sub
    cdef bint hit, exclude, kept
    cdef bint first_exclude = rules > 0 and excludes[0]
    for i in range(count):
        record = <dict>records[i]
        kept = logical_op == 1
        for r in range(rules):
            sub = subkeys[r]
            if sub:
                value = _filters_get(record, keys[r], <tuple>sub)
            else:
                value = record.get(keys[r])
            hit = isinstance(value, str) and searches[r](value) is not None
            if logical_op == 0:
                exclude = excludes[r]
                if hit:
                    kept = not exclude
                    break
                if not exclude:
                    kept = False
                    break
                kept = True
            elif hit == (logical_op == 2):
                kept = hit
                break
        if logical_op != 0:
            kept = kept != first_exclude
        if not kept:
            keep[i] = False
    return keep


cdef dict _filters_renamed(dict record, object key, object val):
    cdef dict out = {}
    cdef object name, value
    for name, value in record.items():
        if name is key or name == key:
            out[val] = value
        else:
            out[name] = value
    return out


# modify_rule's kinds (modify.py _CORE_KINDS).
cdef enum:
    _MODIFY_SET = 0
    _MODIFY_ADD = 1
    _MODIFY_REMOVE = 2
    _MODIFY_RENAME = 3


cdef inline object _modify_one(dict record, int kind, object key, object val):
    """One record under one rule: the record, or the new dict a Rename builds."""
    if kind == _MODIFY_SET:
        record.pop(key, None)
        record[key] = val
    elif kind == _MODIFY_ADD:
        if key not in record:
            record[key] = val
    elif kind == _MODIFY_REMOVE:
        record.pop(key, None)
    elif key in record and val not in record:
        return _filters_renamed(record, key, val)
    return record


def modify_rule(list records, object selected, int kind, object key, object val):
    """modify.py's Set (0), Add (1), Remove (2) or Rename (3) over the records at ``selected``
    (None: all), in place in the list; a renamed record is rebuilt with ``val`` in ``key``'s place."""
    cdef Py_ssize_t i
    if selected is None:
        for i in range(len(records)):
            records[i] = _modify_one(<dict>records[i], kind, key, val)
    else:
        for index in selected:
            records[index] = _modify_one(<dict>records[index], kind, key, val)


def nest_lift(list records, object key, str add_prefix, str remove_prefix):
    """nest.py's lift in place: each record's map at ``key`` is replaced by its entries, renamed by
    ``add_prefix`` (when not empty) or ``remove_prefix``, appended after the record's other keys
    (a key the record has already is moved to the end, as a later duplicate is kept). The map is
    only read; its renamed entries are built once per map (by identity) in this call."""
    cdef dict seen = {}
    cdef dict record, inner, entries
    cdef object item, value, name, ident
    cdef tuple entry
    cdef bint renamed = bool(add_prefix) or bool(remove_prefix)
    cdef Py_ssize_t cut = len(remove_prefix)
    for item in records:
        record = <dict>item
        value = record.get(key)
        if not isinstance(value, dict):
            continue
        inner = <dict>value
        del record[key]
        if renamed:
            ident = id(inner)
            entry = seen.get(ident)
            if entry is None:
                entries = {}
                for name, value in inner.items():
                    if add_prefix:
                        name = add_prefix + name
                    elif cut and name.startswith(remove_prefix):
                        name = name[cut:]
                    if name in entries:
                        del entries[name]
                    entries[name] = value
                # Holding the map keeps its id from being reused by another map in this call.
                seen[ident] = (inner, entries)
            else:
                entries = <dict>entry[1]
        else:
            entries = inner
        for name in entries:
            if name in record:
                del record[name]
        record.update(entries)
