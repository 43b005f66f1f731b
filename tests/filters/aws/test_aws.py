"""The aws filter adds the instance's metadata as Fluent Bit's filter_aws does, fetched once,
asked again after a failure, and never holding a record back."""

from __future__ import annotations

import asyncio
import json

import pytest

from flb_fast.config.errors import PluginConfigError
from flb_fast.filters.aws import AwsFilter
from tests.filters.aws.harness import (
    DATA,
    RECORD,
    apply_server_flags,
    aws_filter,
    case_options,
    filtered,
    fluent_bit_record,
)
from tests.standalone import plugin_for

CASES = sorted(path.stem for path in DATA.glob("*.conf"))
WAIT_SECONDS = 30.0
DEFAULT_KEYS = [("log", "hello"), ("az", "us-west-2b"), ("ec2_instance_id", "i-0123456789abcdef0")]


async def started(plugin: AwsFilter) -> AwsFilter:
    await plugin.start()
    return plugin


async def until_metadata(plugin: AwsFilter) -> list[tuple[str, object]]:
    """Send records until one carries metadata (each call may start a background fetch)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT_SECONDS
    while True:
        [record] = await filtered(plugin, RECORD)
        if len(record) > 1 or loop.time() > deadline:
            return record
        await asyncio.sleep(0.01)


@pytest.mark.parametrize("case", CASES)
def test_records_are_fluent_bits(run, imds, case):
    apply_server_flags(imds, case)

    async def scenario():
        plugin = await started(aws_filter(**case_options(case)))
        try:
            return await filtered(plugin, RECORD)
        finally:
            await plugin.stop()

    assert run(scenario()) == [fluent_bit_record(case)]


def test_imdsv2_gets_a_token_once_and_sends_it_with_every_request(run, imds):
    async def scenario():
        plugin = await started(aws_filter(hostname="true"))
        await plugin.stop()

    run(scenario())
    assert imds.requests() == [
        ("PUT", "/latest/api/token", "ttl=21600", 200),
        ("GET", "/latest/meta-data/instance-id/", "token", 200),
        ("GET", "/latest/meta-data/hostname/", "token", 200),
        ("GET", "/latest/meta-data/placement/availability-zone/", "token", 200),
    ]


def test_imdsv1_sends_no_token(run, imds):
    async def scenario():
        plugin = await started(aws_filter(imds_version="v1"))
        await plugin.stop()

    run(scenario())
    assert [how for _, _, how, _ in imds.requests()] == ["v1", "v1"]


def test_metadata_is_fetched_once_for_all_records(run, imds):
    async def scenario():
        plugin = await started(aws_filter())
        imds.clear_requests()
        records = [await filtered(plugin, RECORD, {"log": "two"}) for _ in range(3)]
        await plugin.stop()
        return records

    assert run(scenario())[-1][1] == [("log", "two"), *DEFAULT_KEYS[1:]]
    assert imds.requests() == []


def test_refused_tokens_fall_back_on_imdsv1(run, imds):
    imds.state.token_mode = "forbidden"

    async def scenario():
        plugin = await started(aws_filter())
        try:
            return await filtered(plugin, RECORD)
        finally:
            await plugin.stop()

    assert run(scenario()) == [DEFAULT_KEYS]
    assert imds.requests() == [
        ("PUT", "/latest/api/token", "ttl=21600", 403),
        ("GET", "/", "v1", 200),
        ("GET", "/latest/meta-data/instance-id/", "v1", 200),
        ("GET", "/latest/meta-data/placement/availability-zone/", "v1", 200),
    ]


def test_without_tokens_and_without_imdsv1_records_pass_unchanged(run, imds):
    imds.state.token_mode = "forbidden"
    imds.state.tokens = "required"

    async def scenario():
        plugin = await started(aws_filter())
        try:
            return await filtered(plugin, RECORD), plugin.ctx.metrics["imds_errors"]
        finally:
            await plugin.stop()

    records, errors = run(scenario())
    assert records == [[("log", "hello")]]
    # No token and no IMDSv1: the first group fails and the pass ends there.
    assert errors == 1


def test_records_pass_at_once_while_the_service_fails_and_get_metadata_once_it_answers(run, imds):
    imds.state.failing = True

    async def scenario():
        plugin = await started(aws_filter(retry_interval_s="0"))
        try:
            before = await filtered(plugin, RECORD)
            imds.state.failing = False
            after = await until_metadata(plugin)
            return before, after
        finally:
            await plugin.stop()

    before, after = run(scenario())
    assert before == [[("log", "hello")]]
    assert after == DEFAULT_KEYS


def test_a_failed_group_is_not_asked_again_before_retry_interval_s(run, imds):
    imds.state.failing = True

    async def scenario():
        plugin = await started(aws_filter(retry_interval_s="300"))
        try:
            imds.state.failing = False
            imds.clear_requests()
            first_fetch = plugin.fetching
            records = [await filtered(plugin, RECORD) for _ in range(5)]
            return records, plugin.fetching is first_fetch
        finally:
            await plugin.stop()

    records, no_new_fetch = run(scenario())
    assert records[-1] == [[("log", "hello")]]
    assert no_new_fetch and imds.requests() == []


def test_groups_fetched_before_a_failure_are_kept_and_only_the_rest_asked_again(run, imds):
    del imds.state.metadata["/latest/meta-data/placement/availability-zone"]

    async def scenario():
        plugin = await started(aws_filter(retry_interval_s="0"))
        try:
            first = await filtered(plugin, RECORD)
            imds.state.metadata["/latest/meta-data/placement/availability-zone"] = "us-west-2c"
            imds.clear_requests()
            return first, await until_metadata_with(plugin, "az")
        finally:
            await plugin.stop()

    first, later = run(scenario())
    assert first == [[("log", "hello"), ("ec2_instance_id", "i-0123456789abcdef0")]]
    assert later == [("log", "hello"), ("az", "us-west-2c"), ("ec2_instance_id", "i-0123456789abcdef0")]
    assert {path for _, path, _, _ in imds.requests()} == {"/latest/meta-data/placement/availability-zone/"}


async def until_metadata_with(plugin: AwsFilter, key: str) -> list[tuple[str, object]]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT_SECONDS
    while True:
        [record] = await filtered(plugin, RECORD)
        if key in dict(record) or loop.time() > deadline:
            return record
        await asyncio.sleep(0.01)


def test_an_unreachable_service_leaves_records_unchanged(run, imds, monkeypatch):
    from tests.fakes.ports import free_port

    monkeypatch.setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", f"http://127.0.0.1:{free_port()}")

    async def scenario():
        plugin = await started(aws_filter())
        try:
            return await filtered(plugin, RECORD), plugin.ctx.metrics["imds_fetches"]
        finally:
            await plugin.stop()

    records, fetches = run(scenario())
    assert records == [[("log", "hello")]]
    assert fetches == 1


def test_an_identity_document_without_account_id_gives_null(run, imds):
    imds.state.metadata["/latest/dynamic/instance-identity/document"] = json.dumps({"region": "us-west-2"})

    async def scenario():
        plugin = await started(aws_filter(az="false", ec2_instance_id="false", account_id="true"))
        try:
            return await filtered(plugin, RECORD)
        finally:
            await plugin.stop()

    assert run(scenario()) == [[("log", "hello"), ("account_id", "NULL")]]


def test_entity_keys_come_even_when_the_ids_are_not_added_as_their_own_keys(run, imds):
    async def scenario():
        plugin = await started(aws_filter(az="false", ec2_instance_id="false", enable_entity="true"))
        try:
            return await filtered(plugin, RECORD)
        finally:
            await plugin.stop()

    assert run(scenario()) == [[("log", "hello"), ("aws_entity_ec2_instance_id", "i-0123456789abcdef0"),
                                ("aws_entity_account_id", "123456789012")]]


def test_tags_include_takes_keys_as_written_without_trimming(run, imds):
    async def scenario():
        plugin = await started(aws_filter(az="false", ec2_instance_id="false", tags_enabled="true",
                                          tags_include="Name, team"))
        try:
            return await filtered(plugin, RECORD)
        finally:
            await plugin.stop()

    assert run(scenario()) == [[("log", "hello"), ("Name", "node-1")]]


@pytest.mark.parametrize(
    ("options", "option", "message"),
    [
        ({"imds_version": "v3"}, "imds_version", "Invalid value v3 for config option 'imds_version'"),
        ({"tags_enabled": "true", "tags_include": "a", "tags_exclude": "b"}, "tags_exclude",
         "both tags_include and tags_exclude are specified"),
    ],
)
def test_bad_options_are_config_errors(options, option, message):
    with pytest.raises(PluginConfigError, match=message) as caught:
        plugin_for(AwsFilter, **options)
    assert caught.value.option == option
