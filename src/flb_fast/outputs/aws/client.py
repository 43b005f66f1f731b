"""boto3 clients for the AWS outputs: one per output and region, created once and reused.

boto3 is imported here, in functions called from ``Output.start()``, never at module import:
it costs tens of MiB and a config without AWS outputs must not pay for it. Credentials come from
boto3's default chain (environment, profile, IRSA web identity, ECS and EC2 metadata); with
``role_arn`` they are exchanged through STS AssumeRole (``external_id``, ``sts_endpoint``) and
refreshed before they expire.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from typing import Any

from flb_fast.outputs.aws.endpoint import endpoint_url

# botocore's default is 60 s; Fluent Bit's net.io_timeout 0 means "no limit", which an agent
# should never wait for, so 0 maps to this.
DEFAULT_READ_TIMEOUT_SECONDS = 60.0
# Fluent Bit's User-Agent for the AWS outputs (src/aws/flb_aws_util.c), kept for server-side stats.
USER_AGENT = "aws-fluent-bit-plugin"
STS_SESSION_PREFIX = "flb-fast-"


# A request body the output built itself (msgspec, one pass), handed to botocore for the call
# running on this thread. botocore's own JSON serialiser walks every event and record through
# its shape model: about 5.5 us per CloudWatch event, most of the agent's CPU per record.
_prebuilt = threading.local()


def _use_prebuilt_body(params: dict[str, Any], **_: Any) -> None:
    body = getattr(_prebuilt, "body", None)
    if body is not None:
        params["body"] = body


def call_with_body(func: Callable[..., Any], body: bytes | None, params: dict[str, Any]) -> Any:
    """Call ``func(**params)`` (blocking) sending ``body`` as the request body when given; the
    params then only need what botocore puts in the URL and headers."""
    _prebuilt.body = body
    try:
        return func(**params)
    finally:
        _prebuilt.body = None


def _verify(options: Any) -> bool | str:
    if not options.tls_verify:
        return False
    return options.tls_ca_file or True


def create_client(service: str, options: Any, max_connections: int) -> Any:
    """A boto3 client for ``service`` configured from the output's bound options (blocking)."""
    import boto3
    from botocore.config import Config

    session = boto3.session.Session(profile_name=options.profile, region_name=options.region)
    if options.role_arn:
        _assume_role(session, options)
    extra = USER_AGENT if not options.extra_user_agent else f"{USER_AGENT}-{options.extra_user_agent}"
    config = Config(
        region_name=options.region,
        # Retries are ours: auto_retry_requests for network errors, the engine and the
        # output-wide backoff for the rest. botocore's own would hide throttling from both.
        retries={"total_max_attempts": 1, "mode": "standard"},
        connect_timeout=options.net_connect_timeout or 10.0,
        read_timeout=options.net_io_timeout or DEFAULT_READ_TIMEOUT_SECONDS,
        max_pool_connections=max(1, max_connections),
        tcp_keepalive=bool(options.net_keepalive),
        parameter_validation=False,
        user_agent_extra=extra,
    )
    client = session.client(
        service,
        endpoint_url=endpoint_url(options.endpoint, options.port, options.tls),
        verify=_verify(options),
        config=config,
    )
    client.meta.events.register("before-call", _use_prebuilt_body)
    return client


def _assume_role(session: Any, options: Any) -> None:
    """Make ``session`` use refreshable credentials of ``role_arn``, obtained from its base chain."""
    from botocore.credentials import AssumeRoleCredentialFetcher, DeferredRefreshableCredentials

    base = session.get_credentials()
    extra_args: dict[str, str] = {"RoleSessionName": f"{STS_SESSION_PREFIX}{uuid.uuid4().hex[:16]}"}
    if options.external_id:
        extra_args["ExternalId"] = options.external_id
    # Fluent Bit takes sts_endpoint as a URL; a bare host gets https, as there.
    sts_url = options.sts_endpoint
    if sts_url and "://" not in sts_url:
        sts_url = f"https://{sts_url}"

    def client_creator(service_name: str, **kwargs: Any) -> Any:
        kwargs.setdefault("endpoint_url", sts_url)
        kwargs.setdefault("region_name", options.region)
        kwargs.setdefault("verify", _verify(options))
        return session._session.create_client(service_name, **kwargs)

    fetcher = AssumeRoleCredentialFetcher(
        client_creator=client_creator,
        source_credentials=base,
        role_arn=options.role_arn,
        extra_args=extra_args,
    )
    credentials = DeferredRefreshableCredentials(refresh_using=fetcher.fetch_credentials, method="assume-role")
    session._session._credentials = credentials
