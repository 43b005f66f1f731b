"""The User-Agent of the calls on the loop (outputs/aws/useragent.py): the one botocore's
``UserAgentString`` builds for a client of the same config, on this and other platforms."""

from __future__ import annotations

import pytest

from flb_fast.outputs.aws import useragent
from flb_fast.outputs.aws.useragent import client_user_agent


def botocores(extra: str, retry_mode: str) -> str:
    from botocore.config import Config
    from botocore.useragent import UserAgentString

    config = Config(user_agent_extra=extra, retries={"mode": retry_mode})
    return UserAgentString.from_environment().with_client_config(config).to_string()


@pytest.mark.parametrize("extra", ["aws-fluent-bit-plugin", "aws-fluent-bit-plugin-my app/1.0", ""])
def test_on_this_platform_it_is_botocores(monkeypatch: pytest.MonkeyPatch, extra: str) -> None:
    monkeypatch.delenv("AWS_EXECUTION_ENV", raising=False)
    assert client_user_agent(extra, "standard") == botocores(extra, "standard")


@pytest.mark.parametrize(
    ("system", "release", "machine", "implementation"),
    [
        ("Linux", "6.1.0-amzn2023 #1 SMP", "AARCH64", "CPython"),
        ("Darwin", "23.1.0", "arm64", "PyPy"),
        ("Windows", "10", "AMD64", "CPython"),
        ("SunOS", "5.11", "i86pc", "CPython"),
        ("", "", "", ""),
    ],
)
def test_on_other_platforms_it_is_botocores(
    monkeypatch: pytest.MonkeyPatch, system: str, release: str, machine: str, implementation: str
) -> None:
    monkeypatch.setattr("platform.system", lambda: system)
    monkeypatch.setattr("platform.release", lambda: release)
    monkeypatch.setattr("platform.machine", lambda: machine)
    monkeypatch.setattr("platform.python_implementation", lambda: implementation)
    assert client_user_agent("aws-fluent-bit-plugin", "standard") == botocores("aws-fluent-bit-plugin", "standard")


@pytest.mark.parametrize("execution_env", ["AWS_ECS_EC2", "weird value/with#chars é"])
def test_the_execution_environment_is_named_as_botocore_names_it(
    monkeypatch: pytest.MonkeyPatch, execution_env: str
) -> None:
    monkeypatch.setenv("AWS_EXECUTION_ENV", execution_env)
    assert client_user_agent("aws-fluent-bit-plugin", "standard") == botocores("aws-fluent-bit-plugin", "standard")


def test_with_the_aws_crt_installed_it_is_botocores_own(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(useragent, "_crt_installed", lambda: True)
    monkeypatch.setattr("botocore.useragent.HAS_CRT", True)
    monkeypatch.setattr("botocore.useragent._get_crt_version", lambda: "0.99.1")
    assert client_user_agent("aws-fluent-bit-plugin", "standard").startswith("Botocore/")
    assert "md/awscrt#0.99.1" in client_user_agent("aws-fluent-bit-plugin", "standard")
