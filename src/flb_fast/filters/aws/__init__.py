"""The ``aws`` filter: add the EC2 instance's metadata to every record (Fluent Bit's plugins/filter_aws/aws.c).

Metadata comes in groups (availability zone, instance id, type, private IP, VPC id, AMI id,
account id, hostname, tags), each fetched once from the instance metadata service (imds.py)
and kept: ``get_ec2_metadata`` asks for them in Fluent Bit's order, and ``cb_aws_filter``
appends the known ones to each record after its own keys, in the order az, ec2_instance_id,
ec2_instance_type, private_ip, vpc_id, ami_id, account_id, hostname, the instance tags, then the
``enable_entity`` keys.

As Fluent Bit does in ``cb_aws_init``, the first fetch happens at start, before any input reads,
so records carry the metadata from the first one when the service answers. A group that could
not be fetched is asked again at most every ``retry_interval_s`` seconds, from a background task
started by the filter: records never wait for it and pass with the groups known so far.
(Fluent Bit 4.2.8 marks the metadata as retrieved after the first attempt even when it failed,
so it never asks again; the retry here is what its ``retry_interval_s`` describes.)
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

from msgspec import Struct, field

from flb_fast.config.errors import PluginConfigError
from flb_fast.config.options import BOOL, INT, STR, Option, OptionTable
from flb_fast.filters.aws.imds import VERSION_1, VERSION_2, ImdsClient, ImdsError, endpoint_from_env
from flb_fast.filters.base import Filter
from flb_fast.plugin import PluginContext
from flb_fast.record import Chunk
from flb_fast.tasks import cancel_and_wait

# flb_aws_imds.h metadata paths.
INSTANCE_ID_PATH = "/latest/meta-data/instance-id/"
AZ_PATH = "/latest/meta-data/placement/availability-zone/"
INSTANCE_TYPE_PATH = "/latest/meta-data/instance-type/"
PRIVATE_IP_PATH = "/latest/meta-data/local-ipv4/"
VPC_ID_PATH_PREFIX = "/latest/meta-data/network/interfaces/macs/"
AMI_ID_PATH = "/latest/meta-data/ami-id/"
ACCOUNT_ID_PATH = "/latest/dynamic/instance-identity/document/"
HOSTNAME_PATH = "/latest/meta-data/hostname/"
MAC_PATH = "/latest/meta-data/mac/"
INSTANCE_TAG_PATH = "/latest/meta-data/tags/instance"
# How long start() waits for the first fetch: Fluent Bit's init waits for every request of it
# (one-second timeouts each); bounded here so an unreachable service cannot hold start-up.
FIRST_FETCH_SECONDS = 5.0

# aws.h record keys, in the order cb_aws_filter appends them.
AZ_KEY = "az"
INSTANCE_ID_KEY = "ec2_instance_id"
INSTANCE_TYPE_KEY = "ec2_instance_type"
PRIVATE_IP_KEY = "private_ip"
VPC_ID_KEY = "vpc_id"
AMI_ID_KEY = "ami_id"
ACCOUNT_ID_KEY = "account_id"
HOSTNAME_KEY = "hostname"
ENTITY_INSTANCE_ID_KEY = "aws_entity_ec2_instance_id"
ENTITY_ACCOUNT_ID_KEY = "aws_entity_account_id"
TAGS_GROUP = "tags"
ENTITY_GROUP = "entity"
RECORD_ORDER = (AZ_KEY, INSTANCE_ID_KEY, INSTANCE_TYPE_KEY, PRIVATE_IP_KEY, VPC_ID_KEY, AMI_ID_KEY, ACCOUNT_ID_KEY,
                HOSTNAME_KEY)


class Group(Struct):
    """One metadata group (``flb_filter_aws_metadata_group``): done once fetched or not wanted."""

    key: str
    fetch: Callable[[], Awaitable[Any]]
    done: bool = False
    last_attempt: float = field(default=0.0)


def split_tags(value: str) -> list[str]:
    """``tags_split``: comma-separated tag keys, taken as written (``strtok``: no trimming)."""
    return [tag for tag in value.split(",") if tag]


class AwsFilter(Filter):
    name = "aws"
    description = "Add AWS Metadata"
    OPTIONS = OptionTable(
        Option("imds_version", STR, "v2", "version of the EC2 instance metadata service: 'v1' or 'v2'"),
        Option("az", BOOL, "true", "add the instance's availability zone (az)"),
        Option("ec2_instance_id", BOOL, "true", "add the instance ID (ec2_instance_id)"),
        Option("ec2_instance_type", BOOL, "false", "add the instance type (ec2_instance_type)"),
        Option("private_ip", BOOL, "false", "add the instance's private IP (private_ip)"),
        Option("vpc_id", BOOL, "false", "add the instance's VPC ID (vpc_id)"),
        Option("ami_id", BOOL, "false", "add the instance's image ID (ami_id)"),
        Option("account_id", BOOL, "false", "add the instance's account ID (account_id)"),
        Option("hostname", BOOL, "false", "add the instance's hostname (hostname)"),
        Option("tags_enabled", BOOL, "false", "add the instance's tags; all of them unless tags_include or "
               "tags_exclude says otherwise"),
        Option("tags_include", STR, "", "comma-separated tag keys to add; others are left out"),
        Option("tags_exclude", STR, "", "comma-separated tag keys to leave out; not with tags_include"),
        Option("retry_interval_s", INT, "300", "minimum seconds between attempts to fetch a metadata group"),
        Option("enable_entity", BOOL, "false", "add aws_entity_ec2_instance_id and aws_entity_account_id"),
    )

    def __init__(self, ctx: PluginContext, options: Any) -> None:
        super().__init__(ctx, options)
        version = options.imds_version.lower()
        if version not in ("v1", "v2"):
            raise PluginConfigError("imds_version", f"Invalid value {options.imds_version} for config option "
                                    "'imds_version'. Valid values are 'v1' and 'v2'")
        self.tags_include = split_tags(options.tags_include)
        self.tags_exclude = split_tags(options.tags_exclude)
        if options.tags_enabled and self.tags_include and self.tags_exclude:
            raise PluginConfigError("tags_exclude", "configuration is invalid, both tags_include and tags_exclude "
                                    "are specified at the same time")
        host, port = endpoint_from_env()
        self.imds = ImdsClient(VERSION_1 if version == "v1" else VERSION_2, ctx.log, host, port)
        self.retry_interval = max(0, options.retry_interval_s)
        self.values: dict[str, str] = {}
        self.tags: dict[str, str] | None = None
        wanted = {AZ_KEY: options.az, INSTANCE_ID_KEY: options.ec2_instance_id,
                  INSTANCE_TYPE_KEY: options.ec2_instance_type, PRIVATE_IP_KEY: options.private_ip,
                  VPC_ID_KEY: options.vpc_id, AMI_ID_KEY: options.ami_id, ACCOUNT_ID_KEY: options.account_id,
                  HOSTNAME_KEY: options.hostname}
        fetchers: dict[str, Callable[[], Awaitable[Any]]] = {
            INSTANCE_ID_KEY: lambda: self.imds.get(INSTANCE_ID_PATH),
            ACCOUNT_ID_KEY: self._account_id,
            INSTANCE_TYPE_KEY: lambda: self.imds.get(INSTANCE_TYPE_PATH),
            PRIVATE_IP_KEY: lambda: self.imds.get(PRIVATE_IP_PATH),
            VPC_ID_KEY: self._vpc_id,
            AMI_ID_KEY: lambda: self.imds.get(AMI_ID_PATH),
            HOSTNAME_KEY: lambda: self.imds.get(HOSTNAME_PATH),
            AZ_KEY: lambda: self.imds.get(AZ_PATH),
        }
        # get_ec2_metadata's order of requests; groups not asked for are done from the start.
        self.wanted = wanted
        self.groups = [Group(key, fetch, done=not wanted[key]) for key, fetch in fetchers.items()]
        self.groups.append(Group(TAGS_GROUP, self._tags, done=not options.tags_enabled))
        self.groups.append(Group(ENTITY_GROUP, self._entity, done=not options.enable_entity))
        self.extra: dict[str, str] = {}
        self.fetching: asyncio.Task[None] | None = None
        for counter in ("imds_errors", "imds_fetches"):
            ctx.metrics.setdefault(counter, 0)

    # ---- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        self.fetching = asyncio.get_running_loop().create_task(self._fetch(), name=f"{self.ctx.instance}.imds")
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(FIRST_FETCH_SECONDS):
                await asyncio.shield(self.fetching)

    async def stop(self) -> None:
        await cancel_and_wait(self.fetching)
        self.fetching = None

    # ---- records -----------------------------------------------------------------------------

    async def filter(self, chunk: Chunk) -> Chunk:
        if (self.fetching is None or self.fetching.done()) and self._retry_due():
            self.fetching = asyncio.get_running_loop().create_task(self._fetch(), name=f"{self.ctx.instance}.imds")
        extra = self.extra
        if extra:
            for record in chunk.records:
                record.update(extra)
        return chunk

    def _retry_due(self) -> bool:
        """``ec2_metadata_group_should_fetch`` for any group not done yet."""
        now = time.monotonic()
        return any(not group.done and self._may_try(group, now) for group in self.groups)

    def _may_try(self, group: Group, now: float) -> bool:
        return not group.last_attempt or now - group.last_attempt >= self.retry_interval

    # ---- fetching ----------------------------------------------------------------------------

    async def _fetch(self) -> None:
        """``get_ec2_metadata``: every group not done whose retry interval has passed, in order.

        A service that cannot be reached at all ends the pass, counting as an attempt for every
        group left: they would only wait for the same timeouts.
        """
        for group in self.groups:
            now = time.monotonic()
            if group.done or not self._may_try(group, now):
                continue
            group.last_attempt = now
            self.ctx.metrics.inc("imds_fetches")
            try:
                value = await group.fetch()
            except ImdsError as exc:
                self.ctx.metrics.inc("imds_errors")
                self.ctx.log.error("Failed to get %s: %s", group.key, exc)
                if exc.status is None:
                    for later in self.groups:
                        if not later.done:
                            later.last_attempt = now
                    break
                continue
            except Exception:
                self.ctx.metrics.inc("imds_errors")
                self.ctx.log.exception("Failed to get %s", group.key)
                continue
            if group.key == TAGS_GROUP:
                self.tags = value
            elif group.key != ENTITY_GROUP:
                self.values[group.key] = value
            group.done = True
        self.extra = self._extra()

    async def _entity(self) -> None:
        """``enable_entity`` needs the instance and account IDs even when not added as their own keys."""
        if ACCOUNT_ID_KEY not in self.values:
            self.values[ACCOUNT_ID_KEY] = await self._account_id()
        if INSTANCE_ID_KEY not in self.values:
            self.values[INSTANCE_ID_KEY] = await self.imds.get(INSTANCE_ID_PATH)

    def _extra(self) -> dict[str, str]:
        """The keys every record gets, in cb_aws_filter's order."""
        extra = {key: self.values[key] for key in RECORD_ORDER if self.wanted[key] and key in self.values}
        if self.tags:
            extra.update(self.tags)
        if self.options.enable_entity and INSTANCE_ID_KEY in self.values and ACCOUNT_ID_KEY in self.values:
            extra[ENTITY_INSTANCE_ID_KEY] = self.values[INSTANCE_ID_KEY]
            extra[ENTITY_ACCOUNT_ID_KEY] = self.values[ACCOUNT_ID_KEY]
        return extra

    async def _account_id(self) -> str:
        """``flb_aws_imds_request_by_key(..., "accountId")``: "NULL" when the document lacks it."""
        document = await self.imds.get(ACCOUNT_ID_PATH)
        try:
            value = json.loads(document).get("accountId")
        except (ValueError, AttributeError):
            value = None
        if value is None:
            self.ctx.log.error("[imds] accountId is undefined in EC2 instance")
            return "NULL"
        return str(value)

    async def _vpc_id(self) -> str:
        """``flb_aws_imds_get_vpc_id``: the VPC of the instance's first interface, found by its MAC."""
        mac = await self.imds.get(MAC_PATH)
        return await self.imds.get(f"{VPC_ID_PATH_PREFIX}{mac}/vpc-id/")

    async def _tags(self) -> dict[str, str]:
        """``get_ec2_tags``: the tag keys, then each value; tags not exposed (404) mean no tags."""
        try:
            listing = await self.imds.get(INSTANCE_TAG_PATH)
        except ImdsError as exc:
            if exc.status != 404:
                raise
            self.ctx.log.warning("EC2 instance metadata tag request returned 404. This likely indicates your "
                                 "instance has no tags or the EC2 tagging metadata API is not enabled")
            return {}
        tags: dict[str, str] = {}
        for key in (key for key in listing.split("\n") if key):
            try:
                tags[key] = await self.imds.get(f"{INSTANCE_TAG_PATH}/{key}")
            except ImdsError as exc:
                raise ImdsError(f"{'no value' if exc.status == 404 else 'could not fetch value'} for tag {key}",
                                exc.status) from None
        if self.tags_include:
            return {key: value for key, value in tags.items() if key in self.tags_include}
        return {key: value for key, value in tags.items() if key not in self.tags_exclude}
