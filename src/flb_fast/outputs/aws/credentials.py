"""The AWS outputs' credentials from botocore's own chain, without importing ``botocore.session``,
and keys from the environment without importing botocore's chain at all.

botocore's default chain (``botocore.credentials.create_credential_resolver``: environment,
assume-role and SSO profiles, shared credentials and config files, ``credential_process``, IRSA
web identity, the ECS / EKS Pod Identity container endpoint, EC2 instance metadata) asks its
session only for configuration: a config variable (botocore's own ``ConfigValueStore`` and
mapping answer it here, as in ``botocore.session.Session``), the profile's section and the whole
config (``botocore.configloader``), a User-Agent for the metadata service, and, for the
providers that call STS or SSO, a client. ``ChainSession`` answers these; a full botocore session
is created only when a provider (or ``role_arn``) needs a client. ``import botocore.session``
brings botocore's whole client machinery (handlers, serialisers, parsers, endpoint rules), and a
client its service model and endpoint rules: together about 5 MiB of RSS that an output calling
its service on the loop does not use (bench/bench_aws_memory.py).

The chain's first provider is the environment's (``EnvProvider``): with ``AWS_ACCESS_KEY_ID`` and
``AWS_SECRET_ACCESS_KEY`` set, and no ``profile`` option (which takes it out of the chain), the
chain answers with those keys before any other provider is asked. ``botocore.credentials`` itself
imports ``botocore.config``, ``botocore.endpoint`` and ``botocore.utils``, and with them urllib3,
``importlib.metadata``, ``http.client``, ``email`` and dateutil, about 6 MiB (bench_aws_memory), so
``environment_credentials`` reads those keys as ``EnvProvider`` does, in the cases where the
chain would answer with them and nothing else could happen first; every other case is botocore's
chain, imported then. The few settings ``ChainSession`` needs for that decision and for the
endpoint's (``SETTINGS``) it resolves as botocore's ``ConfigValueStore`` does, from the same
table (tests/outputs/aws/test_credentials.py compares them); any other goes to botocore's store.
"""

from __future__ import annotations

import os
import platform
import threading
from collections.abc import Callable
from typing import Any, NamedTuple


def ensure_boolean(value: Any) -> bool:
    """botocore.utils ``ensure_boolean``: a bool as is, a string true when it is "true" in any case."""
    if isinstance(value, bool):
        return value
    return isinstance(value, str) and value.lower() == "true"


# The settings ChainSession resolves itself, as botocore's ConfigValueStore resolves them from
# botocore/configprovider.py BOTOCORE_DEFAUT_SESSION_VARIABLES: (key in the profile's section,
# environment variables, default, conversion); the session's own value (``profile``) first.
SETTINGS: dict[str, tuple[str | None, tuple[str, ...], Any, Callable[[Any], Any] | None]] = {
    "profile": (None, ("AWS_DEFAULT_PROFILE", "AWS_PROFILE"), None, None),
    "config_file": (None, ("AWS_CONFIG_FILE",), "~/.aws/config", None),
    "credentials_file": (None, ("AWS_SHARED_CREDENTIALS_FILE",), "~/.aws/credentials", None),
    "use_fips_endpoint": ("use_fips_endpoint", ("AWS_USE_FIPS_ENDPOINT",), None, ensure_boolean),
    "use_dualstack_endpoint": ("use_dualstack_endpoint", ("AWS_USE_DUALSTACK_ENDPOINT",), None, ensure_boolean),
    "metadata_service_timeout": ("metadata_service_timeout", ("AWS_METADATA_SERVICE_TIMEOUT",), 1, int),
    "metadata_service_num_attempts": (
        "metadata_service_num_attempts", ("AWS_METADATA_SERVICE_NUM_ATTEMPTS",), 1, int,
    ),
    "ec2_metadata_service_endpoint": (
        "ec2_metadata_service_endpoint", ("AWS_EC2_METADATA_SERVICE_ENDPOINT",), None, None,
    ),
    "ec2_metadata_service_endpoint_mode": (
        "ec2_metadata_service_endpoint_mode", ("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE",), None, None,
    ),
}
# What create_credential_resolver reads, and may refuse, before its first provider is asked: a
# timeout or a number of attempts that is not a number, an IMDS endpoint or endpoint mode that is
# not valid (botocore/credentials.py create_credential_resolver, botocore/utils.py IMDSFetcher).
RESOLVER_SETTINGS = ("metadata_service_timeout", "metadata_service_num_attempts", "ec2_metadata_service_endpoint",
                     "ec2_metadata_service_endpoint_mode")
# botocore/credentials.py EnvProvider: the keys, the session token (the first of these set) and
# the expiry that makes them refreshable credentials, re-read from the environment.
ACCESS_KEY = "AWS_ACCESS_KEY_ID"
SECRET_KEY = "AWS_SECRET_ACCESS_KEY"
TOKENS = ("AWS_SECURITY_TOKEN", "AWS_SESSION_TOKEN")
EXPIRY_TIME = "AWS_CREDENTIAL_EXPIRATION"
ACCOUNT_ID = "AWS_ACCOUNT_ID"


class FrozenCredentials(NamedTuple):
    """botocore's ``ReadOnlyCredentials``."""

    access_key: str
    secret_key: str
    token: str | None
    account_id: str | None


class EnvironmentCredentials:
    """Keys from the environment, as botocore's ``EnvProvider`` gives them without an expiry: a
    ``Credentials`` of method ``env``, read once."""

    __slots__ = ("access_key", "secret_key", "token", "account_id")
    method = "env"

    def __init__(self, access_key: str, secret_key: str, token: str | None, account_id: str | None) -> None:
        self.access_key = access_key
        self.secret_key = secret_key
        self.token = token
        self.account_id = account_id

    def get_frozen_credentials(self) -> FrozenCredentials:
        return FrozenCredentials(self.access_key, self.secret_key, self.token, self.account_id)


class ChainSession:
    """What botocore's credential providers ask of ``botocore.session.Session``, answered the same
    way (``full_config``, ``get_scoped_config``, ``user_agent`` follow its methods)."""

    def __init__(self, profile: str | None) -> None:
        self._instance_variables = {"profile": profile} if profile else {}
        self._config: dict[str, Any] | None = None
        self._store: Any = None
        self._session: Any = None
        self._session_lock = threading.Lock()

    def instance_variables(self) -> dict[str, Any]:
        return dict(self._instance_variables)

    def configured(self, logical_name: str) -> Any:
        """The value of one of SETTINGS where it is set (this session, the environment, the
        profile's section), before conversion; None where it is not."""
        key, variables, _, _ = SETTINGS[logical_name]
        if logical_name in self._instance_variables:
            return self._instance_variables[logical_name]
        for variable in variables:
            if variable in os.environ:
                return os.environ[variable]
        if key is not None:
            return self.get_scoped_config().get(key)
        return None

    def get_config_variable(self, logical_name: str) -> Any:
        if logical_name in SETTINGS:
            value = self.configured(logical_name)
            _, _, default, convert = SETTINGS[logical_name]
            if value is None:
                value = default
            return convert(value) if convert is not None and value is not None else value
        if self._store is None:
            from botocore.configprovider import ConfigValueStore, create_botocore_default_config_mapping

            self._store = ConfigValueStore(mapping=create_botocore_default_config_mapping(self))
        return self._store.get_config_variable(logical_name)

    @property
    def full_config(self) -> dict[str, Any]:
        """The config file, with the profiles of the credentials file merged in."""
        if self._config is None:
            import botocore.configloader
            from botocore.exceptions import ConfigNotFound

            try:
                config = botocore.configloader.load_config(self.get_config_variable("config_file"))
            except ConfigNotFound:
                config = {"profiles": {}}
            try:
                credentials = botocore.configloader.raw_config_parse(self.get_config_variable("credentials_file"))
            except ConfigNotFound:
                credentials = {}
            for profile, values in credentials.items():
                config["profiles"].setdefault(profile, {}).update(values)
            self._config = config
        return self._config

    def get_scoped_config(self) -> dict[str, Any]:
        """The profile's section; an unknown profile named explicitly is an error."""
        from botocore.exceptions import ProfileNotFound

        profile = self.get_config_variable("profile")
        profiles = self.full_config["profiles"]
        if profile is None:
            return profiles.get("default", {})
        if profile not in profiles:
            raise ProfileNotFound(profile=profile)
        return profiles[profile]

    def user_agent(self) -> str:
        import botocore

        agent = (
            f"Botocore/{botocore.__version__} Python/{platform.python_version()} "
            f"{platform.system()}/{platform.release()}"
        )
        if os.environ.get("AWS_EXECUTION_ENV") is not None:
            agent += f" exec-env/{os.environ['AWS_EXECUTION_ENV']}"
        return agent

    def create_client(self, *args: Any, **kwargs: Any) -> Any:
        """A client made by a full botocore session of the same profile, created on first use:
        for the providers that call STS (web identity, assume-role profiles) or SSO. The session
        reads endpoints.json trimmed to the services these clients use (``use_trimmed_data``):
        parsed whole it stays in the session, some 6 MiB, for as long as the credentials are
        refreshed (bench/bench_aws_memory.py, IRSA probe)."""
        with self._session_lock:
            if self._session is None:
                import botocore.session

                from flb_fast.outputs.aws.client import use_trimmed_data

                session = botocore.session.Session(profile=self._instance_variables.get("profile"))
                use_trimmed_data(session)
                self._session = session
        return self._session.create_client(*args, **kwargs)


def environment_credentials(session: ChainSession) -> EnvironmentCredentials | None:
    """The keys of the environment when botocore's chain of ``session`` would answer with them
    as fixed credentials before anything else could happen: no ``profile`` option (which takes the
    environment out of the chain), both keys set, no expiry (which makes them refreshable) and
    none of RESOLVER_SETTINGS set (which the chain may refuse first). None otherwise: the chain decides."""
    environ = os.environ
    access_key, secret_key = environ.get(ACCESS_KEY, ""), environ.get(SECRET_KEY, "")
    if "profile" in session.instance_variables() or not access_key or not secret_key or environ.get(EXPIRY_TIME):
        return None
    if any(session.configured(name) is not None for name in RESOLVER_SETTINGS):
        return None
    token = next((environ[name] for name in TOKENS if environ.get(name)), None)
    return EnvironmentCredentials(access_key, secret_key, token, environ.get(ACCOUNT_ID) or None)


def chain_credentials(session: ChainSession, options: Any) -> Any:
    """The output's credentials (blocking: a provider may read files or call a metadata
    service): botocore's default chain of ``session`` (its first answer read here when it is the
    environment's, ``environment_credentials``), exchanged through STS AssumeRole when
    ``role_arn`` is set. None when no provider has any."""
    credentials = environment_credentials(session)
    if credentials is None:
        from botocore.credentials import create_credential_resolver

        credentials = create_credential_resolver(session, region_name=options.region).load_credentials()
    if options.role_arn:
        from flb_fast.outputs.aws.client import assume_role, verify_option

        return assume_role(session, credentials, options.role_arn, options.external_id, options.sts_endpoint,
                           options.region, verify_option(options))
    return credentials
