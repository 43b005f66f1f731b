"""The aws filter against the fake IMDS on 127.0.0.1, and the recorded Fluent Bit cases."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from flb_fast.filters.aws import AwsFilter
from flb_fast.filters.aws.imds import ENDPOINT_ENV
from flb_fast.record import Chunk
from tests.fakes.imds_server import ImdsServer
from tests.standalone import plugin_for

DATA = Path(__file__).resolve().parents[2] / "data" / "filters" / "aws"
# The record the recorder sent through Fluent Bit's filter (record_fluent_bit.RECORD).
RECORD = {"log": "hello"}


@pytest.fixture
def imds(monkeypatch: pytest.MonkeyPatch) -> Iterator[ImdsServer]:
    """A fake IMDS the filters built in the test talk to (through the SDKs' endpoint variable)."""
    with ImdsServer() as server:
        monkeypatch.setenv(ENDPOINT_ENV, server.endpoint)
        yield server


def case_options(case: str) -> dict[str, str]:
    lines = (DATA / f"{case}.conf").read_text().splitlines()
    return dict(line.split(" ", 1) for line in lines if line.strip())


def apply_server_flags(imds: ImdsServer, case: str) -> None:
    """The fake's state the recorder set with ``<case>.server`` flags."""
    flags_file = DATA / f"{case}.server"
    flags = flags_file.read_text().split() if flags_file.exists() else []
    if "--no-tags" in flags:
        imds.remove_tags()
    if "--tokens" in flags:
        imds.state.tokens = flags[flags.index("--tokens") + 1]
    if "--token-mode" in flags:
        imds.state.token_mode = flags[flags.index("--token-mode") + 1]


def fluent_bit_record(case: str) -> list[tuple[str, Any]]:
    """The record Fluent Bit wrote for the case, as (key, value) pairs in its order."""
    return list(json.loads((DATA / f"{case}.expected").read_text()).items())


def aws_filter(**options: str) -> AwsFilter:
    return plugin_for(AwsFilter, **options)


def chunk(*records: dict[str, Any]) -> Chunk:
    recs = [dict(record) for record in (records or (RECORD,))]
    return Chunk("app", [1] * len(recs), recs, 10 * len(recs))


async def filtered(plugin: AwsFilter, *records: dict[str, Any]) -> list[list[tuple[str, Any]]]:
    out = await plugin.filter(chunk(*records))
    return [list(record.items()) for record in out.records]
