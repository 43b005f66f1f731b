"""The Kubernetes pipeline (tail, docker parser, kubernetes filter) end to end, measured from outside the real agent process, side by side with Fluent Bit.

    python -m bench.bench_pipeline --lines 200000 --files 20 --variant cloudwatch \
        [--fluent-bit /path/to/fluent-bit] [--repeat N] [--json] [--save [--series NAME]] [--plot PNG]

Variants (each the config of the AWS for Fluent Bit Kubernetes set-up; only the output differs):
  docker                tail (Parser docker, Docker_Mode On, Mem_Buf_Limit 5MB, Skip_Long_Lines On, DB) -> null
  kubernetes            the same -> kubernetes (Merge_Log On, Merge_Log_Key data, K8S-Logging.Parser/Exclude
                        On; the tests' HTTPS API server on 127.0.0.1, nginx pods annotated
                        ``fluentbit.io/parser: nginx``) -> null
  filters               the same -> kubernetes -> grep (Exclude debug JSON logs and kube-probe requests) ->
                        modify (Rename log message, Add cluster, Remove stream) -> nest (lift kubernetes,
                        Add_prefix kubernetes_) -> null
  filters-lua           the filters chain, then a lua filter whose function adds a key to every record
                        (return 2) -> null
  cloudwatch            the same -> kubernetes -> cloudwatch_logs against moto over TLS on 127.0.0.1
                        (moto's server closes every connection after its answer)
  cloudwatch-keepalive  the same, moto over TLS keeping connections open, as AWS endpoints do
  cloudwatch-fast       the same against a fast CloudWatch Logs endpoint (tests/fakes/cloudwatch_logs_server.py,
                        its own process: the JSON protocol over kept-alive TLS, SigV4 checked, events counted,
                        nothing stored), so that lines/s is the agents' and not moto's
  firehose-keepalive    the same -> kubernetes -> kinesis_firehose against moto over TLS keeping connections
                        open (a delivery stream writing to a moto S3 bucket)
  kinesis-keepalive     the same -> kubernetes -> kinesis_streams against moto over TLS keeping connections
                        open (a stream of one shard)
  firehose-fast         firehose-keepalive's output against a fast Firehose endpoint (tests/fakes/stream_server.py,
                        its own process: the JSON protocol over kept-alive TLS, SigV4 checked, records counted,
                        nothing stored), so that lines/s is the agents' and not moto's
  kinesis-fast          kinesis-keepalive's output against the same fast endpoint (Kinesis PutRecords)

The log files are written first by ``bench.gen_logs`` (same seed, same bytes) and read as a
start-up backlog (Read_from_Head On). flb-fast's modules are byte-compiled first, as an installed
package's are. The agents run with ``Flush`` left at its default of 1 s.
With ``--fluent-bit`` (or ``FLUENT_BIT_BIN``) the same config runs through that Fluent Bit binary
on the same files in the same invocation, after flb-fast, each with a fresh DB and a fresh moto.
Reported per agent: lines/s (all lines out / wall from process start), CPU µs per line (user +
system of the agent process, start-up included), peak RSS (VmHWM), minor page faults (memory
the kernel mapped on first touch), the API requests the filter made; and the ratios (Fluent Bit's CPU per line / ours, our lines/s / Fluent Bit's, our peak RSS /
Fluent Bit's). The firehose and kinesis variants also count the records moto received (``delivered``),
so both agents' outputs are checked complete, not only their metrics. On a shared machine the ratios from one run are the figures to quote. With
``--repeat N`` every run is made N times, in rounds, and each keeps the run with the least CPU.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.fakes.ports import free_port

from bench import gen_logs
from bench.procstat import cpu_seconds, memory_mib, page_faults, steal_seconds
from bench.versions import versions

SAMPLE_SECONDS = 0.25
# The agent is stopped once every line is out, or when nothing more came out for this long.
IDLE_SECONDS = 20.0
TIMEOUT_SECONDS = 1800.0
# SIGTERM gives the agents Grace (5 s by default) to finish; past this they are killed.
STOP_SECONDS = 30.0
RESULTS = Path(__file__).parent / "results"
# The key of the filters variant's runs without the chain (kubernetes only).
BASELINE = "without chain"

PARSERS_FILE = Path(__file__).resolve().parents[1] / "src" / "flb_fast" / "data" / "parsers.conf"
VARIANTS = (
    "docker",
    "kubernetes",
    "filters",
    "filters-lua",
    "cloudwatch",
    "cloudwatch-keepalive",
    "cloudwatch-fast",
    "firehose-keepalive",
    "kinesis-keepalive",
    "firehose-fast",
    "kinesis-fast",
)

KUBERNETES_INPUT = """\
[SERVICE]
    HTTP_Server  On
    HTTP_Listen  127.0.0.1
    HTTP_Port    {port}
    Log_Level    warn
    Parsers_File {parsers}

[INPUT]
    Name              tail
    Tag               kube.*
    Path              {logs}/*.log
    DB                {root}/flb_kube.db
    Parser            docker
    Docker_Mode       On
    Mem_Buf_Limit     {mem_buf_limit}
    Skip_Long_Lines   On
    Refresh_Interval  10
    Read_from_Head    On
"""

KUBERNETES_FILTER = """
[FILTER]
    Name                kubernetes
    Match               kube.*
    Kube_URL            {api_url}
    Kube_CA_File        {ca_file}
    Kube_Token_File     {token_file}
    Kube_Tag_Prefix     {tag_prefix}
    Merge_Log           On
    Merge_Log_Key       data
    K8S-Logging.Parser  On
    K8S-Logging.Exclude On
"""

# The chain a Kubernetes config runs after the kubernetes filter: drop noise, reshape, flatten the metadata.
CHAIN_FILTERS = """
[FILTER]
    Name     grep
    Match    kube.*
    Exclude  $data['level'] ^debug$
    Exclude  agent ^kube-probe/

[FILTER]
    Name     modify
    Match    kube.*
    Rename   log message
    Add      cluster bench-cluster
    Remove   stream

[FILTER]
    Name          nest
    Match         kube.*
    Operation     lift
    Nested_under  kubernetes
    Add_prefix    kubernetes_
"""

# The filters-lua variant ends the chain with a Lua function that changes every record (return 2).
LUA_FILTER = """
[FILTER]
    Name   lua
    Match  kube.*
    call   enrich
    code   function enrich(tag, ts, record) record["env"] = "bench" return 2, ts, record end
"""

NULL_OUTPUT = """
[OUTPUT]
    Name   null
    Match  *
"""

CLOUDWATCH_OUTPUT = """
[OUTPUT]
    Name               cloudwatch_logs
    Match              *
    region             us-east-1
    endpoint           127.0.0.1
    port               {moto_port}
    tls.ca_file        {moto_ca_file}
    log_group_name     fluentbit-cloudwatch
    log_stream_prefix  fluentbit-
    auto_create_group  true
"""

# Fluent Bit's kinesis_firehose and kinesis_streams connect to port 443 whatever the endpoint says
# (firehose.c / kinesis.c cb_*_init: ``flb_upstream_create(config, endpoint, 443, FLB_IO_TLS, ...)``),
# so the moto (or fast endpoint) of those variants listens there, on 127.0.0.1 (which its certificate names).
STREAM_MOTO_PORT = 443
STREAM_NAME = "bench-stream"
STREAM_BUCKET = "bench-firehose-bucket"
# The section a stream variant ends the config with: the same host, TLS and stream for both agents.
STREAM_OUTPUTS = {
    "firehose": """
[OUTPUT]
    Name             kinesis_firehose
    Match            *
    region           us-east-1
    endpoint         127.0.0.1
    tls.ca_file      {moto_ca_file}
    delivery_stream  {stream}
""",
    "kinesis": """
[OUTPUT]
    Name         kinesis_streams
    Match        *
    region       us-east-1
    endpoint     127.0.0.1
    tls.ca_file  {moto_ca_file}
    stream       {stream}
""",
}
# Kinesis GetRecords returns at most 10,000 records a call (API_GetRecords.html, Limit).
GET_RECORDS_LIMIT = 10_000


def stream_output(variant: str, ca_file: Path) -> str:
    """The output section of a firehose-* or kinesis-* variant."""
    return STREAM_OUTPUTS[variant.split("-")[0]].format(moto_ca_file=ca_file, stream=STREAM_NAME)


class StreamSink:
    """The firehose or kinesis variant's destination in moto: created afresh before each run (after
    moto's reset), and counted after it: one record per log line, each ending with a newline."""

    def __init__(self, moto: Any, variant: str) -> None:
        self.moto = moto
        self.variant = variant

    def output(self) -> str:
        return stream_output(self.variant, self.moto.certs.ca_file)

    def prepare(self) -> None:
        if self.variant == "firehose-keepalive":
            self.moto.client("s3").create_bucket(Bucket=STREAM_BUCKET)
            self.moto.client("firehose").create_delivery_stream(
                DeliveryStreamName=STREAM_NAME,
                ExtendedS3DestinationConfiguration={
                    "RoleARN": "arn:aws:iam::123456789012:role/firehose",
                    "BucketARN": f"arn:aws:s3:::{STREAM_BUCKET}",
                },
            )
        else:
            self.moto.client("kinesis").create_stream(StreamName=STREAM_NAME, ShardCount=1)

    def delivered(self) -> int:
        """Records moto holds: newline-ended records in the bucket's objects (one object per
        PutRecordBatch), or the stream's records."""
        if self.variant == "firehose-keepalive":
            s3 = self.moto.client("s3")
            count = 0
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket=STREAM_BUCKET):
                for item in page.get("Contents", []):
                    count += s3.get_object(Bucket=STREAM_BUCKET, Key=item["Key"])["Body"].read().count(b"\n")
            return count
        kinesis = self.moto.client("kinesis")
        count = 0
        for shard in kinesis.list_shards(StreamName=STREAM_NAME)["Shards"]:
            iterator = kinesis.get_shard_iterator(
                StreamName=STREAM_NAME, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
            )["ShardIterator"]
            while iterator:
                answer = kinesis.get_records(ShardIterator=iterator, Limit=GET_RECORDS_LIMIT)
                count += len(answer["Records"])
                if not answer["Records"]:
                    break
                iterator = answer.get("NextShardIterator")
        return count


def _metrics(port: int) -> dict[str, Any] | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/metrics", timeout=2) as response:
            return json.load(response)
    except OSError:
        return None


def _records_out(metrics: dict[str, Any]) -> int:
    """Records done with: out of every output (delivered or dropped) or dropped by a filter."""
    outputs = sum(o["proc_records"] + o["dropped_records"] for o in metrics["output"].values())
    return outputs + sum(f["drop_records"] for f in metrics.get("filter", {}).values())


def _start_kube_api(stack: ExitStack, root: Path, files: list[str]) -> tuple[Any, dict[str, str]]:
    """The tests' HTTPS API server with one running pod per generated container log file."""
    from tests.fakes.certs import make_certs
    from tests.fakes.kube_api_server import Container, KubeApiServer, make_namespace, make_pod

    certs = make_certs(root)
    token = "bench-token"
    token_file = root / "token"
    token_file.write_text(token)
    api = stack.enter_context(KubeApiServer(certs, token))
    namespaces = set()
    for index, path in enumerate(files):
        pod, namespace, rest = Path(path).name[: -len(".log")].split("_", 2)
        container, docker_id = rest.rsplit("-", 1)
        namespaces.add(namespace)
        api.add_pod(
            make_pod(
                pod,
                namespace,
                uid=f"00000000-0000-0000-0000-{index:012d}",
                node="bench-node",
                labels={"app": container, "pod-template-hash": "7d4b9c6f5"},
                annotations={"kubernetes.io/psp": "eks.privileged"}
                | ({"fluentbit.io/parser": "nginx"} if container == "nginx" else {}),
                containers=[
                    Container(
                        name=container,
                        image=f"registry.example/{container}:1.0",
                        image_id=f"registry.example/{container}@sha256:{'ab' * 32}",
                        container_id=f"containerd://{docker_id}",
                    )
                ],
            )
        )
    for namespace in namespaces:
        api.add_namespace(make_namespace(namespace))
    return api, {"api_url": api.url, "ca_file": str(certs.ca_file), "token_file": str(token_file)}


def _start_moto(stack: ExitStack, root: Path, keep_alive: bool, port: int | None = None) -> Any:
    from tests.fakes.certs import make_certs
    from tests.fakes.moto_server import FAKE_CREDENTIALS, MotoServer

    os.environ.update(FAKE_CREDENTIALS)
    server = MotoServer(make_certs(root / "moto-tls", "moto"), keep_alive=keep_alive, port=port)
    stack.callback(server.stop)
    return server


class FastCloudWatchLogs:
    """tests/fakes/cloudwatch_logs_server.py in its own process, over TLS, with the same
    interface as the moto server here (port, certs, reset) plus its counters."""

    MODULE = "tests.fakes.cloudwatch_logs_server"
    NAME = "cloudwatch"

    def __init__(self, root: Path, port: int | None = None, arguments: tuple[str, ...] = ()) -> None:
        from tests.fakes.certs import make_certs
        from tests.fakes.moto_server import FAKE_CREDENTIALS, START_TIMEOUT_SECONDS, wait_until
        from tests.fakes.process import die_with_parent

        os.environ.update(FAKE_CREDENTIALS)
        self.certs = make_certs(root / f"{self.NAME}-tls", self.NAME)
        self.port = port or free_port()
        self.process = subprocess.Popen(
            [sys.executable, "-m", self.MODULE, "--port", str(self.port),
             "--certs", str(self.certs.ca_file.parent), *arguments],
            preexec_fn=die_with_parent,
        )
        wait_until(self._ready, START_TIMEOUT_SECONDS, f"the {self.NAME} endpoint on port {self.port}")

    def _call(self, method: str, path: str) -> dict[str, Any]:
        import ssl

        context = ssl.create_default_context(cafile=str(self.certs.ca_file))
        request = urllib.request.Request(f"https://127.0.0.1:{self.port}{path}", method=method, data=b"" if method == "POST" else None)
        with urllib.request.urlopen(request, timeout=30, context=context) as response:
            return json.load(response)

    def _ready(self) -> bool:
        if self.process.poll() is not None:
            raise RuntimeError(f"the {self.NAME} endpoint exited with code {self.process.returncode}")
        try:
            self._call("GET", "/_stats")
            return True
        except OSError:
            return False

    def reset(self) -> None:
        self._call("POST", "/_reset")

    def stats(self) -> dict[str, Any]:
        return {**self._call("GET", "/_stats"), "cpu_s": round(cpu_seconds(self.process.pid), 3)}

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=15)


class FastStreams(FastCloudWatchLogs):
    """tests/fakes/stream_server.py (Firehose and Kinesis, holding the bench's stream) the same way."""

    MODULE = "tests.fakes.stream_server"
    NAME = "streams"


def _measure(command: list[str], port: int, expected: int) -> dict[str, Any]:
    """Run one agent until every line is out (or nothing more comes out), measuring it from outside."""
    started = time.perf_counter()
    steal_before = steal_seconds()
    agent = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    samples: list[dict[str, float]] = []
    out = last_change_out = 0
    last_change = started
    try:
        while time.perf_counter() - started < TIMEOUT_SECONDS and agent.poll() is None:
            time.sleep(SAMPLE_SECONDS)
            metrics = _metrics(port)
            if metrics is None:
                continue
            out = _records_out(metrics)
            now = time.perf_counter()
            rss, _peak = memory_mib(agent.pid)
            samples.append({"t": now - started, "records_out": out, "rss_mib": rss, "cpu_s": cpu_seconds(agent.pid)})
            if out != last_change_out:
                last_change, last_change_out = now, out
            if out >= expected or now - last_change > IDLE_SECONDS:
                break
        wall = (last_change if out else time.perf_counter()) - started
        cpu = cpu_seconds(agent.pid)
        _rss, peak = memory_mib(agent.pid)
        faults = page_faults(agent.pid)
        final = _metrics(port) or {}
    finally:
        agent.send_signal(signal.SIGTERM)
        try:
            exit_code = agent.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            agent.kill()
            exit_code = agent.wait()
    return {
        "records_out": out,
        "wall_s": round(wall, 3),
        "lines_per_s": round(out / wall) if wall else 0,
        "cpu_s": round(cpu, 3),
        "cpu_us_per_line": round(cpu / max(out, 1) * 1e6, 3),
        "peak_rss_mib": round(peak, 1),
        "page_faults": faults,
        "steal_s": round(steal_seconds() - steal_before, 2),
        "exit_code": exit_code,
        "metrics": final,
        "samples": samples,
    }


def _byte_compile_flb_fast() -> None:
    """flb-fast's modules compiled to bytecode before it runs, as an installed package has them
    (pip compiles them at install; the Docker image too). Where PYTHONDONTWRITEBYTECODE is set
    (CI, containers) a checkout would otherwise compile every module from source at each start."""
    spec = importlib.util.find_spec("flb_fast")
    assert spec is not None and spec.origin is not None
    env = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(Path(spec.origin).parent)], env=env, check=True)


def _ratios(ours: dict[str, Any], theirs: dict[str, Any]) -> dict[str, float]:
    """How many times better flb-fast is: CPU per line and lines/s (above 1 is better), and
    peak RSS as a multiple of Fluent Bit's (below 1 is better)."""
    return {
        "cpu_per_line": round(theirs["cpu_us_per_line"] / max(ours["cpu_us_per_line"], 1e-9), 2),
        "lines_per_s": round(ours["lines_per_s"] / max(theirs["lines_per_s"], 1), 2),
        "peak_rss": round(ours["peak_rss_mib"] / max(theirs["peak_rss_mib"], 1e-9), 2),
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="flb-bench-") as tmp, ExitStack() as stack:
        root = Path(tmp)
        logs = root / "containers"
        summary = gen_logs.generate(args.lines, args.files, str(logs), seed=args.seed)
        api = moto = sink = None
        filters = output = ""
        if args.variant != "docker":
            api, kube = _start_kube_api(stack, root, summary.files)
            # The files live in a temporary folder, not /var/log/containers: the tag prefix follows them.
            filters = KUBERNETES_FILTER.format(**kube, tag_prefix="kube" + str(logs).replace("/", ".") + ".")
        if args.variant == "cloudwatch-fast":
            moto = FastCloudWatchLogs(root)
            stack.callback(moto.stop)
            output = CLOUDWATCH_OUTPUT.format(moto_port=moto.port, moto_ca_file=moto.certs.ca_file)
        elif args.variant.startswith("cloudwatch"):
            moto = _start_moto(stack, root, keep_alive=args.variant.endswith("keepalive"))
            output = CLOUDWATCH_OUTPUT.format(moto_port=moto.port, moto_ca_file=moto.certs.ca_file)
        elif args.variant in ("firehose-fast", "kinesis-fast"):
            moto = FastStreams(root, port=STREAM_MOTO_PORT, arguments=("--stream", STREAM_NAME))
            stack.callback(moto.stop)
            output = stream_output(args.variant, moto.certs.ca_file)
        elif args.variant in ("firehose-keepalive", "kinesis-keepalive"):
            moto = _start_moto(stack, root, keep_alive=True, port=STREAM_MOTO_PORT)
            sink = StreamSink(moto, args.variant)
            output = sink.output()
        else:
            output = NULL_OUTPUT
        _byte_compile_flb_fast()
        agents = {"flb-fast": [sys.executable, "-m", "flb_fast"]}
        if args.fluent_bit:
            agents["fluent-bit"] = [args.fluent_bit]
        # (result key, agent, filter sections); the filters variant also runs each agent without the
        # chain, so that the chain's own cost is the difference between two runs of the same invocation.
        chain = {"filters": CHAIN_FILTERS, "filters-lua": CHAIN_FILTERS + LUA_FILTER}.get(args.variant, "")
        runs = [(name, name, filters + chain) for name in agents]
        if chain:
            runs += [(f"{name} {BASELINE}", name, filters) for name in agents]
        result: dict[str, Any] = {
            "variant": args.variant,
            "lines": summary.lines,
            "files": args.files,
            "input_bytes": summary.bytes,
        }
        # Rounds run every configuration in turn; each keeps its run with the least CPU (the one
        # least disturbed by other work on the machine), the CPU of every run listed.
        for round_index in range(args.repeat):
            for key, name, sections in runs:
                run_root = root / f"{key.replace(' ', '-')}-{round_index}"
                run_root.mkdir()
                port = free_port()
                config = KUBERNETES_INPUT.format(
                    port=port, logs=logs, root=run_root, mem_buf_limit=args.mem_buf_limit, parsers=PARSERS_FILE
                )
                (run_root / "fluent-bit.conf").write_text(config + sections + output)
                if moto is not None:
                    moto.reset()
                if sink is not None:
                    sink.prepare()
                requests_before = len(api.requests()) if api is not None else 0
                endpoint_cpu = moto.stats()["cpu_s"] if isinstance(moto, FastCloudWatchLogs) else 0.0
                measured = _measure([*agents[name], "-c", str(run_root / "fluent-bit.conf")], port, summary.lines)
                measured["api_requests"] = (len(api.requests()) if api is not None else 0) - requests_before
                if isinstance(moto, FastCloudWatchLogs):
                    # What the endpoint accepted (every line must be there) and its own CPU per event.
                    stats = moto.stats()
                    stats["cpu_s"] = round(stats["cpu_s"] - endpoint_cpu, 3)
                    stats["cpu_us_per_event"] = round(stats["cpu_s"] / max(stats["events"], 1) * 1e6, 2)
                    measured["endpoint"] = stats
                if sink is not None:
                    measured["delivered"] = sink.delivered()
                runs_cpu = [*result[key]["cpu_s_runs"], measured["cpu_s"]] if key in result else [measured["cpu_s"]]
                if key not in result or measured["cpu_s"] < result[key]["cpu_s"]:
                    result[key] = measured
                result[key]["cpu_s_runs"] = runs_cpu
        if chain:
            result["chain"] = {name: _chain(result[name], result[f"{name} {BASELINE}"], summary.lines) for name in agents}
        if "fluent-bit" in result:
            result["ratios"] = _ratios(result["flb-fast"], result["fluent-bit"])
            if "chain" in result:
                ours, theirs = result["chain"]["flb-fast"], result["chain"]["fluent-bit"]
                result["ratios"]["chain_records_per_cpu_s"] = (
                    round(ours["records_per_cpu_s"] / theirs["records_per_cpu_s"], 2)
                    if ours["records_per_cpu_s"] and theirs["records_per_cpu_s"] else None
                )
        return result


def _chain(full: dict[str, Any], baseline: dict[str, Any], lines: int) -> dict[str, float]:
    """The filter chain's own cost: CPU of the run with it minus the run without it, per input line."""
    cpu = full["cpu_s"] - baseline["cpu_s"]
    return {
        "cpu_s": round(cpu, 3),
        "cpu_us_per_line": round(cpu / lines * 1e6, 3),
        # None when the difference is within the runs' noise (not above zero).
        "records_per_cpu_s": round(lines / cpu) if cpu > 0 else None,
        "records_per_cpu_s_whole_agent": round(full["records_out"] / max(full["cpu_s"], 1e-9)),
    }


def plot(result: dict[str, Any], path: Path) -> None:
    """flb-fast's throughput and RSS over time."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ours = result["flb-fast"]
    samples = ours["samples"]
    times = [s["t"] for s in samples]
    rates = [0.0] + [
        (b["records_out"] - a["records_out"]) / (b["t"] - a["t"]) / 1000 for a, b in zip(samples, samples[1:], strict=False)
    ]
    figure, throughput = plt.subplots(figsize=(8, 4))
    throughput.plot(times, rates, color="tab:blue")
    throughput.set_xlabel("seconds since start")
    throughput.set_ylabel("thousand lines/s out", color="tab:blue")
    memory = throughput.twinx()
    memory.plot(times, [s["rss_mib"] for s in samples], color="tab:red")
    memory.set_ylabel("RSS (MiB)", color="tab:red")
    memory.set_ylim(bottom=0)
    figure.suptitle(
        f"flb-fast {result['variant']}: {result['lines']:,} lines, {ours['lines_per_s']:,} lines/s, "
        f"peak RSS {ours['peak_rss_mib']} MiB"
    )
    figure.tight_layout()
    figure.savefig(path, dpi=100)


def _line(name: str, result: dict[str, Any], measured: dict[str, Any]) -> str:
    return (
        f"{name} {result['variant']}: {measured['records_out']:,}/{result['lines']:,} lines in {measured['wall_s']} s"
        f" = {measured['lines_per_s']:,} lines/s; CPU {measured['cpu_s']} s = {measured['cpu_us_per_line']} us/line;"
        f" peak RSS {measured['peak_rss_mib']} MiB; {measured['page_faults']:,} page faults;"
        f" CPU taken by the hypervisor {measured['steal_s']} s;"
        f" API requests {measured['api_requests']};"
        f" exit {measured['exit_code']}"
        + (f"; endpoint: {measured['endpoint']['events']:,} events, {measured['endpoint']['calls']},"
           f" {measured['endpoint']['signature_failures']} bad signatures,"
           f" {measured['endpoint']['cpu_us_per_event']} us CPU/event" if "endpoint" in measured else "")
        + (f"; records in moto {measured['delivered']:,}" if "delivered" in measured else "")
    )


def result_name(args: argparse.Namespace, day: str, machine: str) -> str:
    """The file name of a saved result: ``<day>-<machine>-<variant>-<N>-lines-<F>-files[-<series>].json``,
    the series keeping a run from replacing the day's earlier result of the same variant."""
    series = f"-{args.series}" if args.series else ""
    return f"{day}-{machine}-{args.variant}-{args.lines}-lines-{args.files}-files{series}.json"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_pipeline", description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--files", type=int, default=20)
    parser.add_argument("--variant", choices=VARIANTS, default="kubernetes")
    parser.add_argument("--mem-buf-limit", default="5MB")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=1,
                        help="rounds of every run; each keeps its run with the least CPU")
    parser.add_argument(
        "--fluent-bit",
        default=os.environ.get("FLUENT_BIT_BIN"),
        help="a Fluent Bit binary to run side by side (default: $FLUENT_BIT_BIN)",
    )
    parser.add_argument("--json", action="store_true", help="print the raw result as JSON")
    parser.add_argument("--save", action="store_true", help="write the raw result to bench/results/")
    parser.add_argument("--series", default="",
                        help="with --save: a name the file ends in, one for every run of a series (round7)")
    parser.add_argument("--plot", type=Path, help="write a PNG of flb-fast's throughput and RSS over time")
    args = parser.parse_args(argv)
    result = run(args)
    result["versions"] = versions("Cython", "msgspec", "uvloop", "botocore", "moto")
    if args.fluent_bit:
        version = subprocess.run([args.fluent_bit, "--version"], capture_output=True, text=True, check=False)
        result["versions"]["fluent-bit"] = version.stdout.split("\n", 1)[0]
    if args.save:
        RESULTS.mkdir(exist_ok=True)
        name = result_name(args, datetime.now(UTC).strftime("%Y-%m-%d"), platform.node() or "machine")
        (RESULTS / name).write_text(json.dumps(result, indent=1))
    if args.plot:
        plot(result, args.plot)
    if args.json:
        print(json.dumps(result, indent=1))
    else:
        for name in ("flb-fast", "fluent-bit", f"flb-fast {BASELINE}", f"fluent-bit {BASELINE}"):
            if name in result:
                print(_line(name, result, result[name]))
        for name, chain in result.get("chain", {}).items():
            rate = chain["records_per_cpu_s"]
            print(
                f"{name} chain alone: {chain['cpu_s']} s CPU = {chain['cpu_us_per_line']} us/line = "
                + (f"{rate:,} records per CPU-second" if rate else "within the runs' noise (use more --repeat)")
            )
        if "ratios" in result:
            r = result["ratios"]
            print(
                f"flb-fast vs fluent-bit: {r['cpu_per_line']}x lines per CPU-second, {r['lines_per_s']}x lines/s, "
                f"{r['peak_rss']}x peak RSS"
            )
            if r.get("chain_records_per_cpu_s"):
                print(f"flb-fast vs fluent-bit, the filter chain alone: {r['chain_records_per_cpu_s']}x records per CPU-second")
    ok = all(
        result[name]["records_out"] >= result["lines"] and result[name]["exit_code"] == 0
        # The fast endpoint's own count: every line arrived, every signature verified.
        and result[name].get("endpoint", {}).get("events", result["lines"]) >= result["lines"]
        and not result[name].get("endpoint", {}).get("signature_failures")
        # What moto holds for the stream outputs: every line.
        and result[name].get("delivered", result["lines"]) >= result["lines"]
        for name in ("flb-fast", "fluent-bit")
        if name in result
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
