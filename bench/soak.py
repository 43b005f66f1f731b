"""A soak: minutes of steady load with faults on a schedule; lines written, delivered, lost, duplicated, peak RSS.

Load: writers append numbered lines (~52 bytes) to container logs under ``containers/``: ``STEADY_FILES``
files appended to and never rotated, one file in kubelet's layout rotated by rename-and-create and one
rotated by copytruncate (``tests/reliability/load.py``), ``--rate`` lines/s in all for ``--minutes``.

The agent tails ``containers/*.log`` with Container Insights' tail settings (``DB``, ``Mem_Buf_Limit 50MB``,
``Rotate_Wait 30``, ``Refresh_Interval 10``, ``Flush 5``, ``storage.type`` as given; Fluent Bit always with
``filesystem``, as AWS ships it) into ``cloudwatch_logs`` (one stream per file) through the tests' fault proxy
over TLS, in front of moto, all on 127.0.0.1. ``Retry_Limit no_limits`` and a 1-30 s retry backoff for
both agents: the soak asks whether a fault loses lines, not whether a retry limit drops them.

Faults, on one seeded schedule that both agents get (printed on stderr, and in the JSON):
- ``--kills`` SIGKILLs at random moments, each followed at once by a restart;
- ``--outages`` output outages of ``--outage-seconds``: every PutLogEvents answered 500 (every other
  outage: the connection closed without an answer);
- a rotation every ``--rotate-every`` seconds, rename and copytruncate in turn.
A rotation is kept ``CLEARANCE_SECONDS`` away from a kill, and waits that long after a restart: a file
renamed away while no agent runs is out of every agent's reach (the glob no longer names it), which is
not the loss a kill is judged by.

After the writers end, the agent runs until every line arrived (the lines a copytruncate lost never
do: then until ``COPYTRUNCATE_SETTLE_SECONDS`` without progress) or ``--settle`` seconds pass without
progress, then gets SIGTERM. Delivered and duplicated are exact: every event moto accepted is read
back. A kill "lost nothing" when no line of the steady and renamed files written between the previous
kill and it is missing; copytruncate loses the lines written after the agent's last read before each
truncation (in both agents), reported on their own.

    python -m bench.soak --minutes 10 [--storage filesystem|memory] [--fluent-bit PATH] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.fakes.certs import make_certs
from tests.fakes.fault_proxy import FaultProxy
from tests.fakes.moto_server import FAKE_CREDENTIALS, MotoServer
from tests.reliability.load import Arrived, RotatingWriter, SteadyWriter, arrived_in

from bench.kill_restart import start
from bench.procstat import memory_mib

CONFIG = """\
[SERVICE]
    Flush          5
    Grace          30
    Log_Level      info
    scheduler.base 1
    scheduler.cap  30
    storage.path   {root}/storage
    storage.sync   normal
    storage.backlog.mem_limit 5M
[INPUT]
    Name             tail
    Tag              kube.*
    Path             {root}/containers/*.log
    DB               {root}/tail.db
    Read_From_Head   On
    Mem_Buf_Limit    50MB
    Rotate_Wait      30
    Refresh_Interval 10
    storage.type     {storage}
[OUTPUT]
    Name               cloudwatch_logs
    Match              *
    region             us-east-1
    endpoint           127.0.0.1
    port               {port}
    tls.ca_file        {ca_file}
    log_group_name     soak
    log_stream_prefix  soak-
    auto_create_group  true
    Retry_Limit        no_limits
"""
GROUP = "soak"
STEADY_FILES = 2
# Of every 10 lines written: 3 to each steady file, 2 to each rotated one.
SHARES = {"rename": 0.2, "copytruncate": 0.2}
# Seconds kept between a kill and a rotation, and after a restart before a rotation: the agent
# has read a rotated file's last lines by then (Refresh_Interval and Rotate_Wait are longer).
CLEARANCE_SECONDS = 5.0
# No fault in the first and last seconds of the load.
MARGIN_SECONDS = 10.0
# Every outage is answered with one of these, in turn (tests/fakes/fault_proxy.py).
OUTAGE_ACTIONS = ("error500", "drop")
FOREVER = 10**9
POLL_SECONDS = 0.5
# Lines a copytruncate lost never come: once every other line arrived, this long without progress
# ends the wait (Flush 5 and the 30 s retry cap bound a late chunk otherwise).
COPYTRUNCATE_SETTLE_SECONDS = 40.0
# Runs of missing line numbers shown in the JSON per file.
MISSING_RUNS = 50
STOP_SECONDS = 90.0


@dataclass
class Schedule:
    """When each fault happens, in seconds from the start of the load."""

    kills: list[float]
    outages: list[tuple[float, str]]
    outage_seconds: float
    rotations: list[tuple[float, str]]

    @classmethod
    def draw(cls, seed: int, seconds: float, kills: int, outages: int, outage_seconds: float,
             rotate_every: float) -> Schedule:
        rng = random.Random(seed)
        rotations = [(rotate_every * (n + 1), ("rename", "copytruncate")[n % 2])
                     for n in range(int((seconds - MARGIN_SECONDS) // rotate_every))]
        kill_times: list[float] = []
        for _ in range(100_000):
            if len(kill_times) == kills:
                break
            at = rng.uniform(MARGIN_SECONDS, seconds - MARGIN_SECONDS)
            if all(abs(at - other) >= CLEARANCE_SECONDS for other in kill_times + [t for t, _ in rotations]):
                kill_times.append(at)
        else:
            raise SystemExit(f"{kills} kills do not fit in {seconds:g} s between rotations: fewer, or a longer soak")
        span = (seconds - 2 * MARGIN_SECONDS) / max(outages, 1)
        outage_starts = [MARGIN_SECONDS + n * span + rng.uniform(0, max(span - outage_seconds, 0))
                         for n in range(outages)]
        return cls(sorted(kill_times), [(at, OUTAGE_ACTIONS[n % 2]) for n, at in enumerate(outage_starts)],
                   outage_seconds, rotations)

    def events(self) -> list[tuple[float, str, str]]:
        """(moment, kind, detail) in time order."""
        events = [(at, "kill", "") for at in self.kills]
        events += [(at, "rotate", mode) for at, mode in self.rotations]
        for at, action in self.outages:
            events += [(at, "outage", action), (at + self.outage_seconds, "outage-end", action)]
        return sorted(events)

    def as_json(self) -> dict[str, Any]:
        return {"kills": [round(at, 2) for at in self.kills],
                "outages": [[round(at, 2), round(self.outage_seconds, 2), action] for at, action in self.outages],
                "rotations": [[round(at, 2), mode] for at, mode in self.rotations]}


@dataclass
class Files:
    """The writers, by the file name each one's stream ends with."""

    steady: dict[str, SteadyWriter]
    rotating: dict[str, RotatingWriter]

    @classmethod
    def start(cls, root: Path, rate: int, seconds: float) -> Files:
        steady_rate = rate * (1 - sum(SHARES.values())) / STEADY_FILES
        steady = {}
        for n in range(STEADY_FILES):
            name = f"steady-{n}_soak_app-{n:04d}.log"
            steady[name] = SteadyWriter(root / "containers" / name, int(steady_rate * seconds), int(steady_rate))
        rotating = {}
        for mode, share in SHARES.items():
            writer = RotatingWriter(root, int(rate * share * seconds), int(rate * share), mode, float("inf"),
                                    pod=f"{mode}-1")
            rotating[writer.link.name] = writer
        for writer in [*steady.values(), *rotating.values()]:
            writer.start()
        return cls(steady, rotating)

    def all(self) -> dict[str, SteadyWriter | RotatingWriter]:
        return {**self.steady, **self.rotating}

    def by_mode(self, mode: str) -> RotatingWriter:
        return next(writer for writer in self.rotating.values() if writer.mode == mode)

    def written(self) -> dict[str, int]:
        return {name: writer.written for name, writer in self.all().items()}

    def kind(self, name: str) -> str:
        return "steady" if name in self.steady else self.rotating[name].mode


@dataclass
class Run:
    """One agent's soak: the process, what happened to it, and its peak memory."""

    agent: str
    fluent_bit: str
    root: Path
    config: Path
    process: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    crashes: int = 0
    peak_rss_mib: float = 0.0
    restart_seconds: list[float] = field(default_factory=list)
    last_restart: float = 0.0

    def launch(self) -> None:
        started = time.monotonic()
        self.process = start(self.agent, self.fluent_bit, self.root, self.config)
        self.last_restart = time.monotonic()
        self.restart_seconds.append(self.last_restart - started)

    def sample(self) -> None:
        """Note the process's peak RSS, and restart it if it died on its own."""
        assert self.process is not None
        if self.process.poll() is not None:
            self.crashes += 1
            self.launch()
            return
        try:
            self.peak_rss_mib = max(self.peak_rss_mib, memory_mib(self.process.pid)[1])
        except (FileNotFoundError, ProcessLookupError):
            return

    def stop(self, sig: int) -> None:
        assert self.process is not None
        self.sample()
        self.process.send_signal(sig)
        self.process.wait(STOP_SECONDS)


class Delivered:
    """Line numbers per stream from the PutLogEvents requests the proxy passed on: a cheap progress
    measure while the soak runs (the count reported is read back from moto)."""

    def __init__(self, proxy: FaultProxy) -> None:
        self.proxy = proxy
        self.seen = 0
        self.texts: dict[str, list[bytes]] = {}

    def update(self) -> None:
        calls = self.proxy.calls_to("PutLogEvents")
        for call in calls[self.seen:]:
            if call.action == "forward":
                try:
                    request = json.loads(call.body)
                except ValueError:  # a request cut short by a kill: moto refuses it too
                    continue
                self.texts.setdefault(request["logStreamName"], []).extend(
                    event["message"].encode() for event in request["logEvents"])
        self.seen = len(calls)
        # Bodies seen are not needed again: drop them so that the proxy's record stays small.
        for call in calls:
            call.body = b""

    def missing(self, files: Files) -> dict[str, int]:
        """Lines not seen yet, per kind of file."""
        missing = {"steady": 0, "rename": 0, "copytruncate": 0}
        for name, writer in files.all().items():
            missing[files.kind(name)] += len(arrived_in(texts_of(self.texts, files, name), writer.lines).missing)
        return missing


def texts_of(streams: dict[str, list[bytes]], files: Files, name: str) -> list[bytes]:
    """The messages of the streams of file ``name``: the stream of its tag, and those of rotated files
    an agent read on after a restart, tagged with the name they have now (``pods/<pod dir>/...``)."""
    writer = files.all()[name]
    pod_dir = f".{writer.log.parent.parent.name}." if isinstance(writer, RotatingWriter) else None
    return [text for stream, texts in streams.items()
            if stream.endswith(name) or (pod_dir is not None and pod_dir in stream) for text in texts]


def read_moto(moto: MotoServer) -> dict[str, list[bytes]]:
    """Every event moto holds in the soak's group, by stream."""
    logs = moto.client("logs")
    streams: dict[str, list[bytes]] = {}
    for page in logs.get_paginator("describe_log_streams").paginate(logGroupName=GROUP):
        for stream in page["logStreams"]:
            name = stream["logStreamName"]
            kwargs: dict[str, Any] = {"logGroupName": GROUP, "logStreamName": name, "startFromHead": True}
            texts = streams.setdefault(name, [])
            while True:
                events = logs.get_log_events(**kwargs)
                texts.extend(event["message"].encode() for event in events["events"])
                if not events["events"]:
                    break
                kwargs["nextToken"] = events["nextForwardToken"]
    return streams


def run_once(agent: str, fluent_bit: str, storage: str, schedule: Schedule, seconds: float, rate: int,
             settle: float) -> dict[str, Any]:
    root = Path(tempfile.mkdtemp(prefix=f"soak-{agent}-"))
    moto = MotoServer()
    certs = make_certs(root / "tls", "logs")
    proxy = FaultProxy(moto.url, certs)
    run = Run(agent, fluent_bit, root, root / "agent.conf")
    load_before = os.getloadavg()
    try:
        run.config.write_text(CONFIG.format(root=root, storage=storage, port=proxy.url.rsplit(":", 1)[1],
                                            ca_file=certs.ca_file))
        (root / "containers").mkdir()
        run.launch()
        files = Files.start(root, rate, seconds)
        began = time.monotonic()
        progress = Delivered(proxy)
        at_kills: list[dict[str, int]] = []
        kill_moments: list[float] = []
        last_rotation = -CLEARANCE_SECONDS
        for at, kind, detail in schedule.events():
            while time.monotonic() - began < at:
                run.sample()
                progress.update()
                time.sleep(min(POLL_SECONDS, max(at - (time.monotonic() - began), 0.0)))
            if kind == "kill":
                wait_until(last_rotation + CLEARANCE_SECONDS, run)
                run.stop(signal.SIGKILL)
                kill_moments.append(time.monotonic() - began)
                at_kills.append(files.written())
                run.restarts += 1
                run.launch()
            elif kind == "rotate":
                wait_until(run.last_restart + CLEARANCE_SECONDS, run)
                files.by_mode(detail).request_rotation()
                last_rotation = time.monotonic()
            elif kind == "outage":
                proxy.add("PutLogEvents", detail, FOREVER)
            else:
                proxy.clear()
        for writer in files.all().values():
            while not writer.done:
                run.sample()
                writer.join(POLL_SECONDS)
        load_seconds = time.monotonic() - began
        last, since = -1, time.monotonic()
        while time.monotonic() - since < settle:
            run.sample()
            progress.update()
            missing = progress.missing(files)
            if not missing["steady"] and not missing["rename"] and (
                    not missing["copytruncate"] or time.monotonic() - since > COPYTRUNCATE_SETTLE_SECONDS):
                break
            got = sum(missing.values())
            if got != last:
                last, since = got, time.monotonic()
            time.sleep(POLL_SECONDS)
        settle_seconds = time.monotonic() - began - load_seconds
        run.stop(signal.SIGTERM)
        streams = read_moto(moto)
        return report(run, storage, files, streams, schedule, kill_moments, at_kills, load_seconds, settle_seconds,
                      load_before)
    finally:
        if run.process is not None and run.process.poll() is None:
            run.process.kill()
            run.process.wait()
        proxy.close()
        moto.stop()
        shutil.rmtree(root, ignore_errors=True)


def wait_until(moment: float, run: Run) -> None:
    while time.monotonic() < moment:
        run.sample()
        time.sleep(min(POLL_SECONDS, max(moment - time.monotonic(), 0.0)))


def report(run: Run, storage: str, files: Files, streams: dict[str, list[bytes]], schedule: Schedule,
           kill_moments: list[float], at_kills: list[dict[str, int]], load_seconds: float, settle_seconds: float,
           load_before: tuple[float, float, float]) -> dict[str, Any]:
    per_file: dict[str, dict[str, Any]] = {}
    got: dict[str, Arrived] = {}
    for name, writer in files.all().items():
        got[name] = arrived_in(texts_of(streams, files, name), writer.lines)
        per_file[name] = {"kind": files.kind(name), "written": writer.written, "distinct": got[name].distinct,
                          "lost": len(got[name].missing), "duplicated": got[name].duplicates,
                          "missing": ranges(got[name].missing)}
        if isinstance(writer, RotatingWriter):
            # Read on after a restart from a rotated file, under the tag of the name it has now.
            per_file[name]["events_in_rotated_name_streams"] = sum(
                len(texts) for stream, texts in streams.items() if not stream.endswith(name)
                and f".{writer.log.parent.parent.name}." in stream)
        if isinstance(writer, RotatingWriter) and writer.mode == "copytruncate":
            per_file[name]["truncated_at"] = writer.truncated_at
    # A line lost from a steady or renamed file counts against the first kill after it was written.
    lost_per_kill = [0] * (len(at_kills) + 1)
    for name, arrived in got.items():
        if files.kind(name) == "copytruncate":
            continue
        for number in arrived.missing:
            lost_per_kill[next((n for n, snap in enumerate(at_kills) if number < snap[name]), len(at_kills))] += 1
    kills = [{"at": round(moment, 2), "lost_since_previous": lost, "written": snap}
             for moment, lost, snap in zip(kill_moments, lost_per_kill, at_kills, strict=False)]
    copytruncate = files.by_mode("copytruncate")
    return {
        "agent": run.agent, "storage": "filesystem" if run.agent == "fluent-bit" else storage,
        "written": sum(arrived.expected for arrived in got.values()),
        "delivered": sum(arrived.distinct for arrived in got.values()),
        "lost": sum(len(arrived.missing) for arrived in got.values()),
        "duplicated": sum(arrived.duplicates for arrived in got.values()),
        "lost_steady_and_rename": sum(len(a.missing) for n, a in got.items() if files.kind(n) != "copytruncate"),
        "lost_copytruncate": len(got[copytruncate.link.name].missing),
        "peak_rss_mib": round(run.peak_rss_mib, 1),
        "restarts": run.restarts, "crashes": run.crashes,
        "kills_losing_nothing": sum(1 for kill in kills if kill["lost_since_previous"] == 0),
        "kills": kills, "lost_after_last_kill": lost_per_kill[-1],
        "rotations": {"rename": files.by_mode("rename").rotations, "copytruncate": copytruncate.rotations},
        "outages": len(schedule.outages),
        "restart_seconds_max": round(max(run.restart_seconds), 2),
        "load_seconds": round(load_seconds, 1), "settle_seconds": round(settle_seconds, 1),
        "loadavg_before": load_before, "loadavg_after": os.getloadavg(),
        "files": per_file,
    }


def ranges(numbers: list[int]) -> list[list[int]]:
    """Sorted line numbers as [first, last] runs, the first ``MISSING_RUNS`` of them."""
    runs: list[list[int]] = []
    for number in numbers:
        if runs and runs[-1][1] == number - 1:
            runs[-1][1] = number
        elif len(runs) == MISSING_RUNS:
            break
        else:
            runs.append([number, number])
    return runs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="how long the writers write")
    parser.add_argument("--rate", type=int, default=1_000, help="lines written per second, all files together")
    parser.add_argument("--storage", choices=("filesystem", "memory"), default="filesystem",
                        help="flb-fast's storage.type (Fluent Bit always runs with filesystem)")
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--outages", type=int, default=4)
    parser.add_argument("--outage-seconds", type=float, default=30.0)
    parser.add_argument("--rotate-every", type=float, default=15.0, help="seconds between rotations")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--settle", type=float, default=120.0, help="seconds without progress that end a run")
    parser.add_argument("--fluent-bit", default=os.environ.get("FLUENT_BIT_BIN", ""),
                        help="Fluent Bit binary to run the same soak through afterwards (default: $FLUENT_BIT_BIN)")
    parser.add_argument("--skip-flb-fast", action="store_true", help="run Fluent Bit only")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    # SIGTERM ends the soak through the cleanup of each run (agents, moto, the proxy, the files).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    seconds = args.minutes * 60
    schedule = Schedule.draw(args.seed, seconds, args.kills, args.outages, args.outage_seconds, args.rotate_every)
    print(f"schedule (seed {args.seed}): {json.dumps(schedule.as_json())}", file=sys.stderr, flush=True)
    os.environ.update(FAKE_CREDENTIALS)
    agents = [*([] if args.skip_flb_fast else ["flb-fast"]), *(["fluent-bit"] if args.fluent_bit else [])]
    results = [run_once(agent, args.fluent_bit, args.storage, schedule, seconds, args.rate, args.settle)
               for agent in agents]
    if args.json:
        print(json.dumps({"seed": args.seed, "minutes": args.minutes, "rate": args.rate,
                          "schedule": schedule.as_json(), "results": results}, indent=2))
        return 0
    print("| agent | storage | written | delivered | lost (steady+rename / copytruncate) | duplicated | "
          "kills losing nothing | restarts | peak RSS MiB |")
    print("|---|---|---:|---:|---|---:|---:|---:|---:|")
    for r in results:
        print(f"| {r['agent']} | {r['storage']} | {r['written']:,} | {r['delivered']:,} | "
              f"{r['lost_steady_and_rename']:,} / {r['lost_copytruncate']:,} | {r['duplicated']:,} | "
              f"{r['kills_losing_nothing']}/{len(r['kills'])} | {r['restarts']} | {r['peak_rss_mib']} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
