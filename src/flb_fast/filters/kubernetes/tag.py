"""Tag -> (namespace, pod, container, docker id), as ``kube_meta.c parse_regex_tag_data`` does.

Fluent Bit skips ``Kube_Tag_Prefix``'s length of the tag (it does not check that the tag
starts with it) and searches the rest with the default regex or the ``Regex_Parser``'s.
Tags are per file, so each tag is parsed once and remembered.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from msgspec import Struct

from flb_fast.parsers.base import Parser

# kube_regex.h KUBE_TAG_TO_REGEX, in Python's named-group syntax.
DEFAULT_TAG_REGEX = re.compile(
    r"(?P<pod_name>[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*)"
    r"_(?P<namespace_name>[^_]+)_(?P<container_name>.+)-(?P<docker_id>[a-z0-9]{64})\.log$"
)

# Distinct tags remembered; one per tailed file, so this bounds a node with many files.
MAX_CACHED_TAGS = 8192


class TagMeta(Struct, frozen=True):
    pod_name: str | None = None
    namespace_name: str | None = None
    container_name: str | None = None
    docker_id: str | None = None
    container_hash: str | None = None

    @property
    def pod_key(self) -> tuple[str, str] | None:
        """The API object this tag belongs to; None when the tag names no pod."""
        if self.namespace_name is None or self.pod_name is None:
            return None
        return (self.namespace_name, self.pod_name)

    def cache_key(self, use_docker_id: bool) -> tuple[str | None, ...]:
        """``extract_pod_meta``'s key: namespace:pod[:container][:docker_id]."""
        return (
            self.namespace_name,
            self.pod_name,
            self.container_name,
            self.docker_id if use_docker_id else None,
        )


def _meta_from_groups(groups: dict[str, Any]) -> TagMeta:
    def text(name: str) -> str | None:
        value = groups.get(name)
        # cb_results ignores empty captures.
        return str(value) if value not in (None, "") else None

    return TagMeta(
        pod_name=text("pod_name"),
        namespace_name=text("namespace_name"),
        container_name=text("container_name"),
        docker_id=text("docker_id"),
        container_hash=text("container_hash"),
    )


class TagParser:
    """``on_mismatch(tag)`` is called the first time a tag does not match (Fluent Bit warns on
    every chunk; once per tag says the same without flooding the log)."""

    def __init__(
        self, prefix: str, parser: Parser | None = None, on_mismatch: Callable[[str], None] | None = None
    ) -> None:
        self.prefix_len = len(prefix)
        self.parser = parser
        self.on_mismatch = on_mismatch
        self._cache: dict[str, TagMeta | None] = {}

    def parse(self, tag: str) -> TagMeta | None:
        """The tag's metadata, or None when the tag does not match (records pass untouched)."""
        try:
            return self._cache[tag]
        except KeyError:
            pass
        meta = self._parse(tag)
        if meta is None and self.on_mismatch is not None:
            self.on_mismatch(tag)
        if len(self._cache) >= MAX_CACHED_TAGS:
            self._cache.clear()
        self._cache[tag] = meta
        return meta

    def _parse(self, tag: str) -> TagMeta | None:
        if self.prefix_len + 1 >= len(tag):
            return None
        rest = tag[self.prefix_len :]
        if self.parser is not None:
            result = self.parser.parse_batch([rest])[0]
            return _meta_from_groups(result[1]) if result is not None else None
        match = DEFAULT_TAG_REGEX.search(rest)
        return _meta_from_groups(match.groupdict()) if match else None
