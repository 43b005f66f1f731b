"""The real command runs the rewrite_tag configs recorded from Fluent Bit 4.2.8 unchanged (tail ->
rewrite_tag -> file output, one file per tag) and writes the files Fluent Bit wrote
(tests/data/filters/rewrite_tag, see its README)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.agent import Agent, lines

DATA = Path(__file__).parents[1] / "data" / "filters" / "rewrite_tag"


def written(out: Path) -> dict[str, list[dict]]:
    return {path.name: [json.loads(line) for line in lines(path)] for path in sorted(out.iterdir())}


@pytest.mark.parametrize("case", ["rules", "quirks"])
def test_the_command_writes_fluent_bits_files_per_rewritten_tag(tmp_path, case):
    want = json.loads((DATA / f"{case}.expected.json").read_text())
    out = tmp_path / "out"
    out.mkdir()
    config = (DATA / f"{case}.conf").read_text()
    with Agent(tmp_path, config, env={"DATA": str(DATA), "OUT": str(out)}) as agent:
        agent.wait_for(lambda: sum(map(len, written(out).values())) >= sum(map(len, want.values())),
                       "every record written")
        result = agent.stop()
    assert result.returncode == 0
    assert written(out) == want
