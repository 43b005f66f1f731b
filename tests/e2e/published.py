"""Published configs (AWS's manifests and charts) made to run on this machine.

A test changes only named, whole lines of a published config — where it points at a node's
files or at AWS — so the rest runs as published, and a change upstream that removes one of
those lines fails the test loudly instead of silently testing something else.
"""

from __future__ import annotations


def localize(config: str, replacements: dict[str, str]) -> str:
    """Replace whole lines of ``config``: each key is a line as published (compared with its runs of
    blanks as one space), each value the text that takes its place; a key found nowhere fails."""
    lines = config.splitlines()
    for old, new in replacements.items():
        wanted = " ".join(old.split())
        found = [index for index, line in enumerate(lines) if " ".join(line.split()) == wanted]
        assert found, f"the published config has no line {old!r}"
        for index in found:
            lines[index] = new
    return "\n".join(lines) + "\n"
