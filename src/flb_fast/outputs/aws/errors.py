"""What an AWS error means for delivery: back off, create the resource, retry later, or give up."""

from __future__ import annotations

import enum

# Error codes that mean "too fast" or "service busy"; AWS answers them with 400 or 503.
# CloudWatch Logs / Firehose: ThrottlingException, ServiceUnavailableException;
# Kinesis: ProvisionedThroughputExceededException, LimitExceededException; S3: SlowDown.
THROTTLE_CODES = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "ThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "ServiceUnavailableException",
        "ServiceUnavailable",
        "ProvisionedThroughputExceededException",
        "LimitExceededException",
        "SlowDown",
        "InternalFailure",
        "InternalError",
    }
)
NOT_FOUND_CODES = frozenset({"ResourceNotFoundException", "NoSuchUpload"})
# Requests that will fail the same way however often they are sent.
INVALID_CODES = frozenset(
    {
        "InvalidParameterException",
        "InvalidParameterValueException",
        "ValidationException",
        "SerializationException",
        "InvalidArgumentException",
        "InvalidRequest",
        "EntityTooLarge",
    }
)


class Outcome(enum.Enum):
    BACKOFF = "backoff"  # throttled, 5xx, network: slow the whole output down, then retry
    NOT_FOUND = "not_found"  # group / stream / upload missing: create it and resend
    RETRY = "retry"  # e.g. expired or missing credentials: retry later, no backoff of the output
    INVALID = "invalid"  # the request itself is wrong: retrying cannot help


def error_code(exc: BaseException) -> str:
    """The AWS error code of a botocore ClientError, or the exception's class name."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", type(exc).__name__))
    return type(exc).__name__


def classify(exc: BaseException) -> Outcome:
    from botocore.exceptions import ClientError, ConnectionError, HTTPClientError

    if isinstance(exc, (ConnectionError, HTTPClientError)):
        return Outcome.BACKOFF
    if isinstance(exc, ClientError):
        code = error_code(exc)
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        if code in THROTTLE_CODES or status >= 500 or status == 429:
            return Outcome.BACKOFF
        if code in NOT_FOUND_CODES:
            return Outcome.NOT_FOUND
        if code in INVALID_CODES:
            return Outcome.INVALID
    return Outcome.RETRY


def is_network_error(exc: BaseException) -> bool:
    """A failure of the connection itself, which ``auto_retry_requests`` retries at once."""
    from botocore.exceptions import ConnectionError, HTTPClientError

    return isinstance(exc, (ConnectionError, HTTPClientError))


def describe(exc: BaseException) -> str:
    """A one-line description for the log; never includes request parameters or credentials."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        error = response.get("Error", {})
        return f"{error.get('Code', '?')}: {error.get('Message', '')}".rstrip(": ")
    return f"{type(exc).__name__}: {exc}"
