"""moto as a real HTTP server process on 127.0.0.1, for tests of the AWS outputs.

``moto_process`` (one per test session and xdist worker) starts ``python -m moto.server`` on a
free port and stops it at the end; ``moto`` resets its state for each test and points boto3 at
fake credentials so no request ever leaves 127.0.0.1 (no profile files, no instance metadata).
Import both fixtures into a test module: ``from tests.fakes.moto_server import moto, moto_process``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from tests.fakes.certs import CertFiles
from tests.fakes.ports import free_port
from tests.fakes.process import die_with_parent

REGION = "us-east-1"
START_TIMEOUT_SECONDS = 90.0
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
}


def wait_until(condition: Any, timeout: float, what: str, interval: float = 0.05) -> None:
    """Poll ``condition`` until true; generous timeouts, since the test machine is shared."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


class MotoServer:
    """moto on a free port of 127.0.0.1 (or ``port``): over TLS with ``certs``, and with ``keep_alive``
    keeping connections open as AWS does (moto's own server closes each one: see ``moto_keepalive``)."""

    def __init__(self, certs: CertFiles | None = None, keep_alive: bool = False, port: int | None = None) -> None:
        self.port = port or free_port()
        self.certs = certs
        self.url = f"{'https' if certs else 'http'}://127.0.0.1:{self.port}"
        env = {**os.environ, **FAKE_CREDENTIALS}
        env.pop("AWS_PROFILE", None)
        env.pop("AWS_ENDPOINT_URL", None)
        tls = [str(certs.cert_file), str(certs.key_file)] if certs else []
        # moto with its Kinesis shards numbering records under a lock (see ``moto_keepalive``).
        close = [] if keep_alive else ["--close"]
        command = [sys.executable, "-m", "tests.fakes.moto_keepalive", *close, str(self.port), *tls]
        self.process = subprocess.Popen(
            command,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
            preexec_fn=die_with_parent,
        )
        wait_until(self._ready, START_TIMEOUT_SECONDS, f"moto server on port {self.port}")

    def _ready(self) -> bool:
        if self.process.poll() is not None:
            raise RuntimeError(f"moto server exited with code {self.process.returncode}")
        try:
            with urllib.request.urlopen(f"{self.url}/moto-api/", timeout=2, context=self._ssl_context()):
                return True
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return False

    def _ssl_context(self) -> Any:
        if self.certs is None:
            return None
        import ssl

        return ssl.create_default_context(cafile=str(self.certs.ca_file))

    def reset(self) -> None:
        request = urllib.request.Request(f"{self.url}/moto-api/reset", method="POST")
        with urllib.request.urlopen(request, timeout=30, context=self._ssl_context()):
            pass

    def client(self, service: str, region: str = REGION) -> Any:
        """A boto3 client talking straight to moto (the tests' view of what arrived)."""
        import boto3

        return boto3.client(
            service,
            endpoint_url=self.url,
            region_name=region,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            verify=str(self.certs.ca_file) if self.certs else None,
        )

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture(scope="session")
def moto_process() -> Iterator[MotoServer]:
    server = MotoServer()
    yield server
    server.stop()


@pytest.fixture
def moto(moto_process: MotoServer, monkeypatch: pytest.MonkeyPatch) -> MotoServer:
    """A clean moto and fake credentials in the environment of this test."""
    moto_process.reset()
    for name, value in FAKE_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    return moto_process


@pytest.fixture
def fault_proxy(moto: MotoServer) -> Iterator[Any]:
    """A fault-injecting proxy in front of this test's clean moto."""
    from tests.fakes.fault_proxy import FaultProxy

    proxy = FaultProxy(moto.url)
    yield proxy
    proxy.close()
