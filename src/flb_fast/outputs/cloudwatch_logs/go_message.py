"""Event messages as the AWS Go plugin ``cloudwatch`` makes them of a record's bytes.

amazon-cloudwatch-logs-for-fluent-bit cloudwatch/cloudwatch.go: ``processRecord`` appends a
newline to the record's JSON (or ``log_key`` value) and, when that and the event's 26 bytes of
overhead exceed 256 KiB (the service's limit when the plugin was written), cuts it back to a
character boundary and appends ``[Truncated...]``; ``AddEvent`` then trims white space from both
ends (``strings.TrimSpace``, which also takes the newline off again) and drops a message left
empty.
"""

from __future__ import annotations

from flb_fast.outputs.aws.go_json import TRUNCATED_SUFFIX
from flb_fast.outputs.cloudwatch_logs.batch import EVENT_OVERHEAD_BYTES

GO_MAX_EVENT_BYTES = 256 * 1024
# What Go's unicode.IsSpace calls white space (strings.TrimSpace trims it): Python's str.strip
# would also trim U+001C-U+001F, which Go keeps.
GO_WHITE_SPACE = "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
# First or last bytes of a message that may be white space: ASCII white space, or a byte of a
# multi-byte character (U+0085 and the rest are not ASCII).
_MAYBE_SPACE = frozenset(b"\t\n\v\f\r ") | frozenset(range(0x80, 0x100))


def go_message(data: bytes) -> tuple[bytes, bool]:
    """The message the Go plugin sends for ``data``, and whether it was truncated."""
    truncated = len(data) + 1 + EVENT_OVERHEAD_BYTES > GO_MAX_EVENT_BYTES
    if truncated:
        cut = GO_MAX_EVENT_BYTES - len(TRUNCATED_SUFFIX) - EVENT_OVERHEAD_BYTES
        # data + b"\n" is at least cut + 1 bytes long, so data[cut] is there (or is the newline).
        while cut > 0 and cut < len(data) and (data[cut] & 0xC0) == 0x80:
            cut -= 1
        data = data[:cut] + TRUNCATED_SUFFIX
    if data and data[0] not in _MAYBE_SPACE and data[-1] not in _MAYBE_SPACE:
        return data, truncated
    return data.decode("utf-8", "surrogateescape").strip(GO_WHITE_SPACE).encode("utf-8", "surrogateescape"), truncated
