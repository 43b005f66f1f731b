"""Text from log bytes that are not always UTF-8, kept as Fluent Bit keeps them.

Fluent Bit passes a line's bytes through untouched (msgpack strings are bytes), and its JSON
encoders (``flb_utils_write_str`` in src/flb_utils.c, used by stdout, file and the AWS outputs)
write each byte that is not part of valid UTF-8 as the private-use character U+E000 + byte:
``b"\\xff"`` reaches every JSON output as U+E0FF (recorded: tests/data/fluent-bit/tail_invalid_utf8
and docker_invalid_utf8). Records here hold ``str``, so lines are decoded with the
``INVALID_UTF8`` error handler, which makes exactly that substitution: the record stays one
``dict`` of ``str``, every output encodes it as usual, and what it sends is Fluent Bit's bytes.
The byte stays recoverable (``ord(char) - PRIVATE_USE_BASE``).
"""

from __future__ import annotations

import codecs

# The codec error handler's registered name (``bytes.decode("utf-8", INVALID_UTF8)``).
INVALID_UTF8 = "flb_fast.invalid_utf8"
# flb_utils_write_str: an invalid byte b is written as the code point 0xE000 + b.
PRIVATE_USE_BASE = 0xE000


def _private_use(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeDecodeError):
        raise error
    invalid = error.object[error.start:error.end]
    return "".join(chr(PRIVATE_USE_BASE + byte) for byte in invalid), error.end


codecs.register_error(INVALID_UTF8, _private_use)


def decode(data: bytes) -> str:
    """``data`` as text; each byte that is not valid UTF-8 becomes U+E000 + byte (see the module doc)."""
    return data.decode("utf-8", INVALID_UTF8)
