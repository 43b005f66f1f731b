"""The s3 output against moto: keys, multipart and PutObject uploads, timeouts, restarts, faults."""

from __future__ import annotations

import asyncio
import gzip
import threading
from pathlib import Path
from typing import Any

import pytest

from flb_fast.config.errors import PluginConfigError
from flb_fast.outputs.aws.backoff import OutputBackoff
from flb_fast.outputs.base import FlushResult
from flb_fast.outputs.s3 import S3Output
from flb_fast.outputs.s3.store import TagStore
from flb_fast.outputs.s3.upload import format_date
from tests.outputs.aws.harness import chunk_of, make_output
from tests.waiting import until

BUCKET = "flb-logs"
T_NS = 1_700_000_000_123_456_789  # 2023-11-14T22:13:20.123456Z
PART = 5_242_880


def bucket(moto: Any) -> Any:
    s3 = moto.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    return s3


def objects(s3: Any) -> dict[str, bytes]:
    keys = [obj["Key"] for obj in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]
    return {key: s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() for key in keys}


def s3_output(endpoint: str, store: Path, **options: Any) -> Any:
    base = {"bucket": BUCKET, "endpoint": endpoint, "store_dir": str(store), "static_file_path": "on"}
    return make_output(S3Output, **{**base, **options})


async def wait_for_objects(s3: Any, timeout: float = 60.0) -> dict[str, bytes]:
    """Objects of the bucket once there are some (polled: uploads happen on the output's timer)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not (found := await loop.run_in_executor(None, objects, s3)):
        assert loop.time() < deadline, "no object was uploaded"
        await asyncio.sleep(0.05)
    return found


def test_stop_uploads_buffered_lines_with_the_date_key_first(moto, run, tmp_path) -> None:
    s3 = bucket(moto)
    output = s3_output(moto.url, tmp_path, s3_key_format="/logs/$TAG/%Y/%m/%d/%H%M%S.json")

    async def scenario() -> FlushResult:
        await output.start()
        result = await output.flush(chunk_of([{"log": "a"}, {}], tag="kube.web", timestamps=[T_NS, T_NS + 1000]))
        await output.stop()
        return result

    assert run(scenario()) == FlushResult.OK
    assert objects(s3) == {
        "logs/kube.web/2023/11/14/221320.json": b'{"date":"2023-11-14T22:13:20.123456Z","log":"a"}\n'
        b'{"date":"2023-11-14T22:13:20.123457Z"}\n'
    }
    assert output.ctx.metrics["uploaded_objects"] == 1


@pytest.mark.parametrize(
    ("date_format", "expected"),
    [
        ("epoch", b"1700000000"),
        ("double", b"1700000000.123456"),
        ("java_sql_timestamp", b'"2023-11-14 22:13:20.123456"'),
    ],
)
def test_date_formats(date_format: str, expected: bytes) -> None:
    assert format_date(T_NS, date_format) == expected


def test_log_key_writes_raw_values_and_json_date_key_false_none(moto, run, tmp_path) -> None:
    s3 = bucket(moto)
    output = s3_output(moto.url, tmp_path, s3_key_format="k", log_key="log")

    async def scenario() -> None:
        await output.start()
        await output.flush(chunk_of([{"log": "plain"}, {"log": {"x": 1}}, {"other": 1}]))
        await output.stop()

    run(scenario())
    assert objects(s3) == {"k": b'plain\n{"x":1}\n'}
    assert output.ctx.metrics["log_key_missing_records"] == 1


def test_upload_timeout_completes_an_object_without_stopping(moto, run, tmp_path) -> None:
    s3 = bucket(moto)
    output = s3_output(moto.url, tmp_path, s3_key_format="/t/$TAG-$INDEX", upload_timeout="1s", json_date_key="false")

    async def scenario() -> dict[str, bytes]:
        await output.start()
        await output.flush(chunk_of([{"n": 1}], tag="a"))
        found = await wait_for_objects(s3)
        await output.flush(chunk_of([{"n": 2}], tag="a"))
        await output.stop()
        return found

    assert run(scenario()) == {"t/a-0": b'{"n":1}\n'}
    assert objects(s3) == {"t/a-0": b'{"n":1}\n', "t/a-1": b'{"n":2}\n'}


def test_parts_are_uploaded_as_they_fill_and_the_object_completes_at_total_file_size(moto, run, tmp_path) -> None:
    s3 = bucket(moto)
    output = s3_output(moto.url, tmp_path, s3_key_format="big", total_file_size="12M", log_key="log")
    line = "x" * 999  # 1,000 bytes with its newline
    chunk = chunk_of([{"log": line}] * 6000)  # 6 MB: one part of 6 MB

    async def scenario() -> None:
        await output.start()
        await output.flush(chunk)
        assert output.ctx.metrics["uploaded_parts"] == 1
        assert objects(s3) == {}
        await output.flush(chunk)  # 12 MB: the object is complete
        assert output.ctx.metrics["uploaded_objects"] == 1
        await output.stop()

    run(scenario(), timeout=120)
    assert objects(s3) == {"big": (line + "\n").encode() * 12000}
    assert output.ctx.metrics["uploaded_parts"] == 2


def test_use_put_object_uploads_whole_objects(moto, fault_proxy, run, tmp_path) -> None:
    s3 = bucket(moto)
    output = s3_output(
        fault_proxy.url, tmp_path, s3_key_format="obj-$INDEX", total_file_size="1K", use_put_object="on", log_key="log"
    )

    async def scenario() -> None:
        await output.start()
        await output.flush(chunk_of([{"log": "y" * 600}, {"log": "z" * 600}]))
        await output.stop()

    run(scenario())
    assert objects(s3) == {"obj-0": ("y" * 600 + "\n" + "z" * 600 + "\n").encode()}
    assert [call.operation for call in fault_proxy.calls if call.operation != "GET /"] == ["PutObject"]


def test_gzip_content_type_and_md5(moto, fault_proxy, run, tmp_path) -> None:
    s3 = bucket(moto)
    output = s3_output(
        fault_proxy.url,
        tmp_path,
        s3_key_format="gz",
        compression="gzip",
        content_type="application/json",
        send_content_md5="on",
        json_date_key="off",
    )

    async def scenario() -> None:
        await output.start()
        await output.flush(chunk_of([{"a": 1}]))
        await output.stop()

    run(scenario())
    assert gzip.decompress(objects(s3)["gz"]) == b'{"a":1}\n'
    head = s3.head_object(Bucket=BUCKET, Key="gz")
    assert (head["ContentType"], head["ContentEncoding"]) == ("application/json", "gzip")
    (put,) = fault_proxy.calls_to("PutObject")
    assert "content-md5" in put.headers


def test_a_restart_completes_what_the_previous_run_buffered_and_began(moto, run, tmp_path) -> None:
    s3 = bucket(moto)
    options = {"s3_key_format": "resumed", "total_file_size": "20M", "log_key": "log"}
    line = "r" * 999
    first = s3_output(moto.url, tmp_path, **options)

    async def crash_after_one_part() -> None:
        await first.start()
        await first.flush(chunk_of([{"log": line}] * 6000))  # one 6 MB part uploaded
        await first.flush(chunk_of([{"log": line}] * 10))  # buffered only
        # The process dies: no stop(), nothing completed; the kernel closes its files.
        first._timer.cancel()
        for store in first._stores.values():
            store.close()
        first._client.close()
        first._executor.shutdown()

    run(crash_after_one_part())
    assert first.ctx.metrics["uploaded_parts"] == 1
    second = s3_output(moto.url, tmp_path, **options)

    async def restart() -> None:
        await second.start()
        await second.stop()

    run(restart())
    assert objects(s3) == {"resumed": (line + "\n").encode() * 6010}


def test_failed_uploads_stay_on_disk_and_are_retried_without_duplicates(moto, fault_proxy, run, tmp_path) -> None:
    s3 = bucket(moto)
    output = s3_output(fault_proxy.url, tmp_path, s3_key_format="retry", upload_timeout="1s", json_date_key="off")
    output.backoff = OutputBackoff(base_seconds=0.05)
    fault_proxy.add("PutObject", "throttle")
    fault_proxy.add("PutObject", "error500")
    fault_proxy.add("PutObject", "drop")

    async def scenario() -> None:
        await output.start()
        assert await output.flush(chunk_of([{"n": 1}])) == FlushResult.OK
        await wait_for_objects(s3)  # the timer seals the object, then retries its upload
        await output.stop()

    run(scenario())
    assert objects(s3) == {"retry": b'{"n":1}\n'}
    assert [call.action for call in fault_proxy.calls_to("PutObject")] == ["throttle", "error500", "drop", "forward"]
    assert output.ctx.metrics["throttled_requests"] == 1


def test_store_dir_files_are_written_off_the_event_loop(moto, run, tmp_path, monkeypatch) -> None:
    """Appends, seals and state saves (each an fsync) wait on the disk: never on the loop."""
    s3 = bucket(moto)
    threads: dict[str, set[int]] = {"append": set(), "seal": set(), "save": set(), "done": set()}
    for name in threads:
        method = getattr(TagStore, name)

        def noted(store: TagStore, *args: Any, _name: str = name, _method: Any = method, **kwargs: Any) -> Any:
            threads[_name].add(threading.get_ident())
            return _method(store, *args, **kwargs)

        monkeypatch.setattr(TagStore, name, noted)
    output = s3_output(moto.url, tmp_path, s3_key_format="/t/$TAG", upload_timeout="1s", json_date_key="false")

    async def scenario() -> int:
        await output.start()
        await output.flush(chunk_of([{"n": 1}], tag="app"))
        await wait_for_objects(s3)
        await output.stop()
        return threading.get_ident()

    loop_thread = run(scenario())
    assert all(threads.values()) and loop_thread not in set().union(*threads.values())
    assert objects(s3) == {"t/app": b'{"n":1}\n'}


def test_a_tag_uploaded_in_full_leaves_store_dir_and_comes_back_with_its_next_lines(moto, run, tmp_path) -> None:
    """Each tag's store holds an open file: a kube.* tag per container must not keep one for ever."""
    s3 = bucket(moto)
    output = s3_output(moto.url, tmp_path, s3_key_format="/t/$TAG-$INDEX", upload_timeout="1s", json_date_key="false")
    root = tmp_path / "s3.0"

    async def scenario() -> list[str]:
        await output.start()
        await output.flush(chunk_of([{"n": 1}], tag="a"))
        await until(lambda: not [path for path in root.iterdir() if path.is_dir()], "the tag's folder to go")
        after_upload = sorted(path.name for path in root.iterdir())
        await output.flush(chunk_of([{"n": 2}], tag="a"))
        await output.stop()
        return after_upload

    assert run(scenario()) == ["index"]
    assert objects(s3) == {"t/a-0": b'{"n":1}\n', "t/a-1": b'{"n":2}\n'}


def test_stop_while_the_timer_retires_a_tag_leaves_that_tag_alone(moto, run, tmp_path, monkeypatch) -> None:
    """stop() cancels the timer; a retirement it began goes on on the store thread, and stop must
    not seal or upload the closed store after it."""
    s3 = bucket(moto)
    retiring, finish = threading.Event(), threading.Event()
    retire = TagStore.retire

    def slow_retire(store: TagStore) -> bool:
        retired = retire(store)
        if retired:  # the tag's folder is gone; the timer hears of it only once stop() has begun
            retiring.set()
            assert finish.wait(30)
        return retired

    monkeypatch.setattr(TagStore, "retire", slow_retire)
    output = s3_output(moto.url, tmp_path, s3_key_format="/t/$TAG", upload_timeout="1s", json_date_key="false")

    async def scenario() -> None:
        await output.start()
        await output.flush(chunk_of([{"n": 1}], tag="a"))
        await until(retiring.is_set, "the timer to retire the uploaded tag")
        stopping = asyncio.ensure_future(output.stop())
        await asyncio.sleep(0)
        finish.set()
        await stopping

    run(scenario())
    assert objects(s3) == {"t/a": b'{"n":1}\n'}
    assert [path.name for path in (tmp_path / "s3.0").iterdir()] == []


def test_store_dir_limit_size_turns_flushes_into_retries(moto, run, tmp_path) -> None:
    bucket(moto)
    output = s3_output(moto.url, tmp_path, store_dir_limit_size="100", json_date_key="off")

    async def scenario() -> list[FlushResult]:
        await output.start()
        results = [await output.flush(chunk_of([{"x": "y" * 40}])), await output.flush(chunk_of([{"x": "y" * 80}]))]
        await output.stop()
        return results

    assert run(scenario()) == [FlushResult.OK, FlushResult.RETRY]


@pytest.mark.parametrize(
    ("options", "option"),
    [
        ({"bucket": ""}, "bucket"),
        ({"upload_chunk_size": "4M"}, "upload_chunk_size"),
        ({"upload_chunk_size": "51M"}, "upload_chunk_size"),
        ({"use_put_object": "on", "total_file_size": "2G"}, "total_file_size"),
        ({"compression": "zstd"}, "compression"),
        ({"json_date_format": "rfc"}, "json_date_format"),
    ],
)
def test_invalid_options_are_config_errors(options: dict[str, str], option: str, tmp_path) -> None:
    with pytest.raises(PluginConfigError) as error:
        s3_output("http://127.0.0.1:1", tmp_path, **options)
    assert error.value.option == option


def test_region_defaults_to_us_east_1(tmp_path) -> None:
    assert s3_output("http://127.0.0.1:1", tmp_path).options.region == "us-east-1"
