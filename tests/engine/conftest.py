"""Build pipelines from config text, with the test plugins registered under test-only names."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from flb_fast import registry
from flb_fast.config.errors import ConfigWarning
from flb_fast.config.loader import load_config
from flb_fast.engine.pipeline import Pipeline, build
from tests.engine.test_engine import logs  # noqa: F401 (a fixture)

BuildPipeline = Callable[[str], tuple[Pipeline, list[ConfigWarning]]]


@pytest.fixture
def pipeline(tmp_path, monkeypatch) -> BuildPipeline:
    """``pipeline(text)`` -> (Pipeline, warnings) for a classic config written to ``tmp_path/fluent-bit.conf``."""
    monkeypatch.setitem(registry.INPUTS, "manual", "tests.engine.plugins:ManualInput")
    monkeypatch.setitem(registry.OUTPUTS, "scripted", "tests.engine.plugins:ScriptedOutput")
    monkeypatch.setitem(registry.OUTPUTS, "gated", "tests.engine.plugins:GatedOutput")
    monkeypatch.setitem(registry.FILTERS, "edit", "tests.engine.plugins:EditFilter")

    def make(text: str) -> tuple[Pipeline, list[ConfigWarning]]:
        path = tmp_path / "fluent-bit.conf"
        path.write_text(text)
        config, load_warnings = load_config(str(path))
        built, warnings = build(config)
        return built, [*load_warnings, *warnings]

    return make
