"""One ``POST <Path>/_bulk`` to the cluster, with the plugin's authentication (blocking: it runs
in the output's bounded executor, never on the event loop).

Connections come from one urllib3 pool per output, kept alive between requests (Fluent Bit's
``net.keepalive`` default). Authentication, as ``opensearch.c`` / ``es_conf.c`` set it up:
- ``HTTP_User`` / ``HTTP_Passwd`` (or es ``Cloud_Auth user:password``): basic auth;
- es ``HTTP_API_Key``: ``Authorization: ApiKey <key>``;
- ``AWS_Auth On``: SigV4 for ``AWS_Service_Name`` (``es``, or ``aoss`` for OpenSearch
  Serverless) in ``AWS_Region``, signed with botocore's own signer over the exact bytes sent,
  with the payload hash header and without the port in ``Host`` (Amazon OpenSearch Service
  refuses a signature over ``host:port``, ``add_aws_auth``). Credentials come from the SDK
  chain (``AWS_Profile``), or ``AWS_Role_ARN`` through STS, and are refreshed before they expire.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import sys
import threading
from typing import Any

from msgspec import Struct

from flb_fast.tls import client_context

# Fluent Bit's User-Agent: "Fluent-Bit", or the AWS plugins' one when the request is signed.
USER_AGENT = "Fluent-Bit"
AWS_USER_AGENT = "aws-fluent-bit-plugin"
CONTENT_TYPE = "application/x-ndjson"
# Fluent Bit's net.io_timeout 0 means "no limit"; an agent must never wait forever on a read.
DEFAULT_READ_TIMEOUT_SECONDS = 60.0


class TransportError(Exception):
    """No answer: the connection failed, timed out or was closed (retry the documents)."""


class Answer(Struct, frozen=True):
    status: int
    body: bytes
    truncated: bool


class SigV4Settings(Struct, frozen=True):
    region: str
    service: str
    profile: str | None
    role_arn: str | None
    external_id: str | None
    sts_endpoint: str | None


class BulkTransport:
    """Sends bulk bodies to ``scheme://host:port<uri>``."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        tls: bool,
        uri: str,
        verify: bool,
        ca_file: str | None,
        cert_file: str | None,
        key_file: str | None,
        key_password: str | None,
        server_hostname: str | None,
        connect_timeout: float,
        read_timeout: float,
        max_connections: int,
        gzip_body: bool,
        basic_auth: tuple[str, str] | None,
        api_key: str | None,
        sigv4: SigV4Settings | None,
        response_limit: int,
        trace_output: bool = False,
    ) -> None:
        self.host = host
        self.port = port
        self.scheme = "https" if tls else "http"
        self.verify = verify
        self.uri = uri
        self.gzip_body = gzip_body
        self.sigv4 = sigv4
        self.response_limit = response_limit
        self.trace_output = trace_output
        self._pool_options: dict[str, Any] = {
            "maxsize": max(1, max_connections),
            "block": True,
        }
        if tls:
            self._pool_options.update(
                cert_reqs="CERT_REQUIRED" if verify else "CERT_NONE",
                ca_certs=ca_file,
                cert_file=cert_file,
                key_file=key_file,
                key_password=key_password,
                server_hostname=server_hostname,
                assert_hostname=False if not verify else None,
            )
        self._timeout = (connect_timeout, read_timeout or DEFAULT_READ_TIMEOUT_SECONDS)
        self._headers = {"Content-Type": CONTENT_TYPE, "User-Agent": AWS_USER_AGENT if sigv4 else USER_AGENT}
        if basic_auth is not None:
            token = base64.b64encode(f"{basic_auth[0]}:{basic_auth[1]}".encode()).decode()
            self._headers["Authorization"] = f"Basic {token}"
        elif api_key is not None:
            self._headers["Authorization"] = f"ApiKey {api_key}"
        if gzip_body:
            self._headers["Content-Encoding"] = "gzip"
        self._pool: Any = None
        self._credentials: Any = None
        # Posts in progress (each on a connection of its own), counted across the executor's threads.
        self._busy = 0
        self._busy_lock = threading.Lock()

    def open(self) -> None:
        """Create the connection pool and resolve AWS credentials (blocking: IMDS, STS, files)."""
        import warnings

        import urllib3

        if self.scheme == "https" and not self.verify:
            # The output says once, at start, that certificates are not checked; urllib3 would
            # say it again on every request.
            warnings.filterwarnings("ignore", category=urllib3.exceptions.InsecureRequestWarning)

        ca_file = self._pool_options.get("ca_certs")
        if ca_file:
            # urllib3 reads the CA only as it connects: a CA that cannot be loaded would fail every
            # flush. Fluent Bit fails the output's start ("error initializing TLS context"), and so
            # does this (tls.CAError, naming the file).
            client_context(ca_file, None)
        pool_class = urllib3.HTTPSConnectionPool if self.scheme == "https" else urllib3.HTTPConnectionPool
        options = {key: value for key, value in self._pool_options.items() if value is not None}
        self._pool = pool_class(self.host, self.port, **options)
        if self.sigv4 is not None:
            self._credentials = _credentials(self.sigv4)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None

    def post(self, body: bytes) -> Answer:
        """Send one bulk body; returns the status and at most ``Buffer_Size`` bytes of the answer."""
        if self._pool is None:
            self.open()
        if self.trace_output:
            # Trace_Output: each bulk request on stdout, as opensearch_format fwrites it (off the loop here).
            sys.stdout.write(body.decode(errors="replace"))
            sys.stdout.flush()
        payload = gzip.compress(body) if self.gzip_body else body
        headers = dict(self._headers)
        if self.sigv4 is not None:
            headers.update(self._signature(payload))
        with self._busy_lock:
            self._busy += 1
        try:
            return self._exchange(payload, headers)
        finally:
            with self._busy_lock:
                self._busy -= 1

    def connections(self) -> tuple[int, int]:
        """(open, busy): the pool's kept-alive connections plus those in use."""
        idle = sum(1 for connection in self._pool.pool.queue if connection is not None) if self._pool else 0
        return idle + self._busy, self._busy

    def _exchange(self, payload: bytes, headers: dict[str, str]) -> Answer:
        import urllib3

        try:
            response = self._pool.urlopen(
                "POST", self.uri, body=payload, headers=headers, timeout=urllib3.Timeout(*self._timeout),
                retries=False, preload_content=False, assert_same_host=False,
            )
        except urllib3.exceptions.HTTPError as exc:
            raise TransportError(str(exc)) from exc
        try:
            limit = self.response_limit
            data = response.read(limit) if limit else response.read()
            truncated = bool(limit) and len(data) == limit and bool(response.read(1))
            return Answer(response.status, data, truncated)
        except urllib3.exceptions.HTTPError as exc:
            raise TransportError(str(exc)) from exc
        finally:
            response.drain_conn()
            response.release_conn()

    def _signature(self, payload: bytes) -> dict[str, str]:
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest

        assert self.sigv4 is not None
        default_port = 443 if self.scheme == "https" else 80
        url_host = self.host if self.port == default_port else f"{self.host}:{self.port}"
        request = AWSRequest(
            method="POST",
            url=f"{self.scheme}://{url_host}{self.uri}",
            data=payload,
            headers={
                **self._headers,
                "Host": self.host,
                "X-Amz-Content-Sha256": hashlib.sha256(payload).hexdigest(),
            },
        )
        SigV4Auth(self._credentials.get_frozen_credentials(), self.sigv4.service, self.sigv4.region).add_auth(request)
        return {name: value for name, value in request.headers.items() if name.lower() != "user-agent"}


def _credentials(settings: SigV4Settings) -> Any:
    import botocore.session

    from flb_fast.outputs.aws.client import assume_role

    session = botocore.session.Session(profile=settings.profile)
    credentials = session.get_credentials()
    if settings.role_arn:
        credentials = assume_role(session, credentials, settings.role_arn, settings.external_id,
                                  settings.sts_endpoint, settings.region, True)
    if credentials is None:
        raise TransportError("AWS_Auth is on but no AWS credentials were found")
    return credentials
