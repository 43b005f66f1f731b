"""The AWS outputs' credential chain (outputs/aws/credentials.py): botocore's own providers
behind ``ChainSession`` find what a ``botocore.session.Session`` finds, in the same places, for
each way an agent gets its credentials, without importing botocore's client machinery."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from flb_fast.outputs.aws.credentials import ChainSession, chain_credentials
from tests.fakes.imds_server import ImdsServer
from tests.outputs.aws.test_client import options

CHAIN_VARIABLES = (
    "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE",
    "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "AWS_EC2_METADATA_DISABLED",
    "AWS_EC2_METADATA_SERVICE_ENDPOINT", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_STS",
)
SECRET = {"AccessKeyId": "ASIAFAKE", "SecretAccessKey": "fake-secret", "Token": "fake-token",
          "Expiration": "2099-01-01T00:00:00Z"}


@pytest.fixture
def chain_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """No credentials anywhere (empty files, no metadata service) until a test puts some."""
    for name in CHAIN_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    empty = tmp_path / "empty"
    empty.write_text("")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(empty))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(empty))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    return monkeypatch


def ours(profile: str | None = None) -> Any:
    return chain_credentials(ChainSession(profile), options("us-east-1", profile=profile), True)


def botocores(profile: str | None = None) -> Any:
    import botocore.session

    return botocore.session.Session(profile=profile).get_credentials()


def same_as_botocore(profile: str | None = None) -> Any:
    mine, theirs = ours(profile), botocores(profile)
    assert (mine.method, mine.get_frozen_credentials()) == (theirs.method, theirs.get_frozen_credentials())
    return mine


def test_keys_in_the_environment(chain_env: pytest.MonkeyPatch) -> None:
    chain_env.setenv("AWS_ACCESS_KEY_ID", "AKIAENV")
    chain_env.setenv("AWS_SECRET_ACCESS_KEY", "env-secret")
    assert same_as_botocore().access_key == "AKIAENV"


def test_a_profile_of_the_shared_credentials_file(chain_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    credentials = tmp_path / "credentials"
    credentials.write_text("[default]\naws_access_key_id = AKIADEFAULT\naws_secret_access_key = d\n"
                           "[logs]\naws_access_key_id = AKIALOGS\naws_secret_access_key = l\n")
    chain_env.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    assert same_as_botocore("logs").access_key == "AKIALOGS"
    assert same_as_botocore().access_key == "AKIADEFAULT"


def test_aws_profile_selects_a_profile_of_the_config_file(chain_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.write_text("[profile agent]\naws_access_key_id = AKIACONFIG\naws_secret_access_key = c\n")
    chain_env.setenv("AWS_CONFIG_FILE", str(config))
    chain_env.setenv("AWS_PROFILE", "agent")
    assert same_as_botocore().access_key == "AKIACONFIG"


def test_a_credential_process_of_the_profile(chain_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    process = tmp_path / "process.py"
    process.write_text("print('{\"Version\": 1, \"AccessKeyId\": \"AKIAPROCESS\", \"SecretAccessKey\": \"p\"}')\n")
    config = tmp_path / "config"
    config.write_text(f"[default]\ncredential_process = {sys.executable} {process}\n")
    chain_env.setenv("AWS_CONFIG_FILE", str(config))
    assert same_as_botocore().access_key == "AKIAPROCESS"


def test_an_unknown_profile_named_is_botocores_error(chain_env: pytest.MonkeyPatch) -> None:
    from botocore.exceptions import ProfileNotFound

    with pytest.raises(ProfileNotFound):
        ours("missing")


def test_nothing_found_is_no_credentials(chain_env: pytest.MonkeyPatch) -> None:
    assert ours() is None and botocores() is None


class _ContainerEndpoint(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        ok = self.headers.get("Authorization") == "pod-identity-token"
        body = json.dumps(SECRET if ok else {"message": "denied"}).encode()
        self.send_response(200 if ok else 403)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def container_endpoint() -> Iterator[str]:
    """The ECS / EKS Pod Identity credentials endpoint, answering a request with the right token."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _ContainerEndpoint)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1/credentials"
    server.shutdown()
    server.server_close()


def test_the_eks_pod_identity_container_endpoint(chain_env: pytest.MonkeyPatch, container_endpoint: str) -> None:
    chain_env.setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", container_endpoint)
    chain_env.setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "pod-identity-token")
    assert same_as_botocore().access_key == "ASIAFAKE"


def test_the_instance_metadata_service(chain_env: pytest.MonkeyPatch) -> None:
    with ImdsServer() as imds:
        imds.state.metadata["/latest/meta-data/iam/security-credentials"] = "node-role"
        imds.state.metadata["/latest/meta-data/iam/security-credentials/node-role"] = json.dumps(
            {"Code": "Success", "Type": "AWS-HMAC", **SECRET}
        )
        chain_env.delenv("AWS_EC2_METADATA_DISABLED")
        chain_env.setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.endpoint)
        assert same_as_botocore().access_key == "ASIAFAKE"


def test_irsa_web_identity_is_exchanged_through_sts(chain_env: pytest.MonkeyPatch, moto: Any, tmp_path: Path) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        chain_env.delenv(name, raising=False)
    token = tmp_path / "token"
    token.write_text("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6YWdlbnQifQ.c2lnbmF0dXJl")
    chain_env.setenv("AWS_WEB_IDENTITY_TOKEN_FILE", str(token))
    chain_env.setenv("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/agent")
    chain_env.setenv("AWS_ENDPOINT_URL_STS", moto.url)
    # STS gives new keys to each caller: the same provider, and keys from STS, is what is compared.
    mine, theirs = ours(), botocores()
    assert mine.method == theirs.method == "assume-role-with-web-identity"
    assert mine.get_frozen_credentials().access_key.startswith("ASIA")


def test_resolving_credentials_imports_no_botocore_client_machinery() -> None:
    probe = (
        "import sys\n"
        "from tests.outputs.aws.test_client import options\n"
        "from flb_fast.outputs.aws.credentials import ChainSession, chain_credentials\n"
        "assert chain_credentials(ChainSession(None), options('us-east-1'), True).access_key == 'AKIAENV'\n"
        "print(sorted(name for name in ('botocore.session', 'botocore.client', 'botocore.handlers') "
        "if name in sys.modules))\n"
    )
    env = {"AWS_ACCESS_KEY_ID": "AKIAENV", "AWS_SECRET_ACCESS_KEY": "s", "AWS_EC2_METADATA_DISABLED": "true",
           "PATH": "/usr/bin:/bin"}
    import os

    env["PYTHONPATH"] = os.environ.get("PYTHONPATH", "")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env,
                          cwd=Path(__file__).resolve().parents[3], check=True)
    assert done.stdout.strip() == "[]"


def test_the_chains_sts_client_reads_only_the_operations_the_providers_call(chain_env: pytest.MonkeyPatch) -> None:
    """The session behind the STS and SSO clients reads trimmed data, as the outputs' own do."""
    client = ChainSession(None).create_client("sts", region_name="us-east-1")
    assert set(client.meta.service_model.operation_names) == {"AssumeRole", "AssumeRoleWithWebIdentity"}


@pytest.mark.parametrize("service", ["sts", "sso"])
@pytest.mark.parametrize("region", ["us-east-1", "eu-west-3", "cn-north-1", "us-gov-west-1"])
def test_the_chains_clients_have_the_endpoint_and_signing_of_a_full_session(
    chain_env: pytest.MonkeyPatch, service: str, region: str
) -> None:
    import botocore.session

    chain_env.setenv("AWS_ACCESS_KEY_ID", "testing")
    chain_env.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    ours = ChainSession(None).create_client(service, region_name=region)
    reference = botocore.session.Session().create_client(service, region_name=region)
    assert ours.meta.endpoint_url == reference.meta.endpoint_url
    assert ours._request_signer._signing_name == reference._request_signer._signing_name
    assert ours._request_signer._region_name == reference._request_signer._region_name
