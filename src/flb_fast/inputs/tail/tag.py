"""A file's tag: ``Tag`` with ``*`` expanded from its path, or ``<group>`` names from ``Tag_Regex``.

Computed once per file when it is opened (Fluent Bit's ``tag_compose`` in tail_file.c), so
the hot path only reads ``file.tag``.
"""

from __future__ import annotations

import re

_SEPARATORS = str.maketrans({"/": ".", "\\": ".", ":": "."})
_GROUP_REF = re.compile(r"<([^<>]*)>")


class TagComposer:
    """Expands the input's ``Tag`` for one file path.

    With ``Tag_Regex``, each ``<name>`` in the tag becomes that named group of the regex
    matched against the path (``_`` when the group did not take part); a path the regex does
    not match has no tag (``None``) and the file is not tailed, as in Fluent Bit. Otherwise a
    ``*`` is replaced by the path with ``/`` turned into ``.``, a leading separator dropped,
    doubled dots collapsed and a trailing dot removed.
    """

    def __init__(self, tag: str, tag_regex: str | None) -> None:
        self.tag = tag
        self.regex = _compile(tag_regex) if tag_regex else None
        self.dynamic = self.regex is not None or "*" in tag
        if self.regex is not None:
            missing_close = tag.count("<") != len(_GROUP_REF.findall(tag))
            if missing_close:
                raise ValueError(f"missing closing angle bracket in tag '{tag}'")

    def compose(self, path: str) -> str | None:
        if not self.dynamic:
            return self.tag
        if self.regex is not None:
            match = self.regex.search(path)
            if match is None:
                return None
            groups = match.groupdict()
            return _GROUP_REF.sub(lambda ref: groups.get(ref.group(1)) or "_", self.tag)
        star = self.tag.index("*")
        expanded = self.tag[:star] + path + self.tag[star + 1 :]
        return _sanitize(expanded)


def _compile(pattern: str) -> re.Pattern[str]:
    """Tag_Regex is an Onigmo (Ruby) regex in Fluent Bit, as parsers' ``Regex`` is."""
    from flb_fast.parsers.onigmo import compile_onigmo

    return compile_onigmo(pattern)


def _sanitize(tag: str) -> str:
    dotted = tag.translate(_SEPARATORS).replace("*", "")
    while ".." in dotted:
        dotted = dotted.replace("..", ".")
    if dotted.startswith("."):
        dotted = dotted[1:]
    return dotted[:-1] if dotted.endswith(".") else dotted
