"""Real AWS endpoints for these tests: moto as an HTTP server process, and a fault proxy in front of it."""

from tests.fakes.moto_server import fault_proxy, moto, moto_process  # noqa: F401
