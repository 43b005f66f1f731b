"""SigV4 signatures of the JSON-protocol calls, computed as botocore's ``SigV4Auth.add_auth`` computes
them (botocore/auth.py), without importing ``botocore.auth``.

``botocore.auth`` imports ``botocore.utils`` and ``botocore.compat``, and with them urllib3 (whose
``urllib3.http2`` imports ``importlib.metadata``, zipfile, csv and tempfile), ``http.client``,
``email``, dateutil and ``xml.etree``: about 7 MiB of resident memory for an output that signs
one POST per request and sends it itself (bench/bench_aws_memory.py). The calls signed here are
all of one shape: ``POST`` to the endpoint's root, no query, a few headers, a body whose SHA-256
the caller has. What botocore does for them is this:

- the date (``X-Amz-Date``, ``%Y%m%dT%H%M%SZ`` in UTC) and, with session credentials,
  ``X-Amz-Security-Token`` are added to the headers, in that order, after the others;
- the canonical request is the method, the URL's path, the query, every header but those
  botocore never signs (``SIGNED_HEADERS_BLACKLIST``: User-Agent among them) plus ``host`` as
  ``lower-case-name:value`` (runs of white space in the value made one space) sorted by name,
  the signed header names joined by ``;``, and the body's SHA-256;
- the signature is the HMAC-SHA256 chain date -> region -> service -> ``aws4_request`` over
  ``AWS4-HMAC-SHA256``, the date, the scope and the canonical request's SHA-256, and goes into
  ``Authorization``.

The path, query and host of the canonical request are fixed for an endpoint; for anything but
``scheme://host[:port]/`` (a path, a query, an IPv6 address) they are taken once from botocore's
own signer. tests/outputs/aws/test_sigv4.py checks the headers against ``SigV4Auth`` on random
requests; tests/outputs/aws/test_http.py checks whole requests against what a botocore client sends.
"""

from __future__ import annotations

import datetime
import hmac
import time
from hashlib import sha256
from typing import Any, NamedTuple
from urllib.parse import urlsplit

ALGORITHM = "AWS4-HMAC-SHA256"
TIMESTAMP_FORMAT = "%Y%m%dT%H%M%SZ"
# Headers botocore leaves out of the signature (botocore/auth.py SIGNED_HEADERS_BLACKLIST).
UNSIGNED_HEADERS = frozenset({
    "baggage", "connection", "expect", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
    "traceparent", "tracestate", "trailer", "transfer-encoding", "upgrade", "user-agent", "x-amzn-trace-id",
})
DEFAULT_PORTS = {"http": 80, "https": 443}


# The last second amz_date wrote, and how: the date only changes once a second, and writing it
# took ~10 us a request through datetime and strftime.
_last_date: tuple[int, str] = (-1, "")


def amz_date() -> str:
    """Now, in UTC, as botocore writes ``X-Amz-Date`` from its ``get_current_datetime``: the
    system clock's second (``TIMESTAMP_FORMAT``)."""
    global _last_date
    second = int(time.time())
    if second != _last_date[0]:
        _last_date = (second, time.strftime(TIMESTAMP_FORMAT, time.gmtime(second)))
    return _last_date[1]


class Endpoint(NamedTuple):
    """What an endpoint URL contributes to the canonical request."""

    path: str
    query: str
    host: str


def canonical_endpoint(url: str) -> Endpoint:
    """The canonical path, query and signed ``host`` of requests to ``url``: botocore's, read
    from its signer for any URL but ``scheme://host[:port]/``."""
    parts = urlsplit(url)
    if parts.path in ("", "/") and not parts.query and ":" not in (parts.hostname or ":"):
        host = parts.hostname or ""
        if parts.port is not None and parts.port != DEFAULT_PORTS.get(parts.scheme):
            host = f"{host}:{parts.port}"
        return Endpoint("/", "", host)
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest

    request = AWSRequest(method="POST", url=url)
    signer = SigV4Auth(None, "", "")
    return Endpoint(signer._normalize_url_path(parts.path), signer.canonical_query_string(request),
                    signer.headers_to_sign(request)["host"])


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode(), sha256).digest()


class Signer:
    """Signs the requests of one endpoint, region and service (see the module docstring)."""

    __slots__ = ("endpoint", "region", "service", "_scope_tail", "_key")

    def __init__(self, url: str, region: str, service: str) -> None:
        self.endpoint = canonical_endpoint(url)
        self.region = region
        self.service = service
        self._scope_tail = f"/{region}/{service}/aws4_request"
        # (date, secret key, signing key): the key botocore derives on every request (four
        # HMACs, ~12 us) depends on nothing else, so it is derived again only when either changes.
        self._key: tuple[str, str, bytes] = ("", "", b"")

    def signing_key(self, date: str, secret_key: str) -> bytes:
        """The SigV4 signing key of ``date`` (``YYYYMMDD``) for this region and service."""
        if self._key[0] != date or self._key[1] != secret_key:
            key = _hmac(_hmac(_hmac(_hmac(f"AWS4{secret_key}".encode(), date), self.region), self.service),
                        "aws4_request")
            self._key = (date, secret_key, key)
        return self._key[2]

    def sign(self, headers: dict[str, str], payload_sha256: str, credentials: Any,
             now: datetime.datetime | None = None) -> None:
        """Add ``X-Amz-Date``, ``X-Amz-Security-Token`` (session credentials) and ``Authorization``
        to ``headers`` (distinct names, in the order they are sent) for a POST whose body has
        ``payload_sha256``, signed at ``now`` (UTC, no time zone) or, by default, at ``amz_date()``;
        ``credentials`` has botocore's ``access_key``, ``secret_key`` and ``token``."""
        timestamp = amz_date() if now is None else now.strftime(TIMESTAMP_FORMAT)
        headers["X-Amz-Date"] = timestamp
        if credentials.token:
            headers["X-Amz-Security-Token"] = credentials.token
        signed = {name.lower(): " ".join(value.split()) for name, value in headers.items()
                  if name.lower() not in UNSIGNED_HEADERS}
        signed.setdefault("host", self.endpoint.host)
        names = sorted(signed)
        signed_names = ";".join(names)
        canonical = "\n".join((
            "POST", self.endpoint.path, self.endpoint.query,
            "".join(f"{name}:{signed[name]}\n" for name in names), signed_names, payload_sha256,
        ))
        date = timestamp[:8]
        scope = date + self._scope_tail
        string_to_sign = f"{ALGORITHM}\n{timestamp}\n{scope}\n{sha256(canonical.encode()).hexdigest()}"
        signature = hmac.new(self.signing_key(date, credentials.secret_key), string_to_sign.encode(),
                             sha256).hexdigest()
        headers["Authorization"] = (
            f"{ALGORITHM} Credential={credentials.access_key}/{scope}, SignedHeaders={signed_names}, "
            f"Signature={signature}"
        )
