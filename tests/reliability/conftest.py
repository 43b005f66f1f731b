"""moto and the fault proxy for the outage tests (tests/fakes/moto_server.py)."""

from tests.fakes.moto_server import fault_proxy, moto, moto_process

__all__ = ["fault_proxy", "moto", "moto_process"]
