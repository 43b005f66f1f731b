"""A small HTTP/1.1 server on the agent's loop for the monitoring endpoints.

Monitoring is a handful of GETs from Prometheus or a kubelet probe; an asyncio server
answering one request per connection is all it needs, with no extra dependency.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import TYPE_CHECKING

from flb_fast.hostnames import loop_host
from flb_fast.http_server import routes
from flb_fast.log import component_logger
from flb_fast.tasks import cancel_and_wait

if TYPE_CHECKING:
    from flb_fast.engine.engine import Engine
    from flb_fast.runner import Runner

# A request line and headers larger than this are refused (a monitoring GET is tiny).
MAX_REQUEST_BYTES = 16384
# Seconds a client has to send its request before the connection is dropped.
REQUEST_TIMEOUT_SECONDS = 10.0

_REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed", 500: "Internal Server Error"}


class MonitoringServer:
    """``HTTP_Listen:HTTP_Port`` serving ``/``, ``/api/v1/uptime``, ``/api/v1/metrics[/prometheus]``,
    ``/api/v1/storage`` (``storage.metrics On``), ``/api/v1/health`` (``Health_Check On``),
    ``/api/v2/metrics[/prometheus]`` and ``/api/v2/reload``.

    It belongs to the runner and outlives hot reloads: every answer is about the engine running now.
    """

    def __init__(self, runner: Runner) -> None:
        service = runner.engine.pipeline.service
        self.runner = runner
        self.host = service.http_listen
        self.port = service.http_port
        self.health: routes.HealthWindow | None = None
        if service.health_check:
            self.health = routes.HealthWindow(float(service.hc_period), service.hc_errors_count,
                                              service.hc_retry_failure_count)
        self.log = component_logger("http_server")
        self._server: asyncio.base_events.Server | None = None
        self._sampler: asyncio.Task[None] | None = None

    @property
    def bound_port(self) -> int:
        """The port actually listened on (differs from HTTP_Port when that is 0)."""
        assert self._server is not None
        return self._server.sockets[0].getsockname()[1]

    async def start(self) -> None:
        # A list: the loops take a bytes host only within a list of hosts ('' means every interface).
        listen = [loop_host(self.host)] if self.host else self.host
        self._server = await asyncio.start_server(self._handle, listen, self.port, limit=MAX_REQUEST_BYTES)
        if self.health is not None:
            self._sampler = asyncio.get_running_loop().create_task(self._sample_health())
        self.log.info("listen iface=%s tcp_port=%d", self.host, self.bound_port)

    async def stop(self) -> None:
        await cancel_and_wait(self._sampler)
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    @property
    def engine(self) -> Engine:
        return self.runner.engine

    async def _sample_health(self) -> None:
        assert self.health is not None
        while True:
            self.health.sample(time.time(), self.engine.pipeline.metrics.snapshot())
            await asyncio.sleep(routes.HEALTH_SAMPLE_SECONDS)

    def route(self, method: str, path: str) -> routes.Response:
        """The response for one request (also what tests call directly)."""
        path = path.split("?", 1)[0]
        if path == "/api/v2/reload":
            if method in ("POST", "PUT"):
                return routes.json_response(self.runner.request_reload())
            return routes.json_response({"hot_reload_count": self.runner.reload_count})
        if method not in ("GET", "HEAD"):
            return routes.Response(405, "text/plain", b"method not allowed\n")
        now = time.time()
        start = self.runner.start_time
        if path == "/":
            return routes.root()
        if path == "/api/v1/uptime":
            return routes.uptime(now, start)
        if path == "/api/v1/metrics":
            return routes.metrics_json(self.engine.pipeline.metrics.snapshot())
        if path == "/api/v1/metrics/prometheus":
            return routes.metrics_prometheus(self.engine.pipeline.metrics.snapshot(), now, start)
        if path == "/api/v1/storage" and self.engine.pipeline.service.storage_metrics:
            return routes.storage(self.engine.store.usage())
        if path == "/api/v1/health" and self.health is not None:
            return self.health.response(now, self.engine.pipeline.metrics.snapshot())
        if path in ("/api/v2/metrics", "/api/v2/metrics/prometheus"):
            # Imported on the first such request: most agents are never asked for the v2 metrics.
            from flb_fast.http_server import metrics_v2

            families = metrics_v2.collect(self.runner, now)
            if path == "/api/v2/metrics":
                return routes.Response(200, "text/plain", metrics_v2.text(families, now).encode())
            return routes.Response(200, routes.PROMETHEUS_CONTENT_TYPE, metrics_v2.prometheus(families).encode())
        # Fluent Bit's HTTP server (monkey) serves "/" for every path it has no route for, so
        # /api/v1/health without Health_Check answers 200: a liveness probe written against
        # Fluent Bit must pass here too.
        return routes.root()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            async with asyncio.timeout(REQUEST_TIMEOUT_SECONDS):
                head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, ConnectionError):
            writer.close()
            return
        try:
            method, target, _ = head.split(b"\r\n", 1)[0].decode("latin-1").split(" ", 2)
            response = self.route(method, target)
        except ValueError:
            method, response = "GET", routes.Response(400, "text/plain", b"bad request\n")
        except Exception:
            self.log.exception("request failed")
            method, response = "GET", routes.Response(500, "text/plain", b"internal error\n")
        header = (f"HTTP/1.1 {response.status} {_REASONS.get(response.status, '')}\r\n"
                  f"Content-Type: {response.content_type}\r\n"
                  f"Content-Length: {len(response.body)}\r\n"
                  "Connection: close\r\n\r\n").encode("latin-1")
        try:
            writer.write(header if method == "HEAD" else header + response.body)
            await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()
