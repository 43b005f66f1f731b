"""The API objects the filter reads, and the ``kubernetes`` map built from them.

Pods are decoded with msgspec into structs that hold only the fields Fluent Bit reads
(``kube_meta.c merge_pod_meta``): a 30 KB pod spec becomes a few hundred bytes, and the
decode skips everything else. Labels and annotations stay plain dicts in API order, since
Fluent Bit copies them verbatim.
"""

from __future__ import annotations

from typing import Any

import msgspec
from msgspec import Struct

from flb_fast.filters.kubernetes.tag import TagMeta

ANNOTATION_PREFIX = "fluentbit.io/"


class ObjectMeta(msgspec.Struct):
    name: str = ""
    namespace: str = ""
    uid: str | None = None
    resourceVersion: str | None = None
    labels: dict[str, Any] | None = None
    annotations: dict[str, Any] | None = None
    ownerReferences: list[dict[str, Any]] | None = None


class ContainerStatus(msgspec.Struct):
    name: str = ""
    containerID: str | None = None
    imageID: str | None = None
    image: str | None = None


class PodSpec(msgspec.Struct):
    nodeName: str | None = None


class PodStatus(msgspec.Struct):
    podIP: str | None = None
    initContainerStatuses: list[ContainerStatus] | None = None
    containerStatuses: list[ContainerStatus] | None = None


class Pod(msgspec.Struct):
    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    spec: PodSpec = msgspec.field(default_factory=PodSpec)
    status: PodStatus = msgspec.field(default_factory=PodStatus)


PodKey = tuple[str, str]


def pod_key(pod: Pod) -> PodKey:
    """(namespace, name): how pods are found, as a tag names them."""
    return (pod.metadata.namespace, pod.metadata.name)


class ListMeta(msgspec.Struct):
    resourceVersion: str | None = None


class PodList(msgspec.Struct):
    metadata: ListMeta = msgspec.field(default_factory=ListMeta)
    items: list[Pod] = msgspec.field(default_factory=list)


class Namespace(msgspec.Struct):
    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)


class Status(msgspec.Struct):
    """The API's error object (``kind: Status``), e.g. inside a watch ``ERROR`` event."""

    code: int = 0
    reason: str = ""
    message: str = ""


class WatchEvent(msgspec.Struct):
    type: str
    object: msgspec.Raw


class Props(Struct, frozen=True):
    """What a pod's ``fluentbit.io/*`` annotations ask of its records (``struct flb_kube_props``)."""

    stdout_parser: str | None = None
    stderr_parser: str | None = None
    stdout_exclude: bool = False
    stderr_exclude: bool = False


NO_PROPS = Props()


def extract_hash(value: str | None) -> str | None:
    """``kube_meta.c extract_hash``: what follows ``<scheme>://`` or, without slashes, the whole value.

    ``docker://4f1c...`` -> ``4f1c...``; ``docker-pullable://nginx@sha256:ab..`` -> ``nginx@sha256:ab..``;
    ``sha256:ab..`` -> ``sha256:ab..``.
    """
    if not value or len(value) <= 1:
        return None
    colon = value.find(":")
    if colon < 0:
        return None
    end = colon
    while end + 1 < len(value) and value[end + 1] == "/":
        end += 1
    if end == colon:
        return value
    rest = value[end + 1 :]
    return rest or None


def _container_status(pod: Pod, container_name: str | None) -> ContainerStatus | None:
    for statuses in (pod.status.initContainerStatuses, pod.status.containerStatuses):
        for status in statuses or ():
            if status.name == container_name:
                return status
    return None


class PodView(Struct, frozen=True):
    """Which optional parts of the pod go into the record (Labels, Annotations, Owner_References)."""

    labels: bool = True
    annotations: bool = True
    owner_references: bool = False


def pod_map(tag: TagMeta, pod: Pod, view: PodView) -> dict[str, Any]:
    """The ``kubernetes`` map, keys in ``merge_pod_meta``'s order.

    Identity fields come from the tag (as Fluent Bit does); container id, image hash and
    image come from the pod's container status when the tag did not carry them.
    """
    meta = pod.metadata
    out: dict[str, Any] = {}
    if tag.pod_name is not None:
        out["pod_name"] = tag.pod_name
    if tag.namespace_name is not None:
        out["namespace_name"] = tag.namespace_name
    if meta.uid is not None:
        out["pod_id"] = meta.uid
    if meta.labels is not None and view.labels:
        out["labels"] = meta.labels
    if meta.annotations is not None and view.annotations:
        out["annotations"] = meta.annotations
    if meta.ownerReferences is not None and view.owner_references:
        out["ownerReferences"] = meta.ownerReferences
    if pod.spec.nodeName is not None:
        out["host"] = pod.spec.nodeName
    if pod.status.podIP is not None:
        out["pod_ip"] = pod.status.podIP
    docker_id, container_hash, container_image = tag.docker_id, tag.container_hash, None
    status = _container_status(pod, tag.container_name)
    if status is not None:
        docker_id = docker_id or extract_hash(status.containerID)
        container_hash = container_hash or extract_hash(status.imageID)
        container_image = status.image or None
    if tag.container_name is not None:
        out["container_name"] = tag.container_name
    if docker_id is not None:
        out["docker_id"] = docker_id
    if container_hash is not None:
        out["container_hash"] = container_hash
    if container_image is not None:
        out["container_image"] = container_image
    return out


def tag_map(tag: TagMeta) -> dict[str, Any]:
    """``merge_meta_from_tag`` (Use_Tag_For_Meta): only what the tag says, no API call."""
    out: dict[str, Any] = {}
    for key, value in (
        ("pod_name", tag.pod_name),
        ("namespace_name", tag.namespace_name),
        ("container_name", tag.container_name),
        ("docker_id", tag.docker_id),
    ):
        if value is not None:
            out[key] = value
    return out


def namespace_map(name: str, namespace: Namespace, labels: bool, annotations: bool) -> dict[str, Any]:
    """``kubernetes_namespace``: ``name``, then the namespace's labels and annotations when asked for."""
    out: dict[str, Any] = {"name": name}
    if labels and namespace.metadata.labels is not None:
        out["labels"] = namespace.metadata.labels
    if annotations and namespace.metadata.annotations is not None:
        out["annotations"] = namespace.metadata.annotations
    return out
