"""Watch mode (ours, ``Watch_Pods On``): one list + watch of this node's pods per agent.

Instead of one GET per new pod, the agent lists the pods of its node once
(``fieldSelector=spec.nodeName=<node>``, ``resourceVersion=0`` so the API server answers
from its cache) and then follows changes on one long-lived watch, resuming from the last
``resourceVersion`` it saw. While the watch is broken the filter falls back to GETs; a
``410 Gone`` (history compacted) means a fresh list.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from contextlib import aclosing
from typing import Any
from urllib.parse import quote, urlencode

import msgspec

from flb_fast.filters.kubernetes.api import ApiError, HttpClient
from flb_fast.filters.kubernetes.meta import Pod, PodKey, PodList, Status, WatchEvent, pod_key
from flb_fast.tasks import cancel_and_wait

# The server ends each watch after this long; we then resume from the last resourceVersion.
WATCH_TIMEOUT_SECONDS = 300
# No byte at all (not even a bookmark) for this long means the connection is dead.
WATCH_IDLE_SECONDS = WATCH_TIMEOUT_SECONDS + 60
# Reconnect backoff after a failure: doubles from the first value up to the cap.
RETRY_FIRST_SECONDS = 0.5
RETRY_CAP_SECONDS = 30.0
# A deleted pod's metadata still serves its last lines (tail reads them after the delete).
DELETED_POD_GRACE_SECONDS = 120.0

_decode_event = msgspec.json.Decoder(WatchEvent).decode
_decode_pod = msgspec.json.Decoder(Pod).decode
_decode_list = msgspec.json.Decoder(PodList).decode
_decode_status = msgspec.json.Decoder(Status).decode


class PodWatcher:
    """This node's pods, kept current by a watch; ``get`` answers only while in sync."""

    def __init__(
        self,
        client: HttpClient,
        node_name: str,
        log: Any,
        metrics: Any,
        on_change: Callable[[PodKey], None],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.node_name = node_name
        self.log = log
        self.metrics = metrics
        self.on_change = on_change
        self.clock = clock
        self.synced = False
        self.resource_version: str | None = None
        self._pods: dict[PodKey, Pod] = {}
        self._deleted: dict[PodKey, tuple[Pod, float]] = {}
        self._task: asyncio.Task | None = None

    def get(self, key: PodKey) -> Pod | None:
        if not self.synced:
            return None
        pod = self._pods.get(key)
        if pod is not None:
            return pod
        gone = self._deleted.get(key)
        if gone is not None:
            if gone[1] > self.clock():
                return gone[0]
            del self._deleted[key]
        return None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        await cancel_and_wait(self._task)
        self._task = None

    def _path(self, **params: str) -> str:
        query = {"fieldSelector": f"spec.nodeName={self.node_name}", **params}
        return "/api/v1/pods?" + urlencode(query, quote_via=quote)

    async def _run(self) -> None:
        delay = RETRY_FIRST_SECONDS
        while True:
            try:
                if self.resource_version is None:
                    await self._list()
                await self._watch()
                delay = RETRY_FIRST_SECONDS
            except asyncio.CancelledError:
                raise
            except (ApiError, OSError, ValueError, msgspec.DecodeError, asyncio.IncompleteReadError) as exc:
                self.synced = False
                self.metrics.inc("kube_watch_errors")
                self.log.warning("pod watch broken (%s); falling back to GETs, retrying in %.1fs", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, RETRY_CAP_SECONDS)

    async def _list(self) -> None:
        self.metrics.inc("kube_api_requests")
        pods = _decode_list(await self.client.get(self._path(resourceVersion="0")))
        fresh = {pod_key(pod): pod for pod in pods.items}
        changed = set(self._pods) | set(fresh)
        self._pods = fresh
        self.resource_version = pods.metadata.resourceVersion
        self.synced = True
        for key in changed:
            self.on_change(key)
        self.log.info("pod watch: %d pods on node %s", len(fresh), self.node_name)

    async def _watch(self) -> None:
        self.metrics.inc("kube_api_requests")
        path = self._path(
            watch="1",
            resourceVersion=self.resource_version or "",
            allowWatchBookmarks="true",
            timeoutSeconds=str(WATCH_TIMEOUT_SECONDS),
        )
        async with aclosing(self.client.stream(path, WATCH_IDLE_SECONDS, self._opened)) as lines:
            async for line in lines:
                self._apply(line)
                if self.resource_version is None:
                    return

    def _opened(self) -> None:
        self.synced = True

    def _apply(self, line: bytes) -> None:
        """One watch event; an expired resourceVersion clears ours so that we list again."""
        event = _decode_event(line)
        if event.type == "ERROR":
            status = _decode_status(event.object)
            if status.code == 410:
                self.log.info("pod watch: resourceVersion expired, listing again")
                self.resource_version = None
                return
            raise ApiError(f"watch error {status.code}: {status.message}", status.code)
        pod = _decode_pod(event.object)
        if pod.metadata.resourceVersion:
            self.resource_version = pod.metadata.resourceVersion
        if event.type == "BOOKMARK":
            return
        key = pod_key(pod)
        now = self.clock()
        if event.type == "DELETED":
            self._pods.pop(key, None)
            self._deleted = {k: v for k, v in self._deleted.items() if v[1] > now}
            self._deleted[key] = (pod, now + DELETED_POD_GRACE_SECONDS)
        else:
            self._pods[key] = pod
            self._deleted.pop(key, None)
        self.on_change(key)
