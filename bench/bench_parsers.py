"""Lines per CPU-second for each standard parser, on realistic generated lines.

    python -m bench.bench_parsers [--lines N] [--json] [--versions]

For every parser of the bundled parsers.conf it times ``parser.parse_lines(lines, read_time, "log")``
(tail's path: match, record, time and types), with its compiled ``_core`` path and with it
switched off (pure Python), and, for reference, the bare engine on the same lines:
``re.search(...).groupdict()`` for regex parsers, ``msgspec.json.decode`` for json ones. CPU time
is ``time.process_time`` around one batch call, best of ``--repeat`` runs (one core).
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
from collections.abc import Callable

import msgspec

from bench.versions import versions
from flb_fast.config.model import Config
from flb_fast.parsers import build_registry
from flb_fast.parsers.onigmo import translate

_AGENTS = ["curl/8.4.0", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
           "kube-probe/1.29", "Go-http-client/1.1"]
_PATHS = ["/", "/api/v1/items", "/api/v1/items/{n}?page={p}", "/healthz", "/static/app.{n}.js"]
_MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def _clock(rng: random.Random, i: int) -> tuple[int, int, int, int]:
    second = i // 50  # ~50 lines per second, as a busy service logs
    return 25, 13 + second // 3600 % 10, second // 60 % 60, second % 60


def _access(rng: random.Random, i: int) -> tuple[str, str, str, str, str]:
    path = rng.choice(_PATHS).format(n=rng.randrange(10**5), p=rng.randrange(9))
    return (f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(256)}", path,
            rng.choice(["200", "200", "200", "304", "404", "500"]), str(rng.randrange(100, 50000)), rng.choice(_AGENTS))


def _rfc3339(i: int, digits: int = 9) -> str:
    day, hour, minute, second = _clock(random.Random(0), i)
    return f"2026-11-{day}T{hour:02d}:{minute:02d}:{second:02d}.{(i * 7919) % 10**digits:0{digits}d}"


def make_line(name: str, rng: random.Random, i: int) -> str | None:
    day, hour, minute, second = _clock(rng, i)
    clf = f"{day}/Nov/2026:{hour:02d}:{minute:02d}:{second:02d} +0000"
    ip, path, code, size, agent = _access(rng, i)
    if name in ("nginx", "apache", "apache2"):
        lead = f"{ip} - -" if name == "nginx" else f"{ip} - frank"
        return f'{lead} [{clf}] "GET {path} HTTP/1.1" {code} {size} "-" "{agent}"'
    if name == "k8s-nginx-ingress":
        return (f'{ip} - - [{clf}] "GET {path} HTTP/1.1" {code} {size} "-" "{agent}" 412 0.004 [default-api-80] [] '
                f"10.1.2.3:8080 {size} 0.004 {code} {rng.getrandbits(64):016x}")
    if name == "apache_error":
        return f"[Wed Nov {day} {hour:02d}:{minute:02d}:{second:02d}.{i % 10**6:06d} 2026] [core:error] [pid {i % 9000}] " \
               f"[client {ip}:5{i % 10000:04d}] AH00037: Symbolic link not allowed: {path}"
    if name == "json":
        return json.dumps({"time": clf, "level": "info", "msg": f"request {path}", "status": int(code)})
    if name == "docker":
        return json.dumps({"log": f"{ip} GET {path} {code}\n", "stream": "stdout", "time": _rfc3339(i) + "Z"})
    if name == "logfmt":
        return f'ts={_rfc3339(i, 3)}Z level=info msg="request done" path={path} status={code} dur={size}us'
    if name == "docker-daemon":
        return f'time="{_rfc3339(i)}Z" level=info msg="Container {rng.getrandbits(48):012x} started"'
    if name == "syslog-rfc5424":
        return f"<165>1 {_rfc3339(i, 3)}Z host{i % 9}.example.com app {i % 9999} ID47 - request {path} {code}"
    if name in ("syslog-rfc3164", "syslog-rfc3164-local"):
        host = "" if name.endswith("local") else f"host{i % 9} "
        return f"<13>Nov {day} {hour:02d}:{minute:02d}:{second:02d} {host}sshd[{i % 9999}]: Accepted publickey for u{i % 50}"
    if name == "mongodb":
        return f"{_rfc3339(i, 3)}+0000 I NETWORK  [conn{i % 999}] end connection {ip}:5555 (3 connections now open) {i % 90}ms"
    if name in ("envoy", "istio-envoy-proxy"):
        stamp = _rfc3339(i, 3) + "Z"
        if name == "envoy":
            return f'[{stamp}] "GET {path} HTTP/1.1" {code} - 0 {size} 3 2 "{ip}" "{agent}" "{rng.getrandbits(64):x}" ' \
                   f'"api.local" "10.1.2.3:8080"'
        return f'[{stamp}] "GET {path} HTTP/1.1" {code} - via_upstream - "-" 0 {size} 3 2 "{ip}" "{agent}" ' \
               f'"{rng.getrandbits(64):x}" "api.local" "10.1.2.3:8080" outbound|80||api.default.svc.cluster.local ' \
               f"10.1.0.5:40000 10.1.2.3:8080 {ip}:39999 - default"
    if name == "cri":
        return f"{_rfc3339(i)}+00:00 stdout F {ip} GET {path} {code}"
    if name == "kube-custom":
        return f"kube.var.log.containers.api-{i % 97:05x}-x2x9z_default_api-{rng.getrandbits(256):064x}.log"
    if name == "kmsg-netfilter-log":
        return f"<4>1 {_rfc3339(i, 6)}+00:00 host kernel - - - [12345.678] DROP IN=eth0 OUT= " \
               f"MAC=00:11:22:33:44:55:66:77:88:99:aa:bb:08:00 SRC={ip} DST=10.0.0.2 LEN=60 TOS=0x00 PREC=0x00 " \
               f"TTL=64 ID={i % 65535} DF PROTO=TCP SPT={i % 65535} DPT=80 WINDOW=29200 RES=0x00 SYN URGP=0"
    return None


def _cpu_rate(func: Callable[[], object], count: int, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        func()
        best = min(best, time.process_time() - start)
    return count / best if best > 0 else float("inf")


def run(lines_per_parser: int, repeat: int) -> list[dict[str, object]]:
    registry = build_registry(Config())
    results = []
    for name in registry.names():
        parser = registry.get(name)
        rng = random.Random(name)
        texts = [make_line(name, rng, i) for i in range(lines_per_parser)]
        if texts[0] is None:
            continue
        lines = [text.encode() for text in texts if text is not None]
        read_time = time.time_ns()
        _, _, failed = parser.parse_lines(lines, read_time, "log")
        ours = _cpu_rate(lambda parser=parser, lines=lines, now=read_time: parser.parse_lines(lines, now, "log"),
                         len(lines), repeat)
        compiled = getattr(parser, "compiled", None)
        python_path = None
        if compiled is not None:  # the same parser with its _core path switched off
            try:
                parser.compiled = None
                python_path = _cpu_rate(
                    lambda parser=parser, lines=lines, now=read_time: parser.parse_lines(lines, now, "log"),
                    len(lines), repeat)
            finally:
                parser.compiled = compiled
        regex = getattr(parser, "regex", None)
        if regex is not None:
            source, flags = translate(parser.spec.regex)
            search = re.compile(source, flags).search

            def reference(lines: list[bytes] = lines, search: Callable = search) -> None:
                for line in lines:
                    match = search(line.decode("utf-8", "replace"))
                    if match is not None:
                        match.groupdict()

            engine = "re.search+groupdict"
        else:
            decode = msgspec.json.decode

            def reference(lines: list[bytes] = lines, decode: Callable = decode) -> None:
                for line in lines:
                    try:
                        decode(line)
                    except msgspec.DecodeError:
                        pass

            engine = "msgspec.json.decode" if parser.format == "json" else "(none)"
        ref = _cpu_rate(reference, len(lines), repeat) if engine != "(none)" else None
        results.append({"parser": name, "format": parser.format, "lines": len(lines), "unparsed": failed,
                        "lines_per_cpu_s": round(ours),
                        "python_path_lines_per_cpu_s": round(python_path) if python_path else None,
                        "reference": engine,
                        "reference_lines_per_cpu_s": round(ref) if ref else None})
    return results


def main(argv: list[str] | None = None) -> int:
    args = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    args.add_argument("--lines", type=int, default=50_000, help="lines per parser (default 50000)")
    args.add_argument("--repeat", type=int, default=3, help="runs per measurement, best kept (default 3)")
    args.add_argument("--json", action="store_true", help="print raw results as JSON")
    args.add_argument("--versions", action="store_true", help="print Python and library versions")
    opts = args.parse_args(argv)
    if opts.versions:
        print(" ".join(f"{key}={value}" for key, value in versions("msgspec").items()))
    results = run(opts.lines, opts.repeat)
    if opts.json:
        print(json.dumps(results, indent=2))
        return 0
    print(f"{'parser':<22}{'format':<8}{'unparsed':>9}{'ours (_core)':>14}{'ours (Python)':>15}"
          f"{'reference':>12}  engine  (lines per CPU-second)")
    for row in results:
        python_path, ref = row["python_path_lines_per_cpu_s"], row["reference_lines_per_cpu_s"]
        python_text = "-" if python_path is None else f"{python_path:,}"
        ref_text = "-" if ref is None else f"{ref:,}"
        print(f"{row['parser']:<22}{row['format']:<8}{row['unparsed']:>9}{row['lines_per_cpu_s']:>14,}"
              f"{python_text:>15}{ref_text:>12}  {row['reference']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
