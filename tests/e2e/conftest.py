"""Real endpoints for the end-to-end tests that need them: moto, and the kubernetes filter's fake
API server over HTTPS."""

from tests.fakes.moto_server import fault_proxy, moto, moto_process  # noqa: F401
from tests.filters.kubernetes.conftest import api, certs, token_file  # noqa: F401
