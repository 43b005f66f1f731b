"""flb-fast against Fluent Bit, record for record, on every case recorded under tests/data/fluent-bit/.

Each case ran once through the real Fluent Bit (``python -m tools.differential record``; the version
and command are in its expected.json). Here the real ``flb-fast`` command runs the same config on
the same files, and every output must hold the same records, with the same tags and key order, in
the same order; ingestion times compare as such. A case where flb-fast differs on purpose says why
in its case.json and holds flb-fast's records in expected-flb-fast.json (see the README).
"""

from __future__ import annotations

import json

import pytest
from tools.differential import CASES_DIR, case_names, differences, expected_for, run_flb_fast


@pytest.mark.parametrize("name", case_names())
def test_flb_fast_produces_what_fluent_bit_recorded(name: str) -> None:
    case = CASES_DIR / name
    problems = differences(expected_for(case)["outputs"], run_flb_fast(case))
    assert not problems, f"{name}: " + json.loads((case / "case.json").read_text())["description"] + "\n" + "\n".join(
        problems)


@pytest.mark.parametrize("name", case_names())
def test_every_case_is_recorded_from_fluent_bit(name: str) -> None:
    """A deliberate difference keeps Fluent Bit's recording beside ours and names its reason."""
    case = CASES_DIR / name
    recorded = json.loads((case / "expected.json").read_text())
    assert recorded["fluent_bit"].startswith("Fluent Bit v")
    assert recorded["command"].startswith("python -m tools.differential record ")
    if (case / "expected-flb-fast.json").exists():
        assert json.loads((case / "case.json").read_text()).get("differs")
