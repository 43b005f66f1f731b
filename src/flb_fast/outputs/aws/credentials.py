"""The AWS outputs' credentials from botocore's own chain, without importing ``botocore.session``.

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
"""

from __future__ import annotations

import os
import platform
import threading
from typing import Any


class ChainSession:
    """What botocore's credential providers ask of ``botocore.session.Session``, answered the same
    way (``full_config``, ``get_scoped_config``, ``user_agent`` follow its methods)."""

    def __init__(self, profile: str | None) -> None:
        from botocore.configprovider import ConfigValueStore, create_botocore_default_config_mapping

        self._instance_variables = {"profile": profile} if profile else {}
        self._config: dict[str, Any] | None = None
        self._store = ConfigValueStore(mapping=create_botocore_default_config_mapping(self))
        self._session: Any = None
        self._session_lock = threading.Lock()

    def instance_variables(self) -> dict[str, Any]:
        return dict(self._instance_variables)

    def get_config_variable(self, logical_name: str) -> Any:
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


def chain_credentials(session: ChainSession, options: Any, verify: bool | str) -> Any:
    """The output's credentials (blocking: a provider may read files or call a metadata
    service): botocore's default chain of ``session``, exchanged through STS AssumeRole when
    ``role_arn`` is set. None when no provider has any."""
    from botocore.credentials import create_credential_resolver

    from flb_fast.outputs.aws.client import assume_role

    credentials = create_credential_resolver(session, region_name=options.region).load_credentials()
    if options.role_arn:
        return assume_role(session, credentials, options.role_arn, options.external_id, options.sts_endpoint,
                           options.region, verify)
    return credentials
