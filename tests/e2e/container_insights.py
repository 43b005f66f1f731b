"""One node as the Container Insights DaemonSet sees it, built in a temporary folder: the
ConfigMap's files with only their host paths moved under that folder, the kubelet's container log
layout (Docker json-file and CRI files behind the kubelet's symlinks), a journal, the pods the
kubelet lists, and the DaemonSet's environment. Used by the test and by the script that records
Fluent Bit on the same node (tests/e2e/record_container_insights.py).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.e2e.published import localize
from tests.fakes.kube_api_server import Container, make_pod
from tests.inputs.systemd.journal import write_entries

PUBLISHED = Path(__file__).parents[1] / "data" / "config" / "container-insights"
FILES = ("fluent-bit.conf", "application-log.conf", "dataplane-log.conf", "host-log.conf", "parsers.conf")
# Where the DaemonSet mounts the node's files (its hostPath volumes) and keeps its state.
CONTAINERS = "/var/log/containers"
STATE = "/var/fluent-bit/state"
JOURNAL = "/var/log/journal"
KUBELET_PORT = 10250  # Kubelet_Port in application-log.conf; Kubelet_Host is Fluent Bit's default, 127.0.0.1

CLUSTER = "demo"
REGION = "us-west-2"
NODE = "ip-10-0-1-23.us-west-2.compute.internal"
LOG_GROUPS = {name: f"/aws/containerinsights/{CLUSTER}/{name}" for name in ("application", "dataplane", "host")}


def daemonset_env(http_port: int, read_from_head: bool = True) -> dict[str, str]:
    """The DaemonSet's variables as the quick start's fluent-bit-cluster-info ConfigMap sets them:
    ``read.head`` On or Off (its default, which skips what the files hold at start), and
    ``read.tail`` the opposite."""
    return {
        "AWS_REGION": REGION, "CLUSTER_NAME": CLUSTER, "HOST_NAME": NODE, "HOSTNAME": "fluent-bit-x7k2p",
        "HTTP_SERVER": "On", "HTTP_PORT": str(http_port), "READ_FROM_HEAD": "On" if read_from_head else "Off",
        "READ_FROM_TAIL": "Off" if read_from_head else "On", "CI_VERSION": "k8s/1.3.43",
    }


@dataclass(frozen=True)
class Node:
    root: Path  # stands for the node's /
    t0_ns: int  # every log line and journal entry is a few milliseconds after this

    @property
    def config_dir(self) -> Path:
        return self.root / "fluent-bit" / "etc"

    @property
    def containers(self) -> Path:
        return self.root / CONTAINERS.lstrip("/")

    def iso(self, ms: int) -> str:
        """The runtimes' timestamp ``ms`` milliseconds after t0 (RFC 3339, nanoseconds)."""
        ns = self.t0_ns + ms * 1_000_000
        return datetime.fromtimestamp(ns // 10**9, UTC).strftime("%Y-%m-%dT%H:%M:%S") + f".{ns % 10**9:09d}Z"

    def ns(self, ms: int) -> int:
        return self.t0_ns + ms * 1_000_000

    def syslog_t0(self) -> str:
        """t0 as syslog writes it (no year, no fraction): the parsers.conf ``syslog`` parser's format."""
        return datetime.fromtimestamp(self.t0_ns // 10**9, UTC).strftime("%b %d %H:%M:%S")


def host_path(root: Path, path: str) -> str:
    return str(root / path.lstrip("/"))


def localized_config(root: Path, kubelet_ca: Path, token: Path) -> dict[str, str]:
    """The ConfigMap's files with the node's paths under ``root``. Besides the paths, the tail
    tags carry the folder (``application.`` + the path with ``/`` as ``.``), so Kube_Tag_Prefix,
    which is that folder spelled as a tag, moves with it; and the service account's files, which
    a pod finds at the filter's default paths, are named next to Kube_URL."""
    containers, state, journal = (host_path(root, p) for p in (CONTAINERS, STATE, JOURNAL))
    moved = {
        "fluent-bit.conf": [f"storage.path {STATE}/flb-storage/"],
        "application-log.conf": [
            f"Exclude_Path {CONTAINERS}/cloudwatch-agent*, {CONTAINERS}/fluent-bit*, {CONTAINERS}/aws-node*, "
            f"{CONTAINERS}/kube-proxy*, {CONTAINERS}/fluentd*",
            f"Path {CONTAINERS}/*.log", f"Path {CONTAINERS}/fluent-bit*", f"Path {CONTAINERS}/cloudwatch-agent*",
            f"DB {STATE}/flb_container.db", f"DB {STATE}/flb_log.db", f"DB {STATE}/flb_cwagent.db",
        ],
        "dataplane-log.conf": [
            f"DB {STATE}/systemd.db", f"Path {JOURNAL}", f"Path {CONTAINERS}/aws-node*, {CONTAINERS}/kube-proxy*",
            f"DB {STATE}/flb_dataplane_tail.db",
        ],
        "host-log.conf": [f"DB {STATE}/flb_dmesg.db", f"DB {STATE}/flb_messages.db", f"DB {STATE}/flb_secure.db",
                          f"Path {JOURNAL}"],
    }
    files = {}
    for name in FILES:
        text = (PUBLISHED / name).read_text()
        replacements = {
            line: "    " + line.replace(CONTAINERS, containers).replace(STATE, state).replace(JOURNAL, journal)
            for line in moved.get(name, [])
        }
        if name == "application-log.conf":
            prefix = "application" + containers.replace("/", ".") + "."
            replacements["Kube_Tag_Prefix application.var.log.containers."] = f"    Kube_Tag_Prefix     {prefix}"
            replacements["Kube_URL https://kubernetes.default.svc:443"] = (
                "    Kube_URL            https://kubernetes.default.svc:443\n"
                f"    Kube_CA_File        {kubelet_ca}\n"
                f"    Kube_Token_File     {token}"
            )
        files[name] = localize(text, replacements) if replacements else text
    return files


def write_config(node: Node, kubelet_ca: Path, token: Path) -> Path:
    node.config_dir.mkdir(parents=True)
    for name, text in localized_config(node.root, kubelet_ca, token).items():
        (node.config_dir / name).write_text(text)
    (node.root / STATE.lstrip("/")).mkdir(parents=True)
    return node.config_dir / "fluent-bit.conf"


# -- the node's pods and their logs ------------------------------------------------------------

def _id(char: str) -> str:
    return char * 64


@dataclass(frozen=True)
class PodLog:
    pod: str
    namespace: str
    uid: str
    container: str
    image: str
    container_id: str  # as the kubelet reports it: <runtime>://<64 hex>
    lines: tuple[str, ...]
    annotations: tuple[tuple[str, str], ...] = (("owner", "team-a"),)
    listed: bool = True  # False: the kubelet no longer lists the pod (its log file outlived it)

    @property
    def docker_id(self) -> str:
        return self.container_id.split("://")[1]

    @property
    def image_hash(self) -> str:
        return self.image.split(":")[0] + "@sha256:" + self.docker_id

    @property
    def file_name(self) -> str:
        return f"{self.pod}_{self.namespace}_{self.container}-{self.docker_id}.log"


# Lines over 16 KiB are split by the runtimes: Docker's json-file driver and containerd both
# cut at 16 KiB (moby daemon/logger/copier.go bufSize, containerd's CRI maxContainerLogLineSize).
CRI_SPLIT_BYTES = 16 * 1024
LONG_LINE = "".join(f"at com.example.Service.method{i}(Service.java:{i}) " for i in range(900))


def split(text: str, size: int) -> list[str]:
    return [text[start:start + size] for start in range(0, len(text), size)]


def docker(node: Node, log: str, stream: str, ms: int) -> str:
    """One line of Docker's json-file log driver (UTF-8 as is, as Go's encoder writes it)."""
    return json.dumps({"log": log, "stream": stream, "time": node.iso(ms)}, separators=(",", ":"), ensure_ascii=False)


def cri(node: Node, log: str, stream: str, ms: int, partial: bool = False) -> str:
    """One line of the CRI log format (containerd, CRI-O)."""
    return f"{node.iso(ms)} {stream} {'P' if partial else 'F'} {log}"


def pod_logs(node: Node) -> list[PodLog]:
    def d(log: str, stream: str, ms: int) -> str:
        return docker(node, log, stream, ms)

    def c(log: str, stream: str, ms: int, partial: bool = False) -> str:
        return cri(node, log, stream, ms, partial)

    return [
        PodLog("checkout-5d8f7", "shop", "8d1c0c52-3b7e-4f0e-9a1b-2c3d4e5f6a7b", "api", "shop/api:2.1",
               f"containerd://{_id('a')}", (
                   c('{"level":"info","msg":"order placed","order_id":42}', "stdout", 1),
                   c("payment step one, ", "stdout", 2, partial=True),
                   c("step two done", "stdout", 3),
                   c("WARN slow query took 1200ms", "stderr", 4),
                   c("{not json at all}", "stdout", 9),
                   c("caf\u00e9 \u2713 in a CRI line", "stdout", 18),
                   # containerd splits lines longer than 16 KiB into P parts
                   *(c(part, "stdout", 80, partial=True) for part in split(LONG_LINE, CRI_SPLIT_BYTES)[:-1]),
                   c(split(LONG_LINE, CRI_SPLIT_BYTES)[-1], "stdout", 80),
               )),
        PodLog("checkout-5d8f7", "shop", "8d1c0c52-3b7e-4f0e-9a1b-2c3d4e5f6a7b", "proxy", "envoyproxy/envoy:v1.30",
               f"docker://{_id('b')}", (
                   d('"GET /health HTTP/1.1" 200\n', "stdout", 5),
                   d('{"upstream":"payments","latency_ms":12}\n', "stdout", 6),
                   d("long line first part ", "stderr", 7),
                   d("and its end\n", "stderr", 8),
                   d("caf\u00e9 \u2713 \U0001f600 \"quoted\" \\ back\tslash\n", "stdout", 17),
                   # Docker splits lines longer than 16 KiB into entries without the newline
                   *(d(part, "stderr", 81) for part in split(LONG_LINE + "\n", CRI_SPLIT_BYTES)),
               )),
        # Its annotations ask for the ConfigMap's syslog parser (K8S-Logging.Parser On, even with
        # Annotations Off) and to be excluded (ignored: K8S-Logging.Exclude Off).
        PodLog("billing-6c9d4", "shop", "1a2b3c4d-6666-4aaa-8bbb-0c0d0e0f1011", "cron", "shop/cron:1.0",
               f"containerd://{_id('7')}", (
                   c(f"{node.syslog_t0()} billing-6c9d4 cron[42]: (root) CMD (backup.sh)", "stdout", 15),
                   c("not a syslog line", "stdout", 16),
               ), (("fluentbit.io/parser", "syslog"), ("fluentbit.io/exclude", "true"))),
        PodLog("batch-27bq9", "shop", "1a2b3c4d-9999-4aaa-8bbb-0c0d0e0f1011", "job", "shop/batch:1.0",
               f"containerd://{_id('3')}", (c("job done", "stdout", 85),), listed=False),
        PodLog("fluent-bit-x7k2p", "amazon-cloudwatch", "0b6f3c1d-1111-4aaa-8bbb-0c0d0e0f1011", "fluent-bit",
               "public.ecr.aws/aws-observability/aws-for-fluent-bit:3.0.1", f"containerd://{_id('c')}", (
                   c("[2024/03/01 10:00:00] [ warn] [net] getaddrinfo(host='x', err=12): timeout", "stderr", 10),
               )),
        PodLog("cloudwatch-agent-q9r8s", "amazon-cloudwatch", "0b6f3c1d-2222-4aaa-8bbb-0c0d0e0f1011",
               "cloudwatch-agent", "public.ecr.aws/cloudwatch-agent/cloudwatch-agent:1.300040.0",
               f"containerd://{_id('d')}", (
                   c("2024-03-01T10:00:00Z I! Starting AmazonCloudWatchAgent", "stdout", 11),
               )),
        PodLog("aws-node-m4n5b", "kube-system", "0b6f3c1d-3333-4aaa-8bbb-0c0d0e0f1011", "aws-node",
               "602401143452.dkr.ecr.us-west-2.amazonaws.com/amazon-k8s-cni:v1.18.1", f"containerd://{_id('e')}", (
                   c('{"level":"info","msg":"Successfully copied CNI plugin binary"}', "stdout", 12),
                   c("x" * 40_000, "stdout", 82),  # over tail's Buffer_Max_Size (32k): Skip_Long_Lines On
                   c("after the long line", "stdout", 83),
               )),
        PodLog("kube-proxy-z1y2x", "kube-system", "0b6f3c1d-4444-4aaa-8bbb-0c0d0e0f1011", "kube-proxy",
               "602401143452.dkr.ecr.us-west-2.amazonaws.com/eks/kube-proxy:v1.30.0", f"docker://{_id('f')}", (
                   d('I1206 proxier.go:1062] "Sync done"\n', "stderr", 13),
               )),
        PodLog("fluentd-k2j3h", "logging", "0b6f3c1d-5555-4aaa-8bbb-0c0d0e0f1011", "fluentd", "fluent/fluentd:v1.17",
               f"containerd://{_id('9')}", (c("excluded: fluentd's own log", "stdout", 14),)),
    ]


def late_pod_logs(node: Node) -> list[PodLog]:
    """A pod started after the agent: its log file appears while the agent runs."""
    return [
        PodLog("search-7f8e9", "shop", "1a2b3c4d-8888-4aaa-8bbb-0c0d0e0f1011", "web", "shop/search:3.2",
               f"containerd://{_id('5')}", (
                   cri(node, '{"level":"info","msg":"index loaded","docs":1200}', "stdout", 54),
                   cri(node, "ready to serve", "stdout", 55),
               )),
    ]


def write_pod_logs(node: Node) -> None:
    node.containers.mkdir(parents=True)
    for log in pod_logs(node):
        write_pod_log(node, log)


def write_pod_log(node: Node, log: PodLog) -> None:
    """A container's log where its runtime writes it, and the kubelet's symlinks to it:
    /var/log/containers/<pod>_<ns>_<container>-<id>.log -> /var/log/pods/<ns>_<pod>_<uid>/<container>/0.log,
    which for Docker links on to /var/lib/docker/containers/<id>/<id>-json.log."""
    pod_dir = node.root / "var" / "log" / "pods" / f"{log.namespace}_{log.pod}_{log.uid}" / log.container
    pod_dir.mkdir(parents=True)
    text = "".join(line + "\n" for line in log.lines)
    if log.container_id.startswith("docker://"):
        docker_dir = node.root / "var" / "lib" / "docker" / "containers" / log.docker_id
        docker_dir.mkdir(parents=True)
        (docker_dir / f"{log.docker_id}-json.log").write_text(text)
        os.symlink(docker_dir / f"{log.docker_id}-json.log", pod_dir / "0.log")
    else:
        (pod_dir / "0.log").write_text(text)
    os.symlink(pod_dir / "0.log", node.containers / log.file_name)


def kubelet_pods(node: Node) -> list[dict[str, Any]]:
    """The pods of ``pod_logs`` and ``late_pod_logs``, as the kubelet's /pods lists them."""
    pods: dict[tuple[str, str], list[PodLog]] = {}
    for log in [*pod_logs(node), *late_pod_logs(node)]:
        if not log.listed:
            continue
        pods.setdefault((log.namespace, log.pod), []).append(log)
    return [
        make_pod(name, namespace, uid=logs[0].uid, node=NODE,
                 containers=[Container(log.container, log.image, log.image_hash, log.container_id) for log in logs],
                 labels={"app": name.rsplit("-", 1)[0]}, annotations=dict(logs[0].annotations))
        for (namespace, name), logs in pods.items()
    ]


# -- the journal -------------------------------------------------------------------------------

def journal_entries(node: Node) -> list[tuple[int, list[tuple[str, str]]]]:
    """(realtime microseconds, fields): units of the dataplane, the kernel, syslog facilities."""
    def at(ms: int) -> int:
        return node.ns(ms) // 1000

    return [
        (at(20), [("_SYSTEMD_UNIT", "kubelet.service"), ("_HOSTNAME", NODE), ("PRIORITY", "6"),
                  ("SYSLOG_FACILITY", "3"), ("SYSLOG_IDENTIFIER", "kubelet"), ("_PID", "1234"),
                  ("_TRANSPORT", "stdout"), ("MESSAGE", 'I1206 kubelet.go:123] "Started kubelet"')]),
        (at(21), [("_SYSTEMD_UNIT", "containerd.service"), ("_HOSTNAME", NODE), ("PRIORITY", "3"),
                  ("SYSLOG_FACILITY", "3"), ("SYSLOG_IDENTIFIER", "containerd"), ("_PID", "800"),
                  ("_TRANSPORT", "stdout"), ("MESSAGE", "failed to pull image: not found")]),
        (at(22), [("_TRANSPORT", "kernel"), ("_HOSTNAME", NODE), ("PRIORITY", "4"), ("SYSLOG_FACILITY", "0"),
                  ("SYSLOG_IDENTIFIER", "kernel"), ("MESSAGE", "eth0: link up\nsecond line")]),
        (at(23), [("_SYSTEMD_UNIT", "sshd.service"), ("_HOSTNAME", NODE), ("PRIORITY", "6"),
                  ("SYSLOG_FACILITY", "10"), ("SYSLOG_IDENTIFIER", "sshd"), ("SYSLOG_PID", "4242"),
                  ("_TRANSPORT", "syslog"), ("MESSAGE", "Accepted publickey for ec2-user")]),
        (at(24), [("_SYSTEMD_UNIT", "crond.service"), ("_HOSTNAME", NODE), ("PRIORITY", "6"),
                  ("SYSLOG_FACILITY", "9"), ("SYSLOG_IDENTIFIER", "CROND"), ("SYSLOG_PID", "51"),
                  ("_TRANSPORT", "syslog"), ("MESSAGE", "(root) CMD (run-parts /etc/cron.hourly)")]),
        (at(25), [("_SYSTEMD_UNIT", "kubelet.service"), ("_HOSTNAME", NODE), ("PRIORITY", "7"),
                  ("SYSLOG_FACILITY", "3"), ("SYSLOG_IDENTIFIER", "kubelet"), ("_TRANSPORT", "stdout"),
                  ("MESSAGE", "debug line \u2713 h\u00e9llo")]),
        (at(26), [("_SYSTEMD_UNIT", "postfix.service"), ("_HOSTNAME", NODE), ("PRIORITY", "2"),
                  ("SYSLOG_FACILITY", "2"), ("SYSLOG_IDENTIFIER", "postfix"), ("_TRANSPORT", "syslog"),
                  ("MESSAGE", "mail system down")]),
    ]


def write_journal(node: Node) -> None:
    journal = node.root / JOURNAL.lstrip("/")
    journal.mkdir(parents=True)
    write_entries(journal / "system.journal", journal_entries(node))


def append(node: Node, lines: dict[str, tuple[str, ...]], journal_ms: int, message: str) -> None:
    """Append ``lines`` to the logs of the containers they name, and to the journal a kubelet
    entry and a kernel one at ``journal_ms`` and the next millisecond."""
    for log in pod_logs(node):
        if log.container in lines:
            with open(node.containers / log.file_name, "a") as file:
                file.write("".join(line + "\n" for line in lines[log.container]))
    write_entries(node.root / JOURNAL.lstrip("/") / "system.journal", [
        (node.ns(journal_ms) // 1000, [("_SYSTEMD_UNIT", "kubelet.service"), ("_HOSTNAME", NODE), ("PRIORITY", "6"),
                                        ("SYSLOG_FACILITY", "3"), ("SYSLOG_IDENTIFIER", "kubelet"),
                                        ("_TRANSPORT", "stdout"), ("MESSAGE", message)]),
        (node.ns(journal_ms + 1) // 1000, [("_TRANSPORT", "kernel"), ("_HOSTNAME", NODE), ("PRIORITY", "6"),
                                            ("SYSLOG_FACILITY", "0"), ("SYSLOG_IDENTIFIER", "kernel"),
                                            ("MESSAGE", f"eth1: {message}")]),
    ])


def write_more(node: Node) -> None:
    """What the node's logs gain while the agent is down (a DaemonSet pod being replaced)."""
    append(node, {
        "api": (cri(node, '{"level":"info","msg":"order shipped","order_id":42}', "stdout", 30),),
        "proxy": (docker(node, '"GET /orders HTTP/1.1" 200\n', "stdout", 31),),
        "aws-node": (cri(node, "IPAMD reconcile done", "stdout", 32),),
    }, 40, "after the restart")


def write_after_start(node: Node) -> None:
    """What the node's logs gain while the agent runs: lines in files it found at start, a new
    pod's file, journal entries."""
    append(node, {
        "api": (cri(node, '{"level":"info","msg":"order paid","order_id":43}', "stdout", 50),),
        "proxy": (docker(node, '"GET /health HTTP/1.1" 503\n', "stderr", 51),),
        "aws-node": (cri(node, "IPAMD add IP 10.0.1.80", "stdout", 52),),
        "fluent-bit": (cri(node, "[2024/03/01 10:00:01] [ info] [input:tail:tail.0] inotify_fs_add()", "stderr", 53),),
    }, 60, "while running")
    for log in late_pod_logs(node):
        write_pod_log(node, log)


def rotate(node: Node) -> None:
    """Log rotation while the agent runs: the kubelet renames a CRI log to 0.log.<time> and the
    runtime reopens 0.log; Docker renames <id>-json.log to <id>-json.log.1 and starts a new one.
    Each file gets a last line just before it is renamed."""
    for log in pod_logs(node):
        if log.container == "api":
            current = node.root / "var" / "log" / "pods" / f"{log.namespace}_{log.pod}_{log.uid}" / log.container / "0.log"
            rotated = current.with_name("0.log.20261206-094500")
            last, first = cri(node, "last line before rotation", "stdout", 70), cri(node, "first line after", "stdout", 71)
        elif log.container == "proxy":
            current = node.root / "var" / "lib" / "docker" / "containers" / log.docker_id / f"{log.docker_id}-json.log"
            rotated = current.with_name(f"{log.docker_id}-json.log.1")
            last, first = docker(node, "last line before rotation\n", "stdout", 72), docker(node, "first line after\n",
                                                                                           "stdout", 73)
        else:
            continue
        with open(current, "a") as file:
            file.write(last + "\n")
        os.rename(current, rotated)
        current.write_text(first + "\n")


def build_node(root: Path, t0_ns: int, kubelet_ca: Path, token: Path) -> tuple[Node, Path]:
    """The node's files under ``root``; returns it and the localized fluent-bit.conf."""
    node = Node(root, t0_ns)
    write_pod_logs(node)
    write_journal(node)
    return node, write_config(node, kubelet_ca, token)


# -- what CloudWatch Logs received -------------------------------------------------------------

Delivered = dict[str, dict[str, list[tuple[int, dict[str, Any]]]]]


def delivered(logs: Any) -> Delivered:
    """Log group -> log stream -> [(timestamp ms, record)] in the order CloudWatch Logs keeps,
    read with the boto3 ``logs`` client ``logs``; groups not created yet are left out."""
    found: Delivered = {}
    for group in logs.describe_log_groups()["logGroups"]:
        name = group["logGroupName"]
        found[name] = {}
        for stream in logs.describe_log_streams(logGroupName=name)["logStreams"]:
            events = logs.get_log_events(logGroupName=name, logStreamName=stream["logStreamName"],
                                         startFromHead=True)["events"]
            found[name][stream["logStreamName"]] = [(e["timestamp"], json.loads(e["message"])) for e in events]
    return found


def event_count(found: Delivered) -> int:
    return sum(len(events) for streams in found.values() for events in streams.values())


# Recorded output is stored with the run's own parts as placeholders: the node's folder as it
# appears in tags ({ROOT}) and t0 to the second as the runtimes ({T0}) and syslog ({SYSLOG_T0}) write it.

def placeholders(node: Node) -> dict[str, str]:
    return {"{ROOT}": str(node.root).replace("/", ".").lstrip("."), "{T0}": node.iso(0)[:19],
            "{SYSLOG_T0}": node.syslog_t0()}


def to_template(found: Delivered, node: Node) -> dict[str, dict[str, list[list[Any]]]]:
    def template(text: str) -> str:
        for placeholder, value in placeholders(node).items():
            text = text.replace(value, placeholder)
        return text

    return {group: {template(stream): [[ms - node.t0_ns // 10**6, template(json.dumps(record))]
                                       for ms, record in events]
                    for stream, events in sorted(streams.items())}
            for group, streams in sorted(found.items())}


def from_template(recorded: dict[str, dict[str, list[list[Any]]]], node: Node) -> Delivered:
    def fill(text: str) -> str:
        for placeholder, value in placeholders(node).items():
            text = text.replace(placeholder, value)
        return text

    return {group: {fill(stream): [(node.t0_ns // 10**6 + offset, json.loads(fill(text))) for offset, text in events]
                    for stream, events in streams.items()}
            for group, streams in recorded.items()}
