"""Hot reload of the real agent under load: SIGHUP (and POST /api/v2/reload) swap the pipeline for
the config file as it is now, with every line delivered exactly once; a config that does not
validate is logged with its file:line and the running pipeline keeps going."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

from flb_fast.config.loader import load_config
from flb_fast.engine.pipeline import Pipeline, build
from flb_fast.runner import Runner
from tests.e2e.agent import WAIT_SECONDS, Agent, lines
from tests.fakes.ports import free_port
from tests.fakes.process import die_with_parent

CONFIG = """\
[SERVICE]
    Flush         0.2
    Grace         5
    Hot_Reload    On
    HTTP_Server   On
    HTTP_Listen   127.0.0.1
    HTTP_Port     {port}
[INPUT]
    Name             tail
    Path             {folder}/app.log
    Read_From_Head   On
    DB               {folder}/tail.db
    Refresh_Interval 1
{extra}
[OUTPUT]
    Name    file
    Match   *
    Path    {folder}/out
    File    records
    Format  plain
"""
RELOADED = """\
[FILTER]
    Name    record_modifier
    Match   *
    Record  generation 2
"""
BROKEN = """\
[FILTER]
    Name     record_modifier
    Match    *
    Recrod   generation 3
"""
LINES_PER_BATCH = 500


def write_batches(path: Path, batches: range, pause_seconds: float) -> None:
    with open(path, "a") as handle:
        for batch in batches:
            handle.writelines(f"line {batch * LINES_PER_BATCH + i}\n" for i in range(LINES_PER_BATCH))
            handle.flush()
            time.sleep(pause_seconds)


def delivered(folder: Path) -> list[dict]:
    return [json.loads(line) for line in lines(folder / "out" / "records")]


def reload_count(port: int) -> int:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/reload", timeout=5) as answer:
            return json.loads(answer.read())["hot_reload_count"]
    except OSError:
        return -1


def test_sighup_swaps_the_pipeline_under_load_and_a_broken_config_changes_nothing(tmp_path: Path):
    port = free_port()
    config = tmp_path / "fluent-bit.conf"
    (tmp_path / "out").mkdir()
    log = tmp_path / "app.log"
    log.touch()
    fields = {"port": port, "folder": tmp_path}
    with Agent(tmp_path, CONFIG.format(extra="", **fields)) as agent:
        writer = threading.Thread(target=write_batches, args=(log, range(0, 10), 0.1))
        writer.start()
        agent.wait_for(lambda: len(delivered(tmp_path)) >= LINES_PER_BATCH, "the first lines delivered")
        config.write_text(CONFIG.format(extra=RELOADED, **fields))
        agent.process.send_signal(signal.SIGHUP)
        agent.wait_for(lambda: reload_count(port) == 1, "the reload done")
        writer.join()
        config.write_text(CONFIG.format(extra=BROKEN, **fields))
        agent.process.send_signal(signal.SIGHUP)
        agent.wait_for(lambda: "reloaded config is invalid" in agent.stderr(), "the broken config refused")
        write_batches(log, range(10, 12), 0)
        total = 12 * LINES_PER_BATCH
        agent.wait_for(lambda: len(delivered(tmp_path)) >= total, f"{total} lines delivered")
        assert reload_count(port) == 1
        result = agent.stop()
    assert result.returncode == 0, result.stderr
    records = delivered(tmp_path)
    assert sorted(int(record["log"].split()[1]) for record in records) == list(range(total))
    assert all(record.get("generation") == "2" for record in records[-2 * LINES_PER_BATCH:])
    assert records[0] == {"log": "line 0"}
    assert (f"[error] [reload] {config}:17: record_modifier: unknown configuration property 'recrod'"
            in result.stderr)


def test_post_api_v2_reload_reloads_as_sighup_does(tmp_path: Path):
    port = free_port()
    (tmp_path / "out").mkdir()
    (tmp_path / "app.log").write_text("line 0\n")
    config = tmp_path / "fluent-bit.conf"
    fields = {"port": port, "folder": tmp_path}
    with Agent(tmp_path, CONFIG.format(extra="", **fields)) as agent:
        agent.wait_for(lambda: len(delivered(tmp_path)) == 1, "the first line delivered")
        config.write_text(CONFIG.format(extra=RELOADED, **fields))
        request = urllib.request.Request(f"http://127.0.0.1:{port}/api/v2/reload", method="POST", data=b"")
        with urllib.request.urlopen(request, timeout=10) as answer:
            assert json.loads(answer.read()) == {"reload": "done", "status": 0}
        agent.wait_for(lambda: reload_count(port) == 1, "the reload done")
        with open(tmp_path / "app.log", "a") as handle:
            handle.write("line 1\n")
        agent.wait_for(lambda: len(delivered(tmp_path)) == 2, "the second line delivered")
        result = agent.stop()
    assert result.returncode == 0, result.stderr
    assert delivered(tmp_path) == [{"log": "line 0"}, {"log": "line 1", "generation": "2"}]


UNIT_CONFIG = """\
[SERVICE]
    Flush       0.05
    Hot_Reload  On
[INPUT]
    Name     dummy
    Samples  1
[OUTPUT]
    Name   null
    Match  *
"""


def test_a_reload_reads_the_config_and_builds_the_pipeline_off_the_event_loop(run, tmp_path: Path):
    path = tmp_path / "fluent-bit.conf"
    path.write_text(UNIT_CONFIG)
    builders: list[int] = []

    def reloader() -> Pipeline:
        builders.append(threading.get_ident())
        config, _ = load_config(str(path))
        return build(config)[0]

    async def scenario() -> tuple[bool, int, int]:
        runner = Runner(reloader(), reloader)
        await runner.start()
        builders.clear()
        try:
            return await runner.reload(), runner.reload_count, threading.get_ident()
        finally:
            await runner.stop()

    reloaded, count, loop_thread = run(scenario())
    assert (reloaded, count) == (True, 1)
    assert len(builders) == 1 and builders[0] != loop_thread


def test_sigterm_stops_the_agent_when_its_stderr_reader_has_gone(tmp_path: Path):
    # A log pipe whose reader died: the "caught signal" line cannot be written, and the agent still stops.
    config = tmp_path / "fluent-bit.conf"
    config.write_text("[SERVICE]\n    Grace 1\n[INPUT]\n    Name dummy\n[OUTPUT]\n    Name null\n    Match *\n")
    agent = subprocess.Popen([sys.executable, "-m", "flb_fast", "-c", str(config)], stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, preexec_fn=die_with_parent)
    try:
        assert agent.stderr is not None
        for line in agent.stderr:
            if b"[engine] started" in line:
                break
        agent.stderr.close()
        agent.send_signal(signal.SIGTERM)
        assert agent.wait(timeout=WAIT_SECONDS) == 0
    finally:
        agent.kill()
        agent.wait()
