"""deploy/ and the Dockerfile: the manifests apply as written and run the image the way it is built.

deploy/ is a kustomize base (deploy/base, the objects below) with overlays for a CloudWatch setup
and for IRSA; what ``kubectl kustomize`` renders of each is loaded into the API's models.

The ConfigMap's fluent-bit.conf goes through the real ``flb-fast --dry-run`` with the env the
DaemonSet gives it; every path that config reads or writes must be a volume the DaemonSet mounts;
the probes must hit endpoints the config's [SERVICE] serves (checked against the real agent);
and the image's ENTRYPOINT/CMD must read the file where the DaemonSet mounts the ConfigMap.
Docker itself is not run here: the Dockerfile is checked by reading it.
"""

from __future__ import annotations

import http.client
import json
import os
import posixpath
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from flb_fast.config.loader import load_config
from flb_fast.config.model import Config
from flb_fast.parsers import DEFAULT_PARSERS_FILE
from tests.e2e.agent import Agent
from tests.fakes.moto_server import MotoServer

# pytest fixtures: moto as a real server process on 127.0.0.1.
from tests.fakes.moto_server import moto as moto
from tests.fakes.moto_server import moto_process as moto_process
from tests.fakes.ports import free_port

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
BASE = DEPLOY / "base"
OVERLAYS = DEPLOY / "overlays"
KUBECTL = shutil.which("kubectl")
needs_kubectl = pytest.mark.skipif(KUBECTL is None, reason="kubectl renders the kustomizations")
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
CONFIG_KEY = "fluent-bit.conf"
# What the downward API would give NODE_NAME on a real node.
SAMPLE_NODE_NAME = "ip-10-0-1-23.us-east-2.compute.internal"
CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding"}
READ_VERBS = {"get", "list", "watch"}


def manifests() -> list[dict[str, Any]]:
    """Every object of the base, in the order its kustomization lists the files."""
    kustomization = yaml.safe_load((BASE / "kustomization.yaml").read_text())
    objects = []
    for name in kustomization["resources"]:
        with (BASE / name).open() as handle:
            objects.extend(doc for doc in yaml.safe_load_all(handle) if doc is not None)
    return objects


def rendered(directory: Path) -> list[dict[str, Any]]:
    """What ``kubectl kustomize`` makes of a kustomization (what ``kubectl apply -k`` applies)."""
    assert KUBECTL is not None
    result = subprocess.run([KUBECTL, "kustomize", str(directory)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc is not None]


def by_kind(objects: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {obj["kind"]: obj for obj in objects}


def env_of(daemonset: dict[str, Any]) -> dict[str, str]:
    [agent] = daemonset["spec"]["template"]["spec"]["containers"]
    return {entry["name"]: entry["value"] for entry in agent["env"] if "value" in entry}


def round_trips_through_the_api_models(obj: dict[str, Any]) -> bool:
    """The API's own models (the kubernetes package) keep only the fields the API defines, so a
    misspelt field, which kubectl would reject or drop, changes the object."""
    from kubernetes.client import ApiClient

    group_version = obj["apiVersion"].rpartition("/")[2]
    api = ApiClient()
    response = type("Response", (), {"data": json.dumps(obj)})()
    model = api.deserialize(response, f"{group_version.capitalize()}{obj['kind']}")
    return api.sanitize_for_serialization(model) == obj


def the(kind: str) -> dict[str, Any]:
    [found] = [obj for obj in manifests() if obj["kind"] == kind]
    return found


def pod_spec() -> dict[str, Any]:
    return the("DaemonSet")["spec"]["template"]["spec"]


def container() -> dict[str, Any]:
    [agent] = pod_spec()["containers"]
    return agent


def config_text() -> str:
    return the("ConfigMap")["data"][CONFIG_KEY]


def container_env() -> dict[str, str]:
    """The container's env as the agent sees it; downward-API values filled as on a node."""
    env = {}
    for entry in container()["env"]:
        if "value" in entry:
            env[entry["name"]] = entry["value"]
        elif entry.get("valueFrom", {}).get("fieldRef", {}).get("fieldPath") == "spec.nodeName":
            env[entry["name"]] = SAMPLE_NODE_NAME
    return env


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / CONFIG_KEY
    path.write_text(config_text())
    return path


@pytest.fixture
def config(config_file: Path, monkeypatch: pytest.MonkeyPatch) -> Config:
    """The ConfigMap's config as flb_fast loads it, ${VARS} expanded from the DaemonSet's env."""
    for name, value in container_env().items():
        monkeypatch.setenv(name, value)
    loaded, warnings = load_config(str(config_file))
    assert warnings == []
    return loaded


def volume_for(path: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The (volumeMount, volume) holding ``path`` in the container: the deepest mount above it."""
    mounts = [
        m
        for m in container()["volumeMounts"]
        if path == m["mountPath"].rstrip("/") or path.startswith(m["mountPath"].rstrip("/") + "/")
    ]
    assert mounts, f"{path} is on no volume of the DaemonSet"
    mount = max(mounts, key=lambda m: len(m["mountPath"].rstrip("/")))
    [volume] = [v for v in pod_spec()["volumes"] if v["name"] == mount["name"]]
    return mount, volume


def host_path_for(path: str) -> str:
    """The node's path behind ``path`` in the container; fails unless it is on a hostPath volume."""
    mount, volume = volume_for(path)
    assert "hostPath" in volume, f"{path} is on volume '{volume['name']}', not on the node"
    return volume["hostPath"]["path"].rstrip("/") + path[len(mount["mountPath"].rstrip("/")) :]


def glob_root(pattern: str) -> str:
    """The directory part of a glob before its first wildcard: /var/log/containers/*.log -> /var/log/containers."""
    parts = pattern.split("/")
    first_wild = next(i for i, part in enumerate(parts) if re.search(r"[*?\[]", part))
    return "/".join(parts[:first_wild])


def dockerfile_instructions() -> list[tuple[str, str]]:
    """The Dockerfile's (INSTRUCTION, rest) in order, continuation lines joined, comments dropped."""
    instructions = []
    pending = ""
    for line in DOCKERFILE.read_text().splitlines():
        if line.lstrip().startswith("#") or not line.strip():
            continue
        pending += line.rstrip()
        if pending.endswith("\\"):
            pending = pending[:-1] + " "
            continue
        instruction, _, rest = pending.strip().partition(" ")
        instructions.append((instruction.upper(), rest.strip()))
        pending = ""
    return instructions


def dockerfile_stages() -> list[list[tuple[str, str]]]:
    """The instructions of each build stage (from its FROM on); global ARGs come before the first."""
    stages: list[list[tuple[str, str]]] = []
    for instruction, rest in dockerfile_instructions():
        if instruction == "FROM":
            stages.append([])
        if stages:
            stages[-1].append((instruction, rest))
    return stages


def runtime_instructions(name: str) -> list[str]:
    return [rest for instruction, rest in dockerfile_stages()[-1] if instruction == name]


def copies_from_context() -> list[tuple[str, str]]:
    """(source, destination) of every COPY that takes a file from the build context."""
    pairs = []
    for stage in dockerfile_stages():
        for instruction, rest in stage:
            words = rest.split()
            if instruction == "COPY" and not any(word.startswith("--from") for word in words):
                *sources, destination = [word for word in words if not word.startswith("--")]
                pairs.extend((source, destination) for source in sources)
    return pairs


def _ignore_regex(pattern: str) -> re.Pattern[str]:
    """A .dockerignore pattern as moby's patternmatcher reads it: * and ? stay within a path segment."""
    out = ""
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out + r"\Z")


def ignored_by_docker(path: str) -> bool:
    """Whether .dockerignore leaves ``path`` out of the build context (the last matching rule wins;
    a rule that matches a directory matches everything in it)."""
    parts = path.split("/")
    candidates = ["/".join(parts[:n]) for n in range(1, len(parts) + 1)]
    ignored = False
    for line in DOCKERIGNORE.read_text().splitlines():
        rule = line.strip()
        if not rule or rule.startswith("#"):
            continue
        negated = rule.startswith("!")
        regex = _ignore_regex(posixpath.normpath(rule.lstrip("!").strip("/")))
        if any(regex.match(candidate) for candidate in candidates):
            ignored = not negated
    return ignored


def http_get(port: int, path: str) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", path)
        return connection.getresponse().status
    except OSError:
        return 0
    finally:
        connection.close()


# -- the manifests ---------------------------------------------------------------------------


def test_every_manifest_is_a_kubernetes_object_with_api_version_kind_and_name() -> None:
    objects = manifests()
    assert objects
    for obj in objects:
        assert isinstance(obj.get("apiVersion"), str) and obj["apiVersion"], obj
        assert isinstance(obj.get("kind"), str) and obj["kind"], obj
        assert isinstance(obj.get("metadata", {}).get("name"), str), obj


@pytest.mark.parametrize("obj", manifests(), ids=lambda obj: obj["kind"])
def test_every_field_is_one_the_kubernetes_api_knows(obj: dict[str, Any]) -> None:
    assert round_trips_through_the_api_models(obj)


@needs_kubectl
def test_kustomize_renders_deploy_as_the_base_files_say() -> None:
    def key(obj: dict[str, Any]) -> str:
        return f"{obj['kind']}/{obj['metadata']['name']}"

    assert sorted(rendered(DEPLOY), key=key) == sorted(manifests(), key=key)


@needs_kubectl
@pytest.mark.parametrize("directory", [DEPLOY, OVERLAYS / "cloudwatch", OVERLAYS / "irsa"], ids=lambda d: d.name)
def test_every_rendered_object_loads_into_the_api_models(directory: Path) -> None:
    objects = rendered(directory)
    assert sorted(obj["kind"] for obj in objects) == sorted(obj["kind"] for obj in manifests())
    for obj in objects:
        assert round_trips_through_the_api_models(obj), obj["kind"]


@needs_kubectl
def test_cloudwatch_overlay_sets_the_image_region_and_log_group_and_nothing_else() -> None:
    base, overlay = by_kind(manifests()), by_kind(rendered(OVERLAYS / "cloudwatch"))
    assert env_of(overlay["DaemonSet"]) == {
        "AWS_REGION": "eu-west-1", "LOG_GROUP_NAME": "/aws/containerinsights/my-cluster/application"
    }
    [agent] = overlay["DaemonSet"]["spec"]["template"]["spec"]["containers"]
    assert agent["image"] == "123456789012.dkr.ecr.eu-west-1.amazonaws.com/flb-fast:0.1.0"
    assert {kind: obj for kind, obj in overlay.items() if kind != "DaemonSet"} == {
        kind: obj for kind, obj in base.items() if kind != "DaemonSet"
    }


@needs_kubectl
def test_irsa_overlay_annotates_the_service_account_with_the_role_on_top_of_cloudwatch() -> None:
    cloudwatch, irsa = by_kind(rendered(OVERLAYS / "cloudwatch")), by_kind(rendered(OVERLAYS / "irsa"))
    annotations = irsa["ServiceAccount"]["metadata"].pop("annotations")
    assert annotations == {"eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/flb-fast"}
    assert irsa == cloudwatch


def test_every_variable_the_config_uses_is_set_by_the_cloudwatch_overlay_too() -> None:
    overlay = yaml.safe_load((OVERLAYS / "cloudwatch" / "kustomization.yaml").read_text())
    [patch] = overlay["patches"]
    [agent] = yaml.safe_load(patch["patch"])["spec"]["template"]["spec"]["containers"]
    assert {entry["name"] for entry in agent["env"]} == set(container_env()) - {"NODE_NAME"}


def test_deploy_holds_exactly_the_agent_objects() -> None:
    assert sorted(obj["kind"] for obj in manifests()) == sorted(
        ["Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "ConfigMap", "DaemonSet"]
    )


def test_namespaced_objects_live_in_the_namespace_applied_before_them() -> None:
    objects = manifests()
    namespace = the("Namespace")["metadata"]["name"]
    assert objects[0]["kind"] == "Namespace"
    for obj in objects:
        if obj["kind"] in CLUSTER_SCOPED:
            assert "namespace" not in obj["metadata"], obj["kind"]
        else:
            assert obj["metadata"]["namespace"] == namespace, obj["kind"]


def test_cluster_role_grants_get_list_watch_on_pods_and_namespaces() -> None:
    granted: dict[str, set[str]] = {}
    for rule in the("ClusterRole")["rules"]:
        assert rule["apiGroups"] == [""]
        for resource in rule["resources"]:
            granted.setdefault(resource, set()).update(rule["verbs"])
    assert granted["pods"] >= READ_VERBS
    assert granted["namespaces"] >= READ_VERBS


def test_cluster_role_grants_the_kubelet_pods_endpoint_for_use_kubelet() -> None:
    rules = the("ClusterRole")["rules"]
    assert any("nodes/proxy" in rule["resources"] and "get" in rule["verbs"] for rule in rules)


def test_cluster_role_only_reads() -> None:
    for rule in the("ClusterRole")["rules"]:
        assert set(rule["verbs"]) <= READ_VERBS, rule


def test_cluster_role_is_bound_to_the_daemonset_service_account() -> None:
    binding = the("ClusterRoleBinding")
    account = the("ServiceAccount")["metadata"]
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "ClusterRole",
        "name": the("ClusterRole")["metadata"]["name"],
    }
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": account["name"], "namespace": account["namespace"]}
    ]
    assert pod_spec()["serviceAccountName"] == account["name"]


def test_daemonset_selector_matches_its_pods() -> None:
    daemonset = the("DaemonSet")
    selector = daemonset["spec"]["selector"]["matchLabels"]
    labels = daemonset["spec"]["template"]["metadata"]["labels"]
    assert selector.items() <= labels.items()


def test_daemonset_tolerates_every_taint() -> None:
    assert {"operator": "Exists"} in pod_spec()["tolerations"]


def test_daemonset_runs_the_image_of_this_version() -> None:
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert container()["image"].rpartition(":")[2] == version


# -- the ConfigMap's config against the DaemonSet ----------------------------------------------


def test_configmap_config_passes_the_real_dry_run(config_file: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "flb_fast", "-D", "-c", str(config_file)],
        env={**os.environ, **container_env()},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "configuration test is successful" in result.stderr
    assert "[ warn]" not in result.stderr and "[error]" not in result.stderr, result.stderr


def test_every_variable_the_config_uses_is_set_by_the_daemonset() -> None:
    used = set(re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", config_text()))
    assert used
    assert used <= container_env().keys()


def test_node_name_comes_from_the_pod_spec() -> None:
    [entry] = [e for e in container()["env"] if e["name"] == "NODE_NAME"]
    assert entry["valueFrom"] == {"fieldRef": {"fieldPath": "spec.nodeName"}}


def test_tailed_container_logs_and_their_link_targets_are_read_from_the_node(config: Config) -> None:
    [tail] = [s for s in config.inputs if s.plugin_name == "tail"]
    for pattern in tail.get("path").split(","):
        root = glob_root(pattern.strip())
        assert host_path_for(root) == root
    # /var/log/containers/*.log are symlinks into /var/log/pods, themselves links into Docker's
    # json-file logs on Docker-runtime nodes: the targets must resolve at the same paths.
    for target in ("/var/log/pods", "/var/lib/docker/containers"):
        assert host_path_for(target) == target


def test_agent_does_not_tail_its_own_log(config: Config) -> None:
    """Its own log lines shipped would feed back (an output error logged, shipped, failing again)."""
    from flb_fast.inputs.tail.scan import is_excluded

    [tail] = [s for s in config.inputs if s.plugin_name == "tail"]
    excludes = [pattern.strip() for pattern in tail.get("exclude_path").split(",")]
    daemonset = the("DaemonSet")["metadata"]
    container_id = "0123456789abcdef" * 4
    pod = f"{daemonset['name']}-x7k2p"
    own = f"/var/log/containers/{pod}_{daemonset['namespace']}_{container()['name']}-{container_id}.log"
    other = f"/var/log/containers/web-7d4b9c6f5-abcde_shop_nginx-{container_id}.log"
    assert is_excluded(own, excludes)
    assert not is_excluded(other, excludes)


def test_tail_db_is_on_a_writable_node_directory_at_the_same_path(config: Config) -> None:
    [tail] = [s for s in config.inputs if s.plugin_name == "tail"]
    db_dir = posixpath.dirname(tail.get("db"))
    mount, volume = volume_for(db_dir)
    assert host_path_for(db_dir) == db_dir
    assert not mount.get("readOnly", False)
    assert volume["hostPath"]["type"] == "DirectoryOrCreate"


def test_logs_are_mounted_read_only() -> None:
    assert volume_for("/var/log/containers")[0]["readOnly"] is True


def test_agent_flushes_within_the_termination_grace_period(config: Config) -> None:
    grace_seconds = float(config.service.get("grace"))
    assert pod_spec()["terminationGracePeriodSeconds"] > grace_seconds


def test_probes_hit_the_monitoring_port_of_the_config(config: Config) -> None:
    assert config.service.get("http_server").lower() == "on"
    ports = {port["name"]: port["containerPort"] for port in container()["ports"]}
    for probe in ("livenessProbe", "readinessProbe"):
        port = container()[probe]["httpGet"]["port"]
        assert ports.get(port, port) == int(config.service.get("http_port"))


def test_health_probe_needs_health_check_on(config: Config) -> None:
    paths = {container()[probe]["httpGet"]["path"] for probe in ("livenessProbe", "readinessProbe")}
    assert "/api/v1/health" in paths
    assert config.service.get("health_check").lower() == "on"


def test_probe_paths_answer_200_from_the_agent_with_the_deployed_service_section(
    tmp_path: Path, config: Config
) -> None:
    """The real agent with the ConfigMap's [SERVICE] (port and address moved to a free 127.0.0.1 port)."""
    service = "\n".join(f"    {prop.key} {prop.value}" for prop in config.service.properties)
    pipeline = "[INPUT]\n    Name dummy\n    Tag probe\n\n[OUTPUT]\n    Name null\n    Match *\n"
    port = free_port()
    paths = [container()[probe]["httpGet"]["path"] for probe in ("livenessProbe", "readinessProbe")]
    with Agent(tmp_path, f"[SERVICE]\n{service}\n\n{pipeline}", args=["-P", str(port), "-L", "127.0.0.1"]) as agent:
        agent.wait_for(lambda: all(http_get(port, path) == 200 for path in paths), f"200 on {paths}")
        assert agent.stop().returncode == 0


def test_configmap_output_ships_with_the_web_identity_credentials_irsa_injects(
    tmp_path: Path, config: Config, moto: MotoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """deploy/README.md's IRSA setup: no keys in the env, only the role and token file the EKS
    webhook injects; the SDK chain exchanges them at STS (moto) for the keys the output signs with."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name)
    token = tmp_path / "token"
    token.write_text("eyJhbGciOiJSUzI1NiJ9.projected-service-account-token.signature")
    irsa = {
        "AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/flb-fast",
        "AWS_WEB_IDENTITY_TOKEN_FILE": str(token),
        "AWS_ENDPOINT_URL_STS": moto.url,
    }
    [output] = config.outputs
    shipped = "\n".join(f"    {prop.key} {prop.value}" for prop in output.properties)
    agent_config = (
        "[SERVICE]\n    Flush 1\n\n[INPUT]\n    Name dummy\n    Tag kube.probe\n    Samples 3\n\n"
        f"[OUTPUT]\n{shipped}\n    endpoint {moto.url}\n"
    )
    logs = moto.client("logs", region=container_env()["AWS_REGION"])
    group, stream = output.get("log_group_name"), output.get("log_stream_prefix") + "kube.probe"

    def messages() -> list[str]:
        try:
            return [
                event["message"] for event in logs.get_log_events(logGroupName=group, logStreamName=stream)["events"]
            ]
        except logs.exceptions.ResourceNotFoundException:
            return []

    with Agent(tmp_path, agent_config, env=irsa) as agent:
        agent.wait_for(lambda: len(messages()) >= 3, f"3 events in {group}/{stream}")
        assert agent.stop().returncode == 0
    assert messages() == ['{"message":"dummy"}'] * 3


# -- the image ------------------------------------------------------------------------------


def test_image_runs_flb_fast_on_the_config_where_the_daemonset_mounts_it() -> None:
    [entrypoint] = runtime_instructions("ENTRYPOINT")
    [cmd] = runtime_instructions("CMD")
    assert json.loads(entrypoint) == ["flb-fast"]
    flag, config_path = json.loads(cmd)
    assert flag == "-c"
    mount, volume = volume_for(config_path)
    assert volume["configMap"]["name"] == the("ConfigMap")["metadata"]["name"]
    assert posixpath.relpath(config_path, mount["mountPath"]) == CONFIG_KEY
    assert "command" not in container() and "args" not in container()


def test_image_entrypoint_is_the_installed_command() -> None:
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["flb-fast"] == "flb_fast.__main__:main"


def test_image_exposes_the_monitoring_port(config: Config) -> None:
    assert runtime_instructions("EXPOSE") == [config.service.get("http_port")]


def test_image_runs_as_an_unprivileged_user() -> None:
    [user] = runtime_instructions("USER")
    assert user not in ("0", "root")


def test_image_puts_the_bundled_parsers_where_aws_for_fluent_bit_has_them() -> None:
    copies = dict((destination, source) for source, destination in copies_from_context())
    for destination in ("/fluent-bit/parsers/parsers.conf", "/fluent-bit/etc/parsers.conf"):
        assert (ROOT / copies[destination]).read_bytes() == Path(DEFAULT_PARSERS_FILE).read_bytes()


def test_image_python_is_one_the_project_supports() -> None:
    build_args = dict(
        rest.partition("=")[::2] for instruction, rest in dockerfile_instructions() if instruction == "ARG"
    )
    version = tuple(int(part) for part in build_args["PYTHON_VERSION"].split("."))
    minimum = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert version >= tuple(int(part) for part in minimum.removeprefix(">=").split("."))
    for stage in dockerfile_stages():
        [(_, image)] = stage[:1]
        assert image.startswith("python:${PYTHON_VERSION}-slim"), image


def test_build_context_holds_what_the_build_reads() -> None:
    readme = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["readme"]
    needed = [source.rstrip("/") for source, _ in copies_from_context()] + [readme]
    for path in needed:
        assert (ROOT / path).exists(), path
        assert not ignored_by_docker(path), path
    assert not ignored_by_docker("src/flb_fast/_core.pyx")
    assert not ignored_by_docker("src/flb_fast/_core/lines.pxi")


@pytest.mark.parametrize(
    "path",
    [
        "src/flb_fast/_core.c",
        "src/flb_fast/_core.cpython-312-x86_64-linux-gnu.so",
        "src/flb_fast/__pycache__/cli.cpython-312.pyc",
        ".venv/bin/python",
        "build/lib/flb_fast/_core.so",
        "tests/test_deploy.py",
    ],
)
def test_build_context_leaves_out_local_builds_and_tests(path: str) -> None:
    assert ignored_by_docker(path)
