"""The chunk store under a running engine with ``storage.type filesystem``: chunk files, the
backlog of a previous run, ``storage.max_chunks_up``, ``storage.total_limit_size`` and
``storage.pause_on_chunks_overlimit``. Memory storage is covered by tests/engine/test_engine.py."""

from __future__ import annotations

import asyncio
import os
import re
import threading
from pathlib import Path

from flb_fast.engine.engine import Engine
from flb_fast.storage.filesystem import ChunkFile, FilesystemBackend
from tests.engine.test_engine import counters, footprint_of, section, until

WAIT_SECONDS = 30.0
SERVICE = ("[SERVICE]\n    Flush 3600\n    Grace {grace}\n    scheduler.base 0.01\n    scheduler.cap 1\n"
           "    storage.path {path}\n    storage.max_chunks_up {up}\n")


def config(path: Path, *sections: str, up: int = 128, grace: float = 5) -> str:
    return SERVICE.format(path=path, up=up, grace=grace) + "".join(sections)


def fs_input(**options: object) -> str:
    return section("INPUT", Name="manual", Tag="app", **{"storage.type": "filesystem", **options})


def chunk_files(root: Path) -> list[str]:
    directory = root / "manual.0"
    return sorted(os.listdir(directory)) if directory.exists() else []


def refuse_chunk_files(root: Path) -> None:
    """A file where the input's chunk folder must go: every chunk write fails."""
    root.mkdir(exist_ok=True)
    (root / "manual.0").write_text("")


def test_positions_are_acknowledged_once_written_and_the_file_removed_once_every_output_took_it(
        run, pipeline, tmp_path):
    store = tmp_path / "store"
    built, _ = pipeline(config(store, fs_input(), section("OUTPUT", Name="scripted", Match="*"),
                               section("OUTPUT", Name="gated", Match="*")))
    source, fast, slow = built.inputs[0].plugin, built.outputs[0].plugin, built.outputs[1].plugin
    seen = []

    async def scenario():
        engine = Engine(built)
        await engine.start()
        source.push([{"n": 1}], positions=["a:10"])
        await until(lambda: source.acknowledged == ["a:10"])
        seen.append(len(chunk_files(store)))
        engine.flush()
        await until(lambda: fast.flushes and slow.started)
        await engine.store.drain()  # a removal, had the fast output's delivery queued one, is done
        seen.append(len(chunk_files(store)))
        slow.gate.set()
        await until(lambda: engine.pending_deliveries == 0)
        await engine.stop()
        seen.append(len(chunk_files(store)))

    run(scenario())
    assert seen == [1, 1, 0]
    assert slow.records == [{"n": 1}]


def test_chunks_left_by_a_previous_run_go_out_first_and_in_order(run, pipeline, tmp_path):
    store = tmp_path / "store"
    first, _ = pipeline(config(store, fs_input(), section("OUTPUT", Name="gated", Match="*"), grace=0.2))
    left = []

    async def before_the_crash():
        engine = Engine(first)
        await engine.start()
        for n in range(3):
            first.inputs[0].plugin.push([{"n": n}])
            engine.flush()
        await until(lambda: first.outputs[0].plugin.started)
        await engine.stop()  # the output never answers: every chunk stays on disk
        left.extend(chunk_files(store))

    run(before_the_crash())
    second, _ = pipeline(config(store, fs_input(), section("OUTPUT", Name="scripted", Match="*")))
    source, out = second.inputs[0].plugin, second.outputs[0].plugin

    async def after_the_restart():
        engine = Engine(second)
        await engine.start()
        source.push([{"n": "new"}])
        engine.flush()
        await until(lambda: len(out.flushes) == 4)
        await engine.stop()

    run(after_the_restart())
    assert len(left) == 3
    assert [records for _, _, records in out.flushes] == [[{"n": 0}], [{"n": 1}], [{"n": 2}], [{"n": "new"}]]
    assert [chunk_id for chunk_id, _, _ in out.flushes][3] > max(int(name.split("-")[0]) for name in left)
    assert chunk_files(store) == []


def test_backlog_mem_limit_bounds_the_chunks_of_the_previous_run_in_memory(run, pipeline, tmp_path):
    store = tmp_path / "store"
    first, _ = pipeline(config(store, fs_input(), section("OUTPUT", Name="gated", Match="*"), grace=0.2))

    async def before_the_crash():
        engine = Engine(first)
        await engine.start()
        for n in range(3):
            first.inputs[0].plugin.push([{"n": n}])
            engine.flush()
        await until(lambda: first.outputs[0].plugin.started)
        await engine.stop()

    run(before_the_crash())
    second, _ = pipeline(config(store, fs_input(), section("OUTPUT", Name="gated", Match="*"))
                         + "[SERVICE]\n    storage.backlog.mem_limit 15\n")
    out = second.outputs[0].plugin
    seen = []

    async def after_the_restart():
        engine = Engine(second)
        await engine.start()
        await until(lambda: out.started)
        await asyncio.sleep(0.05)
        seen.append([entry.up for entry in engine.store.usage()])
        out.gate.set()
        await until(lambda: engine.pending_deliveries == 0)
        await engine.stop()

    run(after_the_restart())
    assert seen == [[1]]  # 10 bytes each: a second one would pass the 15-byte limit
    assert out.records == [{"n": 0}, {"n": 1}, {"n": 2}]


def test_a_batch_whose_refused_write_is_reported_after_its_chunk_was_delivered_is_still_acknowledged(
        run, pipeline, tmp_path, monkeypatch):
    """Seen under load: the storage thread's "write failed" arrived after every output had the
    chunk, and the batch's positions went to a finished chunk, never to be acknowledged."""
    store = tmp_path / "store"
    refused, report_after_delivery = threading.Event(), threading.Event()
    append = FilesystemBackend._append

    def late_append(backend: FilesystemBackend, file: ChunkFile, frame: bytes) -> bool:
        ok = append(backend, file, frame)
        refused.set()
        assert report_after_delivery.wait(WAIT_SECONDS)
        return ok

    monkeypatch.setattr(FilesystemBackend, "_append", late_append)
    built, _ = pipeline(config(store, fs_input(), section("OUTPUT", Name="gated", Match="*")))
    source, out = built.inputs[0].plugin, built.outputs[0].plugin
    seen = []

    async def scenario():
        engine = Engine(built)
        await engine.start()
        refuse_chunk_files(store)
        source.push([{"n": 0}], positions=[0])
        engine.flush()
        await until(refused.is_set)
        out.gate.set()
        await until(lambda: out.records and engine.pending_deliveries == 0)
        seen.append(list(source.acknowledged))
        report_after_delivery.set()
        await engine.store.drain()
        seen.append(list(source.acknowledged))
        await engine.stop()

    run(scenario())
    assert seen == [[], [0]]


def test_only_max_chunks_up_chunks_keep_their_records_in_memory(run, pipeline, tmp_path):
    store = tmp_path / "store"
    built, _ = pipeline(config(store, fs_input(), section("OUTPUT", Name="gated", Match="*"), up=2))
    source, out = built.inputs[0].plugin, built.outputs[0].plugin
    seen = {}

    async def scenario():
        engine = Engine(built)
        await engine.start()
        for n in range(6):
            source.push([{"n": n}])
            engine.flush()
        await until(lambda: out.started)
        await until(lambda: [entry.up for entry in engine.store.usage()] == [2]
                    and engine.held_bytes(built.inputs[0]) == footprint_of([{"n": 0}], [{"n": 1}]))
        [usage] = engine.store.usage()
        seen["while_blocked"] = (usage.total, usage.up, usage.busy)
        out.gate.set()
        await until(lambda: engine.pending_deliveries == 0)
        # Files are removed on the storage thread after the delivery: wait for what was queued there.
        await engine.store.drain()
        seen["after"] = (engine.held_bytes(built.inputs[0]), chunk_files(store))
        await engine.stop()

    run(scenario())
    assert seen["while_blocked"] == (6, 2, 6)
    assert seen["after"] == (0, [])
    assert out.records == [{"n": n} for n in range(6)]


def test_total_limit_size_drops_the_oldest_chunks_waiting_for_that_output(run, pipeline, tmp_path, logs):
    store = tmp_path / "store"
    built, _ = pipeline(config(store, fs_input(), section("OUTPUT", Name="gated", Match="*",
                                                          **{"storage.total_limit_size": 25}), up=1))
    source, out = built.inputs[0].plugin, built.outputs[0].plugin

    async def scenario():
        engine = Engine(built)
        await engine.start()
        source.push([{"n": 0}], positions=[0])
        engine.flush()
        # Chunk 0 is being delivered (its flush started) before the others queue behind it.
        await until(lambda: out.in_flight == 1)
        for n in range(1, 4):
            source.push([{"n": n}], positions=[n])
            engine.flush()
        await until(lambda: len(chunk_files(store)) == 2)
        out.gate.set()
        await until(lambda: engine.pending_deliveries == 0)
        await engine.stop()

    run(scenario())
    # Chunk 0 was being delivered (in memory, never dropped); 1 and 2 were the oldest waiting.
    assert out.records == [{"n": 0}, {"n": 3}]
    assert counters(built, "output", "gated.0")["dropped_records"] == 2
    assert sorted(source.acknowledged) == [0, 1, 2, 3]
    assert [line for line in logs if "total_limit_size" in line] == [
        "[storage] chunk 2 of manual.0 (1 records) dropped for gated.0: storage.total_limit_size 25 bytes reached",
        "[storage] chunk 3 of manual.0 (1 records) dropped for gated.0: storage.total_limit_size 25 bytes reached",
    ]


def test_pause_on_chunks_overlimit_pauses_the_input_at_max_chunks_up(run, pipeline, tmp_path, logs):
    store = tmp_path / "store"
    built, _ = pipeline(config(store, fs_input(**{"storage.pause_on_chunks_overlimit": "on"}),
                               section("OUTPUT", Name="gated", Match="*"), up=1))
    source, out = built.inputs[0].plugin, built.outputs[0].plugin
    calls = []

    async def scenario():
        engine = Engine(built)
        await engine.start()
        source.push([{"n": 1}])
        engine.flush()
        calls.append(list(source.calls))
        out.gate.set()
        await until(lambda: engine.pending_deliveries == 0)
        calls.append(list(source.calls))
        await engine.stop()

    run(scenario())
    assert calls == [["start", "pause"], ["start", "pause", "resume"]]
    assert "[input] manual.0 paused (storage buf overlimit 1/1)" in logs
    assert "[input] manual.0 resume (storage buf overlimit 0/1)" in logs


def test_chunks_the_disk_refuses_are_held_against_mem_buf_limit_and_pause_the_input_until_delivered(
        run, pipeline, tmp_path, logs):
    store = tmp_path / "store"
    built, _ = pipeline(config(store, fs_input(Mem_Buf_Limit=15), section("OUTPUT", Name="gated", Match="*")))
    source, out = built.inputs[0].plugin, built.outputs[0].plugin
    seen = []

    async def scenario():
        engine = Engine(built)
        await engine.start()
        refuse_chunk_files(store)
        for n in range(2):
            source.push([{"n": n}], positions=[n])
            engine.flush()
        await until(lambda: "pause" in source.calls)
        # Both refusals are reported before any delivery: a loaded storage thread may be late with the second.
        await engine.store.drain()
        seen.append((list(source.calls), list(source.acknowledged)))
        out.gate.set()
        await until(lambda: engine.pending_deliveries == 0)
        seen.append((list(source.calls), list(source.acknowledged)))
        await engine.stop()

    run(scenario())
    # 10 bytes each: the second one reaches the 15-byte limit; acknowledged only once delivered.
    assert seen == [(["start", "pause"], []), (["start", "pause", "resume"], [0, 1])]
    assert out.records == [{"n": 0}, {"n": 1}]
    paused = r"\[input\] manual\.0 paused \(mem buf overlimit - event of size \d+B exceeded limit 15 to \d+B\)"
    assert any(re.fullmatch(paused, line) for line in logs)
    assert "[input] manual.0 resume (mem buf overlimit - buf size 0B now below limit 15B)" in logs
