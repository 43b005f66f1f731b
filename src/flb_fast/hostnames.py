"""Host names handed to the event loop and to TLS without the ``idna`` codec when it would not change them.

uvloop encodes a str host with the ``idna`` codec before resolving it (``Loop._getaddrinfo``, used
by ``create_connection`` for a name, ``create_server`` and ``getaddrinfo``) and takes a bytes host
as it is; ``ssl.SSLContext`` encodes a str ``server_hostname`` with the codec
(``_encode_hostname``, called by ``wrap_bio``), and uvloop's TLS takes only a str there. The
codec's first use imports ``encodings.idna`` with ``stringprep`` and the ``unicodedata``
extension, held for the agent's life (0.4 MiB of RSS, 0.22 MiB of it anonymous, in the idle agent of
``bench_idle --variant kubernetes``), paid by the monitoring server's listen and by the first
connection of the kubernetes filter or of an AWS output. For an
ASCII name the codec only checks the length of each label and returns the name's ASCII bytes
(``Lib/encodings/idna.py``, ``Codec.encode``, its fast path, the same in Python 3.11-3.13), so
such a name is handed on as it is; any other name still goes through the codec, errors included.
"""

from __future__ import annotations

# Lib/encodings/idna.py, Codec.encode's fast path: each label of an ASCII name is 1-63 characters
# (RFC 1035 2.3.4), the last one may be empty (a trailing dot); longer or empty ones are errors.
MAX_LABEL_CHARS = 63


def unchanged_by_idna(name: str) -> bool:
    """Whether ``name.encode("idna")`` is ``name.encode("ascii")``: an ASCII name whose labels the codec accepts."""
    if not name.isascii():
        return False
    *labels, last = name.split(".")
    return len(last) <= MAX_LABEL_CHARS and all(0 < len(label) <= MAX_LABEL_CHARS for label in labels)


def loop_host(host: str) -> str | bytes:
    """``host`` as the event loop resolves it without the codec: the bytes the codec would give
    when it would give the name's ASCII bytes, otherwise the str itself (for the codec)."""
    return host.encode("ascii") if unchanged_by_idna(host) else host
