"""Counters per plugin instance, named as Fluent Bit names them (``/api/v1/metrics``), and what
``/api/v2/metrics`` adds: per-route records, bytes and delivery latency.

Each instance owns one ``Counters`` (a dict of name -> int), created with Fluent Bit's
standard counters for its kind so that zeros show; plugins add their own (tail's
``files_opened``, the kubernetes filter's API errors, CloudWatch's rejected events).
"""

from __future__ import annotations

import bisect

from msgspec import Struct, field

# FB src/flb_input.c, flb_filter.c, flb_output.c: flb_metrics_add(...) names.
STANDARD_COUNTERS = {
    "input": ("records", "bytes"),
    "filter": ("drop_records", "add_records"),
    "output": (
        "proc_records",
        "proc_bytes",
        "errors",
        "retries",
        "retries_failed",
        "dropped_records",
        "retried_records",
    ),
}


# Counters only the v2 API reports (cmetrics in Fluent Bit: flb_filter.c cmt_records, cmt_bytes,
# cmt_drop_bytes); /api/v1/metrics keeps Fluent Bit's old set for filters.
V2_ONLY_COUNTERS = {"input": frozenset(), "filter": frozenset({"records", "bytes", "drop_bytes"}),
                    "output": frozenset()}
# flb_output.c: the buckets of fluentbit_output_latency_seconds, in seconds.
LATENCY_BUCKETS_SECONDS = (0.5, 1.0, 1.5, 2.5, 5.0, 10.0, 20.0, 30.0)


class Route(Struct):
    """What went from one input to one output (flb_engine.c, on each successful flush)."""

    records: int = 0
    bytes: int = 0
    latency_buckets: list[int] = field(default_factory=lambda: [0] * len(LATENCY_BUCKETS_SECONDS))
    latency_count: int = 0
    latency_sum: float = 0.0

    def observe(self, records: int, size: int, latency_seconds: float) -> None:
        self.records += records
        self.bytes += size
        # A bucket counts observations up to its bound, as a Prometheus histogram's buckets do.
        for index in range(bisect.bisect_left(LATENCY_BUCKETS_SECONDS, latency_seconds),
                           len(LATENCY_BUCKETS_SECONDS)):
            self.latency_buckets[index] += 1
        self.latency_count += 1
        self.latency_sum += latency_seconds


class Counters(dict[str, int]):
    """Monotonic counters of one plugin instance."""

    def inc(self, name: str, amount: int = 1) -> None:
        self[name] = self.get(name, 0) + amount


class Metrics:
    """All instances' counters, grouped by kind, in pipeline order."""

    def __init__(self) -> None:
        self.sections: dict[str, dict[str, Counters]] = {"input": {}, "filter": {}, "output": {}}
        self.routes: dict[tuple[str, str], Route] = {}

    def register(self, kind: str, instance: str) -> Counters:
        counters = Counters((name, 0) for name in STANDARD_COUNTERS[kind])
        self.sections[kind][instance] = counters
        return counters

    def routed(self, source: str, output: str, records: int, size: int, latency_seconds: float) -> None:
        """A chunk of ``source`` delivered to ``output``."""
        route = self.routes.get((source, output))
        if route is None:
            route = self.routes[(source, output)] = Route()
        route.observe(records, size, latency_seconds)

    def snapshot(self) -> dict[str, dict[str, dict[str, int]]]:
        """``/api/v1/metrics``: every instance's counters but those only the v2 API reports."""
        return {
            kind: {
                name: {key: value for key, value in counters.items() if key not in V2_ONLY_COUNTERS[kind]}
                for name, counters in instances.items()
            }
            for kind, instances in self.sections.items()
        }
