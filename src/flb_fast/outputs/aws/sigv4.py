"""SigV4 signatures of the JSON-protocol calls (``outputs/aws/http.py``), byte for byte those of
botocore's ``SigV4Auth.add_auth`` (botocore/auth.py; tests/outputs/aws/test_sigv4.py compares them).

botocore's signer rebuilds, per request, what is fixed for an endpoint (the host, the normalised
path and query, the credential scope) through ``urlsplit``, an ``email.message``-based header map
and four HMACs deriving the signing key: about 130 µs a request, 2-3% of the agent's CPU into
CloudWatch Logs. Here the fixed parts are worked out once per endpoint, the signing key once per
day and secret key (it depends on nothing else), and a request costs the canonical request's
SHA-256 and one HMAC. What botocore itself supplies stays botocore's: the clock it signs with
(``botocore.auth.get_current_datetime``), the host it signs (``_host_from_url``), the path
normalisation (``normalize_url_path``) and the headers it leaves unsigned.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any
from urllib.parse import quote, urlsplit

ALGORITHM = "AWS4-HMAC-SHA256"
# botocore/auth.py SIGV4_TIMESTAMP.
AMZ_DATE_FORMAT = "%Y%m%dT%H%M%SZ"


def amz_date() -> str:
    """The signing time as botocore's signer reads it (``botocore.auth.get_current_datetime``)."""
    import botocore.auth

    return botocore.auth.get_current_datetime().strftime(AMZ_DATE_FORMAT)


def _canonical_query(query: str) -> str:
    """botocore's ``SigV4Auth._canonical_query_string_url`` of a URL's query."""
    pairs = []
    for pair in query.split("&") if query else ():
        key, _, value = pair.partition("=")
        pairs.append((key, value))
    return "&".join(f"{key}={value}" for key, value in sorted(pairs))


class SigV4Signer:
    """Signs requests to one endpoint (``url``) for one service in one region."""

    __slots__ = ("host", "path", "query", "region", "service", "_unsigned", "_key", "_key_for")

    def __init__(self, url: str, region: str, service: str) -> None:
        from botocore.auth import SIGNED_HEADERS_BLACKLIST, _host_from_url
        from botocore.utils import normalize_url_path

        parts = urlsplit(url)
        # The Host header the request carries and signs.
        self.host: str = _host_from_url(url)
        self.path = quote(normalize_url_path(parts.path), safe="/~")
        self.query = _canonical_query(parts.query)
        self.region = region
        self.service = service
        self._unsigned = frozenset(SIGNED_HEADERS_BLACKLIST)
        self._key = b""
        self._key_for: tuple[str, str] | None = None

    def _signing_key(self, secret_key: str, day: str) -> bytes:
        if self._key_for != (secret_key, day):
            key = hmac.digest(f"AWS4{secret_key}".encode(), day.encode(), "sha256")
            for part in (self.region, self.service, "aws4_request"):
                key = hmac.digest(key, part.encode(), "sha256")
            self._key, self._key_for = key, (secret_key, day)
        return self._key

    def authorization(self, method: str, headers: list[tuple[str, str]], payload_sha256: str, timestamp: str,
                      credentials: Any) -> str:
        """The ``Authorization`` header of a request with ``headers`` (as sent, Host aside: the
        signer's own), a body of SHA-256 ``payload_sha256`` (hex) and ``X-Amz-Date`` ``timestamp``."""
        signed: dict[str, list[str]] = {}
        for name, value in headers:
            lower = name.lower()
            if lower not in self._unsigned:
                signed.setdefault(lower, []).append(value)
        if "host" not in signed:
            signed["host"] = [self.host]
        names = sorted(signed)
        canonical_headers = "\n".join(
            f"{name}:{','.join(' '.join(value.split()) for value in signed[name])}" for name in names
        )
        signed_names = ";".join(names)
        canonical = "\n".join(
            (method.upper(), self.path, self.query, canonical_headers + "\n", signed_names, payload_sha256)
        )
        day = timestamp[:8]
        scope = f"{day}/{self.region}/{self.service}/aws4_request"
        string_to_sign = f"{ALGORITHM}\n{timestamp}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
        signature = hmac.new(self._signing_key(credentials.secret_key, day), string_to_sign.encode(),
                             hashlib.sha256).hexdigest()
        return f"{ALGORITHM} Credential={credentials.access_key}/{scope}, SignedHeaders={signed_names}, Signature={signature}"
