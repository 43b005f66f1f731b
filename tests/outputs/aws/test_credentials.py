"""The AWS outputs' credential chain (outputs/aws/credentials.py): botocore's own providers
behind ``ChainSession`` find what a ``botocore.session.Session`` finds, in the same places, for
each way an agent gets its credentials, without importing botocore's client machinery; keys in
the environment are found as botocore's first provider finds them, without importing its chain."""

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

from flb_fast.outputs.aws.credentials import SETTINGS, ChainSession, chain_credentials, ensure_boolean
from tests.fakes.imds_server import ImdsServer
from tests.outputs.aws.test_client import options

CHAIN_VARIABLES = (
    "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE",
    "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "AWS_EC2_METADATA_DISABLED",
    "AWS_EC2_METADATA_SERVICE_ENDPOINT", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_STS", "AWS_SECURITY_TOKEN",
    "AWS_CREDENTIAL_EXPIRATION", "AWS_ACCOUNT_ID", "AWS_METADATA_SERVICE_TIMEOUT", "AWS_METADATA_SERVICE_NUM_ATTEMPTS",
    "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "AWS_USE_FIPS_ENDPOINT", "AWS_USE_DUALSTACK_ENDPOINT",
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
    return chain_credentials(ChainSession(profile), options("us-east-1", profile=profile))


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


def test_keys_and_session_token_in_the_environment_are_read_without_botocores_chain(
    chain_env: pytest.MonkeyPatch,
) -> None:
    chain_env.setenv("AWS_ACCESS_KEY_ID", "AKIAENV")
    chain_env.setenv("AWS_SECRET_ACCESS_KEY", "env-secret")
    chain_env.setenv("AWS_SESSION_TOKEN", "env-token")
    chain_env.setenv("AWS_ACCOUNT_ID", "123456789012")
    assert type(same_as_botocore()).__name__ == "EnvironmentCredentials"


def test_aws_security_token_is_taken_before_aws_session_token(chain_env: pytest.MonkeyPatch) -> None:
    chain_env.setenv("AWS_ACCESS_KEY_ID", "AKIAENV")
    chain_env.setenv("AWS_SECRET_ACCESS_KEY", "env-secret")
    chain_env.setenv("AWS_SECURITY_TOKEN", "security-token")
    chain_env.setenv("AWS_SESSION_TOKEN", "session-token")
    assert same_as_botocore().get_frozen_credentials().token == "security-token"


def test_keys_in_the_environment_with_an_expiry_are_botocores_refreshable_credentials(
    chain_env: pytest.MonkeyPatch,
) -> None:
    chain_env.setenv("AWS_ACCESS_KEY_ID", "AKIAENV")
    chain_env.setenv("AWS_SECRET_ACCESS_KEY", "env-secret")
    chain_env.setenv("AWS_CREDENTIAL_EXPIRATION", "2099-01-01T00:00:00Z")
    assert type(same_as_botocore()).__name__ == "RefreshableCredentials"


def test_an_access_key_without_a_secret_key_is_botocores_error(chain_env: pytest.MonkeyPatch) -> None:
    from botocore.exceptions import PartialCredentialsError

    chain_env.setenv("AWS_ACCESS_KEY_ID", "AKIAENV")
    for resolve in (ours, botocores):
        with pytest.raises(PartialCredentialsError):
            resolve()


def test_the_profile_option_takes_the_environments_keys_out_of_the_chain(
    chain_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    credentials = tmp_path / "credentials"
    credentials.write_text("[logs]\naws_access_key_id = AKIALOGS\naws_secret_access_key = l\n")
    chain_env.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    chain_env.setenv("AWS_ACCESS_KEY_ID", "AKIAENV")
    chain_env.setenv("AWS_SECRET_ACCESS_KEY", "env-secret")
    assert same_as_botocore("logs").access_key == "AKIALOGS"


def test_aws_profile_does_not_take_precedence_over_the_environments_keys(
    chain_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    credentials = tmp_path / "credentials"
    credentials.write_text("[logs]\naws_access_key_id = AKIALOGS\naws_secret_access_key = l\n")
    chain_env.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    chain_env.setenv("AWS_PROFILE", "logs")
    chain_env.setenv("AWS_ACCESS_KEY_ID", "AKIAENV")
    chain_env.setenv("AWS_SECRET_ACCESS_KEY", "env-secret")
    assert same_as_botocore().access_key == "AKIAENV"


@pytest.mark.parametrize(
    ("variable", "value", "error"),
    [
        ("AWS_METADATA_SERVICE_TIMEOUT", "soon", ValueError),
        ("AWS_METADATA_SERVICE_NUM_ATTEMPTS", "", ValueError),
        ("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "ipv5", "InvalidIMDSEndpointModeError"),
        ("AWS_EC2_METADATA_SERVICE_ENDPOINT", "not a url", "InvalidIMDSEndpointError"),
    ],
)
def test_a_setting_botocores_chain_refuses_is_refused_even_with_keys_in_the_environment(
    chain_env: pytest.MonkeyPatch, variable: str, value: str, error: Any
) -> None:
    import botocore.exceptions

    expected = getattr(botocore.exceptions, error) if isinstance(error, str) else error
    chain_env.setenv("AWS_ACCESS_KEY_ID", "AKIAENV")
    chain_env.setenv("AWS_SECRET_ACCESS_KEY", "env-secret")
    chain_env.setenv(variable, value)
    for resolve in (ours, botocores):
        with pytest.raises(expected):
            resolve()


def test_a_valid_setting_of_the_chain_keeps_the_environments_keys(chain_env: pytest.MonkeyPatch) -> None:
    chain_env.setenv("AWS_ACCESS_KEY_ID", "AKIAENV")
    chain_env.setenv("AWS_SECRET_ACCESS_KEY", "env-secret")
    chain_env.setenv("AWS_METADATA_SERVICE_TIMEOUT", "3")
    assert same_as_botocore().access_key == "AKIAENV"


def test_an_unknown_aws_profile_with_keys_in_the_environment_is_botocores_error(chain_env: pytest.MonkeyPatch) -> None:
    from botocore.exceptions import ProfileNotFound

    chain_env.setenv("AWS_ACCESS_KEY_ID", "AKIAENV")
    chain_env.setenv("AWS_SECRET_ACCESS_KEY", "env-secret")
    chain_env.setenv("AWS_PROFILE", "missing")
    for resolve in (ours, botocores):
        with pytest.raises(ProfileNotFound):
            resolve()


def test_the_settings_answered_without_botocore_are_botocores() -> None:
    from botocore.configprovider import BOTOCORE_DEFAUT_SESSION_VARIABLES
    from botocore.utils import ensure_boolean as botocores_ensure_boolean

    for name, (key, variables, default, convert) in SETTINGS.items():
        their_key, their_variables, their_default, their_convert = BOTOCORE_DEFAUT_SESSION_VARIABLES[name]
        their_variables = tuple(their_variables) if isinstance(their_variables, list) else (their_variables,)
        assert (key, variables, default) == (their_key, their_variables, their_default), name
        assert convert is their_convert or (convert, their_convert) == (ensure_boolean, botocores_ensure_boolean), name
    for value in ("true", "TRUE", "True", "false", "1", "", True, False, None, 1):
        assert ensure_boolean(value) is botocores_ensure_boolean(value), value


@pytest.mark.parametrize("profile", [None, "agent"])
def test_the_settings_have_the_values_a_botocore_session_gives_them(
    chain_env: pytest.MonkeyPatch, tmp_path: Path, profile: str | None
) -> None:
    import botocore.session

    config = tmp_path / "config"
    config.write_text("[default]\nuse_fips_endpoint = true\nmetadata_service_timeout = 4\n"
                      "[profile agent]\nuse_dualstack_endpoint = TRUE\nec2_metadata_service_endpoint_mode = IPv6\n")
    chain_env.setenv("AWS_CONFIG_FILE", str(config))
    chain_env.setenv("AWS_METADATA_SERVICE_NUM_ATTEMPTS", "2")
    chain_env.setenv("AWS_USE_FIPS_ENDPOINT", "false")
    ours, theirs = ChainSession(profile), botocore.session.Session(profile=profile)
    for name in SETTINGS:
        assert ours.get_config_variable(name) == theirs.get_config_variable(name), name


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


def imported_by_chain_credentials(env: dict[str, str], modules: tuple[str, ...]) -> list[str]:
    """Which of ``modules`` a fresh interpreter has imported once it resolved the chain in ``env``."""
    import os

    probe = (
        "import sys, types\n"
        "from flb_fast.outputs.aws.credentials import ChainSession, chain_credentials\n"
        "options = types.SimpleNamespace(profile=None, region='us-east-1', role_arn=None)\n"
        "assert chain_credentials(ChainSession(None), options).access_key == 'AKIAENV'\n"
        f"print(sorted(name for name in {modules!r} if name in sys.modules))\n"
    )
    env = {**env, "AWS_EC2_METADATA_DISABLED": "true", "PATH": "/usr/bin:/bin",
           "PYTHONPATH": os.environ.get("PYTHONPATH", "")}
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env,
                          cwd=Path(__file__).resolve().parents[3], check=True)
    return json.loads(done.stdout.replace("'", '"'))


def test_resolving_credentials_imports_no_botocore_client_machinery(tmp_path: Path) -> None:
    credentials = tmp_path / "credentials"
    credentials.write_text("[default]\naws_access_key_id = AKIAENV\naws_secret_access_key = s\n")
    env = {"AWS_SHARED_CREDENTIALS_FILE": str(credentials), "AWS_CONFIG_FILE": str(tmp_path / "none")}
    assert imported_by_chain_credentials(env, ("botocore.session", "botocore.client", "botocore.handlers")) == []


def test_keys_in_the_environment_import_neither_botocores_chain_nor_urllib3() -> None:
    env = {"AWS_ACCESS_KEY_ID": "AKIAENV", "AWS_SECRET_ACCESS_KEY": "s"}
    modules = ("botocore.credentials", "botocore.configprovider", "botocore.utils", "urllib3", "importlib.metadata")
    assert imported_by_chain_credentials(env, modules) == []


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
