# Tunables of the compiled path, each with where its value comes from.

cdef enum:
    # flb_parser_time_lookup() copies the time string into `char tmp[64]` and rejects a longer
    # one ("time string length is too long"): 63 bytes plus the terminator.
    _TIME_MAX_BYTES = 63
    # fraction digits read by parse_subseconds() in flb_parser.c (1 ns = 9 digits).
    _TIME_FRACTION_DIGITS = 9
    # Record keys (and short values such as "stdout") repeat on every line of a container log:
    # each decoder keeps this many str objects to reuse instead of allocating one per record.
    _NAME_CACHE_ENTRIES = 48
    # Only strings this short are cached: keys and enum-like values, never log messages.
    _NAME_CACHE_MAX_BYTES = 24
    # Values cached the same way: "stdout"/"stderr", levels ("info"), methods ("GET").
    _VALUE_CACHE_ENTRIES = 16
    _VALUE_CACHE_MAX_BYTES = 8
    # A JSON number longer than this goes to the general decoder (msgspec) rather than strtod.
    _NUMBER_MAX_BYTES = 63
