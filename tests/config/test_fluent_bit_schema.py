"""Every option Fluent Bit 4.2.8 accepts on a plugin flb_fast has is accepted here too.

Unknown options stop the start (as in Fluent Bit), so an option Fluent Bit knows and our table
lacks would refuse a working config. ``tests/data/fluent-bit/schema.json`` is Fluent Bit's own
description of its plugins and their options, recorded with ``fluent-bit -J`` (see README.md
there); it lists the shared options of each kind too (global_options, networking, network_tls).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flb_fast import registry
from flb_fast.config.common import plugin_table

SCHEMA = json.loads((Path(__file__).parents[1] / "data" / "fluent-bit" / "schema.json").read_text())
KINDS = {"inputs": "input", "filters": "filter", "outputs": "output"}


def fluent_bit_plugins() -> list[tuple[str, str, list[str]]]:
    found = []
    for section, kind in KINDS.items():
        for plugin in SCHEMA[section]:
            if plugin["name"] not in registry.KINDS[kind]:
                continue
            names = [option["name"] for group in plugin["properties"].values() for option in group]
            found.append((kind, plugin["name"], names))
    return found


@pytest.mark.parametrize(("kind", "plugin", "names"), fluent_bit_plugins(), ids=lambda value: str(value)[:40])
def test_every_fluent_bit_option_of_the_plugin_is_in_its_table(kind: str, plugin: str, names: list[str]):
    table = plugin_table(kind, registry.load(kind, plugin).OPTIONS)
    assert [name for name in names if name not in table] == []
