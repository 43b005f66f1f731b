"""Config files for the reader, loader and CLI tests, written where a user would keep them."""

from __future__ import annotations

import textwrap
from pathlib import Path


def write(path: Path, text: str) -> str:
    """``text``, dedented so a test can indent it with its code, at ``path`` (folders created).

    Returns the path as the readers name the file in errors, so a test can spell the exact
    ``file:line`` it expects.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return str(path)
