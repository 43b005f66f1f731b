"""The recorded opensearch/es cases: one input file through one [OUTPUT] section each.

``tests/data/outputs/opensearch/cases.txt`` names the cases; ``<case>.ndjson`` beside it is
what Fluent Bit sent for it, recorded with ``record.py`` (the command is in README.md there).
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path

DATA = Path(__file__).parents[2] / "data" / "outputs" / "opensearch"
INPUT = DATA / "input.log"


@dataclass(frozen=True)
class Case:
    name: str
    plugin: str
    options: tuple[tuple[str, str], ...]

    @property
    def expected_path(self) -> Path:
        return DATA / f"{self.name}.ndjson"

    def config(self, port: int, input_path: Path, parsers_file: Path) -> str:
        """The same config for Fluent Bit and flb-fast: tail the input with the json parser
        (its Time_Key gives every record a fixed time), one output at ``port``."""
        options = "".join(f"    {key} {value}\n" for key, value in self.options)
        return (
            "[SERVICE]\n    Flush 1\n    Grace 2\n    Log_Level info\n"
            f"    Parsers_File {parsers_file}\n"
            f"[INPUT]\n    Name tail\n    Path {input_path}\n    Read_From_Head On\n    Parser json\n"
            "    Tag app.web\n"
            f"[OUTPUT]\n    Name {self.plugin}\n    Match *\n    Host 127.0.0.1\n    Port {port}\n{options}"
        )


def cases() -> list[Case]:
    found = []
    for line in (DATA / "cases.txt").read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        name, plugin, *options = shlex.split(line)
        found.append(Case(name, plugin, tuple(tuple(option.split("=", 1)) for option in options)))
    return found


def input_documents() -> int:
    return len(INPUT.read_text().splitlines())
