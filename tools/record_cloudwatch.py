"""Record the events an agent's cloudwatch_logs output sends for
``tests/data/outputs/cloudwatch_logs/records.jsonl``, into ``events.json`` beside it.

The records are tailed (``Parser`` json, each record's ``t`` its time) into ``cloudwatch_logs``
against the tests' CloudWatch Logs endpoint, which keeps what it accepts
(``tools/generated.py start_endpoint``). The suite then checks flb-fast's messages against
Fluent Bit's without needing the binary (tests/outputs/cloudwatch_logs/test_fluent_bit_messages.py):

    python -m tools.record_cloudwatch --fluent-bit /path/to/fluent-bit
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path

from tools.generated import TIMED_PARSERS, printed, start_endpoint, write_config

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "outputs" / "cloudwatch_logs"
OUTPUT = ["Name cloudwatch_logs", "region us-east-1", "endpoint 127.0.0.1", "port ${ENDPOINT_PORT}",
          "tls.ca_file ${ENDPOINT_CA_FILE}", "auto_create_group true", "log_group_name group-1",
          "log_stream_name stream-1"]


def sent_events(command: Sequence[str]) -> list[list[object]]:
    """``[group, stream, timestamp, message]`` of each event ``command`` sent, in order."""
    with tempfile.TemporaryDirectory(prefix="flb-record-cloudwatch-") as work, ExitStack() as stack:
        folder = Path(work) / "case"
        folder.mkdir()
        shutil.copy(DATA / "records.jsonl", folder / "input.jsonl")
        (folder / "parsers.conf").write_text(TIMED_PARSERS)
        write_config(folder, ["Path input.jsonl", "Parser timed"], [], output=OUTPUT)
        env, endpoint = start_endpoint(stack, Path(work) / "services")
        status, _ = printed(command, folder, env)
        if status != 0:
            raise SystemExit(f"{command[0]} exited with {status}")
        return [list(event) for event in endpoint.kept_events]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.record_cloudwatch", description=__doc__.split("\n")[0])
    parser.add_argument("--fluent-bit", type=Path, required=True)
    args = parser.parse_args(argv)
    version = subprocess.run([str(args.fluent_bit), "--version"], capture_output=True, text=True,
                             check=True).stdout.splitlines()[0].strip()
    recorded = {
        "fluent_bit": version,
        "command": f"python -m tools.record_cloudwatch --fluent-bit {args.fluent_bit}",
        "events": sent_events([str(args.fluent_bit)]),
    }
    (DATA / "events.json").write_text(json.dumps(recorded, indent=1, ensure_ascii=False) + "\n")
    print(f"{len(recorded['events'])} events")
    return 0


if __name__ == "__main__":
    sys.exit(main())
