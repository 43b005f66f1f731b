"""tools/generated.py writes cases both agents can run: the same folder for the same seed, and a
config flb_fast's loader builds without an error or a warning (a config it refused would compare
nothing)."""

from __future__ import annotations

from pathlib import Path

import pytest
from tools.generated import COMPARED_AS, write_case

from flb_fast.config.loader import load_config
from flb_fast.engine.pipeline import build

SEEDS = range(40)


@pytest.mark.parametrize("kind", sorted(COMPARED_AS))
def test_a_seed_writes_the_same_case_every_time(tmp_path: Path, kind: str) -> None:
    write_case(tmp_path / "one", 7, kind)
    write_case(tmp_path / "two", 7, kind)
    names = sorted(path.name for path in (tmp_path / "one").iterdir())
    assert names == sorted(path.name for path in (tmp_path / "two").iterdir())
    assert all((tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes() for name in names)


@pytest.mark.parametrize("kind", sorted(COMPARED_AS))
def test_every_generated_config_builds_without_an_error_or_a_warning(tmp_path: Path, kind: str) -> None:
    for seed in SEEDS:
        folder = tmp_path / f"{kind}-{seed}"
        write_case(folder, seed, kind)
        config, load_warnings = load_config(str(folder / "fluent-bit.conf"))
        _pipeline, build_warnings = build(config)
        assert (seed, load_warnings, build_warnings) == (seed, [], [])
