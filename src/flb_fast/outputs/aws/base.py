"""What the AWS outputs share at run time: the client, the executor, the backoff gate,
per-chunk progress and the mapping of AWS errors to flush results.
"""

from __future__ import annotations

import asyncio
import functools
import json
from collections.abc import Callable
from typing import Any, ClassVar

from flb_fast.config.errors import PluginConfigError
from flb_fast.engine.executors import BoundedExecutor
from flb_fast.outputs.aws.backoff import OutputBackoff
from flb_fast.outputs.aws.errors import THROTTLE_CODES, Outcome, classify, describe, error_code, is_network_error
from flb_fast.outputs.base import FlushResult, Output
from flb_fast.plugin import PluginContext
from flb_fast.record import Chunk
from flb_fast.tls import CAError

# Flushes of one worker that run at once, each on a kept-alive connection of its own, when
# ``net.max_worker_connections`` is 0. Fluent Bit runs every flush of kinesis_firehose,
# kinesis_streams and cloudwatch_logs (``.flags = 0``: no FLB_OUTPUT_NO_MULTIPLEX) as a coroutine of
# a worker, on a connection of the worker's upstream pool (flb_engine_dispatch.c,
# flb_upstream.c ``flb_upstream_conn_get``); what bounds them is the engine's task map,
# FLB_CONFIG_DEFAULT_TASK_MAP_SIZE tasks (include/fluent-bit/flb_config.h), and, before it, the
# chunks the inputs' Mem_Buf_Limit lets exist. Here each flush in flight also holds its encoded
# request bodies and TLS buffers (outside Mem_Buf_Limit), so without a limit of the user's we run
# two per worker: into Firehose on moto over kept-alive TLS (bench_pipeline, firehose-keepalive,
# 200,000 lines, flb-fast alone) one flush gave 4,781 lines/s at 57.5 MiB, two 9,747 at 61.9,
# four 12,972 at 68.3, eight 14,612 at 78.7 and 2048 14,550 at 88.5: two already send about twice
# Fluent Bit's lines/s (about 5,000 on that run) for a tenth of the memory the rest would cost.
MAX_FLUSHES_PER_WORKER = 2


class AwsOutput(Output):
    """Base of the AWS outputs. Subclasses set ``SERVICE`` (boto3's service name).

    Blocking boto3 calls run in a ``BoundedExecutor`` sized by ``Workers``, so at most that many
    requests are in flight, one client (one connection pool) serves them all, and the loop never
    blocks on the network. Services speaking AWS's JSON protocol (``JSON_PROTOCOL``) are called
    on the loop instead (``outputs/aws/http.py``), with botocore's credential chain, signed as its
    signer signs, and no botocore client unless botocore must resolve the endpoint or reach it through a proxy.
    Their flushes run as Fluent Bit runs them: several per worker at once, each on a kept-alive
    connection of its own, at most ``net.max_worker_connections`` per worker when it is set
    (``MAX_FLUSHES_PER_WORKER``, 2, otherwise, where Fluent Bit has no limit but its task map's).
    Fluent Bit fails a flush that finds the worker's
    connections all taken, and retries it later; here it waits for one.
    """

    SERVICE: ClassVar[str]
    JSON_PROTOCOL: ClassVar[bool] = False

    def __init__(self, ctx: PluginContext, options: Any) -> None:
        super().__init__(ctx, options)
        if not options.region:
            raise PluginConfigError("region", "'region' is a required field")
        self.workers = max(1, options.workers or self.default_workers)
        limit = options.net_max_worker_connections
        self.connections_per_worker = limit if limit > 0 else MAX_FLUSHES_PER_WORKER
        self.backoff = OutputBackoff()
        self._progress: dict[int, Any] = {}
        self._executor: BoundedExecutor | None = None
        self._client: Any = None
        self._api: Any = None
        self._calls_in_progress = 0
        self._client_lock = asyncio.Lock()
        # (option, message) pairs the engine reports as config warnings at the option's file:line.
        self.config_warnings: list[tuple[str, str]] = []
        if options.tls and not options.tls_verify:
            self.config_warnings.append(
                ("tls.verify", "tls.verify is off: the service's TLS certificate is not verified")
            )

    def concurrent_flushes(self, workers: int) -> int:
        """Several flushes per worker for the JSON-protocol services (see the class docstring);
        one per worker for the calls botocore makes in the executor's threads (s3)."""
        return workers * self.connections_per_worker if self.JSON_PROTOCOL else workers

    async def start(self) -> None:
        self._executor = BoundedExecutor(self.ctx.instance, self.workers)
        try:
            await self._connect()
        except CAError:
            # tls.ca_file / tls.ca_path name what no retry will mend: the output does not start, as
            # Fluent Bit's does not ("Failed to create tls context"), and nothing will stop it.
            self._executor.shutdown()
            raise
        except Exception as exc:  # noqa: BLE001 - retried at the first flush
            self.ctx.log.error("could not create the %s client, will retry: %s", self.SERVICE, describe(exc))

    async def stop(self) -> None:
        client, self._client = self._client, None
        if self._api is not None:
            await self._api.aclose()
            self._api = None
        if client is not None:
            client.close()
        if self._executor is not None:
            self._executor.shutdown()

    def forget(self, chunk: Chunk) -> None:
        self._progress.pop(chunk.id, None)

    async def _connect(self) -> None:
        """Make, once, what the output calls its service with: the calls on the loop of a
        JSON-protocol service, or a boto3 client (botocore is imported only here)."""
        if self._client is not None or self._api is not None:
            return
        async with self._client_lock:
            if self._client is not None or self._api is not None:
                return
            if self.JSON_PROTOCOL:
                from flb_fast.outputs.aws.http import open_json_api

                self._api = await self.executor.run(open_json_api, self.SERVICE, self.options, self.executor,
                                                    self.concurrent_flushes(self.workers))
                if self._api is not None:
                    return
            from flb_fast.outputs.aws.client import create_client

            client = await self.executor.run(create_client, self.SERVICE, self.options, self.workers)
            if self.JSON_PROTOCOL:
                from flb_fast.outputs.aws.http import client_json_api, through_proxy

                # A proxy from HTTPS_PROXY / HTTP_PROXY (NO_PROXY honoured) is botocore's to use.
                if not through_proxy(client.meta.endpoint_url):
                    self._api = client_json_api(client, self.executor, self.options,
                                                self.concurrent_flushes(self.workers))
            self._client = client

    def upstream_connections(self) -> tuple[int, int]:
        """The JSON APIs' connections on the loop; s3 goes through botocore's pool, which does not
        say how many it keeps: its calls in progress are what is counted there."""
        if self._api is not None:
            return self._api.connections()
        return self._calls_in_progress, self._calls_in_progress

    @property
    def executor(self) -> BoundedExecutor:
        if self._executor is None:
            self._executor = BoundedExecutor(self.ctx.instance, self.workers)
        return self._executor

    async def call(
        self,
        method: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        decode: Callable[[bytes], dict[str, Any]] = json.loads,
        **params: Any,
    ) -> Any:
        """One API call (boto3's method name and params); a network error is retried once at once
        when ``auto_retry_requests`` is on (Fluent Bit's immediate retry). Errors propagate.

        ``body``, when given, is the request's JSON built by the output (see ``call_with_body``);
        otherwise a JSON-protocol call's body is ``params`` as botocore serialises them (in their
        order, ``json.dumps`` defaults). ``headers`` are signed with the request. ``decode`` reads the
        answer's body on the loop's calls (``JsonApi.call``); botocore's client parses it whole."""
        await self._connect()
        send: Any
        if self._api is not None:
            from flb_fast.outputs.aws.http import operation_name

            payload = body if body is not None else json.dumps(params).encode()
            send = functools.partial(self._api.call, operation_name(method), payload, headers, decode)
        else:
            from flb_fast.outputs.aws.client import call_with_body

            send = functools.partial(
                self.executor.run, call_with_body, getattr(self._client, method), body, params, headers
            )
        self._calls_in_progress += 1
        try:
            try:
                return await send()
            except Exception as exc:
                if not (self.options.auto_retry_requests and is_network_error(exc)):
                    raise
                self.ctx.log.debug("%s: network error, retrying at once: %s", method, describe(exc))
            return await send()
        finally:
            self._calls_in_progress -= 1

    def failure(self, exc: BaseException, action: str) -> FlushResult:
        """Log and count a failed call, back the whole output off when the service is busy, and
        say what the engine should do with the chunk."""
        outcome = classify(exc)
        if outcome is Outcome.BACKOFF:
            if error_code(exc) in THROTTLE_CODES:
                self.ctx.metrics.inc("throttled_requests")
            else:
                self.ctx.metrics.inc("failed_requests")
            delay = self.backoff.failed()
            self.ctx.log.warning("%s: %s; backing off all workers for %.1fs", action, describe(exc), delay)
            return FlushResult.RETRY
        self.ctx.metrics.inc("failed_requests")
        if outcome is Outcome.INVALID:
            self.ctx.log.error("%s: %s; the request cannot succeed, dropping it", action, describe(exc))
            return FlushResult.ERROR
        self.ctx.log.error("%s: %s", action, describe(exc))
        return FlushResult.RETRY

    def count_skipped(
        self, missing_log_key: int, empty: int, too_large: int = 0, refused: int = 0, refusal: str = ""
    ) -> None:
        """Count and report records not sent: without ``log_key``, empty, over the service's size,
        or (the Go plugins' names) refused by their JSON encoder, ``refusal`` saying why."""
        if missing_log_key:
            self.ctx.metrics.inc("log_key_missing_records", missing_log_key)
            self.ctx.log.error("could not find log_key '%s' in %d record(s)", self.options.log_key, missing_log_key)
        if empty:
            self.ctx.metrics.inc("empty_records", empty)
            self.ctx.log.debug("skipped %d empty log message(s)", empty)
        if too_large:
            self.ctx.metrics.inc("too_large_records", too_large)
            self.ctx.log.warning("discarded %d record(s) larger than the service allows", too_large)
        if refused:
            self.ctx.metrics.inc("unencodable_records", refused)
            self.ctx.log.error("discarded %d record(s) that cannot be written as JSON: %s", refused, refusal)

