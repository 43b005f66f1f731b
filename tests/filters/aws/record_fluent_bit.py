"""Record Fluent Bit's aws filter against the fake IMDS (not a test; run by hand, as root).

    python -m tests.filters.aws.record_fluent_bit /path/to/fluent-bit

Fluent Bit's IMDS address is fixed (169.254.169.254:80, flb_aws_imds.h), so each case runs in a
network namespace of its own (``unshare -n``) where that address sits on the loopback device
and tests/fakes/imds_server.py serves it: nothing leaves the machine. For each ``<case>.conf``
(the filter's options, one per line; ``<case>.server`` holds the fake server's flags) a
``dummy`` record goes through the filter to the ``file`` output; its line is stored as
``<case>.expected`` and the requests Fluent Bit made as ``<case>.requests``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

DATA = Path(__file__).resolve().parents[2] / "data" / "filters" / "aws"
ROOT = Path(__file__).resolve().parents[3]
IMDS_HOST = "169.254.169.254"
RECORD = '{"log":"hello"}'
RUN_SECONDS = 3.0


def record_case(fluent_bit: str, case: Path, workdir: Path) -> None:
    out = workdir / case.stem
    out.mkdir()
    options = "".join(f"    {line}\n" for line in case.read_text().splitlines() if line.strip())
    conf = workdir / f"{case.stem}.conf"
    conf.write_text(
        "[SERVICE]\n    Flush 0.2\n    Grace 1\n"
        f"[INPUT]\n    Name dummy\n    Tag app\n    Dummy {RECORD}\n    Samples 1\n"
        f"[FILTER]\n    Name aws\n    Match *\n{options}"
        f"[OUTPUT]\n    Name file\n    Match *\n    Path {out}\n    File all.log\n"
    )
    flags_file = case.with_suffix(".server")
    flags = flags_file.read_text().split() if flags_file.exists() else []
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}:{ROOT}"}
    server = subprocess.Popen([sys.executable, "-m", "tests.fakes.imds_server", IMDS_HOST, "80", *flags],
                              stdout=subprocess.PIPE, text=True, env=env)
    assert server.stdout is not None
    server.stdout.readline()
    fluent = subprocess.Popen([fluent_bit, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(RUN_SECONDS)
    fluent.terminate()
    fluent.wait(timeout=30)
    server.terminate()
    requests, _ = server.communicate(timeout=30)
    # Tokens are random: keep only whether one was sent.
    requests = re.sub(r"token='(?!INVALID_TOKEN')[^']+'", "token='...'", requests)
    (DATA / f"{case.stem}.requests").write_text(requests)
    line = (out / "all.log").read_text()
    (DATA / f"{case.stem}.expected").write_text(re.sub(r"^app: \[[0-9.]+, ", "", line).rstrip()[:-1] + "\n")
    print(case.stem, line.strip())


def main(fluent_bit: str) -> None:
    if os.environ.get("IMDS_NETNS") != "1":
        os.execvp("unshare", ["unshare", "-n", "env", "IMDS_NETNS=1", sys.executable, "-m",
                              "tests.filters.aws.record_fluent_bit", fluent_bit])
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    subprocess.run(["ip", "addr", "add", f"{IMDS_HOST}/32", "dev", "lo"], check=True)
    workdir = Path(f"/tmp/aws-filter-record-{os.getpid()}")
    workdir.mkdir()
    for case in sorted(DATA.glob("*.conf")):
        record_case(fluent_bit, case, workdir)


if __name__ == "__main__":
    main(sys.argv[1])
