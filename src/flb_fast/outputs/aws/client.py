"""AWS clients for the outputs: one per output and region, created once and reused. The
JSON-protocol outputs make one only when botocore must resolve their endpoint or reach it
through a proxy (``outputs/aws/http.py open_json_api``); s3 always does.

The clients are boto3's low-level clients, created from a botocore session directly: boto3's
resource layer adds nothing the outputs use and 2.5 MiB of RSS (bench/bench_cloudwatch.py:
47.9 MiB with botocore alone vs 50.4 MiB through boto3, fresh interpreter with one logs client).
botocore is imported here, in functions called from ``Output.start()``, never at module import:
a config without AWS outputs must not pay for it. Credentials come from the SDK's default chain
(environment, profile, IRSA web identity, ECS and EC2 metadata); with ``role_arn`` they are
exchanged through STS AssumeRole (``external_id``, ``sts_endpoint``) and refreshed before they
expire.
"""

from __future__ import annotations

import contextlib
import threading
import uuid
from collections.abc import Callable
from pathlib import PurePath
from typing import Any

from flb_fast.outputs.aws.endpoint import endpoint_url

# botocore's default is 60 s; Fluent Bit's net.io_timeout 0 means "no limit", which an agent
# should never wait for, so 0 maps to this.
DEFAULT_READ_TIMEOUT_SECONDS = 60.0
# Fluent Bit's net.connect_timeout default (flb_upstream: 10 s), used when the option is 0.
DEFAULT_CONNECT_TIMEOUT_SECONDS = 10.0
# Fluent Bit's User-Agent for the AWS outputs (src/aws/flb_aws_util.c), kept for server-side stats.
USER_AGENT = "aws-fluent-bit-plugin"
STS_SESSION_PREFIX = "flb-fast-"


# A request body the output built itself (one pass), and extra headers to sign with it, handed to
# botocore for the call running on this thread. botocore's own JSON serialiser walks every event
# and record through its shape model: about 5.5 us per CloudWatch event.
_prebuilt = threading.local()


def _use_prebuilt_body(params: dict[str, Any], **_: Any) -> None:
    body = getattr(_prebuilt, "body", None)
    if body is not None:
        params["body"] = body


def _add_prebuilt_headers(request: Any, **_: Any) -> None:
    for name, value in (getattr(_prebuilt, "headers", None) or {}).items():
        request.headers[name] = value


def call_with_body(
    func: Callable[..., Any], body: bytes | None, params: dict[str, Any], headers: dict[str, str] | None = None
) -> Any:
    """Call ``func(**params)`` (blocking) sending ``body`` as the request body when given (the
    params then only need what botocore puts in the URL and headers) and ``headers`` signed with
    it. A param given as a ``Path`` is sent as that file's contents, streamed from a file opened
    for this attempt only (so an immediate retry sends it whole again, and a large S3 body never
    sits in memory)."""
    _prebuilt.body = body
    _prebuilt.headers = headers
    with contextlib.ExitStack() as files:
        opened = {
            name: files.enter_context(open(value, "rb")) if isinstance(value, PurePath) else value
            for name, value in params.items()
        }
        try:
            return func(**opened)
        finally:
            _prebuilt.body = None
            _prebuilt.headers = None


# The services the outputs call, and those botocore's credential providers make clients of (sts
# for role_arn, assume-role profiles and IRSA web identity, sso for SSO profiles; sso-oidc and
# signin have no entry to keep). botocore's endpoints.json describes some 300 services and costs
# 6.8 MiB of RSS once parsed; only these entries are kept (bench/bench_cloudwatch.py, fresh
# interpreter with one logs client: 47.9 MiB untrimmed, 41.2 with this, 38.4 with trimmed models
# as well; 50.5 through plain boto3). Endpoint URLs and signing names come out
# the same: the partitions (regions, DNS suffixes, defaults) are kept whole.
SERVICES = frozenset({"logs", "firehose", "kinesis", "s3", "sts", "sso"})
_endpoint_data: dict[str, Any] | None = None
_endpoint_lock = threading.Lock()


def _trimmed_endpoints() -> dict[str, Any]:
    """endpoints.json with only SERVICES, parsed lazily with msgspec (the rest stays raw bytes)."""
    global _endpoint_data
    with _endpoint_lock:
        if _endpoint_data is None:
            import os

            import botocore
            import msgspec

            with open(os.path.join(os.path.dirname(botocore.__file__), "data", "endpoints.json"), "rb") as handle:
                document = msgspec.json.decode(handle.read(), type=dict[str, msgspec.Raw])
            partitions = []
            for raw in msgspec.json.decode(document["partitions"], type=list[dict[str, msgspec.Raw]]):
                partition = {key: msgspec.json.decode(value) for key, value in raw.items() if key != "services"}
                services = msgspec.json.decode(raw.get("services", b"{}"), type=dict[str, msgspec.Raw])
                partition["services"] = {
                    name: msgspec.json.decode(services[name]) for name in SERVICES & services.keys()
                }
                partitions.append(partition)
            _endpoint_data = {"partitions": partitions, "version": msgspec.json.decode(document["version"])}
        return _endpoint_data


# The operations each output calls (for s3, also HeadBucket, which botocore's region redirector
# calls when a bucket is in another region), and those botocore's credential providers call on
# STS (AssumeRole for role_arn and assume-role profiles, AssumeRoleWithWebIdentity for IRSA).
# A service model is only these operations and the shapes they reach: a client costs logs 3.3 MiB
# instead of 6.4, s3 6.0 instead of 9.2, firehose 2.7 instead of 3.9, kinesis 4.2 instead of 5.6
# (RSS after import, fresh interpreter); STS's, 0.8 MiB less held by the IRSA exchange.
OPERATIONS = {
    "logs": frozenset({"PutLogEvents", "CreateLogGroup", "CreateLogStream", "PutRetentionPolicy"}),
    "firehose": frozenset({"PutRecordBatch"}),
    "kinesis": frozenset({"PutRecords"}),
    "sts": frozenset({"AssumeRole", "AssumeRoleWithWebIdentity"}),
    "s3": frozenset(
        {
            "PutObject",
            "CreateMultipartUpload",
            "UploadPart",
            "CompleteMultipartUpload",
            "AbortMultipartUpload",
            "HeadBucket",
        }
    ),
}


def _shape_refs(node: dict[str, Any]) -> list[str]:
    """Shape names an operation or a shape refers to."""
    refs = [node[key]["shape"] for key in ("input", "output", "member", "key", "value") if key in node]
    refs.extend(error["shape"] for error in node.get("errors", ()))
    refs.extend(member["shape"] for member in node.get("members", {}).values())
    return refs


def trimmed_model(document: bytes, operations: frozenset[str]) -> dict[str, Any]:
    """A service-2 model with only ``operations`` and the shapes they reach; the rest is never
    decoded into Python objects."""
    import msgspec

    top = msgspec.json.decode(document, type=dict[str, msgspec.Raw])
    all_operations = msgspec.json.decode(top["operations"], type=dict[str, msgspec.Raw])
    all_shapes = msgspec.json.decode(top["shapes"], type=dict[str, msgspec.Raw])
    kept = {name: msgspec.json.decode(all_operations[name]) for name in operations if name in all_operations}
    shapes: dict[str, Any] = {}
    pending = [ref for operation in kept.values() for ref in _shape_refs(operation)]
    while pending:
        name = pending.pop()
        if name not in shapes:
            shapes[name] = msgspec.json.decode(all_shapes[name])
            pending.extend(_shape_refs(shapes[name]))
    model = {
        key: msgspec.json.decode(value)
        for key, value in top.items()
        if key not in ("operations", "shapes", "documentation")
    }
    return {**model, "operations": kept, "shapes": shapes}


def _read_model_file(base: str) -> bytes | None:
    import gzip
    import os

    if os.path.isfile(base + ".json"):
        with open(base + ".json", "rb") as handle:
            return handle.read()
    if os.path.isfile(base + ".json.gz"):
        with gzip.open(base + ".json.gz", "rb") as handle:
            return handle.read()
    return None


def _use_trimmed_models(session: Any) -> None:
    """Make the session's loader read our services' models trimmed to OPERATIONS."""
    loader = session.get_component("data_loader")
    full = loader.load_data_with_path

    def load_data_with_path(name: str) -> tuple[Any, str]:
        service, _, rest = name.partition("/")
        if service in OPERATIONS and rest.endswith("/service-2"):
            for location in loader._potential_locations(name):
                document = _read_model_file(location)
                if document is not None:
                    return trimmed_model(document, OPERATIONS[service]), location
        return full(name)

    loader.load_data_with_path = load_data_with_path


def use_trimmed_data(session: Any) -> None:
    """Make a new botocore session load the models of OPERATIONS' services and endpoints.json
    trimmed to what the outputs and the credential chain's clients use."""
    _use_trimmed_models(session)
    _use_trimmed_endpoints(session)


def _use_trimmed_endpoints(session: Any) -> None:
    from botocore.regions import EndpointResolver

    partitions = session.get_component("data_loader").load_data("partitions")
    session._internal_components.register_component(
        "endpoint_resolver", EndpointResolver(_trimmed_endpoints(), partitions)
    )


def verify_option(options: Any) -> bool | str:
    """botocore's ``verify``. With ``tls.verify off``, urllib3's InsecureRequestWarning (one per
    request in the agent's log) is silenced: the output said it once at start (AwsOutput)."""
    if not options.tls_verify:
        import warnings

        from urllib3.exceptions import InsecureRequestWarning

        warnings.filterwarnings("ignore", category=InsecureRequestWarning)
        return False
    return options.tls_ca_file or True


def extra_user_agent(options: Any) -> str:
    """What the output adds to the User-Agent: Fluent Bit's, with ``extra_user_agent`` after it."""
    return USER_AGENT if not options.extra_user_agent else f"{USER_AGENT}-{options.extra_user_agent}"


def create_client(service: str, options: Any, max_connections: int) -> Any:
    """A client for ``service`` configured from the output's bound options (blocking)."""
    import botocore.session
    from botocore.config import Config

    session = botocore.session.Session(profile=options.profile)
    use_trimmed_data(session)
    if options.role_arn:
        session._credentials = assume_role(session, session.get_credentials(), options.role_arn, options.external_id,
                                           options.sts_endpoint, options.region, verify_option(options))
    extra = extra_user_agent(options)
    config = Config(
        region_name=options.region,
        # Retries are ours: auto_retry_requests for network errors, the engine and the
        # output-wide backoff for the rest. botocore's own would hide throttling from both.
        retries={"total_max_attempts": 1, "mode": "standard"},
        connect_timeout=options.net_connect_timeout or DEFAULT_CONNECT_TIMEOUT_SECONDS,
        read_timeout=options.net_io_timeout or DEFAULT_READ_TIMEOUT_SECONDS,
        max_pool_connections=max(1, max_connections),
        tcp_keepalive=bool(options.net_keepalive),
        parameter_validation=False,
        user_agent_extra=extra,
    )
    client = session.create_client(
        service,
        region_name=options.region,
        endpoint_url=endpoint_url(options.endpoint, options.port, options.tls),
        verify=verify_option(options),
        config=config,
    )
    client.meta.events.register("before-call", _use_prebuilt_body)
    client.meta.events.register("before-sign", _add_prebuilt_headers)
    return client


def assume_role(session: Any, base: Any, role_arn: str, external_id: str | None, sts_endpoint: str | None,
                region: str | None, verify: bool | str) -> Any:
    """Refreshable credentials of ``role_arn``, obtained with ``base`` through STS (a client of
    ``session``)."""
    from botocore.credentials import AssumeRoleCredentialFetcher, DeferredRefreshableCredentials

    extra_args: dict[str, str] = {"RoleSessionName": f"{STS_SESSION_PREFIX}{uuid.uuid4().hex[:16]}"}
    if external_id:
        extra_args["ExternalId"] = external_id
    # Fluent Bit takes sts_endpoint as a URL; a bare host gets https, as there.
    sts_url = sts_endpoint
    if sts_url and "://" not in sts_url:
        sts_url = f"https://{sts_url}"

    def client_creator(service_name: str, **kwargs: Any) -> Any:
        kwargs.setdefault("endpoint_url", sts_url)
        kwargs.setdefault("region_name", region)
        kwargs.setdefault("verify", verify)
        return session.create_client(service_name, **kwargs)

    fetcher = AssumeRoleCredentialFetcher(
        client_creator=client_creator,
        source_credentials=base,
        role_arn=role_arn,
        extra_args=extra_args,
    )
    return DeferredRefreshableCredentials(refresh_using=fetcher.fetch_credentials, method="assume-role")
