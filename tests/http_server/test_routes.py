"""Monitoring endpoint bodies, byte for byte as Fluent Bit's /api/v1."""

from __future__ import annotations

from pathlib import Path

import msgspec

from flb_fast import __version__
from flb_fast.http_server import routes
from flb_fast.storage.store import InputUsage

DATA = Path(__file__).parent.parent / "data"

SNAPSHOT = {
    "input": {"tail.0": {"records": 12, "bytes": 3400, "files_opened": 2}, "dummy.0": {"records": 1, "bytes": 19}},
    "filter": {"kubernetes.0": {"drop_records": 0, "add_records": 0}},
    "output": {"cloudwatch_logs.0": {"proc_records": 10, "proc_bytes": 3000, "errors": 1, "retries": 2,
                                     "retries_failed": 1, "dropped_records": 2, "retried_records": 4}},
}
START = 1_700_000_000.75
NOW = START + 93_784.5  # whole clock seconds apart: 93785 = 1 day, 2 hours, 3 minutes, 5 seconds


def test_root_names_the_agent():
    response = routes.root()
    assert (response.status, response.content_type) == (200, "application/json")
    assert msgspec.json.decode(response.body) == {
        "fluent-bit": {"version": __version__, "edition": "flb_fast",
                       "flags": ["FLB_HAVE_METRICS", "FLB_HAVE_HTTP_SERVER", "FLB_HAVE_PARSER"]}
    }


def test_uptime_in_seconds_and_fluent_bits_words():
    assert routes.uptime(NOW, START).body == (
        b'{"uptime_sec":93785,"uptime_hr":"Fluent Bit has been running:  1 day, 2 hours, 3 minutes and 5 seconds"}'
    )
    assert routes.uptime(START + 1, START).body == (
        b'{"uptime_sec":1,"uptime_hr":"Fluent Bit has been running:  0 day, 0 hour, 0 minute and 1 second"}'
    )


def test_metrics_json_keeps_sections_instances_and_counters_in_order():
    assert routes.metrics_json(SNAPSHOT).body == (
        b'{"input":{"tail.0":{"records":12,"bytes":3400,"files_opened":2},"dummy.0":{"records":1,"bytes":19}},'
        b'"filter":{"kubernetes.0":{"drop_records":0,"add_records":0}},'
        b'"output":{"cloudwatch_logs.0":{"proc_records":10,"proc_bytes":3000,"errors":1,"retries":2,'
        b'"retries_failed":1,"dropped_records":2,"retried_records":4}}}'
    )


def test_prometheus_text_is_fluent_bits_exactly():
    response = routes.metrics_prometheus(SNAPSHOT, NOW, START, version="9.9.9")
    assert response.content_type == "text/plain; version=0.0.4"
    ts = int(NOW * 1000)
    assert response.body.decode() == (
        "# HELP fluentbit_filter_add_records_total Fluentbit metrics.\n"
        "# TYPE fluentbit_filter_add_records_total counter\n"
        f'fluentbit_filter_add_records_total{{name="kubernetes.0"}} 0 {ts}\n'
        "# HELP fluentbit_filter_drop_records_total Fluentbit metrics.\n"
        "# TYPE fluentbit_filter_drop_records_total counter\n"
        f'fluentbit_filter_drop_records_total{{name="kubernetes.0"}} 0 {ts}\n'
        "# HELP fluentbit_input_bytes_total Number of input bytes.\n"
        "# TYPE fluentbit_input_bytes_total counter\n"
        f'fluentbit_input_bytes_total{{name="dummy.0"}} 19 {ts}\n'
        f'fluentbit_input_bytes_total{{name="tail.0"}} 3400 {ts}\n'
        "# HELP fluentbit_input_files_opened_total Fluentbit metrics.\n"
        "# TYPE fluentbit_input_files_opened_total counter\n"
        f'fluentbit_input_files_opened_total{{name="tail.0"}} 2 {ts}\n'
        "# HELP fluentbit_input_records_total Number of input records.\n"
        "# TYPE fluentbit_input_records_total counter\n"
        f'fluentbit_input_records_total{{name="dummy.0"}} 1 {ts}\n'
        f'fluentbit_input_records_total{{name="tail.0"}} 12 {ts}\n'
        "# HELP fluentbit_output_dropped_records_total Fluentbit metrics.\n"
        "# TYPE fluentbit_output_dropped_records_total counter\n"
        f'fluentbit_output_dropped_records_total{{name="cloudwatch_logs.0"}} 2 {ts}\n'
        "# HELP fluentbit_output_errors_total Number of output errors.\n"
        "# TYPE fluentbit_output_errors_total counter\n"
        f'fluentbit_output_errors_total{{name="cloudwatch_logs.0"}} 1 {ts}\n'
        "# HELP fluentbit_output_proc_bytes_total Number of processed output bytes.\n"
        "# TYPE fluentbit_output_proc_bytes_total counter\n"
        f'fluentbit_output_proc_bytes_total{{name="cloudwatch_logs.0"}} 3000 {ts}\n'
        "# HELP fluentbit_output_proc_records_total Number of processed output records.\n"
        "# TYPE fluentbit_output_proc_records_total counter\n"
        f'fluentbit_output_proc_records_total{{name="cloudwatch_logs.0"}} 10 {ts}\n'
        "# HELP fluentbit_output_retried_records_total Fluentbit metrics.\n"
        "# TYPE fluentbit_output_retried_records_total counter\n"
        f'fluentbit_output_retried_records_total{{name="cloudwatch_logs.0"}} 4 {ts}\n'
        "# HELP fluentbit_output_retries_failed_total Number of output retries failed.\n"
        "# TYPE fluentbit_output_retries_failed_total counter\n"
        f'fluentbit_output_retries_failed_total{{name="cloudwatch_logs.0"}} 1 {ts}\n'
        "# HELP fluentbit_output_retries_total Number of output retries.\n"
        "# TYPE fluentbit_output_retries_total counter\n"
        f'fluentbit_output_retries_total{{name="cloudwatch_logs.0"}} 2 {ts}\n'
        "# HELP fluentbit_uptime Number of seconds that Fluent Bit has been running.\n"
        "# TYPE fluentbit_uptime counter\n"
        "fluentbit_uptime 93785\n"
        "# HELP process_start_time_seconds Start time of the process since unix epoch in seconds.\n"
        "# TYPE process_start_time_seconds gauge\n"
        "process_start_time_seconds 1700000000\n"
        "# HELP fluentbit_build_info Build version information.\n"
        "# TYPE fluentbit_build_info gauge\n"
        'fluentbit_build_info{version="9.9.9",edition="flb_fast"} 1\n'
    )


def output_errors(errors: int, retries_failed: int) -> dict:
    return {"output": {"s3.0": {"errors": errors, "retries_failed": retries_failed}}}


def test_health_is_ok_until_errors_in_the_period_exceed_the_limit():
    window = routes.HealthWindow(period=60, errors_limit=5, retry_failures_limit=5)
    window.sample(0, output_errors(0, 0))
    assert window.response(10, output_errors(5, 5)) == routes.Response(200, "text/plain", b"ok\n")
    assert window.response(20, output_errors(6, 5)) == routes.Response(500, "text/plain", b"error\n")


def test_health_recovers_once_old_errors_leave_the_period():
    window = routes.HealthWindow(period=60, errors_limit=5, retry_failures_limit=5)
    window.sample(0, output_errors(0, 0))
    window.sample(30, output_errors(10, 0))
    assert window.response(40, output_errors(10, 0)).status == 500
    window.sample(95, output_errors(10, 0))
    assert window.response(100, output_errors(10, 0)).status == 200


def test_health_requests_more_often_than_a_sample_a_second_do_not_grow_the_window():
    window = routes.HealthWindow(period=60, errors_limit=5, retry_failures_limit=5)
    for n in range(100_000):
        window.response(n / 1000, output_errors(0, 0))
    assert [time for time, _, _ in window._samples] == [float(n) for n in range(39, 100)]


def test_health_counts_failed_retries_too():
    window = routes.HealthWindow(period=60, errors_limit=5, retry_failures_limit=1)
    window.sample(0, output_errors(0, 0))
    assert window.response(1, output_errors(0, 2)).status == 500


def test_sizes_are_written_as_fluent_bit_writes_them():
    assert [routes.human_size(size) for size in (0, 144, 1023, 1024, 42_906, 5 * 1024 * 1024, 3 * 1024**3)] == [
        "0b", "144b", "1023b", "1.0K", "41.9K", "5.0M", "3.0G"]


def test_storage_body_has_fluent_bits_shape_for_the_same_chunks():
    recorded = msgspec.json.decode(DATA.joinpath("storage", "api_v1_storage.json").read_bytes())
    # Fluent Bit lists its internal storage_backlog input too; flb_fast replays a backlog through
    # the inputs that wrote it, so it has no such entry.
    del recorded["input_chunks"]["storage_backlog.2"]
    usage = [
        InputUsage("tail.0", filesystem=True, overlimit=False, mem_size=42_906, mem_limit=0, total=1, up=0, busy=1,
                   busy_size=0),
        InputUsage("dummy.1", filesystem=False, overlimit=False, mem_size=144, mem_limit=0, total=4, up=4, busy=3,
                   busy_size=108),
    ]
    response = routes.storage(usage)
    assert (response.status, response.content_type) == (200, "application/json")
    assert msgspec.json.decode(response.body) == recorded
