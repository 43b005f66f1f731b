"""The cloudwatch_logs and cloudwatch outputs against moto running as a real HTTP server."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from typing import Any

import pytest

from flb_fast.config.errors import PluginConfigError
from flb_fast.outputs.aws.backoff import OutputBackoff
from flb_fast.outputs.base import FlushResult
from flb_fast.outputs.cloudwatch_logs import STREAM_KNOWN_SECONDS, CloudWatchLogsOutput, GoCloudWatchOutput
from flb_fast.outputs.cloudwatch_logs.batch import MAX_EVENT_BYTES
from tests.fakes.certs import make_certs
from tests.fakes.fault_proxy import FaultProxy
from tests.outputs.aws.harness import chunk_of, flush_all, make_output, now_ns
from tests.standalone import config_warnings_for

HOUR_NS = 3600 * 1_000_000_000
DAY_NS = 24 * HOUR_NS


def events(moto: Any, group: str, stream: str) -> list[str]:
    logs = moto.client("logs")
    out: list[str] = []
    kwargs: dict[str, Any] = {"logGroupName": group, "logStreamName": stream, "startFromHead": True}
    while True:
        page = logs.get_log_events(**kwargs)
        out.extend(event["message"] for event in page["events"])
        if not page["events"]:
            return out
        kwargs["nextToken"] = page["nextForwardToken"]


def cwl(endpoint: str, cls: type = CloudWatchLogsOutput, **options: Any) -> Any:
    """``cls`` at ``endpoint`` in us-east-1, with the benchmark config's group and stream prefix unless ``options`` name others."""
    base = {"region": "us-east-1", "endpoint": endpoint, "log_group_name": "fluentbit-cloudwatch"}
    if "log_stream_name" not in options:
        base["log_stream_prefix"] = "fluentbit-"
    return make_output(cls, **{**base, **options})


def test_records_arrive_as_json_in_the_prefix_and_tag_stream_of_a_created_group(moto, run) -> None:
    output = cwl(moto.url, auto_create_group="true")
    records = [{"log": f"line {i}", "stream": "stdout", "n": i} for i in range(3)]
    assert run(flush_all(output, chunk_of(records, tag="kube.var.log.a"))) == [FlushResult.OK]
    assert events(moto, "fluentbit-cloudwatch", "fluentbit-kube.var.log.a") == [
        '{"log":"line 0","stream":"stdout","n":0}',
        '{"log":"line 1","stream":"stdout","n":1}',
        '{"log":"line 2","stream":"stdout","n":2}',
    ]


def test_the_seed_config_works_with_name_cloudwatch(moto, run) -> None:
    output = cwl(moto.url, GoCloudWatchOutput, auto_create_group="true")
    assert run(flush_all(output, chunk_of([{"log": "hello"}], tag="kube.x"))) == [FlushResult.OK]
    assert events(moto, "fluentbit-cloudwatch", "fluentbit-kube.x") == ['{"log":"hello"}']


def test_log_key_sends_only_that_value_raw(moto, run) -> None:
    output = cwl(moto.url, auto_create_group="true", log_key="log", log_stream_name="s")
    records = [{"log": "plain text", "other": 1}, {"log": {"nested": True}}, {"other": 2}]
    assert run(flush_all(output, chunk_of(records))) == [FlushResult.OK]
    assert events(moto, "fluentbit-cloudwatch", "s") == ["plain text", '{"nested":true}']
    assert output.ctx.metrics["log_key_missing_records"] == 1


def test_empty_messages_are_skipped_and_counted(moto, run) -> None:
    output = cwl(moto.url, auto_create_group="true", log_key="log", log_stream_name="s")
    assert run(flush_all(output, chunk_of([{"log": ""}, {"log": "x"}]))) == [FlushResult.OK]
    assert events(moto, "fluentbit-cloudwatch", "s") == ["x"]
    assert output.ctx.metrics["empty_records"] == 1


def test_a_missing_group_without_auto_create_group_is_retried_not_created(moto, run) -> None:
    output = cwl(moto.url, log_stream_name="s")
    assert run(flush_all(output, chunk_of([{"a": 1}]))) == [FlushResult.RETRY]
    assert moto.client("logs").describe_log_groups()["logGroups"] == []


def test_a_missing_stream_is_created_in_an_existing_group(moto, run) -> None:
    moto.client("logs").create_log_group(logGroupName="fluentbit-cloudwatch")
    output = cwl(moto.url, log_stream_name="s")
    assert run(flush_all(output, chunk_of([{"a": 1}]))) == [FlushResult.OK]
    assert events(moto, "fluentbit-cloudwatch", "s") == ['{"a":1}']


def test_a_new_stream_is_created_before_its_first_put_so_no_body_is_sent_twice(moto, fault_proxy, run) -> None:
    output = cwl(fault_proxy.url, auto_create_group="true", log_stream_name="s")
    assert run(flush_all(output, chunk_of([{"a": 1}]), chunk_of([{"a": 2}]))) == [FlushResult.OK, FlushResult.OK]
    # CreateLogStream finds no group: the group is created, then the stream; each chunk is sent once.
    assert [call.operation for call in fault_proxy.calls] == [
        "CreateLogStream", "CreateLogGroup", "CreateLogStream", "PutLogEvents", "PutLogEvents"]
    assert events(moto, "fluentbit-cloudwatch", "s") == ['{"a":1}', '{"a":2}']


def test_an_existing_stream_is_created_once_and_sent_to(moto, fault_proxy, run) -> None:
    moto.client("logs").create_log_group(logGroupName="fluentbit-cloudwatch")
    moto.client("logs").create_log_stream(logGroupName="fluentbit-cloudwatch", logStreamName="s")
    output = cwl(fault_proxy.url, log_stream_name="s")
    assert run(flush_all(output, chunk_of([{"a": 1}]), chunk_of([{"a": 2}]))) == [FlushResult.OK, FlushResult.OK]
    assert [call.operation for call in fault_proxy.calls] == ["CreateLogStream", "PutLogEvents", "PutLogEvents"]
    assert events(moto, "fluentbit-cloudwatch", "s") == ['{"a":1}', '{"a":2}']


def test_a_stream_deleted_while_in_use_is_created_again_and_the_batch_resent(moto, fault_proxy, run) -> None:
    output = cwl(fault_proxy.url, auto_create_group="true", log_stream_name="s")

    async def scenario() -> list[FlushResult]:
        await output.start()
        first = await output.flush(chunk_of([{"a": 1}]))
        moto.client("logs").delete_log_stream(logGroupName="fluentbit-cloudwatch", logStreamName="s")
        fault_proxy.calls.clear()
        second = await output.flush(chunk_of([{"a": 2}]))
        await output.stop()
        return [first, second]

    assert run(scenario()) == [FlushResult.OK, FlushResult.OK]
    assert [call.operation for call in fault_proxy.calls] == ["PutLogEvents", "CreateLogStream", "PutLogEvents"]
    assert events(moto, "fluentbit-cloudwatch", "s") == ['{"a":2}']


def test_a_stream_unused_for_four_hours_is_created_again_before_its_next_put(moto, fault_proxy, run) -> None:
    output = cwl(fault_proxy.url, auto_create_group="true", log_stream_name="s")

    def age(seconds: float) -> None:
        """As if ``seconds`` had passed since the streams were last used."""
        output._known_streams = {target: at - seconds for target, at in output._known_streams.items()}

    async def scenario() -> list[list[str]]:
        await output.start()
        await output.flush(chunk_of([{"a": 1}]))
        age(STREAM_KNOWN_SECONDS - 60)
        fault_proxy.calls.clear()
        await output.flush(chunk_of([{"a": 2}]))
        still_known = [call.operation for call in fault_proxy.calls]
        age(STREAM_KNOWN_SECONDS)
        fault_proxy.calls.clear()
        await output.flush(chunk_of([{"a": 3}]))
        await output.stop()
        return [still_known, [call.operation for call in fault_proxy.calls]]

    assert run(scenario()) == [["PutLogEvents"], ["CreateLogStream", "PutLogEvents"]]
    assert events(moto, "fluentbit-cloudwatch", "s") == ['{"a":1}', '{"a":2}', '{"a":3}']


def test_created_groups_get_retention_and_class(moto, run) -> None:
    output = cwl(
        moto.url, auto_create_group="true", log_stream_name="s", log_retention_days="7", log_group_class="STANDARD"
    )
    assert run(flush_all(output, chunk_of([{"a": 1}]))) == [FlushResult.OK]
    (group,) = moto.client("logs").describe_log_groups()["logGroups"]
    assert group["retentionInDays"] == 7


def test_templates_route_records_by_kubernetes_metadata_with_fallback(moto, run) -> None:
    output = cwl(
        moto.url,
        auto_create_group="true",
        log_group_template="app-$kubernetes['namespace_name']",
        log_stream_template="$kubernetes['pod_name'].$TAG[1]",
    )
    records = [
        {"log": "a", "kubernetes": {"namespace_name": "ns1", "pod_name": "p1"}},
        {"log": "b"},
        {"log": "c", "kubernetes": {"namespace_name": "ns1", "pod_name": "p1"}},
    ]
    assert run(flush_all(output, chunk_of(records, tag="kube.web"))) == [FlushResult.OK]
    assert [m[:9] for m in events(moto, "app-ns1", "p1.web")] == ['{"log":"a', '{"log":"c']
    assert events(moto, "fluentbit-cloudwatch", "fluentbit-kube.web") == ['{"log":"b"}']


def test_go_templates_and_default_names(moto, run) -> None:
    output = cwl(
        moto.url,
        GoCloudWatchOutput,
        log_group_name="/eks/$(kubernetes['namespace_name'])",
        log_stream_name="$(tag[1])-$(kubernetes['container_name'])",
        auto_create_group="true",
        default_log_group_name="fallback-group",
    )
    records = [{"log": "a", "kubernetes": {"namespace_name": "prod", "container_name": "web"}}, {"log": "b"}]
    assert run(flush_all(output, chunk_of(records, tag="kube.node1"))) == [FlushResult.OK]
    assert events(moto, "/eks/prod", "node1-web") == [
        '{"kubernetes":{"container_name":"web","namespace_name":"prod"},"log":"a"}'
    ]
    assert events(moto, "fallback-group", "/fluentbit-default") == ['{"log":"b"}']


def test_go_messages_are_trimmed_and_records_it_cannot_write_are_dropped_and_counted(moto, run) -> None:
    output = cwl(moto.url, GoCloudWatchOutput, log_group_name="g", log_stream_name="s", auto_create_group="true",
                 log_key="log")
    records = [{"log": "  a <b>\n"}, {"log": " \n"}, {"log": {"map": 1}}, {"log": 2.5}]
    assert run(flush_all(output, chunk_of(records))) == [FlushResult.OK]
    assert events(moto, "g", "s") == ["a <b>", "2.5"]
    assert output.ctx.metrics["empty_records"] == 1
    assert output.ctx.metrics["unencodable_records"] == 1
    assert "log_key_missing_records" not in output.ctx.metrics


def test_go_a_message_over_256_kib_is_cut_with_the_go_plugins_suffix_and_counted(moto, run) -> None:
    output = cwl(moto.url, GoCloudWatchOutput, log_group_name="g", log_stream_name="s", auto_create_group="true",
                 log_key="log")
    assert run(flush_all(output, chunk_of([{"log": "x" * 300_000}]))) == [FlushResult.OK]
    assert events(moto, "g", "s") == ["x" * (256 * 1024 - 14 - 26) + "[Truncated...]"]
    assert output.ctx.metrics["truncated_events"] == 1


def test_go_auto_create_stream_false_never_creates_streams(moto, run) -> None:
    moto.client("logs").create_log_group(logGroupName="g")
    output = cwl(moto.url, GoCloudWatchOutput, log_group_name="g", log_stream_name="s", auto_create_stream="false")
    assert run(flush_all(output, chunk_of([{"a": 1}]))) == [FlushResult.RETRY]
    assert moto.client("logs").describe_log_streams(logGroupName="g")["logStreams"] == []


def test_go_new_log_group_tags_tag_created_groups(moto, run) -> None:
    output = cwl(
        moto.url,
        GoCloudWatchOutput,
        log_group_name="g",
        log_stream_name="s",
        auto_create_group="true",
        new_log_group_tags="team=logs,env=test",
    )
    assert run(flush_all(output, chunk_of([{"a": 1}]))) == [FlushResult.OK]
    arn = moto.client("logs").describe_log_groups()["logGroups"][0]["arn"].removesuffix(":*")
    assert moto.client("logs").list_tags_for_resource(resourceArn=arn)["tags"] == {"team": "logs", "env": "test"}


def test_events_of_a_stream_are_sent_in_chronological_order(moto, run) -> None:
    output = cwl(moto.url, auto_create_group="true", log_stream_name="s")
    now = now_ns()
    chunk = chunk_of(
        [{"n": 2}, {"n": 0}, {"n": 1}, {"n": 3}], timestamps=[now - 1000, now - 3000_000_000, now - 2000_000_000, now]
    )
    assert run(flush_all(output, chunk)) == [FlushResult.OK]
    assert events(moto, "fluentbit-cloudwatch", "s") == ['{"n":0}', '{"n":1}', '{"n":2}', '{"n":3}']


def test_many_batches_arrive_complete_and_in_order(moto, run) -> None:
    output = cwl(moto.url, auto_create_group="true", log_stream_name="s")
    records = [{"n": i} for i in range(25_000)]
    assert run(flush_all(output, chunk_of(records)), timeout=180) == [FlushResult.OK]
    assert events(moto, "fluentbit-cloudwatch", "s") == [f'{{"n":{i}}}' for i in range(25_000)]


def test_rejected_events_are_counted_per_reason(moto, run) -> None:
    output = cwl(moto.url, auto_create_group="true", log_stream_name="s")
    now = now_ns()
    chunk = chunk_of(
        [{"n": 0}, {"n": 1}, {"n": 2}, {"n": 3}], timestamps=[now - 15 * DAY_NS, now - 1, now, now + 3 * HOUR_NS]
    )
    assert run(flush_all(output, chunk)) == [FlushResult.OK]
    assert events(moto, "fluentbit-cloudwatch", "s") == ['{"n":1}', '{"n":2}']
    assert output.ctx.metrics["rejected_too_old_events"] == 1
    assert output.ctx.metrics["rejected_too_new_events"] == 1


def test_an_event_over_the_size_limit_is_truncated_and_counted(moto, run) -> None:
    output = cwl(moto.url, auto_create_group="true", log_stream_name="s", log_key="log")
    assert run(flush_all(output, chunk_of([{"log": "x" * (MAX_EVENT_BYTES + 10)}, {"log": "small"}]))) == [
        FlushResult.OK
    ]
    assert events(moto, "fluentbit-cloudwatch", "s") == ["x" * MAX_EVENT_BYTES, "small"]
    assert output.ctx.metrics["truncated_events"] == 1


def test_log_format_sends_the_emf_header(fault_proxy, run) -> None:
    output = cwl(fault_proxy.url, auto_create_group="true", log_stream_name="s", log_format="json/emf")
    assert run(flush_all(output, chunk_of([{"a": 1}]))) == [FlushResult.OK]
    assert all(call.headers.get("x-amzn-logs-format") == "json/emf" for call in fault_proxy.calls_to("PutLogEvents"))


def test_a_throttled_put_backs_off_and_the_retry_delivers_once(moto, fault_proxy, run) -> None:
    output = cwl(fault_proxy.url, auto_create_group="true", log_stream_name="s")
    output.backoff = OutputBackoff(base_seconds=0.05)
    fault_proxy.add("PutLogEvents", "throttle", times=1)
    chunk = chunk_of([{"n": i} for i in range(5)])
    assert run(flush_all(output, chunk, chunk)) == [FlushResult.RETRY, FlushResult.OK]
    assert events(moto, "fluentbit-cloudwatch", "s") == [f'{{"n":{i}}}' for i in range(5)]
    assert output.ctx.metrics["throttled_requests"] == 1


@pytest.mark.parametrize("fault", ["error500", "throttle"])
def test_a_retried_chunk_resends_only_the_batches_not_yet_accepted(moto, fault_proxy, run, fault) -> None:
    moto.client("logs").create_log_group(logGroupName="fluentbit-cloudwatch")
    moto.client("logs").create_log_stream(logGroupName="fluentbit-cloudwatch", logStreamName="s")
    output = cwl(fault_proxy.url, log_stream_name="s")
    output.backoff = OutputBackoff(base_seconds=0.05)
    chunk = chunk_of([{"n": i} for i in range(25_000)])

    async def scenario() -> list[FlushResult]:
        await output.start()
        first = await output.flush(chunk)
        fault_proxy.add("PutLogEvents", fault, times=1)  # the 2nd batch of the retry
        fault_proxy.calls.clear()
        results = [first]
        results.append(await output.flush(chunk))
        results.append(await output.flush(chunk))
        await output.stop()
        return results

    fault_proxy.add("PutLogEvents", "forward", times=1)
    fault_proxy.add("PutLogEvents", fault, times=1)  # fails the 2nd batch of the first attempt
    results = run(scenario(), timeout=180)
    assert results == [FlushResult.RETRY, FlushResult.RETRY, FlushResult.OK]
    assert events(moto, "fluentbit-cloudwatch", "s") == [f'{{"n":{i}}}' for i in range(25_000)]


def test_a_batch_already_accepted_is_delivered_and_not_sent_again(moto, fault_proxy, run) -> None:
    """DataAlreadyAcceptedException: CloudWatch Logs holds the events, so resending would store them twice."""
    output = cwl(fault_proxy.url, auto_create_group="true", log_stream_name="s")
    fault_proxy.add("PutLogEvents", "accepted", times=1)  # stored, but answered DataAlreadyAcceptedException
    first, second = chunk_of([{"n": 1}, {"n": 2}]), chunk_of([{"n": 3}])
    assert run(flush_all(output, first, second)) == [FlushResult.OK, FlushResult.OK]
    assert events(moto, "fluentbit-cloudwatch", "s") == ['{"n":1}', '{"n":2}', '{"n":3}']
    assert [call.action for call in fault_proxy.calls_to("PutLogEvents")] == ["accepted", "forward"]
    assert output.ctx.metrics["already_accepted_batches"] == 1


def test_tls_verify_off_is_said_once_at_start_not_at_every_request(moto, run, tmp_path) -> None:
    """With tls.verify off, urllib3 warns (InsecureRequestWarning) at every request; the suite turns
    warnings into errors, so two deliveries over HTTPS prove the output silenced it."""
    proxy = FaultProxy(moto.url, make_certs(tmp_path, "logs"))
    try:
        output = cwl(proxy.url, auto_create_group="true", log_stream_name="s", tls="on", **{"tls.verify": "off"})
        assert output.config_warnings == [
            ("tls.verify", "tls.verify is off: the service's TLS certificate is not verified")]
        assert run(flush_all(output, chunk_of([{"a": 1}]), chunk_of([{"a": 2}]))) == [FlushResult.OK, FlushResult.OK]
    finally:
        proxy.close()
    assert events(moto, "fluentbit-cloudwatch", "s") == ['{"a":1}', '{"a":2}']


def test_a_dropped_connection_is_retried_at_once_with_auto_retry_requests(moto, fault_proxy, run) -> None:
    output = cwl(fault_proxy.url, auto_create_group="true", log_stream_name="s")
    fault_proxy.add("PutLogEvents", "drop", times=1)
    assert run(flush_all(output, chunk_of([{"a": 1}]))) == [FlushResult.OK]
    assert events(moto, "fluentbit-cloudwatch", "s") == ['{"a":1}']


def test_a_dropped_connection_without_auto_retry_requests_is_a_retry(moto, fault_proxy, run) -> None:
    output = cwl(fault_proxy.url, auto_create_group="true", log_stream_name="s", auto_retry_requests="false")
    output.backoff = OutputBackoff(base_seconds=0.01)
    # The first drop is on the connection kept alive from CreateLogStream: resent at once on a new
    # connection, as a connection the server closed while idle is (http.py STALE_RETRIES).
    fault_proxy.add("PutLogEvents", "drop", times=2)
    chunk = chunk_of([{"a": 1}])
    assert run(flush_all(output, chunk, chunk)) == [FlushResult.RETRY, FlushResult.OK]
    assert events(moto, "fluentbit-cloudwatch", "s") == ['{"a":1}']


def test_a_throttle_holds_back_every_worker_of_the_output(moto, fault_proxy, run) -> None:
    moto.client("logs").create_log_group(logGroupName="fluentbit-cloudwatch")
    output = cwl(fault_proxy.url, log_stream_prefix="p-", workers="2")
    output.backoff = OutputBackoff(base_seconds=0.4)
    fault_proxy.add("PutLogEvents", "throttle", times=1)

    async def scenario() -> list[FlushResult]:
        await output.start()
        first = await output.flush(chunk_of([{"a": 1}], tag="one"))
        waiting = output.backoff.remaining_seconds
        second = await output.flush(chunk_of([{"b": 2}], tag="two"))
        await output.stop()
        assert waiting > 0
        return [first, second]

    assert run(scenario()) == [FlushResult.RETRY, FlushResult.OK]
    throttled, *later = [call for call in fault_proxy.calls if call.operation == "PutLogEvents"]
    assert throttled.action == "throttle"
    assert all(call.at - throttled.at >= 0.4 * 0.5 for call in later)


def test_concurrent_workers_keep_one_stream_in_order(moto, run) -> None:
    output = cwl(moto.url, auto_create_group="true", log_stream_name="s", workers="4")
    chunks = [chunk_of([{"c": c, "n": i} for i in range(200)]) for c in range(4)]

    async def scenario() -> list[FlushResult]:
        await output.start()
        results = await asyncio.gather(*(output.flush(chunk) for chunk in chunks))
        await output.stop()
        return list(results)

    assert run(scenario()) == [FlushResult.OK] * 4
    arrived = [json.loads(m) for m in events(moto, "fluentbit-cloudwatch", "s")]
    assert len(arrived) == 800
    for c in range(4):
        assert [r["n"] for r in arrived if r["c"] == c] == list(range(200))


def test_forget_drops_the_progress_of_a_chunk(moto, run) -> None:
    output = cwl(moto.url, auto_create_group="true", log_stream_name="s")
    chunk = chunk_of([{"a": 1}])
    run(flush_all(output, chunk))
    assert chunk.id in output._progress
    output.forget(chunk)
    assert chunk.id not in output._progress


def test_role_arn_calls_the_service_with_assumed_credentials(moto, fault_proxy, run) -> None:
    output = cwl(
        fault_proxy.url,
        auto_create_group="true",
        log_stream_name="s",
        role_arn="arn:aws:iam::123456789012:role/flb",
        external_id="ext-1",
        sts_endpoint=moto.url,
    )
    assert run(flush_all(output, chunk_of([{"a": 1}]))) == [FlushResult.OK]
    (put, *_) = fault_proxy.calls_to("PutLogEvents")
    assert "Credential=testing/" not in put.headers["authorization"]
    assert events(moto, "fluentbit-cloudwatch", "s") == ['{"a":1}']


@pytest.mark.parametrize(
    ("options", "option"),
    [
        ({"region": ""}, "region"),
        ({"log_group_name": ""}, "log_group_name"),
        ({"log_stream_name": "s", "log_stream_prefix": "p"}, "log_stream_name"),
        ({"log_retention_days": "8"}, "log_retention_days"),
        ({"log_group_class": "COLD"}, "log_group_class"),
    ],
)
def test_invalid_options_are_config_errors(options: dict[str, str], option: str) -> None:
    with pytest.raises(PluginConfigError) as error:
        cwl("http://127.0.0.1:1", **options)
    assert error.value.option == option


def test_importing_the_output_does_not_import_boto3() -> None:
    code = "import sys, flb_fast.outputs.cloudwatch_logs; assert 'boto3' not in sys.modules and 'botocore' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_options_not_supported_yet_are_config_warnings_naming_what_happens_instead() -> None:
    assert config_warnings_for(
        GoCloudWatchOutput, region="us-east-1", log_stream_prefix="p-", metric_namespace="ns", add_entity="false",
        credentials_endpoint="http://127.0.0.1:1/creds",
    ) == [
        "test.conf:3: [OUTPUT] cloudwatch: option 'metric_namespace' is not supported yet by flb_fast: "
        "records are sent as log events",
        "test.conf:5: [OUTPUT] cloudwatch: option 'credentials_endpoint' is not supported yet by flb_fast: "
        "credentials come from the default AWS chain",
    ]


def test_ecs_variables_in_names_are_a_config_warning() -> None:
    output = make_output(GoCloudWatchOutput, region="us-east-1", log_group_name="/ecs/$(ecs_cluster)",
                         log_stream_prefix="p-")
    assert [option for option, _ in output.config_warnings] == ["log_group_name"]


def test_records_msgspec_refuses_arrive_through_the_encoders_fallback_in_order_with_the_rest(moto, run) -> None:
    pod = {"pod_name": "web-1", "labels": {"app": "web"}}
    records = [{"log": "a", "kubernetes": pod}, {"log": "bad \udcff byte", "kubernetes": pod}, {"log": "c", "n": 1.5}]
    output = cwl(moto.url, auto_create_group="true", log_stream_name="s")
    assert run(flush_all(output, chunk_of(records))) == [FlushResult.OK]
    assert [json.loads(message) for message in events(moto, "fluentbit-cloudwatch", "s")] == records


def test_a_whole_record_over_the_size_limit_is_truncated_and_counted(moto, run) -> None:
    output = cwl(moto.url, auto_create_group="true", log_stream_name="s")
    records = [{"log": "x" * (MAX_EVENT_BYTES + 10)}, {"log": "small"}]
    assert run(flush_all(output, chunk_of(records))) == [FlushResult.OK]
    assert events(moto, "fluentbit-cloudwatch", "s") == [('{"log":"' + "x" * MAX_EVENT_BYTES)[:MAX_EVENT_BYTES],
                                                         '{"log":"small"}']
    assert output.ctx.metrics["truncated_events"] == 1


def test_a_truncated_event_sent_again_after_a_failure_is_counted_once(moto, fault_proxy, run) -> None:
    moto.client("logs").create_log_group(logGroupName="fluentbit-cloudwatch")
    moto.client("logs").create_log_stream(logGroupName="fluentbit-cloudwatch", logStreamName="s")
    output = cwl(fault_proxy.url, log_stream_name="s")
    fault_proxy.add("PutLogEvents", "error500", times=1)
    chunk = chunk_of([{"log": "x" * (MAX_EVENT_BYTES + 10)}, {"log": "small"}])

    async def scenario() -> list[FlushResult]:
        await output.start()
        results = [await output.flush(chunk), await output.flush(chunk)]
        await output.stop()
        return results

    assert run(scenario(), timeout=120) == [FlushResult.RETRY, FlushResult.OK]
    assert len(events(moto, "fluentbit-cloudwatch", "s")) == 2
    assert output.ctx.metrics["truncated_events"] == 1
