"""Record what the AWS Go plugins' JSON libraries write for a set of records.

    python -m tools.record_go_json [--seed N] [--floats N]

Builds ``tools/go_json/main.go`` (Debian's golang-go, golang-github-json-iterator-go-dev and
golang-github-ugorji-go-codec-dev; GOPATH mode, nothing downloaded), sends it the records as
msgpack (as fluent-bit-go receives them), and writes into tests/data/outputs/go_json:

- ``records.msgpack``: the records, one msgpack array;
- ``records.expected``: one line per record, what ``jsoniter`` wrote (base64) or ``error: ...``;
- ``log_key.expected``: the same for ``log_key log`` (the value of each record's ``log`` key as
  ``plugins.EncodeLogKey`` writes it).

tests/outputs/aws/test_go_json.py checks flb-fast's ``go_json`` against them.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import struct
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import msgspec

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "tools" / "go_json" / "main.go"
OUT = ROOT / "tests" / "data" / "outputs" / "go_json"
GOPATH = "/usr/share/gocode"

# Records written by hand: each one shows one rule (the first key names it).
FIXED: list[dict[str, Any]] = [
    {"order": 1, "b": 2, "a": 3, "B": 4, "_": 5, "é": 6, "aa": 7, "a b": 8, "": 9},
    {"nested_order": {"z": 1, "y": {"d": 4, "c": 3}, "x": [{"q": 1, "p": 2}]}},
    {"html": "<script>&amp;</script>", "<key>": "&"},
    {"controls": "".join(chr(code) for code in range(0x20)) + "\x7f"},
    {"quotes": 'say "hi" \\ back\\slash /'},
    {"separators": "a\u2028b\u2029c\u2027d"},
    {"non_ascii": "café ☃ 日本語 😀 \U0010ffff"},
    {"floats": [0.0, -0.0, 1.0, -3.0, 0.5, 0.1, 1.5e-7, 1e-6, 9.99e-7, 1e20, 1e21, 1.5e21, 123456789.123,
                2.0**53, 2.0**63, 1e-300, 5e-324, 1.7976931348623157e308, 0.000123, 1234.5678e10]},
    {"ints": [0, 1, -1, 2**31, 2**53 + 1, 2**63 - 1, -(2**63), 2**64 - 1]},
    {"scalars": [True, False, None, "", [], {}]},
    {"nan": float("nan")},
    {"inf": float("inf"), "ok": 1},
    {"log": "plain string <b> & \u2028 é"},
    {"log": 1.5e-7},
    {"log": 3.0},
    {"log": ["a<b", 1e21, True, None]},
    {"log": {"a": 1}},
    {"log": [{"a": 1}]},
    {"log": None},
    {"log": False},
    {"log": 12345678901234567890},
    {"log": 1e-300},
]


def _random_float(rng: random.Random) -> float:
    if rng.random() < 0.5:
        value = struct.unpack("<d", rng.getrandbits(64).to_bytes(8, "little"))[0]
        return value if value == value and abs(value) != float("inf") else 1.0
    return round(rng.uniform(-1, 1) * 10 ** rng.randint(-12, 25), rng.randint(0, 17))


def _random_text(rng: random.Random) -> str:
    alphabet = "ab <>&\"\\\n\t\x00\x1f\x7fé☃\u2028😀"
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))


def records(seed: int, floats: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    generated = [{"random_floats": [_random_float(rng) for _ in range(20)]} for _ in range(floats // 20)]
    generated += [
        {_random_text(rng): _random_text(rng) for _ in range(rng.randint(1, 6))} for _ in range(40)
    ]
    return FIXED + generated


def build(workdir: Path) -> Path:
    if shutil.which("go") is None:
        sys.exit("go not found: apt-get install golang-go golang-github-json-iterator-go-dev "
                 "golang-github-ugorji-go-codec-dev")
    shutil.copy(SOURCE, workdir / "main.go")
    binary = workdir / "go_json"
    env = {**os.environ, "GO111MODULE": "off", "GOPATH": GOPATH, "GOCACHE": str(workdir / "cache")}
    subprocess.run(["go", "build", "-o", str(binary), "main.go"], cwd=workdir, env=env, check=True)
    return binary


def run(binary: Path, data: list[dict[str, Any]], *args: str) -> str:
    stream = b"".join(msgspec.msgpack.encode(record) for record in data)
    return subprocess.run([str(binary), *args], input=stream, capture_output=True, check=True).stdout.decode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--floats", type=int, default=2000)
    args = parser.parse_args()
    data = records(args.seed, args.floats)
    with tempfile.TemporaryDirectory() as tmp:
        binary = build(Path(tmp))
        OUT.mkdir(parents=True, exist_ok=True)
        (OUT / "records.msgpack").write_bytes(msgspec.msgpack.encode(data))
        (OUT / "records.expected").write_text(run(binary, data))
        with_log = [record for record in data if "log" in record]
        (OUT / "log_key.expected").write_text(run(binary, with_log, "-log-key", "log"))
    print(f"recorded {len(data)} records into {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
