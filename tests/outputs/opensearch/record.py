"""Record what Fluent Bit sends for every case in tests/data/outputs/opensearch/cases.txt.

    python -m tests.outputs.opensearch.record /path/to/fluent-bit

Each case runs the given binary against the tests' OpenSearch-API server and writes the bulk
bodies it received, in order, to ``<case>.ndjson``.
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
import time
from pathlib import Path

from flb_fast import parsers as flb_parsers
from tests.fakes.opensearch_server import OpenSearchServer
from tests.outputs.opensearch.cases import INPUT, cases, input_documents

# How long one recording may take: Fluent Bit reads the file and flushes within a second or two.
RECORD_SECONDS = 20.0


def bundled_parsers() -> Path:
    return Path(flb_parsers.__file__).parents[1] / "data" / "parsers.conf"


def record(binary: str) -> None:
    for case in cases():
        server = OpenSearchServer().start()
        try:
            with tempfile.TemporaryDirectory() as folder:
                config = Path(folder) / "fluent-bit.conf"
                config.write_text(case.config(server.port, INPUT, bundled_parsers()))
                process = subprocess.Popen([binary, "-c", str(config)], stdout=subprocess.DEVNULL,
                                           stderr=subprocess.DEVNULL)
                try:
                    server.wait_for_documents(input_documents(), timeout=RECORD_SECONDS)
                    time.sleep(1.0)  # let a retry, if any, arrive too
                finally:
                    process.terminate()
                    process.wait(timeout=RECORD_SECONDS)
            bodies = b"".join(request.body for request in server.requests if request.status == 200)
            case.expected_path.write_bytes(bodies)
            print(f"{case.name}: {len(server.requests)} request(s), {len(bodies)} bytes")
        finally:
            server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("binary", help="the fluent-bit binary to record")
    record(parser.parse_args().binary)


if __name__ == "__main__":
    main()
