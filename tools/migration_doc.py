"""Write docs/migration.md: every plugin Fluent Bit 4.2.8 has, and for each one flb_fast has, every
option with what flb_fast does with it, from the option tables and Fluent Bit's own schema.

    python -m tools.migration_doc            # rewrite docs/migration.md
    python -m tools.migration_doc --check    # exit 1 if it is out of date

Fluent Bit's side is tests/data/fluent-bit/schema.json (``fluent-bit -J``); flb_fast's is the
registry and the option tables, so the page cannot drift from the code (a test runs ``--check``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from flb_fast import registry
from flb_fast.config.common import BASE_TABLES, plugin_table

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "tests" / "data" / "fluent-bit" / "schema.json"
PAGE = ROOT / "docs" / "migration.md"
KINDS = (("inputs", "input", "Inputs"), ("filters", "filter", "Filters"), ("outputs", "output", "Outputs"))
# The AWS for Fluent Bit image's Go plugins, which are not part of Fluent Bit itself.
GO_PLUGINS = {"cloudwatch": "cloudwatch_logs", "firehose": "kinesis_firehose", "kinesis": "kinesis_streams"}

INTRO = """\
# Moving from Fluent Bit to flb_fast

flb_fast reads your `fluent-bit.conf` (or YAML) and `parsers.conf` unchanged. This page lists
every plugin Fluent Bit 4.2.8 has and, for each plugin flb_fast has, every option with what
flb_fast does with it. It is generated from flb_fast's option tables and Fluent Bit's own
description of its plugins (`python -m tools.migration_doc`), so it says what the code does.

- **yes**: the option means what it means in Fluent Bit, with its default.
- **not yet**: accepted, with a warning at its file:line (also shown by `flb-fast --dry-run`
  whatever `Log_Level` says) naming what happens instead.
- **flb_fast**: an option of ours that Fluent Bit does not have.

An option neither Fluent Bit nor flb_fast knows stops the start with its file:line, as in
Fluent Bit (`flb-fast --dry-run` says so too). The deliberate differences in behaviour are listed
in the README.
"""


def _status(option: object) -> str:
    unsupported = getattr(option, "unsupported", None)
    return f"not yet: {unsupported}" if unsupported else "yes"


def render() -> str:
    schema = json.loads(SCHEMA.read_text())
    out = [INTRO]
    for section, kind, title in KINDS:
        fluent_bit = {plugin["name"]: plugin for plugin in schema[section]}
        ours = set(registry.KINDS[kind])
        names = sorted(set(fluent_bit) | ours | registry.NOT_YET_SUPPORTED[kind])
        out.append(f"\n## {title}\n\n| plugin | flb_fast |\n|---|---|\n")
        for name in names:
            if name in ours:
                state = "yes" if name not in GO_PLUGINS else f"yes (the Go plugin, beside `{GO_PLUGINS[name]}`)"
            elif name in registry.NOT_YET_SUPPORTED[kind]:
                state = "not yet: a config naming it does not start"
            else:
                continue
            out.append(f"| `{name}` | {state} |\n")
        shared = BASE_TABLES[kind]
        out.append(f"\n### Options every {kind} plugin has\n\n| option | default | flb_fast |\n|---|---|---|\n")
        out.extend(f"| `{option.name}` | {option.default or ''} | {_status(option)} |\n" for option in shared)
        for name in sorted(ours):
            table = registry.load(kind, name).OPTIONS
            theirs = fluent_bit.get(name)
            known = {option["name"] for group in theirs["properties"].values() for option in group} if theirs else set()
            out.append(f"\n### `{name}`\n\n| option | default | flb_fast |\n|---|---|---|\n")
            for option in plugin_table(kind, table):
                if option.name in shared and option.name not in table:
                    continue
                status = _status(option)
                if theirs is not None and option.name not in known and option.name not in shared:
                    status = "flb_fast"
                out.append(f"| `{option.name}` | {option.default or ''} | {status} |\n")
    return "".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if docs/migration.md is out of date")
    page = render()
    if parser.parse_args().check:
        if PAGE.read_text() != page:
            print("docs/migration.md is out of date: run python -m tools.migration_doc", file=sys.stderr)
            return 1
        return 0
    PAGE.parent.mkdir(exist_ok=True)
    PAGE.write_text(page)
    return 0


if __name__ == "__main__":
    sys.exit(main())
