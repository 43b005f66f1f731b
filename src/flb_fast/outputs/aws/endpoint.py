"""Turn Fluent Bit's ``endpoint`` / ``port`` / ``tls`` options into the URL boto3 takes.

Fluent Bit strips ``https://`` from ``endpoint`` and connects to the host on ``port`` (443 by
default) with TLS unless ``tls off``. flb_fast also accepts a full ``http://`` URL so the agent
can run against moto or LocalStack over plain HTTP. Without ``endpoint``, boto3 resolves the
service endpoint itself, and so honours ``AWS_ENDPOINT_URL`` / ``AWS_ENDPOINT_URL_<SERVICE>``.
"""

from __future__ import annotations

from urllib.parse import urlsplit

HTTPS_PORT = 443
HTTP_PORT = 80


def endpoint_url(endpoint: str | None, port: int | None, tls: bool) -> str | None:
    """The endpoint URL for boto3, or None to let boto3 resolve it (region or AWS_ENDPOINT_URL)."""
    if not endpoint:
        return None
    endpoint = endpoint.strip().rstrip("/")
    if "://" in endpoint:
        parts = urlsplit(endpoint)
        if parts.port is None and port is not None:
            return f"{parts.scheme}://{parts.hostname}:{port}{parts.path}"
        return endpoint
    scheme = "https" if tls else "http"
    default_port = HTTPS_PORT if tls else HTTP_PORT
    host, _, host_port = endpoint.partition(":")
    chosen = port if port is not None else (int(host_port) if host_port else default_port)
    if chosen == default_port:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{chosen}"
