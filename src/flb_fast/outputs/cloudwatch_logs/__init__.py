"""Output ``cloudwatch_logs`` (Fluent Bit's C plugin) and ``cloudwatch`` (the AWS Go plugin).

Each flush groups the chunk's records by destination (group, stream), sorts each stream's events
by time, cuts them into PutLogEvents requests within every service limit and sends them in
order; a lock per stream keeps concurrent workers from interleaving one stream's batches. Progress per chunk remembers how many events of each stream
were accepted, so a retried chunk sends only the rest. A stream is created (and its group, with
``auto_create_group``) before its first PutLogEvents, as Fluent Bit does; one that goes missing
later is created when a PutLogEvents finds it gone, and the batch resent. Throttling backs the
whole output off.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, ClassVar

from flb_fast.config.errors import PluginConfigError
from flb_fast.config.options import BOOL, INT, STR, Option, OptionTable
from flb_fast.locks import KeyedLocks
from flb_fast.outputs.aws.base import AwsOutput
from flb_fast.outputs.aws.encode import RecordEncoder
from flb_fast.outputs.aws.errors import Outcome, classify, error_code
from flb_fast.outputs.aws.options import AWS_COMMON_OPTIONS
from flb_fast.outputs.base import FlushResult
from flb_fast.outputs.cloudwatch_logs.api import (
    ALREADY_ACCEPTED,
    LOG_GROUP_CLASSES,
    NOT_FOUND,
    RETENTION_DAYS,
    ignore_existing,
    parse_tags,
    rejected_counts,
)
from flb_fast.outputs.cloudwatch_logs.batch import MAX_EVENT_BYTES
from flb_fast.outputs.cloudwatch_logs.body import body_writer, request_head
from flb_fast.outputs.cloudwatch_logs.go_message import GO_MAX_EVENT_BYTES, go_message
from flb_fast.outputs.cloudwatch_logs.streams import StreamNamer, Target
from flb_fast.plugin import PluginContext
from flb_fast.record import Chunk

EMF_HEADER = "x-amzn-logs-format"
# The Go plugin's $(ecs_task_id), $(ecs_cluster), $(ecs_task_arn): read from the ECS task metadata.
ECS_VARIABLE = "$(ecs_"
# A stream created (or found to exist) is not created again before its PutLogEvents until it has
# gone unused this long, as Fluent Bit keeps its streams (cloudwatch_api.c get_or_create_log_stream,
# FOUR_HOURS_IN_SECONDS): the streams of pods long gone are forgotten.
STREAM_KNOWN_SECONDS = 4 * 3600.0


class _Progress:
    """What of one chunk has been accepted: events per destination, the destinations done, those
    whose skipped events were counted, and per destination the events up to which truncated ones
    were counted (a retry must not count them twice)."""

    __slots__ = ("delivered", "complete", "counted", "truncations_counted")

    def __init__(self) -> None:
        self.delivered: dict[Target, int] = {}
        self.complete: set[Target] = set()
        self.counted: set[Target] = set()
        self.truncations_counted: dict[Target, int] = {}


class CloudWatchLogsOutput(AwsOutput):
    name = "cloudwatch_logs"
    description = "Send logs to Amazon CloudWatch"
    SERVICE = "logs"
    JSON_PROTOCOL = True
    GO: ClassVar[bool] = False

    OPTIONS = AWS_COMMON_OPTIONS + OptionTable(
        Option("log_group_name", STR, None, "log group; the fallback when log_group_template cannot be rendered"),
        Option(
            "log_group_template",
            STR,
            None,
            "record-accessor template of the group, e.g. app-$kubernetes['namespace_name']",
        ),
        Option("log_stream_name", STR, None, "fixed log stream name (not with log_stream_prefix)"),
        Option("log_stream_prefix", STR, None, "stream name = prefix + tag (not with log_stream_name)"),
        Option("log_stream_template", STR, None, "record-accessor template of the stream; falls back to name/prefix"),
        Option("log_key", STR, None, "send only this key's value (raw) instead of the whole record as JSON"),
        Option("log_format", STR, None, "log format header, e.g. json/emf"),
        Option("auto_create_group", BOOL, "false", "create the log group when it does not exist"),
        Option("log_retention_days", INT, "0", "retention set on log groups this output creates; 0 = never expire"),
        Option("log_group_class", STR, "", "class of created log groups: STANDARD or INFREQUENT_ACCESS"),
        Option("metric_namespace", STR, None, "EMF namespace for metrics records",
               unsupported="records are sent as log events"),
        Option("metric_dimensions", STR, None, "EMF dimensions for metrics records",
               unsupported="records are sent as log events"),
        Option("add_entity", BOOL, "false", "add entity to PutLogEvents", unsupported="no entity is sent"),
    )

    def __init__(self, ctx: PluginContext, options: Any) -> None:
        super().__init__(ctx, options)
        self._validate(options)
        self.namer = StreamNamer(options, go=self.GO)
        self.encoder = RecordEncoder(log_key=options.log_key, go=self.GO)
        self._writer = body_writer()
        self._put_headers = {EMF_HEADER: options.log_format} if options.log_format else None
        self.create_stream = True
        # Streams known to exist, with when each is forgotten unless used again (monotonic clock).
        self._known_streams: dict[Target, float] = {}
        self.group_tags: dict[str, str] = {}
        self._lock: KeyedLocks[Target] = KeyedLocks()

    def _validate(self, options: Any) -> None:
        if not options.log_group_name:
            raise PluginConfigError("log_group_name", "'log_group_name' is a required field")
        if bool(options.log_stream_name) == bool(options.log_stream_prefix):
            raise PluginConfigError("log_stream_name", "either 'log_stream_name' or 'log_stream_prefix' is required")
        if options.log_retention_days and options.log_retention_days not in RETENTION_DAYS:
            raise PluginConfigError(
                "log_retention_days",
                f"invalid log_retention_days {options.log_retention_days}: valid values are "
                + ", ".join(map(str, sorted(RETENTION_DAYS))),
            )
        if options.log_group_class and options.log_group_class not in LOG_GROUP_CLASSES:
            raise PluginConfigError(
                "log_group_class",
                f"the valid values for log_group_class are {{{', '.join(LOG_GROUP_CLASSES)}}}; got {options.log_group_class}",
            )

    async def flush(self, chunk: Chunk) -> FlushResult:
        progress: _Progress = self._progress.setdefault(chunk.id, _Progress())
        for target, indexes in self.namer.split(chunk).items():
            if target in progress.complete:
                continue
            result = await self._deliver(target, chunk, indexes, progress)
            if result is not FlushResult.OK:
                return result
            progress.complete.add(target)
        return FlushResult.OK

    def _events(self, chunk: Chunk, indexes: list[int], target: Target, progress: _Progress
                ) -> tuple[list[Any], list[int], Callable[[Any], bytes], Callable[[int], bytes]]:
        """What the body writer makes one destination's events of: the items (whole records, or
        records encoded first, with ``log_key`` or the Go plugin's JSON, empty and missing ones
        skipped as Fluent Bit skips them), their timestamps, the encoder of values, and the
        fallback that encodes a record the writer cannot."""
        records, timestamps = chunk.records, chunk.timestamps
        if len(indexes) != len(records):
            records = [records[index] for index in indexes]
            timestamps = [timestamps[index] for index in indexes]
        missing = empty = cut = 0
        items: list[Any] = records
        if not self.encoder.whole_records:
            encoded, cut = self.messages(self.encoder.encode_all(records, timestamps))
            missing = encoded.count(None)
            empty = encoded.count(b"")
            if missing or empty:
                kept = [(message, timestamp) for message, timestamp in zip(encoded, timestamps, strict=True) if message]
                encoded = [message for message, _ in kept]
                timestamps = [timestamp for _, timestamp in kept]
            items = encoded
        refused, refusal = self.encoder.take_refused()
        if target not in progress.counted:
            progress.counted.add(target)
            self.count_skipped(missing - refused, empty, 0, refused, refusal)
            if cut:
                self._count_truncated(cut, GO_MAX_EVENT_BYTES)

        def fallback(index: int) -> bytes:
            return self.encoder.encode(records[index], timestamps[index])  # type: ignore[return-value]

        return items, timestamps, self.encoder.encode_value, fallback

    def messages(self, encoded: list[bytes | None]) -> tuple[list[bytes | None], int]:
        """The event messages of records encoded one by one (``None``: a record not sent), and
        how many of them were cut."""
        return encoded, 0

    def _count_truncated(self, truncated: int, limit: int = MAX_EVENT_BYTES) -> None:
        self.ctx.metrics.inc("truncated_events", truncated)
        self.ctx.log.warning(
            "truncated %d log event(s) longer than the %d bytes CloudWatch Logs accepts", truncated, limit
        )

    async def _deliver(self, target: Target, chunk: Chunk, indexes: list[int], progress: _Progress) -> FlushResult:
        """The destination's events, one body at a time (in time order, stable: equal times keep
        record order), from the first not yet accepted. Each body is written once the one before
        has been sent, in the writer's one buffer (``body.body_writer``), so the bodies an output
        holds are one per flush in progress (``concurrent_flushes``), each up to a request's."""
        group, stream = target
        async with self._lock(target):
            if self.create_stream and not self._known(target):
                result = await self._create_before_put(group, stream)
                if result is not FlushResult.OK:
                    return result
            events = self._writer.events(*self._events(chunk, indexes, target, progress))
            head = request_head(group, stream)
            done = progress.delivered.get(target, 0)
            while done < len(events):
                body, count, truncated = self._writer.body(head, events, done)
                # A body written again for a retry holds the truncated events it counted before.
                if truncated and done >= progress.truncations_counted.get(target, 0):
                    progress.truncations_counted[target] = done + count
                    self._count_truncated(truncated)
                result = await self._send(group, stream, body, count)
                # Freed before the next body is made, the memory of this one can hold it.
                del body
                if result is not FlushResult.OK:
                    return result
                done += count
                progress.delivered[target] = done
        return FlushResult.OK

    def _known(self, target: Target) -> bool:
        """Whether ``target`` was created or sent to within STREAM_KNOWN_SECONDS."""
        forget_at = self._known_streams.get(target)
        return forget_at is not None and forget_at > time.monotonic()

    def _mark_known(self, target: Target) -> None:
        now = time.monotonic()
        if target not in self._known_streams:
            for stale in [known for known, forget_at in self._known_streams.items() if forget_at <= now]:
                del self._known_streams[stale]
        self._known_streams[target] = now + STREAM_KNOWN_SECONDS

    async def _create_before_put(self, group: str, stream: str) -> FlushResult:
        """Create a stream not known yet before its first PutLogEvents (cloudwatch_api.c
        get_or_create_log_stream): otherwise its first request body, up to 1 MiB, would be built,
        hashed, encrypted and sent only to be refused, then sent again."""
        await self.backoff.wait()
        try:
            created = await self._create(group, stream)
        except Exception as exc:  # noqa: BLE001 - every failure becomes a flush result
            return self.failure(exc, f"CreateLogStream {group}/{stream}")
        if not created:
            self.ctx.metrics.inc("failed_requests")
            return FlushResult.RETRY
        self._mark_known((group, stream))
        return FlushResult.OK

    async def _send(self, group: str, stream: str, body: bytes, count: int) -> FlushResult:
        """One PutLogEvents request of ``count`` events."""
        await self.backoff.wait()
        try:
            response = await self._put(group, stream, body)
        except Exception as exc:  # noqa: BLE001 - every failure becomes a flush result
            if error_code(exc) != ALREADY_ACCEPTED:
                return self.failure(exc, f"PutLogEvents to {group}/{stream}")
            response = {}
            self.ctx.metrics.inc("already_accepted_batches")
            self.ctx.log.info("PutLogEvents to %s/%s: %d event(s) were accepted before (%s): delivered",
                              group, stream, count, ALREADY_ACCEPTED)
        self.backoff.succeeded()
        self._mark_known((group, stream))
        self._count_rejected(response, count, group, stream)
        return FlushResult.OK

    async def _put(self, group: str, stream: str, body: bytes) -> dict[str, Any]:
        try:
            return await self.call("put_log_events", body=body, headers=self._put_headers)
        except Exception as exc:
            if classify(exc) is not Outcome.NOT_FOUND or not await self._create(group, stream):
                raise
        return await self.call("put_log_events", body=body, headers=self._put_headers)

    async def _create(self, group: str, stream: str) -> bool:
        """Create the missing stream (and its group when allowed); False when not allowed."""
        if not self.create_stream:
            self.ctx.log.error("log stream %s/%s does not exist and auto_create_stream is off", group, stream)
            return False
        try:
            await self.call("create_log_stream", logGroupName=group, logStreamName=stream)
        except Exception as exc:
            if error_code(exc) != NOT_FOUND:
                ignore_existing(exc)
                return True
            if not self.options.auto_create_group:
                self.ctx.log.error("log group %s does not exist and auto_create_group is off", group)
                return False
            await self._create_group(group)
            try:
                await self.call("create_log_stream", logGroupName=group, logStreamName=stream)
            except Exception as again:
                ignore_existing(again)
        self.ctx.log.info("created log stream %s/%s", group, stream)
        return True

    async def _create_group(self, group: str) -> None:
        params: dict[str, Any] = {"logGroupName": group}
        if self.options.log_group_class and self.options.log_group_class != LOG_GROUP_CLASSES[0]:
            params["logGroupClass"] = self.options.log_group_class
        if self.group_tags:
            params["tags"] = self.group_tags
        try:
            await self.call("create_log_group", **params)
        except Exception as exc:
            ignore_existing(exc)
            return
        self.ctx.log.info("created log group %s", group)
        if self.options.log_retention_days:
            await self.call("put_retention_policy", logGroupName=group, retentionInDays=self.options.log_retention_days)

    def _count_rejected(self, response: dict[str, Any], sent: int, group: str, stream: str) -> None:
        for reason, count in rejected_counts(response, sent).items():
            self.ctx.metrics.inc(reason, count)
            self.ctx.log.warning(
                "CloudWatch Logs rejected %d event(s) of %s/%s: %s", count, group, stream, reason.replace("_", " ")
            )


class GoCloudWatchOutput(CloudWatchLogsOutput):
    """``Name cloudwatch``: the AWS Go plugin's options and ``$(...)`` templates, plus every
    option of the C plugin (configs written for either must start unchanged)."""

    name = "cloudwatch"
    description = "Send logs to Amazon CloudWatch Logs (AWS Go plugin options)"
    GO = True

    OPTIONS = CloudWatchLogsOutput.OPTIONS + OptionTable(
        Option(
            "default_log_group_name", STR, "fluentbit-default", "group used when log_group_name's template has no value"
        ),
        Option(
            "default_log_stream_name",
            STR,
            "/fluentbit-default",
            "stream used when log_stream_name's template has no value",
        ),
        Option("auto_create_stream", BOOL, "true", "create the log stream when it does not exist"),
        Option("new_log_group_tags", STR, None, "tags of created log groups: key=value,key2=value2"),
        Option("credentials_endpoint", STR, None, "HTTP endpoint serving credentials",
               unsupported="credentials come from the default AWS chain"),
    )

    def __init__(self, ctx: PluginContext, options: Any) -> None:
        super().__init__(ctx, options)
        self.create_stream = options.auto_create_stream
        self.group_tags = parse_tags(options.new_log_group_tags)
        for option in ("log_group_name", "log_stream_name"):
            if ECS_VARIABLE in (getattr(options, option) or ""):
                self.config_warnings.append(
                    (
                        option,
                        f"ECS metadata variables $(ecs_...) in '{option}' are not supported yet: the default name is used",
                    )
                )

    def messages(self, encoded: list[bytes | None]) -> tuple[list[bytes | None], int]:
        """As the Go plugin makes messages (``go_message``): white space trimmed, over 256 KiB
        (its limit) truncated with its suffix."""
        messages: list[bytes | None] = []
        truncated = 0
        for data in encoded:
            if data is None:
                messages.append(None)
                continue
            message, cut = go_message(data)
            messages.append(message)
            truncated += cut
        return messages, truncated
