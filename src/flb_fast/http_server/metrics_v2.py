"""``/api/v2/metrics`` and ``/api/v2/metrics/prometheus``: Fluent Bit 4.2's cmetrics families.

The names, help texts, types, labels and order are those Fluent Bit 4.2.8 serves
(``src/http_server/api/v2/metrics.c`` over its cmetrics contexts: ``flb_metrics.c``,
``flb_input.c``, ``flb_filter.c``, ``flb_output.c``, ``flb_router.c``, ``flb_storage.c``), so its
dashboards and alerts work unchanged. Values come from the running engine: the instances'
counters, the routes' records, bytes and latency, and the storage layer.

``fluentbit_output_upstream_total_connections`` and ``..._busy_connections`` come from each
output's own client (``Output.upstream_connections``): the kept-alive connections of the
CloudWatch, Firehose, Kinesis and OpenSearch clients and those in use; s3's botocore pool does not
say how many it keeps, so its calls in progress are what it reports.
"""

from __future__ import annotations

import platform
import socket
import time
from collections.abc import Iterable
from typing import Any

from msgspec import Struct, field

from flb_fast import __version__
from flb_fast.log import MESSAGES_LOGGED
from flb_fast.metrics import LATENCY_BUCKETS_SECONDS, STANDARD_COUNTERS, V2_ONLY_COUNTERS

NS_PER_SECOND = 1_000_000_000
Labels = tuple[tuple[str, str], ...]


class Family(Struct):
    name: str
    help: str
    type: str  # counter, gauge or histogram
    samples: list[tuple[Labels, Any]] = field(default_factory=list)


class Histogram(Struct, frozen=True):
    buckets: tuple[int, ...]  # cumulative counts per LATENCY_BUCKETS_SECONDS bound, then +Inf
    sum: float
    count: int


# (counter name in Counters, family suffix, help) per kind, in Fluent Bit's order.
_INPUT_COUNTERS = (
    ("bytes", "bytes_total", "Number of input bytes."),
    ("records", "records_total", "Number of input records."),
)
# flb_fast inputs run on the agent's loop: no record ever goes through a threaded input's ring buffer.
_RING_BUFFER = (
    ("ring_buffer_writes_total", "Number of ring buffer writes."),
    ("ring_buffer_retries_total", "Number of ring buffer retries."),
    ("ring_buffer_retry_failures_total", "Number of ring buffer retry failures."),
)
_FILTER_COUNTERS = (
    ("records", "records_total", "Total number of new records processed."),
    ("bytes", "bytes_total", "Total number of new bytes processed."),
    ("add_records", "add_records_total", "Total number of new added records."),
    ("drop_records", "drop_records_total", "Total number of dropped records."),
    ("drop_bytes", "drop_bytes_total", "Total number of dropped bytes."),
)
_OUTPUT_COUNTERS = (
    ("proc_records", "proc_records_total", "Number of processed output records."),
    ("proc_bytes", "proc_bytes_total", "Number of processed output bytes."),
    ("errors", "errors_total", "Number of output errors."),
    ("retries", "retries_total", "Number of output retries."),
    ("retries_failed", "retries_failed_total",
     "Number of abandoned batches because the maximum number of re-tries was reached."),
    ("dropped_records", "dropped_records_total", "Number of dropped records."),
    ("retried_records", "retried_records_total", "Number of retried records."),
)
_STORAGE = (
    ("chunks", "Total number of chunks in the storage layer."),
    ("mem_chunks", "Total number of memory chunks."),
    ("fs_chunks", "Total number of filesystem chunks."),
    ("fs_chunks_up", "Total number of filesystem chunks up in memory."),
    ("fs_chunks_down", "Total number of filesystem chunks down."),
)
_INPUT_STORAGE = (
    ("ingestion_paused", "Is the input paused or not?"),
    ("storage_overlimit", "Is the input memory usage overlimit ?."),
    ("storage_memory_bytes", "Memory bytes used by the chunks."),
    ("storage_chunks", "Total number of chunks."),
    ("storage_chunks_up", "Total number of chunks up in memory."),
    ("storage_chunks_down", "Total number of chunks down."),
    ("storage_chunks_busy", "Total number of chunks in a busy state."),
    ("storage_chunks_busy_bytes", "Total number of bytes used by chunks in a busy state."),
)


def collect(runner: Any, now: float) -> list[Family]:
    """Every family, in the order Fluent Bit serves them."""
    engine = runner.engine
    metrics = engine.pipeline.metrics
    host = (("hostname", socket.gethostname()),)
    families: list[Family] = [
        Family("fluentbit_uptime", "Number of seconds that Fluent Bit has been running.", "counter",
               [(host, int(now) - int(runner.start_time))]),
        Family("fluentbit_logger_logs_total", "Total number of logs", "counter",
               [((("message_type", kind),), count) for kind, count in MESSAGES_LOGGED.items()]),
        Family("fluentbit_routing_logs_records_total", "Total log records routed from input to output", "counter",
               [(_route(pair), route.records) for pair, route in metrics.routes.items()]),
        Family("fluentbit_routing_logs_bytes_total", "Total bytes routed from input to output (logs)", "counter",
               [(_route(pair), route.bytes) for pair, route in metrics.routes.items()]),
    ]
    sections = metrics.sections
    families += _instance_counters("input", sections["input"], _INPUT_COUNTERS)
    families += [Family(f"fluentbit_input_{suffix}", text, "counter", [(_name(name), 0) for name in sections["input"]])
                 for suffix, text in _RING_BUFFER]
    families += _instance_counters("filter", sections["filter"], _FILTER_COUNTERS)
    families += _instance_counters("output", sections["output"], _OUTPUT_COUNTERS)
    families += _plugin_counters(sections)
    start = int(runner.start_time)
    families += [
        Family("fluentbit_process_start_time_seconds", "Start time of the process since unix epoch in seconds.",
               "gauge", [(host, start)]),
        # Fluent Bit sets this gauge to the start time too (flb_metrics.c attach_build_info).
        Family("fluentbit_build_info", "Build version information.", "gauge",
               [((*host, ("version", __version__), ("os", platform.system().lower())), start)]),
        Family("fluentbit_hot_reloaded_times", "Collect the count of hot reloaded times.", "gauge",
               [(host, runner.reload_count)]),
    ]
    usage = engine.store.usage()
    totals = {
        "chunks": sum(item.total for item in usage),
        "mem_chunks": sum(item.total for item in usage if not item.filesystem),
        "fs_chunks": sum(item.total for item in usage if item.filesystem),
        "fs_chunks_up": sum(item.up for item in usage if item.filesystem),
        "fs_chunks_down": sum(item.total - item.up for item in usage if item.filesystem),
    }
    families += [Family(f"fluentbit_storage_{key}", text, "gauge", [((), totals[key])]) for key, text in _STORAGE]
    per_input = {
        "ingestion_paused": lambda item: int(item.paused),
        "storage_overlimit": lambda item: int(item.overlimit),
        "storage_memory_bytes": lambda item: item.mem_size,
        "storage_chunks": lambda item: item.total,
        "storage_chunks_up": lambda item: item.up,
        "storage_chunks_down": lambda item: item.total - item.up,
        "storage_chunks_busy": lambda item: item.busy,
        "storage_chunks_busy_bytes": lambda item: item.busy_size,
    }
    families += [Family(f"fluentbit_input_{key}", text, "gauge", [(_name(item.name), per_input[key](item))
                                                                    for item in usage])
                 for key, text in _INPUT_STORAGE]
    connections = {output.display_name: output.plugin.upstream_connections() for output in engine.pipeline.outputs}
    families.append(Family("fluentbit_output_upstream_total_connections", "Total Connection count.", "gauge",
                           [(_name(name), counts[0]) for name, counts in connections.items()]))
    families.append(Family("fluentbit_output_upstream_busy_connections", "Busy Connection count.", "gauge",
                           [(_name(name), counts[1]) for name, counts in connections.items()]))
    families.append(Family("fluentbit_output_chunk_available_capacity_percent", "Available chunk capacity (percent)",
                           "gauge", [(_name(output.display_name), _capacity(engine, output))
                                     for output in engine.pipeline.outputs]))
    families.append(Family("fluentbit_output_latency_seconds", "End-to-end latency in seconds", "histogram",
                           [(_route(pair), _histogram(route)) for pair, route in metrics.routes.items()]))
    return families


def _name(name: str) -> Labels:
    return (("name", name),)


def _route(pair: tuple[str, str]) -> Labels:
    return (("input", pair[0]), ("output", pair[1]))


def _instance_counters(kind: str, instances: dict[str, dict[str, int]],
                       names: Iterable[tuple[str, str, str]]) -> list[Family]:
    return [Family(f"fluentbit_{kind}_{suffix}", text, "counter",
                   [(_name(name), counters.get(key, 0)) for name, counters in instances.items()])
            for key, suffix, text in names]


def _plugin_counters(sections: dict[str, dict[str, dict[str, int]]]) -> list[Family]:
    """A plugin's own counters (tail's ``files_opened``...) as ``fluentbit_<kind>_<name>_total``."""
    found: dict[str, Family] = {}
    for kind, instances in sections.items():
        standard = set(STANDARD_COUNTERS[kind]) | V2_ONLY_COUNTERS[kind]
        for name, counters in instances.items():
            for key, value in counters.items():
                if key in standard:
                    continue
                family_name = f"fluentbit_{kind}_{key}_total"
                family = found.get(family_name)
                if family is None:
                    family = found[family_name] = Family(family_name, f"Number of {key.replace('_', ' ')}.", "counter")
                family.samples.append((_name(name), value))
    return list(found.values())


def _capacity(engine: Any, output: Any) -> int:
    """flb_engine.c calculate_chunk_capacity_percent: how much of storage.total_limit_size is free."""
    limit = getattr(output.options, "storage_total_limit_size", None)
    if not limit:
        return 100
    return max(0, int(100 * (1 - engine.store.queued_bytes(output) / limit)))


def _histogram(route: Any) -> Histogram:
    return Histogram((*route.latency_buckets, route.latency_count), route.latency_sum, route.latency_count)


def _labels(labels: Labels) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f'{key}="{_escape(value)}"' for key, value in labels) + "}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _bound(bound: float) -> str:
    return f"{bound:.1f}"


def prometheus(families: list[Family]) -> str:
    """The Prometheus text format (cmt_encode_prometheus): a family without samples is left out."""
    out: list[str] = []
    for family in families:
        if not family.samples:
            continue
        out.append(f"# HELP {family.name} {family.help}\n# TYPE {family.name} {family.type}\n")
        for labels, value in family.samples:
            if family.type != "histogram":
                out.append(f"{family.name}{_labels(labels)} {value}\n")
                continue
            bounds = [_bound(bound) for bound in LATENCY_BUCKETS_SECONDS] + ["+Inf"]
            for bound, count in zip(bounds, value.buckets, strict=True):
                out.append(f"{family.name}_bucket{_labels((('le', bound), *labels))} {count}\n")
            out.append(f"{family.name}_sum{_labels(labels)} {value.sum!r}\n")
            out.append(f"{family.name}_count{_labels(labels)} {value.count}\n")
    return "".join(out)


def text(families: list[Family], now: float) -> str:
    """cmetrics' own text format (cmt_encode_text), which ``/api/v2/metrics`` serves."""
    seconds = int(now)
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{int((now - seconds) * NS_PER_SECOND):09d}Z"
    out: list[str] = []
    for family in families:
        for labels, value in family.samples:
            if family.type == "histogram":
                bounds = [f"{bound:g}" for bound in LATENCY_BUCKETS_SECONDS] + ["+Inf"]
                buckets = ", ".join(f"{bound}={count}" for bound, count in zip(bounds, value.buckets, strict=True))
                value = f"{{ buckets = {{ {buckets} }}, sum={value.sum:g}, count={value.count} }}"
            out.append(f"{stamp} {family.name}{_labels(labels)} = {value}\n")
    return "".join(out)
