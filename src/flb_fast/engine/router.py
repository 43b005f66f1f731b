"""Tag routing: which filters and outputs see a record, by ``Match`` / ``Match_Regex``.

The rules are Fluent Bit's ``router_match`` (src/flb_router.c): the pattern is matched against
the whole tag, case-sensitively; ``*`` matches any run of characters, dots included, and
consecutive ``*`` collapse; there is no ``?`` or character class. ``Match_Regex`` wins when
both are set and, as Onigmo's ``onig_match``, is anchored at the start of the tag only.
Routes are resolved once per tag and cached: a tail input produces one tag per file, so the
cache stays as small as the set of files.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Generic, TypeVar

T = TypeVar("T")

# A pathological config or input could produce unboundedly many distinct tags; past this many
# cached routes the cache starts over rather than grow (a miss only costs one resolution).
MAX_CACHED_TAGS = 65536


def wildcard_regex(pattern: str) -> re.Pattern[str]:
    """The regular expression equivalent to a ``Match`` pattern (whole tag, ``*`` = any run)."""
    parts = [re.escape(part) for part in re.split(r"\*+", pattern)]
    return re.compile(".*".join(parts), re.DOTALL)


class TagMatcher:
    """One plugin instance's ``Match`` / ``Match_Regex``; matches nothing when neither is set."""

    __slots__ = ("_regex", "_full")

    def __init__(self, match: str | None, match_regex: str | None) -> None:
        if match_regex is not None:
            self._regex: re.Pattern[str] | None = re.compile(match_regex)
            self._full = False
        elif match is not None:
            self._regex = wildcard_regex(match)
            self._full = True
        else:
            self._regex = None
            self._full = False

    @property
    def matches_nothing(self) -> bool:
        return self._regex is None

    def __call__(self, tag: str) -> bool:
        if self._regex is None:
            return False
        if self._full:
            return self._regex.fullmatch(tag) is not None
        return self._regex.match(tag) is not None


class Routes(Generic[T]):
    """The instances (filters or outputs, in config order) whose matcher accepts a tag, cached per tag."""

    def __init__(self, entries: Sequence[tuple[TagMatcher, T]]) -> None:
        self._entries = list(entries)
        self._cache: dict[str, tuple[T, ...]] = {}

    def __call__(self, tag: str) -> tuple[T, ...]:
        found = self._cache.get(tag)
        if found is None:
            if len(self._cache) >= MAX_CACHED_TAGS:
                self._cache.clear()
            found = tuple(item for matcher, item in self._entries if matcher(tag))
            self._cache[tag] = found
        return found
