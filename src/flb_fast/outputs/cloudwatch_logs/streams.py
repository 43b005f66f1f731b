"""Which log group and stream each record goes to.

C plugin: ``log_group_template`` / ``log_stream_template`` (record accessors) fall back to
``log_group_name`` and ``log_stream_name`` or ``log_stream_prefix`` + tag. Go plugin
(``Name cloudwatch``): ``log_group_name`` / ``log_stream_name`` are themselves ``$(...)``
templates, falling back to ``default_log_group_name`` / ``default_log_stream_name``. When no
template reads the record, a whole chunk has one destination and nothing is rendered per record.
"""

from __future__ import annotations

from typing import Any

from flb_fast.config.errors import PluginConfigError
from flb_fast.outputs.aws.template import GoTemplate
from flb_fast.record import Chunk
from flb_fast.record_accessor import Template

Target = tuple[str, str]


class StreamNamer:
    def __init__(self, options: Any, go: bool) -> None:
        self.prefix: str | None = options.log_stream_prefix
        if go:
            self.group: GoTemplate | Template | None = GoTemplate(options.log_group_name)
            self.group_fallback = options.default_log_group_name
            self.stream: GoTemplate | Template | None = None if self.prefix else GoTemplate(options.log_stream_name)
            self.stream_fallback = options.default_log_stream_name
        else:
            self.group = _record_template("log_group_template", options.log_group_template)
            self.group_fallback = options.log_group_name
            self.stream = _record_template("log_stream_template", options.log_stream_template)
            self.stream_fallback = options.log_stream_name
        self.per_record = any(t is not None and t.uses_record for t in (self.group, self.stream))

    def _stream_default(self, tag: str) -> str:
        if self.prefix is not None:
            return self.prefix + tag
        return self.stream_fallback

    def target(self, tag: str, record: dict[str, Any] | None) -> Target:
        group = self.group.render(tag, record) if self.group is not None else None
        stream = self.stream.render(tag, record) if self.stream is not None else None
        return (group or self.group_fallback, stream or self._stream_default(tag))

    def split(self, chunk: Chunk) -> dict[Target, list[int]]:
        """Record indexes of ``chunk`` per destination, each list in record order."""
        if not self.per_record:
            return {self.target(chunk.tag, None): list(range(len(chunk.records)))}
        targets: dict[Target, list[int]] = {}
        tag = chunk.tag
        for index, record in enumerate(chunk.records):
            targets.setdefault(self.target(tag, record), []).append(index)
        return targets


def _record_template(option: str, text: str | None) -> Template | None:
    if not text:
        return None
    try:
        return Template(text)
    except ValueError as exc:
        raise PluginConfigError(option, str(exc)) from None
