"""CloudWatch Logs calls: PutLogEvents with its rejected-event report, and on-demand creation
of the log group and stream.
"""

from __future__ import annotations

from typing import Any

from flb_fast.outputs.aws.errors import error_code

ALREADY_EXISTS = "ResourceAlreadyExistsException"
# PutLogEvents' answer to a batch it accepted before (an earlier attempt whose answer was lost):
# the events are stored, so the batch counts as delivered, as the AWS Go plugin counts it.
ALREADY_ACCEPTED = "DataAlreadyAcceptedException"
NOT_FOUND = "ResourceNotFoundException"
# PutRetentionPolicy's allowed values (CloudWatch Logs API reference).
RETENTION_DAYS = frozenset(
    {1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}
)
LOG_GROUP_CLASSES = ("STANDARD", "INFREQUENT_ACCESS")
# rejectedLogEventsInfo fields -> our counter names (Fluent Bit ignores them: aws-for-fluent-bit #523).
REJECTED_TOO_NEW = "rejected_too_new_events"
REJECTED_TOO_OLD = "rejected_too_old_events"
REJECTED_EXPIRED = "rejected_expired_events"


def rejected_counts(response: dict[str, Any], sent: int) -> dict[str, int]:
    """Events of a PutLogEvents request the service refused, per reason.

    ``tooNewLogEventStartIndex`` is the first too-new event (more than 2 h ahead), the other two
    the last too-old (over 14 days, or before the group's retention) and expired events.
    """
    info = response.get("rejectedLogEventsInfo") or {}
    counts: dict[str, int] = {}
    if "tooNewLogEventStartIndex" in info:
        counts[REJECTED_TOO_NEW] = sent - int(info["tooNewLogEventStartIndex"])
    if "tooOldLogEventEndIndex" in info:
        counts[REJECTED_TOO_OLD] = int(info["tooOldLogEventEndIndex"]) + 1
    if "expiredLogEventEndIndex" in info:
        counts[REJECTED_EXPIRED] = int(info["expiredLogEventEndIndex"]) + 1
    return {reason: count for reason, count in counts.items() if count > 0}


def ignore_existing(exc: BaseException) -> None:
    """Creating what another worker or agent just created is success; anything else is not."""
    if error_code(exc) != ALREADY_EXISTS:
        raise exc


def parse_tags(text: str | None) -> dict[str, str]:
    """The Go plugin's ``new_log_group_tags``: ``k=v,k2=v2``."""
    tags: dict[str, str] = {}
    for item in (text or "").split(","):
        if item.strip():
            key, _, value = item.partition("=")
            tags[key.strip()] = value.strip()
    return tags
