"""Cases recorded from Fluent Bit 4.2.8, replayed through flb_fast's own filters.

A case is a folder of ``tests/data/filters/<filter>/``: ``fluent-bit.conf`` (or ``.yaml``) tails ``input.jsonl``
(one JSON record a line) through its ``[FILTER]`` sections to stdout ``json_lines``;
``expected.jsonl`` is what Fluent Bit printed (``tests/data/filters/record.sh`` re-records it).
``replay`` loads the same file with flb_fast's config loader, builds its filters as the engine
does and runs the input records through those whose Match takes the input's tag, in order.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from flb_fast.config.loader import load_config
from flb_fast.engine.pipeline import build
from flb_fast.record import Chunk
from tests.conftest import Runner

DATA = Path(__file__).parent.parent / "data" / "filters"


def cases(plugin: str) -> list[str]:
    return sorted(path.name for path in (DATA / plugin).iterdir() if (path / "expected.jsonl").exists())


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def replay(run: Runner, folder: Path) -> list[dict[str, Any]]:
    """The records flb_fast's filters produce from the case's input."""
    yaml = folder / "fluent-bit.yaml"
    config, _ = load_config(str(yaml if yaml.exists() else folder / "fluent-bit.conf"))
    pipeline, _ = build(config)
    tag = pipeline.inputs[0].options.tag
    records = read_jsonl(folder / "input.jsonl")
    chunk: Chunk | None = Chunk(tag, [0] * len(records), records, 0)

    async def through_filters() -> Chunk | None:
        current = chunk
        for instance in pipeline.filters:
            if current is None or not len(current):
                return None
            if instance.matcher(current.tag):
                await instance.plugin.start()
                current = await instance.plugin.filter(current)
                await instance.plugin.stop()
        return current

    result = run(through_filters())
    return [] if result is None else result.records


def assert_case(run: Runner, plugin: str, case: str) -> None:
    """Same records, same key order, as Fluent Bit printed."""
    folder = DATA / plugin / case
    expected = read_jsonl(folder / "expected.jsonl")
    produced = replay(run, folder)
    assert [list(record.items()) for record in produced] == [list(record.items()) for record in expected]
