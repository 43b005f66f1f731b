"""The User-Agent botocore's clients send, for the calls the outputs make on the loop, without
importing ``botocore.useragent`` (which imports ``botocore.compat``, and with it urllib3,
``http.client``, ``email`` and dateutil: bench/bench_aws_memory.py).

botocore builds it from the platform, the Python, the client's config and the extra text the
client is given (botocore/useragent.py ``UserAgentString.to_string``)::

    Botocore/<version> ua/2.1 os/<family>#<release> md/arch#<machine> lang/python#<version>
    md/pyimpl#<implementation> [exec-env/<AWS_EXECUTION_ENV>] cfg/retry-mode#<mode> <extra>

each ``prefix/name#value`` component with the characters a User-Agent does not allow made ``-``
(``sanitize_user_agent_string_component``). When the AWS CRT is installed botocore names its
version too; the string then comes from botocore itself. tests/outputs/aws/test_useragent.py
compares the two on several platforms.
"""

from __future__ import annotations

import os
import platform
from string import ascii_letters, digits

# botocore/useragent.py: _USERAGENT_ALLOWED_CHARACTERS, _USERAGENT_ALLOWED_OS_NAMES,
# _USERAGENT_PLATFORM_NAME_MAPPINGS, _USERAGENT_SDK_NAME.
ALLOWED_CHARACTERS = frozenset(ascii_letters + digits + "!$%&'*+-.^_`|~,")
OS_FAMILIES = frozenset({"windows", "linux", "macos", "android", "ios", "watchos", "tvos", "other"})
PLATFORM_FAMILIES = {"darwin": "macos"}
SDK_NAME = "Botocore"


def _clean(text: str, allow_hash: bool) -> str:
    return "".join(c if c in ALLOWED_CHARACTERS or (allow_hash and c == "#") else "-" for c in text)


def _component(prefix: str, name: str, value: str | None = None) -> str:
    """botocore's ``UserAgentComponent(prefix, name, value).to_string()``."""
    if not value:
        return f"{_clean(prefix, True)}/{_clean(name, False)}"
    return f"{_clean(prefix, True)}/{_clean(name, False)}#{_clean(value, True)}"


def _os_components(system: str, release: str) -> list[str]:
    family = system.lower()
    family = family if family in OS_FAMILIES else PLATFORM_FAMILIES.get(family, "")
    if family:
        return [_component("os", family, release)]
    return [_component("os", "other"), _component("md", system, release)]


def _crt_installed() -> bool:
    from importlib.util import find_spec

    return find_spec("awscrt") is not None


def client_user_agent(extra: str, retry_mode: str) -> str:
    """What a botocore client configured with ``Config(user_agent_extra=extra,
    retries={"mode": retry_mode})`` sends as its User-Agent (no features registered)."""
    if _crt_installed():
        from botocore.config import Config
        from botocore.useragent import UserAgentString

        config = Config(user_agent_extra=extra, retries={"mode": retry_mode})
        return UserAgentString.from_environment().with_client_config(config).to_string()
    import botocore

    parts = [_component(SDK_NAME, botocore.__version__), "ua/2.1",
             *_os_components(platform.system(), platform.release())]
    machine = platform.machine()
    if machine:
        parts.append(_component("md", "arch", machine.lower()))
    parts.append(_component("lang", "python", platform.python_version()))
    implementation = platform.python_implementation()
    if implementation:
        parts.append(_component("md", "pyimpl", implementation))
    execution_env = os.environ.get("AWS_EXECUTION_ENV")
    if execution_env:
        parts.append(_component("exec-env", execution_env))
    parts.append(_component("cfg", "retry-mode", retry_mode))
    if extra:
        parts.append(extra)
    return " ".join(part for part in parts if part)
