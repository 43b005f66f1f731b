"""Turn Fluent Bit's ``endpoint`` / ``port`` / ``tls`` options into the URL boto3 takes.

Fluent Bit strips ``https://`` from ``endpoint`` and connects to the host on ``port`` (443 by
default) with TLS unless ``tls off``. flb_fast also accepts a full ``http://`` URL so the agent
can run against moto or LocalStack over plain HTTP. Without ``endpoint``, boto3 resolves the
service endpoint itself, and so honours ``AWS_ENDPOINT_URL`` / ``AWS_ENDPOINT_URL_<SERVICE>``;
the outputs calling their service on the loop compute the plain case themselves
(``default_endpoint``) and leave the rest to botocore (``outputs/aws/http.py``).
"""

from __future__ import annotations

import functools
import re
from typing import Any
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


@functools.cache
def _partitions() -> list[dict[str, Any]]:
    import os

    import botocore
    import msgspec

    with open(os.path.join(os.path.dirname(botocore.__file__), "data", "partitions.json"), "rb") as handle:
        return msgspec.json.decode(handle.read())["partitions"]


def default_endpoint(service: str, region: str) -> str:
    """The endpoint of ``service`` (logs, firehose, kinesis) in ``region`` as botocore's endpoint
    rules give it without FIPS or dual-stack: ``https://<service>.<region>.<dnsSuffix>`` of the
    region's partition (botocore/data/partitions.json, as its ``aws.partition`` function picks
    it: the partition listing the region, else the first whose ``regionRegex`` matches, else aws)."""
    partitions = _partitions()
    chosen = next((p for p in partitions if region in p["regions"]), None) or next(
        (p for p in partitions if re.match(p["regionRegex"], region)), None
    ) or next(p for p in partitions if p["id"] == "aws")
    return f"https://{service}.{region}.{chosen['outputs']['dnsSuffix']}"
