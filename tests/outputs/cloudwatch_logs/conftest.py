"""Real endpoints for these tests: moto as an HTTP server process with a fault proxy in front of
it, and (for the seed pipeline end to end) the kubernetes filter's fake API server over HTTPS."""

from tests.fakes.moto_server import fault_proxy, moto, moto_process  # noqa: F401
from tests.filters.kubernetes.conftest import api, certs, token_file  # noqa: F401
