"""The bodies of the monitoring endpoints, byte for byte as Fluent Bit's ``src/http_server/api/v1``.

Pure functions of a metrics snapshot and the clock, so tests compare exact text.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

import msgspec
from msgspec import Struct

from flb_fast import __version__

if TYPE_CHECKING:
    from flb_fast.storage.store import InputUsage

JSON_CONTENT_TYPE = "application/json"
PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4"
EDITION = "flb_fast"
# Health samples are taken this often, as Fluent Bit's metrics are pushed once a second; one taken
# for a request comes no sooner, so a window holds at most HC_Period / this many samples however
# often /api/v1/health is asked.
HEALTH_SAMPLE_SECONDS = 1.0
# Fluent Bit lists its build flags here; these are the capabilities flb_fast has.
FLAGS = ("FLB_HAVE_METRICS", "FLB_HAVE_HTTP_SERVER", "FLB_HAVE_PARSER")

Snapshot = dict[str, dict[str, dict[str, int]]]

# metrics.c metrics_help_txt: the first substring found in the sample line picks the text.
_HELP = (
    ("input_bytes", "Number of input bytes."),
    ("input_records", "Number of input records."),
    ("output_bytes", "Number of output bytes."),
    ("output_records", "Number of output records."),
    ("output_errors", "Number of output errors."),
    ("output_retries_failed", "Number of output retries failed."),
    ("output_retries", "Number of output retries."),
    ("output_proc_records", "Number of processed output records."),
    ("output_proc_bytes", "Number of processed output bytes."),
)
_DEFAULT_HELP = "Fluentbit metrics."


class Response(Struct, frozen=True):
    status: int
    content_type: str
    body: bytes


def json_response(body: object) -> Response:
    return Response(200, JSON_CONTENT_TYPE, msgspec.json.encode(body))


def root() -> Response:
    """``/``: what is answering."""
    body = {"fluent-bit": {"version": __version__, "edition": EDITION, "flags": list(FLAGS)}}
    return Response(200, JSON_CONTENT_TYPE, msgspec.json.encode(body))


def uptime(now: float, start: float) -> Response:
    """``/api/v1/uptime`` (api/v1/uptime.c), including its wording and plural rule (``> 1``)."""
    seconds = int(now) - int(start)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)

    def unit(value: int, name: str) -> str:
        return f"{value} {name}{'s' if value > 1 else ''}"

    human = (f"Fluent Bit has been running:  {unit(days, 'day')}, {unit(hours, 'hour')}, "
             f"{unit(minutes, 'minute')} and {unit(secs, 'second')}")
    return Response(200, JSON_CONTENT_TYPE, msgspec.json.encode({"uptime_sec": seconds, "uptime_hr": human}))


def metrics_json(snapshot: Snapshot) -> Response:
    """``/api/v1/metrics``: ``{"input": {name: {counter: n}}, "filter": ..., "output": ...}``."""
    return Response(200, JSON_CONTENT_TYPE, msgspec.json.encode(snapshot))


def _help_text(line: str) -> str:
    for needle, text in _HELP:
        if needle in line:
            return text
    return _DEFAULT_HELP


def metrics_prometheus(snapshot: Snapshot, now: float, start: float, version: str = __version__) -> Response:
    """``/api/v1/metrics/prometheus`` (api/v1/metrics.c ``cb_metrics_prometheus``).

    One sample line per counter, sorted as C ``strcmp`` sorts the whole lines, a HELP and
    TYPE pair before each new metric name, then uptime, start time and build info.
    """
    now_ms = int(now * 1000)
    lines = sorted(
        f'fluentbit_{kind}_{counter}_total{{name="{name}"}} {value} {now_ms}\n'
        for kind, instances in snapshot.items()
        for name, counters in instances.items()
        for counter, value in counters.items()
    )
    out: list[str] = []
    previous = None
    for line in lines:
        metric = line[: line.index("{")]
        if metric != previous:
            out.append(f"# HELP {metric} {_help_text(line)}\n# TYPE {metric} counter\n")
            previous = metric
        out.append(line)
    out.append("# HELP fluentbit_uptime Number of seconds that Fluent Bit has been running.\n"
               "# TYPE fluentbit_uptime counter\n"
               f"fluentbit_uptime {int(now) - int(start)}\n"
               "# HELP process_start_time_seconds Start time of the process since unix epoch in seconds.\n"
               "# TYPE process_start_time_seconds gauge\n"
               f"process_start_time_seconds {int(start)}\n"
               "# HELP fluentbit_build_info Build version information.\n"
               "# TYPE fluentbit_build_info gauge\n"
               f'fluentbit_build_info{{version="{version}",edition="{EDITION}"}} 1\n')
    return Response(200, PROMETHEUS_CONTENT_TYPE, "".join(out).encode())


class HealthWindow:
    """Output errors and failed retries (summed over outputs) within the last ``HC_Period`` seconds.

    Fluent Bit's rule (api/v1/health.c ``is_healthy``): unhealthy once either count exceeds
    ``HC_Errors_Count`` or ``HC_Retry_Failure_Count``, measured against the oldest sample
    of the period (samples are taken every second, and on a request a second or more after the last one).
    """

    def __init__(self, period: float, errors_limit: int, retry_failures_limit: int) -> None:
        self.period = period
        self.errors_limit = errors_limit
        self.retry_failures_limit = retry_failures_limit
        self._samples: deque[tuple[float, int, int]] = deque()

    @staticmethod
    def totals(snapshot: Snapshot) -> tuple[int, int]:
        outputs = snapshot.get("output", {}).values()
        return sum(c.get("errors", 0) for c in outputs), sum(c.get("retries_failed", 0) for c in outputs)

    def sample(self, now: float, snapshot: Snapshot) -> None:
        """Record the totals at ``now`` (unless the last sample is under HEALTH_SAMPLE_SECONDS old);
        samples older than one period (but the newest such) go."""
        if self._samples and now - self._samples[-1][0] < HEALTH_SAMPLE_SECONDS:
            return
        self._samples.append((now, *self.totals(snapshot)))
        while len(self._samples) > 1 and self._samples[1][0] <= now - self.period:
            self._samples.popleft()

    def response(self, now: float, snapshot: Snapshot) -> Response:
        self.sample(now, snapshot)
        errors, retry_failures = self.totals(snapshot)
        _, base_errors, base_failures = self._samples[0]
        healthy = (errors - base_errors <= self.errors_limit
                   and retry_failures - base_failures <= self.retry_failures_limit)
        if healthy:
            return Response(200, "text/plain", b"ok\n")
        return Response(500, "text/plain", b"error\n")


# flb_utils.c flb_utils_bytes_to_human_readable_size: binary units, one decimal above bytes.
_SIZE_UNITS = ("b", "K", "M", "G", "T", "P", "E", "Z", "Y")


def human_size(size: int) -> str:
    """``1024`` -> ``1.0K`` (Fluent Bit's ``flb_utils_bytes_to_human_readable_size``)."""
    unit = 1024
    index = 0
    while index < len(_SIZE_UNITS) - 1 and size // unit:
        index += 1
        unit *= 1024
    if not index:
        return f"{size}{_SIZE_UNITS[0]}"
    return f"{size / (unit // 1024):.1f}{_SIZE_UNITS[index]}"


def storage(usage: list[InputUsage]) -> Response:
    """``/api/v1/storage`` (api/v1/storage.c): chunk counts overall and per input."""
    fs_inputs = [entry for entry in usage if entry.filesystem]
    body = {
        "storage_layer": {"chunks": {
            "total_chunks": sum(entry.total for entry in usage),
            "mem_chunks": sum(entry.total for entry in usage if not entry.filesystem),
            "fs_chunks": sum(entry.total for entry in fs_inputs),
            "fs_chunks_up": sum(entry.up for entry in fs_inputs),
            "fs_chunks_down": sum(entry.total - entry.up for entry in fs_inputs),
        }},
        "input_chunks": {
            entry.name: {
                "status": {"overlimit": entry.overlimit, "mem_size": human_size(entry.mem_size),
                           "mem_limit": human_size(entry.mem_limit)},
                "chunks": {"total": entry.total, "up": entry.up, "down": entry.total - entry.up, "busy": entry.busy,
                           "busy_size": human_size(entry.busy_size)},
            }
            for entry in usage
        },
    }
    return Response(200, JSON_CONTENT_TYPE, msgspec.json.encode(body))
