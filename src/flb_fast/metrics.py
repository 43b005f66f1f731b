"""Counters per plugin instance, named as Fluent Bit names them (``/api/v1/metrics``).

Each instance owns one ``Counters`` (a dict of name -> int), created with Fluent Bit's
standard counters for its kind so that zeros show; plugins add their own (tail's
``files_opened``, the kubernetes filter's API errors, CloudWatch's rejected events).
"""

from __future__ import annotations

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


class Counters(dict[str, int]):
    """Monotonic counters of one plugin instance."""

    def inc(self, name: str, amount: int = 1) -> None:
        self[name] = self.get(name, 0) + amount


class Metrics:
    """All instances' counters, grouped by kind, in pipeline order."""

    def __init__(self) -> None:
        self.sections: dict[str, dict[str, Counters]] = {"input": {}, "filter": {}, "output": {}}

    def register(self, kind: str, instance: str) -> Counters:
        counters = Counters((name, 0) for name in STANDARD_COUNTERS[kind])
        self.sections[kind][instance] = counters
        return counters

    def snapshot(self) -> dict[str, dict[str, dict[str, int]]]:
        return {kind: {name: dict(counters) for name, counters in instances.items()} for kind, instances in self.sections.items()}
