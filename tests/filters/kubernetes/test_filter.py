"""The kubernetes filter against a real HTTPS API server: exact records, as Fluent Bit 4.2 makes them."""

from __future__ import annotations

import asyncio
import json
import os
import threading
import time
from pathlib import Path

import pytest

from flb_fast.config.model import Config
from flb_fast.filters.kubernetes import KubernetesFilter
from flb_fast.parsers import build_registry
from flb_fast.parsers.base import ParserRegistry
from tests.fakes.kube_api_server import Container, KubeApiServer, make_pod
from tests.filters.kubernetes.conftest import (
    DOCKER_ID,
    NGINX_ID,
    NGINX_TAG,
    TAG,
    TS,
    FilterFactory,
    app_kubernetes,
    app_pod,
    chunk_of,
    run_filter,
)
from tests.standalone import config_warnings_for
from tests.waiting import until

JSON_LOG = '{"level":"info","msg":"order placed","order_id":1042,"trace":"ab12\\n"}\n'
DOCKER_TIME = "2023-11-14T22:13:20.123456789Z"


def bundled_parsers() -> ParserRegistry:
    """Fluent Bit's standard parsers.conf, as the agent loads it (``nginx`` among them)."""
    return build_registry(Config())


def assert_records(actual: list[dict], expected: list[dict]) -> None:
    """Equal, and with every key in the same order (Fluent Bit's output is ordered)."""
    assert actual == expected
    assert [json.dumps(r) for r in actual] == [json.dumps(r) for r in expected]


def pod_requests(api: KubeApiServer) -> list[str]:
    return [r.path for r in api.requests("/api/v1/namespaces/") if "/pods/" in r.path]


def test_json_log_is_merged_at_the_top_level_with_the_pod_metadata(make_filter: FilterFactory, run) -> None:
    (out,) = run(run_filter(make_filter(Merge_Log="On"), chunk_of(JSON_LOG)))
    assert_records(
        out.records,
        [
            {
                "log": JSON_LOG,
                "stream": "stdout",
                "time": DOCKER_TIME,
                "level": "info",
                "msg": "order placed",
                "order_id": 1042,
                "trace": "ab12",
                "kubernetes": app_kubernetes(),
            }
        ],
    )
    assert out.timestamps == [TS]


def test_json_log_is_merged_under_merge_log_key(make_filter: FilterFactory, run) -> None:
    (out,) = run(run_filter(make_filter(Merge_Log="On", Merge_Log_Key="data"), chunk_of(JSON_LOG)))
    assert_records(
        out.records,
        [
            {
                "log": JSON_LOG,
                "stream": "stdout",
                "time": DOCKER_TIME,
                "data": {"level": "info", "msg": "order placed", "order_id": 1042, "trace": "ab12"},
                "kubernetes": app_kubernetes(),
            }
        ],
    )


def test_keep_log_off_drops_log_once_merged(make_filter: FilterFactory, run) -> None:
    flt = make_filter(Merge_Log="On", Merge_Log_Key="data", Keep_Log="Off")
    (out,) = run(run_filter(flt, chunk_of(JSON_LOG, "plain text\n")))
    assert_records(
        out.records,
        [
            {
                "stream": "stdout",
                "time": DOCKER_TIME,
                "data": {"level": "info", "msg": "order placed", "order_id": 1042, "trace": "ab12"},
                "kubernetes": app_kubernetes(),
            },
            {"log": "plain text\n", "stream": "stdout", "time": DOCKER_TIME, "kubernetes": app_kubernetes()},
        ],
    )


def test_merge_log_trim_off_keeps_trailing_newlines(make_filter: FilterFactory, run) -> None:
    flt = make_filter(Merge_Log="On", Merge_Log_Key="data", Merge_Log_Trim="Off")
    (out,) = run(run_filter(flt, chunk_of(JSON_LOG)))
    assert out.records[0]["data"]["trace"] == "ab12\n"


def test_non_json_log_is_left_as_it_is(make_filter: FilterFactory, run) -> None:
    logs = ["GET /health 200\n", "[1, 2]\n", '{"broken": \n', '"just a string"\n']
    (out,) = run(run_filter(make_filter(Merge_Log="On", Merge_Log_Key="data"), chunk_of(*logs)))
    assert_records(
        out.records,
        [{"log": log, "stream": "stdout", "time": DOCKER_TIME, "kubernetes": app_kubernetes()} for log in logs],
    )


def test_without_merge_log_a_json_log_is_not_merged(make_filter: FilterFactory, run) -> None:
    (out,) = run(run_filter(make_filter(), chunk_of(JSON_LOG)))
    assert_records(
        out.records, [{"log": JSON_LOG, "stream": "stdout", "time": DOCKER_TIME, "kubernetes": app_kubernetes()}]
    )


def test_labels_and_annotations_off_leave_them_out(make_filter: FilterFactory, run) -> None:
    (out,) = run(run_filter(make_filter(Labels="Off", Annotations="Off"), chunk_of("hello\n")))
    assert_records(
        out.records,
        [
            {
                "log": "hello\n",
                "stream": "stdout",
                "time": DOCKER_TIME,
                "kubernetes": app_kubernetes(labels=None, annotations=None),
            }
        ],
    )


def test_owner_references_on_adds_them_after_annotations(make_filter: FilterFactory, run) -> None:
    (out,) = run(run_filter(make_filter(Owner_References="On"), chunk_of("hello\n")))
    kube = out.records[0]["kubernetes"]
    assert list(kube)[:6] == ["pod_name", "namespace_name", "pod_id", "labels", "annotations", "ownerReferences"]
    assert kube["ownerReferences"] == [
        {"apiVersion": "apps/v1", "controller": True, "kind": "ReplicaSet", "name": "app-7d4b9c", "uid": "0f0e"}
    ]


def test_every_record_of_a_chunk_shares_one_metadata_dict(make_filter: FilterFactory, run) -> None:
    first, second = run(run_filter(make_filter(), chunk_of("a\n", "b\n"), chunk_of("c\n")))
    kubes = [r["kubernetes"] for r in first.records + second.records]
    assert all(k is kubes[0] for k in kubes)


def test_one_request_per_pod_however_many_chunks_wait(make_filter: FilterFactory, api: KubeApiServer, run) -> None:
    flt = make_filter()

    async def scenario() -> list:
        await flt.start()
        try:
            return await asyncio.gather(*(flt.filter(chunk_of(f"line {i}\n")) for i in range(50)))
        finally:
            await flt.stop()

    api.set_delay(0.3)
    outs = run(scenario())
    assert all(out.records[0]["kubernetes"] == app_kubernetes() for out in outs)
    assert pod_requests(api) == ["/api/v1/namespaces/shop/pods/app-7d4b9c"]


def test_containers_of_one_pod_get_their_own_container_fields(
    make_filter: FilterFactory, api: KubeApiServer, run
) -> None:
    sidecar_tag = "kube.var.log.containers.app-7d4b9c_shop_sidecar-" + "1" * 64 + ".log"
    web, sidecar = run(run_filter(make_filter(), chunk_of("a\n"), chunk_of("b\n", tag=sidecar_tag)))
    assert web.records[0]["kubernetes"] == app_kubernetes()
    assert sidecar.records[0]["kubernetes"] == app_kubernetes(
        container_name="sidecar",
        docker_id="1" * 64,
        container_hash="envoy@sha256:" + "be" * 32,
        container_image="envoy:1.30",
    )
    assert len(pod_requests(api)) == 1


def test_a_pod_that_does_not_exist_passes_records_without_metadata(
    make_filter: FilterFactory, api: KubeApiServer, run
) -> None:
    tag = "kube.var.log.containers.ghost-1_shop_web-" + "e" * 64 + ".log"
    flt = make_filter(Merge_Log="On")
    first, second = run(run_filter(flt, chunk_of(JSON_LOG, tag=tag), chunk_of("x\n", tag=tag)))
    assert_records(
        first.records,
        [
            {
                "log": JSON_LOG,
                "stream": "stdout",
                "time": DOCKER_TIME,
                "level": "info",
                "msg": "order placed",
                "order_id": 1042,
                "trace": "ab12",
            }
        ],
    )
    assert second.records == [{"log": "x\n", "stream": "stdout", "time": DOCKER_TIME}]
    assert pod_requests(api) == ["/api/v1/namespaces/shop/pods/ghost-1"]
    assert flt.ctx.metrics["kube_api_errors"] == 1
    assert flt.ctx.metrics["kube_meta_missing_records"] == 2


def test_a_tag_that_does_not_match_leaves_the_chunk_untouched(
    make_filter: FilterFactory, api: KubeApiServer, run
) -> None:
    (out,) = run(run_filter(make_filter(Merge_Log="On"), chunk_of(JSON_LOG, tag="kube.var.log.syslog")))
    assert out.records == [{"log": JSON_LOG, "stream": "stdout", "time": DOCKER_TIME}]
    assert api.requests("/api/v1/namespaces/") == []


def test_the_bearer_token_is_sent_and_reread_when_the_file_rotates(
    make_filter: FilterFactory, api: KubeApiServer, token_file: Path, run
) -> None:
    other_tag = "kube.var.log.containers.batch-1_shop_job-" + "b" * 64 + ".log"
    api.add_pod(
        make_pod("batch-1", "shop", uid="u-batch", node="n1", containers=[Container("job", "job:1", "sha256:1")])
    )
    flt = make_filter()

    async def scenario() -> list:
        await flt.start()
        try:
            first = await flt.filter(chunk_of("a\n"))
            token_file.write_text("token-2-rotated\n")
            api.set_token("token-2-rotated")
            second = await flt.filter(chunk_of("b\n", tag=other_tag))
            return [first, second]
        finally:
            await flt.stop()

    first, second = run(scenario())
    assert first.records[0]["kubernetes"]["pod_name"] == "app-7d4b9c"
    assert second.records[0]["kubernetes"]["pod_name"] == "batch-1"
    assert [r.authorization for r in api.requests("/api/v1/namespaces/")] == [
        "Bearer token-1",
        "Bearer token-2-rotated",
    ]


def test_a_401_rereads_the_token_and_retries_once(
    make_filter: FilterFactory, api: KubeApiServer, token_file: Path, run
) -> None:
    other_tag = "kube.var.log.containers.batch-1_shop_job-" + "b" * 64 + ".log"
    api.add_pod(
        make_pod("batch-1", "shop", uid="u-batch", node="n1", containers=[Container("job", "job:1", "sha256:1")])
    )
    flt = make_filter(Kube_Token_TTL="1h")

    def rotate_unseen() -> None:
        """Same size, same inode, same mtime: only the server's 401 can tell."""
        stat = token_file.stat()
        token_file.write_text("token-3\n")
        os.utime(token_file, ns=(stat.st_atime_ns, stat.st_mtime_ns))
        api.set_token("token-3")

    async def scenario() -> list:
        await flt.start()
        try:
            first = await flt.filter(chunk_of("a\n"))
            rotate_unseen()
            return [first, await flt.filter(chunk_of("b\n", tag=other_tag))]
        finally:
            await flt.stop()

    first, second = run(scenario())
    assert first.records[0]["kubernetes"] == app_kubernetes()
    assert second.records[0]["kubernetes"]["pod_id"] == "u-batch"
    assert [r.authorization for r in api.requests()] == ["Bearer token-1", "Bearer token-1", "Bearer token-3"]


def test_an_api_server_that_is_down_is_retried_after_the_negative_ttl(
    make_filter: FilterFactory, api: KubeApiServer, run
) -> None:
    flt = make_filter(Kube_Meta_Negative_Cache_TTL="0.3")

    async def scenario() -> tuple:
        await flt.start()
        try:
            api.set_down(True)
            down = await flt.filter(chunk_of("while down\n"))
            api.set_down(False)
            results = []

            async def enriched() -> bool:
                results.append(await flt.filter(chunk_of("after\n")))
                return "kubernetes" in results[-1].records[0]

            deadline = time.monotonic() + 30
            while not await enriched():
                assert time.monotonic() < deadline
                await asyncio.sleep(0.05)
            return down, results
        finally:
            await flt.stop()

    down, results = run(scenario())
    assert down.records == [{"log": "while down\n", "stream": "stdout", "time": DOCKER_TIME}]
    assert results[-1].records[0]["kubernetes"] == app_kubernetes()
    assert all("kubernetes" not in out.records[0] for out in results[:-1])
    assert flt.ctx.metrics["kube_api_errors"] == 1
    assert len(pod_requests(api)) == 2


def test_a_slow_api_server_never_holds_a_chunk_beyond_the_bound(
    make_filter: FilterFactory, api: KubeApiServer, run
) -> None:
    flt = make_filter(Kube_Meta_Max_Wait="0.2")
    key = ("shop", "app-7d4b9c")

    async def scenario() -> tuple:
        await flt.start()
        try:
            api.set_delay(3.0)
            early = await flt.filter(chunk_of("early\n"))
            still_fetching = key in flt._pods._flights  # type: ignore[union-attr]
            await until(lambda: flt._pods.cached(key) is not None)  # type: ignore[union-attr]
            late = await flt.filter(chunk_of("late\n"))
            return early, still_fetching, late
        finally:
            await flt.stop()

    early, still_fetching, late = run(scenario())
    assert early.records == [{"log": "early\n", "stream": "stdout", "time": DOCKER_TIME}]
    assert still_fetching  # the chunk came back while its pod's request was still unanswered
    assert late.records[0]["kubernetes"] == app_kubernetes()
    assert len(pod_requests(api)) == 1


def test_error_statuses_pass_records_without_metadata_and_are_counted(
    make_filter: FilterFactory, api: KubeApiServer, run
) -> None:
    for status in (403, 500):
        api.set_error(status)
        flt = make_filter()
        (out,) = run(run_filter(flt, chunk_of("x\n")))
        assert out.records == [{"log": "x\n", "stream": "stdout", "time": DOCKER_TIME}]
        assert flt.ctx.metrics["kube_api_errors"] == 1


def test_a_response_over_buffer_size_is_a_counted_error(make_filter: FilterFactory, run) -> None:
    flt = make_filter(Buffer_Size="200")
    (out,) = run(run_filter(flt, chunk_of("x\n")))
    assert "kubernetes" not in out.records[0]
    assert flt.ctx.metrics["kube_api_response_too_large"] == 1


def test_buffer_size_zero_is_unlimited(make_filter: FilterFactory, api: KubeApiServer, run) -> None:
    big = {f"note-{i}": "x" * 100 for i in range(400)}
    api.add_pod(app_pod(annotations=big))
    (out,) = run(run_filter(make_filter(Buffer_Size="0"), chunk_of("x\n")))
    assert out.records[0]["kubernetes"]["annotations"] == big


def test_a_ca_that_did_not_sign_the_server_gives_no_metadata_unless_tls_verify_is_off(
    make_filter: FilterFactory, tmp_path: Path, run
) -> None:
    from tests.fakes.certs import make_certs

    stranger = make_certs(tmp_path / "other-ca")
    (refused,) = run(run_filter(make_filter(Kube_CA_File=str(stranger.ca_file)), chunk_of("x\n")))
    assert "kubernetes" not in refused.records[0]
    (unverified,) = run(run_filter(make_filter(Kube_CA_File=str(stranger.ca_file), tls__verify="Off"), chunk_of("x\n")))
    assert unverified.records[0]["kubernetes"] == app_kubernetes()


def test_use_tag_for_meta_needs_no_api_server(make_filter: FilterFactory, api: KubeApiServer, run) -> None:
    (out,) = run(run_filter(make_filter(Use_Tag_For_Meta="On"), chunk_of("x\n")))
    assert_records(
        out.records,
        [
            {
                "log": "x\n",
                "stream": "stdout",
                "time": DOCKER_TIME,
                "kubernetes": {
                    "pod_name": "app-7d4b9c",
                    "namespace_name": "shop",
                    "container_name": "web",
                    "docker_id": DOCKER_ID,
                },
            }
        ],
    )
    assert api.requests() == []


def test_dummy_meta_attaches_a_dummy_map(make_filter: FilterFactory, api: KubeApiServer, run) -> None:
    (out,) = run(run_filter(make_filter(Dummy_Meta="On"), chunk_of("x\n", tag="anything")))
    assert list(out.records[0]["kubernetes"]) == ["dummy"]
    assert time.strptime(out.records[0]["kubernetes"]["dummy"])
    assert api.requests() == []


def test_namespace_labels_and_annotations_go_under_kubernetes_namespace(make_filter: FilterFactory, run) -> None:
    flt = make_filter(Namespace_Labels="On", Namespace_Annotations="On")
    (out,) = run(run_filter(flt, chunk_of("x\n")))
    assert_records(
        out.records,
        [
            {
                "log": "x\n",
                "stream": "stdout",
                "time": DOCKER_TIME,
                "kubernetes": app_kubernetes(),
                "kubernetes_namespace": {
                    "name": "shop",
                    "labels": {"team": "payments"},
                    "annotations": {"owner": "ana"},
                },
            }
        ],
    )


def test_namespace_metadata_only_skips_the_pod(make_filter: FilterFactory, api: KubeApiServer, run) -> None:
    flt = make_filter(Namespace_Labels="On", Namespace_Metadata_Only="On")
    (out,) = run(run_filter(flt, chunk_of("x\n")))
    assert out.records[0] == {
        "log": "x\n",
        "stream": "stdout",
        "time": DOCKER_TIME,
        "kubernetes_namespace": {"name": "shop", "labels": {"team": "payments"}},
    }
    assert pod_requests(api) == []


def test_use_kubelet_lists_the_node_pods_once_for_all_of_them(
    make_filter: FilterFactory, api: KubeApiServer, run
) -> None:
    other_tag = "kube.var.log.containers.batch-1_shop_job-" + "b" * 64 + ".log"
    api.add_pod(
        make_pod("batch-1", "shop", uid="u-batch", node="n1", containers=[Container("job", "job:1", "sha256:1")])
    )
    flt = make_filter(Use_Kubelet="On", Kubelet_Host="127.0.0.1", Kubelet_Port=str(api.port), Buffer_Size="0")
    first, second = run(run_filter(flt, chunk_of("a\n"), chunk_of("b\n", tag=other_tag)))
    assert first.records[0]["kubernetes"] == app_kubernetes()
    assert second.records[0]["kubernetes"]["pod_id"] == "u-batch"
    assert [r.path for r in api.requests()] == ["/pods"]


def test_a_pod_the_kubelet_does_not_list_gets_the_tag_fields_only(
    make_filter: FilterFactory, api: KubeApiServer, run
) -> None:
    """As Fluent Bit's merge_pod_meta when search_item_in_items finds nothing (its log file outlived it)."""
    gone_tag = "kube.var.log.containers.gone-1_shop_job-" + "c" * 64 + ".log"
    flt = make_filter(Use_Kubelet="On", Kubelet_Host="127.0.0.1", Kubelet_Port=str(api.port), Buffer_Size="0")
    (out,) = run(run_filter(flt, chunk_of("a\n", tag=gone_tag)))
    assert list(out.records[0]["kubernetes"].items()) == [
        ("pod_name", "gone-1"), ("namespace_name", "shop"), ("container_name", "job"), ("docker_id", "c" * 64)]


def test_cache_use_docker_id_fetches_again_for_a_new_container_id(
    make_filter: FilterFactory, api: KubeApiServer, run
) -> None:
    restarted = TAG.replace(DOCKER_ID, "7" * 64)
    for option, expected_ids in (("Off", [DOCKER_ID, DOCKER_ID]), ("On", [DOCKER_ID, "7" * 64])):
        flt = make_filter(Cache_Use_Docker_Id=option, Kube_Meta_Cache_TTL="0")
        outs = run(run_filter(flt, chunk_of("a\n"), chunk_of("b\n", tag=restarted)))
        assert [out.records[0]["kubernetes"]["docker_id"] for out in outs] == expected_ids


def test_kube_meta_cache_ttl_refetches_expired_pods(make_filter: FilterFactory, api: KubeApiServer, run) -> None:
    flt = make_filter(Kube_Meta_Cache_TTL="0.2")

    async def scenario() -> tuple:
        await flt.start()
        try:
            first = await flt.filter(chunk_of("a\n"))
            api.add_pod(app_pod(labels={"app": "shop", "version": "2"}))
            await asyncio.sleep(0.3)
            second = await flt.filter(chunk_of("b\n"))
            return first, second
        finally:
            await flt.stop()

    first, second = run(scenario())
    assert first.records[0]["kubernetes"]["labels"] == {"app": "shop", "pod-template-hash": "7d4b9c"}
    assert second.records[0]["kubernetes"]["labels"] == {"app": "shop", "version": "2"}


def test_options_not_supported_yet_are_config_warnings_naming_what_happens_instead() -> None:
    assert config_warnings_for(KubernetesFilter, Use_Journal="On", aws_use_pod_association="Off",
                               use_pod_association="On") == [
        "test.conf:1: [FILTER] kubernetes: option 'use_journal' is not supported yet by flb_fast: "
        "metadata is looked up from the tag, as for files read by tail",
        "test.conf:3: [FILTER] kubernetes: option 'use_pod_association' is not supported yet by flb_fast: "
        "no aws_entity_* keys are added",
    ]


NGINX_LINE = '192.168.1.10 - - [14/Nov/2023:22:13:20 +0000] "GET /index.html HTTP/1.1" 200 615 "-" "curl/8.4.0"\n'


def nginx_pod(annotations: dict[str, str]) -> dict:
    return make_pod(
        "nginx-5f6d",
        "web",
        uid="6c1d-nginx",
        node="ip-10-0-1-23.ec2.internal",
        containers=[
            Container("nginx", "nginx:1.25", "docker-pullable://nginx@sha256:" + "ab" * 32, f"docker://{NGINX_ID}")
        ],
        labels={"app": "nginx"},
        annotations=annotations,
    )


def nginx_kubernetes(annotations: dict[str, str]) -> dict:
    return {
        "pod_name": "nginx-5f6d",
        "namespace_name": "web",
        "pod_id": "6c1d-nginx",
        "labels": {"app": "nginx"},
        "annotations": annotations,
        "host": "ip-10-0-1-23.ec2.internal",
        "pod_ip": "10.0.0.7",
        "container_name": "nginx",
        "docker_id": NGINX_ID,
        "container_hash": "nginx@sha256:" + "ab" * 32,
        "container_image": "nginx:1.25",
    }


def test_the_parser_annotation_parses_log_with_the_named_parser(
    make_filter: FilterFactory, api: KubeApiServer, run
) -> None:
    annotations = {"fluentbit.io/parser": "nginx"}
    api.add_pod(nginx_pod(annotations))
    flt = make_filter(parsers=bundled_parsers(), Merge_Log="On", Merge_Log_Key="data", **{"K8S-Logging__Parser": "On"})
    (out,) = run(run_filter(flt, chunk_of(NGINX_LINE, "not an access line\n", tag=NGINX_TAG)))
    assert_records(
        out.records,
        [
            {
                "log": NGINX_LINE,
                "stream": "stdout",
                "time": DOCKER_TIME,
                "data": {
                    "remote": "192.168.1.10",
                    "host": "-",
                    "user": "-",
                    "method": "GET",
                    "path": "/index.html",
                    "code": "200",
                    "size": "615",
                    "referer": "-",
                    "agent": "curl/8.4.0",
                },
                "kubernetes": nginx_kubernetes(annotations),
            },
            {
                "log": "not an access line\n",
                "stream": "stdout",
                "time": DOCKER_TIME,
                "kubernetes": nginx_kubernetes(annotations),
            },
        ],
    )
    # The access line's own time becomes the record's time; the unparsed line keeps its own.
    assert out.timestamps == [1_700_000_000_000_000_000, TS]


def test_the_parser_annotation_is_ignored_unless_k8s_logging_parser_is_on(
    make_filter: FilterFactory, api: KubeApiServer, run
) -> None:
    api.add_pod(nginx_pod({"fluentbit.io/parser": "nginx"}))
    flt = make_filter(parsers=bundled_parsers(), Merge_Log="On", Merge_Log_Key="data")
    (out,) = run(run_filter(flt, chunk_of(NGINX_LINE, tag=NGINX_TAG)))
    assert "data" not in out.records[0]


def test_a_per_stream_container_parser_applies_only_to_that_stream(
    make_filter: FilterFactory, api: KubeApiServer, run
) -> None:
    api.add_pod(nginx_pod({"fluentbit.io/parser_stderr-nginx": "nginx"}))
    flt = make_filter(parsers=bundled_parsers(), Merge_Log="On", Merge_Log_Key="data", **{"K8S-Logging__Parser": "On"})
    out, err = run(
        run_filter(flt, chunk_of(NGINX_LINE, tag=NGINX_TAG), chunk_of(NGINX_LINE, tag=NGINX_TAG, stream="stderr"))
    )
    assert "data" not in out.records[0]
    assert err.records[0]["data"]["path"] == "/index.html"


def test_the_exclude_annotation_drops_the_pod_records(make_filter: FilterFactory, api: KubeApiServer, run) -> None:
    api.add_pod(nginx_pod({"fluentbit.io/exclude": "true"}))
    flt = make_filter(**{"K8S-Logging__Exclude": "On"})
    (out,) = run(run_filter(flt, chunk_of("a\n", "b\n", tag=NGINX_TAG)))
    assert out is None


def test_the_exclude_annotation_is_ignored_unless_k8s_logging_exclude_is_on(
    make_filter: FilterFactory, api: KubeApiServer, run
) -> None:
    api.add_pod(nginx_pod({"fluentbit.io/exclude": "true"}))
    (out,) = run(run_filter(make_filter(), chunk_of("a\n", tag=NGINX_TAG)))
    assert [r["log"] for r in out.records] == ["a\n"]


def test_a_per_stream_exclude_keeps_the_other_stream(make_filter: FilterFactory, api: KubeApiServer, run) -> None:
    annotations = {"fluentbit.io/exclude_stderr": "true"}
    api.add_pod(nginx_pod(annotations))
    flt = make_filter(**{"K8S-Logging__Exclude": "On"})
    mixed = chunk_of(
        {"log": "out\n", "stream": "stdout", "time": DOCKER_TIME},
        {"log": "err\n", "stream": "stderr", "time": DOCKER_TIME},
        tag=NGINX_TAG,
    )
    (out,) = run(run_filter(flt, mixed))
    assert_records(
        out.records,
        [{"log": "out\n", "stream": "stdout", "time": DOCKER_TIME, "kubernetes": nginx_kubernetes(annotations)}],
    )
    assert out.timestamps == [TS]


def test_a_container_exclude_spares_the_other_containers(make_filter: FilterFactory, api: KubeApiServer, run) -> None:
    api.add_pod(app_pod(annotations={"fluentbit.io/exclude-sidecar": "true"}))
    sidecar_tag = "kube.var.log.containers.app-7d4b9c_shop_sidecar-" + "1" * 64 + ".log"
    flt = make_filter(**{"K8S-Logging__Exclude": "On"})
    web, sidecar = run(run_filter(flt, chunk_of("a\n"), chunk_of("b\n", tag=sidecar_tag)))
    assert [r["log"] for r in web.records] == ["a\n"]
    assert sidecar is None


def test_merge_parser_parses_every_log_of_the_chunk(make_filter: FilterFactory, run) -> None:
    flt = make_filter(parsers=bundled_parsers(), Merge_Log="On", Merge_Parser="nginx", Keep_Log="Off")
    (out,) = run(run_filter(flt, chunk_of(NGINX_LINE, JSON_LOG)))
    assert list(out.records[0]) == [
        "stream",
        "time",
        "remote",
        "host",
        "user",
        "method",
        "path",
        "code",
        "size",
        "referer",
        "agent",
        "kubernetes",
    ]
    # Merge_Parser replaces JSON merging: a JSON log that the parser does not match stays as it is.
    assert out.records[1] == {"log": JSON_LOG, "stream": "stdout", "time": DOCKER_TIME, "kubernetes": app_kubernetes()}
    assert out.timestamps == [1_700_000_000_000_000_000, TS]


def test_unknown_parsers_are_config_errors_naming_the_option(make_filter: FilterFactory) -> None:
    from flb_fast.config.errors import PluginConfigError

    for option in ("Merge_Parser", "Regex_Parser"):
        with pytest.raises(PluginConfigError) as caught:
            make_filter(**{option: "no-such-parser"})
        assert caught.value.option == option.lower()


def test_a_tag_that_does_not_match_is_warned_about_once(make_filter: FilterFactory, run, caplog) -> None:
    run(run_filter(make_filter(), chunk_of("a\n", tag="kube.other"), chunk_of("b\n", tag="kube.other")))
    assert caplog.text.count("invalid pattern for given tag kube.other") == 1


def test_preloaded_metadata_files_are_used_before_the_api(
    make_filter: FilterFactory, api: KubeApiServer, tmp_path: Path, run
) -> None:
    preload = tmp_path / "preload"
    preload.mkdir()
    pod = app_pod(labels={"from": "file"})
    (preload / "shop_app-7d4b9c.meta").write_text(json.dumps(pod))
    (out,) = run(run_filter(make_filter(Kube_Meta_Preload_Cache_Dir=str(preload)), chunk_of("x\n")))
    assert out.records[0]["kubernetes"]["labels"] == {"from": "file"}
    assert pod_requests(api) == []


def test_preloaded_metadata_files_are_read_off_the_event_loop(
    make_filter: FilterFactory, api: KubeApiServer, tmp_path: Path, run, monkeypatch
) -> None:
    preload = tmp_path / "preload"
    preload.mkdir()
    (preload / "shop_app-7d4b9c.meta").write_text(json.dumps(app_pod(labels={"from": "file"})))
    readers: list[int] = []
    read = KubernetesFilter._read_preloaded

    def noted_read(path: str) -> bytes | None:
        readers.append(threading.get_ident())
        return read(path)

    monkeypatch.setattr(KubernetesFilter, "_read_preloaded", staticmethod(noted_read))

    async def scenario() -> int:
        (out,) = await run_filter(make_filter(Kube_Meta_Preload_Cache_Dir=str(preload)), chunk_of("x\n"))
        assert out.records[0]["kubernetes"]["labels"] == {"from": "file"}
        return threading.get_ident()

    loop_thread = run(scenario())
    assert readers and loop_thread not in readers


def test_in_a_pod_the_start_checks_connectivity_with_its_own_pod_in_the_background(
    make_filter: FilterFactory, api: KubeApiServer, tmp_path: Path, run, monkeypatch, caplog
) -> None:
    caplog.set_level("INFO", logger="flb_fast")
    namespace_file = tmp_path / "namespace"
    namespace_file.write_text("shop")
    monkeypatch.setenv("HOSTNAME", "app-7d4b9c")
    flt = make_filter(Kube_Namespace_File=str(namespace_file))

    async def scenario() -> None:
        await flt.start()
        try:
            await until(lambda: "connectivity OK" in caplog.text)
        finally:
            await flt.stop()

    run(scenario())
    assert pod_requests(api) == ["/api/v1/namespaces/shop/pods/app-7d4b9c"]


def test_a_pod_answer_of_the_wrong_shape_is_a_counted_error_not_a_crash(
    make_filter: FilterFactory, api: KubeApiServer, run
) -> None:
    with api.state.lock:
        api.state.pods[("shop", "app-7d4b9c")] = {"kind": "Pod", "metadata": "not a map", "spec": [1, 2]}
    flt = make_filter(Merge_Log="On")
    (out,) = run(run_filter(flt, chunk_of(JSON_LOG)))
    assert "kubernetes" not in out.records[0]
    assert out.records[0]["level"] == "info"
    assert flt.ctx.metrics["kube_api_errors"] == 1


def test_a_missing_namespace_leaves_out_only_kubernetes_namespace(
    make_filter: FilterFactory, api: KubeApiServer, run
) -> None:
    with api.state.lock:
        api.state.namespaces.clear()
    (out,) = run(run_filter(make_filter(Namespace_Labels="On"), chunk_of("x\n")))
    assert out.records == [{"log": "x\n", "stream": "stdout", "time": DOCKER_TIME, "kubernetes": app_kubernetes()}]


def test_requests_for_many_pods_share_a_few_connections(make_filter: FilterFactory, api: KubeApiServer, run) -> None:
    for i in range(10):
        api.add_pod(
            make_pod(f"job-{i}", "shop", uid=f"u{i}", node="n1", containers=[Container("job", "job:1", "sha256:1")])
        )
    chunks = [chunk_of("x\n", tag=f"kube.var.log.containers.job-{i}_shop_job-{'a' * 64}.log") for i in range(10)]
    outs = run(run_filter(make_filter(), *chunks))
    assert [out.records[0]["kubernetes"]["pod_id"] for out in outs] == [f"u{i}" for i in range(10)]
    assert len(pod_requests(api)) == 10
    assert api.connection_count() == 1


@pytest.mark.parametrize(("retries", "tries_again"), [("1", 0), ("3", 2)])
def test_an_unresolved_api_host_is_retried_in_the_background_and_not_waited_for_after_the_last_try(
    make_filter: FilterFactory, run, caplog: pytest.LogCaptureFixture, retries: str, tries_again: int
) -> None:
    """Fluent Bit logs "Wait 30 secs until DNS starts up" and holds start-up; the pipeline runs
    meanwhile here, so the log says so, and never announces a wait after the last attempt."""
    flt = make_filter(Kube_URL="https://no-such-host.invalid:443", DNS_Retries=retries, DNS_Wait_Time="0")

    def messages() -> list[str]:
        return [record.getMessage() for record in caplog.records]

    async def scenario() -> None:
        await flt.start()
        try:
            await until(lambda: any("could not resolve" in message for message in messages()))
        finally:
            await flt.stop()

    with caplog.at_level("INFO", logger="flb_fast"):
        run(scenario())
    retried = [m for m in messages() if "not resolved yet" in m]
    assert retried == [
        f"host: no-such-host.invalid not resolved yet ({n}/{retries}): trying again in 0 secs; records flow meanwhile"
        for n in range(1, tries_again + 1)
    ]
    assert [m for m in messages() if "could not resolve" in m] == [
        f"could not resolve no-such-host.invalid ({retries}/{retries}): metadata lookups will keep trying it"
    ]
    assert not [m for m in messages() if "Wait" in m]
