# CPython C-API calls the sections share, declared once under private names (so that no
# section's cimport of the same function can clash with them).

cdef extern from "Python.h":
    object _bytes_from_size "PyBytes_FromStringAndSize"(const char *v, Py_ssize_t size)
    char *_bytes_data "PyBytes_AS_STRING"(object o)
    Py_ssize_t _bytes_size "PyBytes_GET_SIZE"(object o)
    object _str_new "PyUnicode_New"(Py_ssize_t size, Py_UCS4 maxchar)
    object _str_from_utf8 "PyUnicode_DecodeUTF8"(const char *s, Py_ssize_t size, const char *errors)
    bint _str_is_compact_ascii "PyUnicode_IS_COMPACT_ASCII"(object o)
    bint _str_is_ascii "PyUnicode_IS_ASCII"(object o)
    Py_ssize_t _str_length "PyUnicode_GET_LENGTH"(object o)
    void *_str_data "PyUnicode_DATA"(object o)
    double _string_to_double "PyOS_string_to_double"(const char *s, char **endptr, void *overflow_exception) except? -1.0
