"""What a ``_bulk`` answer says about each document (``opensearch.c`` ``opensearch_error_check``).

Fluent Bit retries the whole chunk when any item failed, so every document the cluster had
already indexed is sent again (and, without Generate_ID, indexed twice); ``out_es`` 4.2 looks
at the HTTP status only and loses the failed items. Here each item decides for its own
document: indexed (2xx), already there (409, a version conflict on ``create``: the document a
retry would add exists), worth another try (429 and 5xx: the cluster is busy or recovering), or
refused for good (any other status: a mapping error, an invalid document; sending it again
cannot succeed, so it is logged and counted rather than retried until Retry_Limit drops the
whole chunk).
"""

from __future__ import annotations

import enum

import msgspec

# Item statuses worth retrying: too many requests, and server-side failures.
RETRYABLE_ITEM_STATUS = frozenset({429})
SERVER_ERROR_STATUS = 500
# A version conflict: with create and an _id, the document exists already.
CONFLICT_STATUS = 409


class ItemOutcome(enum.Enum):
    ACCEPTED = "accepted"
    RETRY = "retry"
    REFUSED = "refused"


class ItemResult(msgspec.Struct, frozen=True):
    outcome: ItemOutcome
    status: int
    reason: str


class _Item(msgspec.Struct):
    status: int = 0
    error: msgspec.Raw = msgspec.Raw(b"")


class _Answer(msgspec.Struct):
    errors: bool = False
    items: list[dict[str, _Item]] | None = None


class MalformedAnswer(ValueError):
    """The body is not a bulk answer we can read item by item."""


def item_outcome(status: int) -> ItemOutcome:
    if 200 <= status < 300 or status == CONFLICT_STATUS:
        return ItemOutcome.ACCEPTED
    if status in RETRYABLE_ITEM_STATUS or status >= SERVER_ERROR_STATUS:
        return ItemOutcome.RETRY
    return ItemOutcome.REFUSED


def read_answer(body: bytes, documents: int) -> list[ItemResult] | None:
    """Per-document results, or None when ``errors`` is false (every document was indexed).

    Raises ``MalformedAnswer`` for a body that is not JSON, or whose items do not match the
    documents sent one for one (a truncated answer: Buffer_Size too small).
    """
    try:
        answer = msgspec.json.decode(body, type=_Answer)
    except msgspec.DecodeError as exc:
        raise MalformedAnswer(f"could not read the bulk answer: {exc}") from None
    if not answer.errors:
        return None
    if answer.items is None or len(answer.items) != documents:
        found = 0 if answer.items is None else len(answer.items)
        raise MalformedAnswer(f"the bulk answer has {found} items for {documents} documents")
    results = []
    for entry in answer.items:
        if len(entry) != 1:
            raise MalformedAnswer(f"unexpected bulk item with {len(entry)} keys")
        (item,) = entry.values()
        reason = bytes(item.error).decode(errors="replace")
        results.append(ItemResult(item_outcome(item.status), item.status, reason))
    return results
