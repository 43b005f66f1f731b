"""The kubernetes map from a pod, in Fluent Bit's key order."""

from __future__ import annotations

import msgspec
import pytest

from flb_fast.filters.kubernetes.meta import Pod, PodView, extract_hash, pod_map
from flb_fast.filters.kubernetes.tag import TagMeta
from tests.fakes.kube_api_server import Container, make_pod

ID = "ab" * 32


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("docker://" + ID, ID),
        ("containerd://" + ID, ID),
        ("docker-pullable://nginx@sha256:" + ID, "nginx@sha256:" + ID),
        ("sha256:" + ID, "sha256:" + ID),
        ("docker.io/library/nginx@sha256:" + ID, "docker.io/library/nginx@sha256:" + ID),
        ("no-colon", None),
        ("x", None),
        ("", None),
        (None, None),
    ],
)
def test_extract_hash(value, expected) -> None:
    assert extract_hash(value) == expected


def pod(**kw) -> Pod:
    return msgspec.json.decode(
        msgspec.json.encode(
            make_pod(
                "p",
                "ns",
                uid="u",
                node="n",
                containers=[
                    Container("init", "busybox", "sha256:1", "docker://" + "1" * 64),
                    Container("app", "app:2", "docker-pullable://app@sha256:2"),
                ],
                **kw,
            )
        ),
        type=Pod,
    )


def test_the_container_status_fills_what_the_tag_lacks() -> None:
    kube = pod_map(TagMeta("p", "ns", "app", None), pod(labels={"a": "b"}), PodView())
    assert list(kube.items()) == [
        ("pod_name", "p"),
        ("namespace_name", "ns"),
        ("pod_id", "u"),
        ("labels", {"a": "b"}),
        ("host", "n"),
        ("pod_ip", "10.0.0.7"),
        ("container_name", "app"),
        ("container_hash", "app@sha256:2"),
        ("container_image", "app:2"),
    ]


def test_the_tag_docker_id_wins_over_the_status() -> None:
    kube = pod_map(TagMeta("p", "ns", "init", ID), pod(), PodView())
    assert kube["docker_id"] == ID


def test_a_container_without_status_gets_only_tag_fields() -> None:
    kube = pod_map(TagMeta("p", "ns", "gone", ID), pod(), PodView())
    assert list(kube) == ["pod_name", "namespace_name", "pod_id", "host", "pod_ip", "container_name", "docker_id"]


def test_pod_ip_follows_host() -> None:
    """Fluent Bit 4.2 adds status.podIP as pod_ip right after host (recorded: kube_metadata)."""
    kube = pod_map(TagMeta("p", "ns", "app", None), pod(pod_ip="10.1.2.3"), PodView())
    assert list(kube)[3:5] == ["host", "pod_ip"]
    assert kube["pod_ip"] == "10.1.2.3"


def test_a_pod_without_an_ip_has_no_pod_ip() -> None:
    """A pending pod has no status.podIP: the key is left out (recorded: kube_no_pod_ip)."""
    assert "pod_ip" not in pod_map(TagMeta("p", "ns", "app", None), pod(pod_ip=None), PodView())
