"""tools/generated.py writes cases both agents can run: the same folder for the same seed, and a
config flb_fast's loader builds without an error or a warning (a config it refused would compare
nothing)."""

from __future__ import annotations

from pathlib import Path

import pytest
from tools.generated import COMPARED_AS, as_fluent_bit_holds_times, write_case

from flb_fast.config.loader import load_config
from flb_fast.engine.pipeline import build

SEEDS = range(40)


@pytest.mark.parametrize("kind", sorted(COMPARED_AS))
def test_a_seed_writes_the_same_case_every_time(tmp_path: Path, kind: str) -> None:
    write_case(tmp_path / "one", 7, kind)
    write_case(tmp_path / "two", 7, kind)
    names = sorted(str(path.relative_to(tmp_path / "one")) for path in (tmp_path / "one").rglob("*") if path.is_file())
    assert names == sorted(str(path.relative_to(tmp_path / "two")) for path in (tmp_path / "two").rglob("*")
                           if path.is_file())
    assert all((tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes() for name in names)


@pytest.mark.parametrize("kind", sorted(COMPARED_AS))
def test_every_generated_config_builds_without_an_error_or_a_warning(tmp_path: Path, kind: str, monkeypatch) -> None:
    # What the run gives the kubernetes filter and cloudwatch_logs from the services it starts
    # (tools/differential.start_kube_api, tools/generated.start_endpoint).
    for name in ("KUBE_CA_FILE", "KUBE_TOKEN_FILE", "ENDPOINT_CA_FILE"):
        (tmp_path / name).write_text("unused")
        monkeypatch.setenv(name, str(tmp_path / name))
    monkeypatch.setenv("KUBE_URL", "https://127.0.0.1:6443")
    monkeypatch.setenv("ENDPOINT_PORT", "4443")
    for seed in SEEDS:
        folder = tmp_path / f"{kind}-{seed}"
        write_case(folder, seed, kind)
        config, load_warnings = load_config(str(folder / "fluent-bit.conf"))
        _pipeline, build_warnings = build(config)
        assert (seed, load_warnings, build_warnings) == (seed, [], [])


def test_times_fluent_bit_cannot_hold_are_compared_as_it_holds_them() -> None:
    """1900 wraps to 2036 in Fluent Bit's 32 bits; second -1 and 2038 read negative there and are
    dropped; the record after second -1 carries Fluent Bit's group key."""
    fluent_bit = ['{"date":2101530496.25,"msg":"a"}', '{"date":5.0,"__internal__":{"group_attributes":{}},"msg":"b"}']
    flb_fast = ['{"date":-2193436799.75,"msg":"a"}', '{"date":-1.0,"msg":"e"}', '{"date":2147483648.5,"msg":"c"}',
                '{"date":5.0,"msg":"b"}']
    assert as_fluent_bit_holds_times(fluent_bit, flb_fast) == (
        ['{"date": 2101530496.25, "msg": "a"}', '{"date": 5.0, "msg": "b"}'],
        ['{"date": 2101530496.25, "msg": "a"}', '{"date": 5.0, "msg": "b"}'])
