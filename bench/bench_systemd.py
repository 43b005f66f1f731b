"""systemd input, end to end: a journal backlog read by the agent into the null output.

    python -m bench.bench_systemd [--entries N] [--fluent-bit /path/to/fluent-bit] [--json]

Writes N kubelet-like journal entries (8 fields, ~80-byte messages) with systemd-journal-remote,
then runs the agent on ``[INPUT] systemd`` (``Path`` the journal, ``Tag sd.*``) -> ``null`` with
the HTTP server on, and measures from outside the process, as bench_pipeline does: entries/s
from process start to the last record out (``/api/v1/metrics``), CPU (user + system of the
process, start-up included) per entry, peak RSS. With ``--fluent-bit`` the same config runs
through that binary too, side by side. ``--reader`` adds the CPU per entry of the input's
journal reader alone (``_core.Journal.read``: libsystemd and the records, tags and sizes built
in C, in this process), the floor under the input.
"""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from tests.fakes.ports import free_port
from tests.inputs.systemd.journal import write_entries

from bench.procstat import cpu_seconds, memory_mib
from bench.versions import versions

TIMEOUT_SECONDS = 600.0
SAMPLE_SECONDS = 0.1
T0_USEC = 1_700_000_000_000_000

CONFIG = """\
[SERVICE]
    Flush        1
    Log_Level    warn
    HTTP_Server  On
    HTTP_Listen  127.0.0.1
    HTTP_Port    {port}

[INPUT]
    Name  systemd
    Path  {journal}
    Tag   sd.*

[OUTPUT]
    Name  null
    Match *
"""


def entries(count: int) -> list[tuple[int, list[tuple[str, str]]]]:
    units = ("kubelet.service", "containerd.service", "docker.service")
    return [
        (T0_USEC + n * 1000, [
            ("_SYSTEMD_UNIT", units[n % 3]), ("_HOSTNAME", "ip-10-0-1-23"), ("_PID", str(1000 + n % 7)),
            ("_TRANSPORT", "stdout"), ("PRIORITY", "6"), ("SYSLOG_IDENTIFIER", units[n % 3].split(".")[0]),
            ("MESSAGE", f"I1206 08:00:00.{n % 1000000:06d}    1234 kubelet.go:123] pod sync number {n} done"),
        ])
        for n in range(count)
    ]


def _records_out(port: int) -> int | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/metrics", timeout=2) as response:
            metrics = json.load(response)
    except OSError:
        return None
    return sum(o["proc_records"] + o["dropped_records"] for o in metrics["output"].values())


def run_agent(command: list[str], journal: Path, count: int, folder: Path) -> dict[str, Any]:
    port = free_port()
    conf = folder / f"{Path(command[-1]).name}.conf"
    conf.write_text(CONFIG.format(port=port, journal=journal))
    started = time.perf_counter()
    process = subprocess.Popen([*command, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    out, done_at = 0, None
    try:
        while time.perf_counter() - started < TIMEOUT_SECONDS and process.poll() is None:
            time.sleep(SAMPLE_SECONDS)
            out = _records_out(port) or out
            if out >= count:
                done_at = time.perf_counter()
                break
        cpu = cpu_seconds(process.pid)
        _rss, peak = memory_mib(process.pid)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
    wall = (done_at or time.perf_counter()) - started
    return {"records_out": out, "wall_s": round(wall, 3), "entries_per_s": round(out / wall) if wall else 0,
            "cpu_s": round(cpu, 3), "cpu_us_per_entry": round(cpu / max(out, 1) * 1e6, 2),
            "peak_rss_mib": round(peak, 1)}


def reader_cpu_us(journal: Path) -> tuple[float, str]:
    """CPU µs per entry of the input's reader on ``journal`` (config's ``Tag sd.*``, the input's
    pass and chunk bounds), and the libsystemd it loaded."""
    from flb_fast import _core
    from flb_fast.inputs.systemd import PASS_MAX_BYTES, PASS_MAX_ENTRIES, library

    loaded = library.default()
    reader = _core.Journal(loaded, str(journal), "sd.", "", True, False, False, 8000)
    reader.seek_head()
    started, count, status = time.process_time(), 0, 1
    while status > 0:
        groups, _cursor, status, _broken = reader.read(PASS_MAX_ENTRIES, PASS_MAX_BYTES, "sd.*", False)
        count += sum(len(group[2]) for group in groups)
    elapsed = time.process_time() - started
    reader.close()
    return round(elapsed / max(count, 1) * 1e6, 2), loaded.path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_systemd", description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=200_000)
    parser.add_argument("--fluent-bit", help="also run this Fluent Bit binary on the same journal")
    parser.add_argument("--reader", action="store_true", help="also time the input's journal reader alone")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="flb-bench-systemd-") as tmp:
        folder = Path(tmp)
        journal = folder / "journal"
        journal.mkdir()
        write_entries(journal / "system.journal", entries(args.entries))
        results: dict[str, Any] = {"entries": args.entries,
                                   "versions": versions("msgspec", "uvloop")}
        results["flb_fast"] = run_agent([sys.executable, "-m", "flb_fast"], journal, args.entries, folder)
        if args.fluent_bit:
            results["fluent_bit"] = run_agent([args.fluent_bit], journal, args.entries, folder)
        if args.reader:
            results["reader_cpu_us_per_entry"], results["libsystemd"] = reader_cpu_us(journal)
    if args.json:
        print(json.dumps(results, indent=1))
    else:
        for name in ("flb_fast", "fluent_bit"):
            if name in results:
                r = results[name]
                print(f"{name}: {r['records_out']:,}/{args.entries:,} entries in {r['wall_s']} s = "
                      f"{r['entries_per_s']:,}/s; CPU {r['cpu_s']} s = {r['cpu_us_per_entry']} us/entry; "
                      f"peak RSS {r['peak_rss_mib']} MiB")
        if "reader_cpu_us_per_entry" in results:
            print(f"journal reader alone ({results['libsystemd']}): {results['reader_cpu_us_per_entry']} us CPU/entry")
    return 0 if results["flb_fast"]["records_out"] >= args.entries else 1


if __name__ == "__main__":
    sys.exit(main())
