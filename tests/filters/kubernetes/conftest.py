"""A fake API server over real HTTPS, and a factory for filters bound to it like the engine binds them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from flb_fast.filters.kubernetes import KubernetesFilter
from flb_fast.parsers.base import ParserRegistry
from flb_fast.record import Chunk
from tests.fakes.certs import CertFiles, make_certs
from tests.fakes.kube_api_server import Container, KubeApiServer, make_namespace, make_pod
from tests.standalone import plugin_for

TOKEN = "token-1"
DOCKER_ID = "4f1c2d3e" * 8
NGINX_ID = "9a8b7c6d" * 8
TAG = f"kube.var.log.containers.app-7d4b9c_shop_web-{DOCKER_ID}.log"
NGINX_TAG = f"kube.var.log.containers.nginx-5f6d_web_nginx-{NGINX_ID}.log"
TS = 1_700_000_000_123_456_789


@pytest.fixture(scope="session")
def certs(tmp_path_factory: pytest.TempPathFactory) -> CertFiles:
    return make_certs(tmp_path_factory.mktemp("kube-certs"))


def app_pod(**overrides: Any) -> dict:
    fields: dict[str, Any] = {
        "uid": "2f0d6a1e-6b1e-4a4c-9a57-1f2e3d4c5b6a",
        "node": "ip-10-0-1-23.ec2.internal",
        "containers": [
            Container(
                "web",
                "shop/web:1.4.2",
                "docker-pullable://shop/web@sha256:" + "c0ffee" * 10 + "abcd",
                f"docker://{DOCKER_ID}",
            ),
            Container("sidecar", "envoy:1.30", "docker-pullable://envoy@sha256:" + "be" * 32, "docker://" + "1" * 64),
        ],
        "labels": {"app": "shop", "pod-template-hash": "7d4b9c"},
        "annotations": {"prometheus.io/scrape": "true"},
        "owner": ("ReplicaSet", "app-7d4b9c"),
    }
    fields.update(overrides)
    return make_pod("app-7d4b9c", "shop", **fields)


def app_kubernetes(**overrides: Any) -> dict:
    """The ``kubernetes`` map Fluent Bit builds for TAG from app_pod(), in its key order."""
    kube = {
        "pod_name": "app-7d4b9c",
        "namespace_name": "shop",
        "pod_id": "2f0d6a1e-6b1e-4a4c-9a57-1f2e3d4c5b6a",
        "labels": {"app": "shop", "pod-template-hash": "7d4b9c"},
        "annotations": {"prometheus.io/scrape": "true"},
        "host": "ip-10-0-1-23.ec2.internal",
        "pod_ip": "10.0.0.7",
        "container_name": "web",
        "docker_id": DOCKER_ID,
        "container_hash": "shop/web@sha256:" + "c0ffee" * 10 + "abcd",
        "container_image": "shop/web:1.4.2",
    }
    kube.update(overrides)
    return {k: v for k, v in kube.items() if v is not None}


@pytest.fixture
def token_file(tmp_path: Path) -> Path:
    path = tmp_path / "token"
    path.write_text(TOKEN + "\n")
    return path


@pytest.fixture
def api(certs: CertFiles) -> Iterator[KubeApiServer]:
    with KubeApiServer(certs, TOKEN) as server:
        server.add_pod(app_pod())
        server.add_namespace(make_namespace("shop", labels={"team": "payments"}, annotations={"owner": "ana"}))
        yield server


FilterFactory = Callable[..., KubernetesFilter]


@pytest.fixture
def make_filter(api: KubeApiServer, certs: CertFiles, token_file: Path, tmp_path: Path) -> FilterFactory:
    """``make_filter(Merge_Log="On", parsers=registry)``: a filter bound to the fake API server."""

    def factory(parsers: ParserRegistry | None = None, **options: str) -> KubernetesFilter:
        props = {
            "Name": "kubernetes",
            "Match": "kube.*",
            "Kube_URL": api.url,
            "Kube_CA_File": str(certs.ca_file),
            "Kube_Token_File": str(token_file),
            "Kube_Namespace_File": str(tmp_path / "no-namespace-file"),
            "DNS_Retries": "1",
            "DNS_Wait_Time": "0",
            "Kube_Meta_Max_Wait": "20s",
        }
        props.update({key.replace("__", "."): value for key, value in options.items()})
        return plugin_for(KubernetesFilter, parsers=parsers, **props)

    return factory


def chunk_of(*logs: str | dict, tag: str = TAG, stream: str = "stdout") -> Chunk:
    """A chunk as tail + docker parser make it: {log, stream, time} per line."""
    records: list[dict[str, Any]] = []
    for log in logs:
        record = (
            log if isinstance(log, dict) else {"log": log, "stream": stream, "time": "2023-11-14T22:13:20.123456789Z"}
        )
        records.append(dict(record))
    return Chunk(tag, [TS] * len(records), records, sum(len(str(r)) for r in records), "tail.0")


async def run_filter(flt: KubernetesFilter, *chunks: Chunk) -> list[Chunk | None]:
    """start, filter each chunk in order, stop."""
    await flt.start()
    try:
        return [await flt.filter(chunk) for chunk in chunks]
    finally:
        await flt.stop()
