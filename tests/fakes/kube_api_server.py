"""A Kubernetes API server (and kubelet) for tests: real HTTPS on 127.0.0.1.

Serves Pod, PodList and Namespace JSON built with the ``kubernetes`` client's own models
(``ApiClient().sanitize_for_serialization``), so the shape is the API's. Checks the bearer
token (401 otherwise), and can be made slow, down (connections closed without an answer) or
erroring (any status). Watches (``?watch=1``) stream events pushed with ``add_pod`` /
``update_pod`` / ``delete_pod`` as chunked JSON lines, like the real thing.
"""

from __future__ import annotations

import json
import queue
import select
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from kubernetes.client import (
    ApiClient,
    V1Container,
    V1ContainerStatus,
    V1Namespace,
    V1ObjectMeta,
    V1OwnerReference,
    V1Pod,
    V1PodSpec,
    V1PodStatus,
)

from tests.fakes.certs import CertFiles

_serialize = ApiClient().sanitize_for_serialization


@dataclass
class Container:
    name: str
    image: str
    image_id: str
    container_id: str | None = None


def make_pod(
    name: str,
    namespace: str,
    *,
    uid: str,
    node: str,
    containers: list[Container],
    labels: dict[str, str] | None = None,
    annotations: dict[str, str] | None = None,
    owner: tuple[str, str] | None = None,
    resource_version: str = "1",
    pod_ip: str = "10.0.0.7",
) -> dict[str, Any]:
    """A Pod as the API server returns it (camelCase keys, absent fields left out)."""
    pod = V1Pod(
        api_version="v1",
        kind="Pod",
        metadata=V1ObjectMeta(
            name=name,
            namespace=namespace,
            uid=uid,
            resource_version=resource_version,
            labels=labels,
            annotations=annotations,
            owner_references=(
                [V1OwnerReference(api_version="apps/v1", kind=owner[0], name=owner[1], uid="0f0e", controller=True)]
                if owner
                else None
            ),
        ),
        spec=V1PodSpec(node_name=node, containers=[V1Container(name=c.name, image=c.image) for c in containers]),
        status=V1PodStatus(
            phase="Running",
            pod_ip=pod_ip,
            container_statuses=[
                V1ContainerStatus(
                    name=c.name,
                    image=c.image,
                    image_id=c.image_id,
                    container_id=c.container_id,
                    ready=True,
                    restart_count=0,
                )
                for c in containers
            ],
        ),
    )
    return _serialize(pod)


def make_namespace(name: str, labels: dict[str, str] | None = None, annotations: dict[str, str] | None = None) -> dict:
    return _serialize(
        V1Namespace(
            api_version="v1",
            kind="Namespace",
            metadata=V1ObjectMeta(name=name, uid=f"ns-{name}", labels=labels, annotations=annotations),
        )
    )


def _status(code: int, reason: str, message: str) -> dict:
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }


@dataclass
class Request:
    path: str
    query: dict[str, list[str]]
    authorization: str | None


@dataclass
class _State:
    token: str
    pods: dict[tuple[str, str], dict] = field(default_factory=dict)
    namespaces: dict[str, dict] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)
    delay_seconds: float = 0.0
    down: bool = False
    error_status: int | None = None
    watch_error_status: int | None = None
    resource_version: int = 100
    connections: int = 0
    watchers: list[queue.Queue] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet test output
        pass

    def setup(self) -> None:
        super().setup()
        # Headers and body go out as separate writes: without this, Nagle's algorithm holds the
        # body for the client's delayed ACK (40 ms per kept-alive request). Go's server sets it too.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.server.state.lock:
            self.server.state.connections += 1

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        state = self.server.state
        parts = urlsplit(self.path)
        query = parse_qs(parts.query)
        with state.lock:
            state.requests.append(Request(parts.path, query, self.headers.get("Authorization")))
            delay, down, error = state.delay_seconds, state.down, state.error_status
        if delay:
            time.sleep(delay)
        if down:
            self.close_connection = True
            return
        if self.headers.get("Authorization") != f"Bearer {state.token}":
            return self._json(401, _status(401, "Unauthorized", "Unauthorized"))
        if error is not None:
            return self._json(error, _status(error, "Error", f"injected status {error}"))
        segments = [unquote(s) for s in parts.path.strip("/").split("/")]
        if segments == ["pods"]:
            return self._json(200, self._pod_list(None))
        if segments[:3] == ["api", "v1", "pods"] and len(segments) == 3:
            node = query.get("fieldSelector", [""])[0].removeprefix("spec.nodeName=") or None
            if query.get("watch", ["0"])[0] in ("1", "true"):
                with state.lock:
                    watch_error = state.watch_error_status
                if watch_error is not None:
                    return self._json(watch_error, _status(watch_error, "Error", f"injected status {watch_error}"))
                return self._watch()
            return self._json(200, self._pod_list(node))
        if segments[:3] == ["api", "v1", "namespaces"] and len(segments) == 4:
            with state.lock:
                namespace = state.namespaces.get(segments[3])
            if namespace is None:
                return self._json(404, _status(404, "NotFound", f'namespaces "{segments[3]}" not found'))
            return self._json(200, namespace)
        if segments[:3] == ["api", "v1", "namespaces"] and len(segments) == 6 and segments[4] == "pods":
            with state.lock:
                pod = state.pods.get((segments[3], segments[5]))
            if pod is None:
                return self._json(404, _status(404, "NotFound", f'pods "{segments[5]}" not found'))
            return self._json(200, pod)
        self._json(404, _status(404, "NotFound", "the server could not find the requested resource"))

    def _pod_list(self, node: str | None) -> dict:
        state = self.server.state
        with state.lock:
            items = [p for p in state.pods.values() if node is None or p["spec"].get("nodeName") == node]
            version = str(state.resource_version)
        return {"kind": "PodList", "apiVersion": "v1", "metadata": {"resourceVersion": version}, "items": items}

    def _json(self, status: int, body: dict) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _watch(self) -> None:
        events: queue.Queue = queue.Queue()
        state = self.server.state
        with state.lock:
            state.watchers.append(events)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.wfile.flush()
        try:
            while not self.server.stopping.is_set():
                if select.select([self.connection], [], [], 0)[0]:
                    break  # the client closed its end: this watch is over
                try:
                    event = events.get(timeout=0.1)
                except queue.Empty:
                    continue
                if event is None:
                    break
                line = json.dumps(event).encode() + b"\n"
                self.wfile.write(b"%x\r\n%s\r\n" % (len(line), line))
                self.wfile.flush()
        except OSError:
            pass
        finally:
            with state.lock:
                if events in state.watchers:
                    state.watchers.remove(events)
        self.close_connection = True


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # socketserver's default listen backlog is 5: more simultaneous connects than that lose
    # their SYN and wait a second for the retransmission.
    request_queue_size = 128
    state: _State
    stopping: threading.Event


class KubeApiServer:
    """Start with ``with KubeApiServer(certs, token) as api:``; ``api.url`` is its https URL. A
    fixed ``port`` serves as a node's kubelet (``/pods`` on 10250, which a config may hard-code)."""

    def __init__(self, certs: CertFiles, token: str, port: int = 0) -> None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(certs.cert_file, certs.key_file)
        self._server = _Server(("127.0.0.1", port), _Handler)
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self._server.state = _State(token=token)
        self._server.stopping = threading.Event()
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.state = self._server.state

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def __enter__(self) -> KubeApiServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    # -- content --------------------------------------------------------------------------

    def add_namespace(self, namespace: dict) -> None:
        with self.state.lock:
            self.state.namespaces[namespace["metadata"]["name"]] = namespace

    def add_pod(self, pod: dict) -> None:
        self._change("ADDED", pod)

    def update_pod(self, pod: dict) -> None:
        self._change("MODIFIED", pod)

    def delete_pod(self, namespace: str, name: str) -> None:
        with self.state.lock:
            pod = self.state.pods[(namespace, name)]
        self._change("DELETED", pod)

    def _change(self, kind: str, pod: dict) -> None:
        with self.state.lock:
            self.state.resource_version += 1
            pod = json.loads(json.dumps(pod))
            pod["metadata"]["resourceVersion"] = str(self.state.resource_version)
            key = (pod["metadata"]["namespace"], pod["metadata"]["name"])
            if kind == "DELETED":
                self.state.pods.pop(key, None)
            else:
                self.state.pods[key] = pod
            for watcher in self.state.watchers:
                watcher.put({"type": kind, "object": pod})

    def break_watches(self) -> None:
        """End every open watch stream, as a restarting API server does."""
        with self.state.lock:
            for watcher in self.state.watchers:
                watcher.put(None)

    def expire_watches(self) -> None:
        """Send ``410 Gone`` on every open watch (the resourceVersion was compacted away)."""
        with self.state.lock:
            for watcher in self.state.watchers:
                watcher.put({"type": "ERROR", "object": _status(410, "Expired", "too old resource version")})

    # -- behaviour ------------------------------------------------------------------------

    def set_token(self, token: str) -> None:
        with self.state.lock:
            self.state.token = token

    def set_delay(self, seconds: float) -> None:
        with self.state.lock:
            self.state.delay_seconds = seconds

    def set_down(self, down: bool) -> None:
        with self.state.lock:
            self.state.down = down

    def set_error(self, status: int | None) -> None:
        with self.state.lock:
            self.state.error_status = status

    def set_watch_error(self, status: int | None) -> None:
        """Answer watch requests (only them) with ``status``."""
        with self.state.lock:
            self.state.watch_error_status = status

    def requests(self, path_prefix: str = "") -> list[Request]:
        with self.state.lock:
            return [r for r in self.state.requests if r.path.startswith(path_prefix)]

    def connection_count(self) -> int:
        """TLS connections accepted so far (keep-alive reuses them)."""
        with self.state.lock:
            return self.state.connections

    def watch_count(self) -> int:
        with self.state.lock:
            return len(self.state.watchers)
