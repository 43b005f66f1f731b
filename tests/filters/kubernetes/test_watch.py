"""Watch_Pods: one list + one watch of this node's pods instead of a GET per pod."""

from __future__ import annotations

import pytest

from flb_fast.filters.kubernetes import KubernetesFilter, watch
from tests.fakes.kube_api_server import Container, KubeApiServer, make_pod
from tests.filters.kubernetes.conftest import FilterFactory, app_kubernetes, chunk_of
from tests.waiting import until

NODE = "ip-10-0-1-23.ec2.internal"
BATCH_TAG = "kube.var.log.containers.batch-1_shop_job-" + "b" * 64 + ".log"


def batch_pod(labels: dict[str, str] | None = None, node: str = NODE) -> dict:
    return make_pod(
        "batch-1",
        "shop",
        uid="u-batch",
        node=node,
        containers=[Container("job", "job:1", "sha256:" + "9" * 64, "containerd://" + "b" * 64)],
        labels=labels,
    )


def gets(api: KubeApiServer) -> list[str]:
    return [r.path for r in api.requests("/api/v1/namespaces/")]


async def started(flt: KubernetesFilter, api: KubeApiServer) -> None:
    await flt.start()
    await until(lambda: flt._watcher.synced and api.watch_count() == 1)  # type: ignore[union-attr]


def test_pods_of_the_node_are_listed_and_watched_with_a_field_selector(
    make_filter: FilterFactory, api: KubeApiServer, run
) -> None:
    flt = make_filter(Watch_Pods="On", Node_Name=NODE)

    async def scenario():
        await started(flt, api)
        try:
            return await flt.filter(chunk_of("a\n"))
        finally:
            await flt.stop()

    out = run(scenario())
    assert out.records[0]["kubernetes"] == app_kubernetes()
    assert gets(api) == []
    listing, watching = api.requests("/api/v1/pods")
    assert listing.query == {"fieldSelector": [f"spec.nodeName={NODE}"], "resourceVersion": ["0"]}
    assert watching.query["watch"] == ["1"]
    assert watching.query["fieldSelector"] == [f"spec.nodeName={NODE}"]
    assert watching.query["resourceVersion"] == ["101"]


def test_added_and_modified_pods_arrive_through_the_watch(make_filter: FilterFactory, api: KubeApiServer, run) -> None:
    flt = make_filter(Watch_Pods="On", Node_Name=NODE)

    async def scenario():
        await started(flt, api)
        try:
            api.add_pod(batch_pod(labels={"v": "1"}))
            await until(lambda: flt._watcher.get(("shop", "batch-1")) is not None)  # type: ignore[union-attr]
            added = await flt.filter(chunk_of("a\n", tag=BATCH_TAG))
            api.update_pod(batch_pod(labels={"v": "2"}))
            await until(lambda: flt._watcher.get(("shop", "batch-1")).metadata.labels == {"v": "2"})  # type: ignore[union-attr]
            modified = await flt.filter(chunk_of("b\n", tag=BATCH_TAG))
            return added, modified
        finally:
            await flt.stop()

    added, modified = run(scenario())
    assert added.records[0]["kubernetes"] == {
        "pod_name": "batch-1",
        "namespace_name": "shop",
        "pod_id": "u-batch",
        "labels": {"v": "1"},
        "host": NODE,
        "pod_ip": "10.0.0.7",
        "container_name": "job",
        "docker_id": "b" * 64,
        "container_hash": "sha256:" + "9" * 64,
        "container_image": "job:1",
    }
    assert modified.records[0]["kubernetes"]["labels"] == {"v": "2"}
    assert gets(api) == []


def test_a_deleted_pod_serves_late_lines_then_is_forgotten(
    make_filter: FilterFactory, api: KubeApiServer, run, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(watch, "DELETED_POD_GRACE_SECONDS", 0.3)
    flt = make_filter(Watch_Pods="On", Node_Name=NODE)

    async def scenario():
        await started(flt, api)
        try:
            api.delete_pod("shop", "app-7d4b9c")
            await until(lambda: ("shop", "app-7d4b9c") not in flt._watcher._pods)  # type: ignore[union-attr]
            late = await flt.filter(chunk_of("late line\n"))
            await until(lambda: flt._watcher.get(("shop", "app-7d4b9c")) is None)  # type: ignore[union-attr]
            gone = await flt.filter(chunk_of("after\n"))
            return late, gone
        finally:
            await flt.stop()

    late, gone = run(scenario())
    assert late.records[0]["kubernetes"] == app_kubernetes()
    assert "kubernetes" not in gone.records[0]
    assert gets(api) == ["/api/v1/namespaces/shop/pods/app-7d4b9c"]


def test_a_broken_watch_falls_back_to_gets_and_resumes_from_the_last_version(
    make_filter: FilterFactory, api: KubeApiServer, run
) -> None:
    flt = make_filter(Watch_Pods="On", Node_Name=NODE)

    async def scenario():
        await started(flt, api)
        try:
            api.add_pod(batch_pod())
            await until(lambda: flt._watcher.get(("shop", "batch-1")) is not None)  # type: ignore[union-attr]
            api.set_watch_error(500)
            api.break_watches()
            await until(lambda: not flt._watcher.synced)  # type: ignore[union-attr]
            while_broken = await flt.filter(chunk_of("a\n", tag=BATCH_TAG))
            api.set_watch_error(None)
            await until(lambda: flt._watcher.synced and api.watch_count() == 1)  # type: ignore[union-attr]
            return while_broken
        finally:
            await flt.stop()

    while_broken = run(scenario())
    assert while_broken.records[0]["kubernetes"]["pod_id"] == "u-batch"
    assert gets(api) == ["/api/v1/namespaces/shop/pods/batch-1"]
    watches = [r for r in api.requests("/api/v1/pods") if r.query.get("watch")]
    assert watches[0].query["resourceVersion"] == ["101"]
    assert watches[-1].query["resourceVersion"] == ["102"]
    assert len([r for r in api.requests("/api/v1/pods") if not r.query.get("watch")]) == 1


def test_an_expired_resource_version_lists_again(make_filter: FilterFactory, api: KubeApiServer, run) -> None:
    flt = make_filter(Watch_Pods="On", Node_Name=NODE)

    async def scenario():
        await started(flt, api)
        try:
            api.expire_watches()
            await until(lambda: len([r for r in api.requests("/api/v1/pods") if not r.query.get("watch")]) == 2)
            await until(lambda: flt._watcher.synced and api.watch_count() == 1)  # type: ignore[union-attr]
            return await flt.filter(chunk_of("a\n"))
        finally:
            await flt.stop()

    out = run(scenario())
    assert out.records[0]["kubernetes"] == app_kubernetes()


def test_pods_of_other_nodes_are_not_listed(make_filter: FilterFactory, api: KubeApiServer, run) -> None:
    api.add_pod(batch_pod(node="another-node"))
    flt = make_filter(Watch_Pods="On", Node_Name=NODE)

    async def scenario():
        await started(flt, api)
        try:
            return flt._watcher.get(("shop", "batch-1")), flt._watcher.get(("shop", "app-7d4b9c"))  # type: ignore[union-attr]
        finally:
            await flt.stop()

    other, own = run(scenario())
    assert other is None
    assert own is not None


def test_watch_pods_needs_a_node_name(make_filter: FilterFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    from flb_fast.config.errors import PluginConfigError

    monkeypatch.delenv("NODE_NAME", raising=False)
    with pytest.raises(PluginConfigError, match="Node_Name"):
        make_filter(Watch_Pods="On")


def test_node_name_defaults_to_the_node_name_variable(
    make_filter: FilterFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NODE_NAME", NODE)
    assert make_filter(Watch_Pods="On").node_name == NODE
