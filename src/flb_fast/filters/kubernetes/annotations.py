"""``fluentbit.io/*`` pod annotations -> :class:`Props` (``kube_property.c flb_kube_prop_set``).

Forms, for ``parser`` and ``exclude`` alike::

    fluentbit.io/parser                 both streams of every container
    fluentbit.io/parser-<container>     both streams of one container
    fluentbit.io/parser_stdout          one stream of every container
    fluentbit.io/parser_stderr-<container>

A container-specific annotation wins over a pod-wide one whatever their order; among equals
the first one seen wins.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flb_fast.config.options import parse_bool
from flb_fast.filters.kubernetes.meta import ANNOTATION_PREFIX, NO_PROPS, Props

STDOUT, STDERR = "stdout", "stderr"


def _split(prop: str) -> tuple[str, str | None, str | None] | str:
    """(``parser``|``exclude``, stream or None, container or None), or an error message."""
    for kind in ("parser", "exclude"):
        if prop.startswith(kind):
            rest = prop[len(kind) :]
            break
    else:
        return "unknown annotation"
    stream = None
    if rest.startswith("_"):
        rest = rest[1:]
        for candidate in (STDOUT, STDERR):
            if rest.startswith(candidate):
                stream, rest = candidate, rest[len(candidate) :]
                break
        else:
            return "invalid stream in annotation"
    container = None
    if rest.startswith("-"):
        container, rest = rest[1:], ""
        if not container:
            return "invalid container in annotation"
    if rest:
        return "invalid annotation"
    return kind, stream, container


def props_from_annotations(
    annotations: dict[str, Any] | None,
    container_name: str | None,
    *,
    allow_parser: bool,
    allow_exclude: bool,
    parser_exists: Callable[[str], bool],
    warn: Callable[[str], None],
) -> Props:
    if not annotations:
        return NO_PROPS
    # Per stream: value and whether it came from a container-specific annotation.
    values: dict[tuple[str, str], Any] = {}
    for key, value in annotations.items():
        if len(key) <= len(ANNOTATION_PREFIX) or not key.startswith(ANNOTATION_PREFIX):
            continue
        prop = key[len(ANNOTATION_PREFIX) :]
        split = _split(prop)
        if isinstance(split, str):
            warn(f"{split} '{key}'")
            continue
        kind, stream, container = split
        # Fluent Bit compares with strncmp over the annotation's length: a prefix matches.
        if container is not None and not (container_name or "").startswith(container):
            continue
        if kind == "parser":
            if not allow_parser:
                warn("annotation 'fluentbit.io/parser' not allowed")
                continue
            if not isinstance(value, str) or not parser_exists(value):
                warn(f"annotation parser '{value}' not found (container_name='{container_name}')")
                continue
            setting: Any = value
        else:
            if not allow_exclude:
                warn("annotation 'fluentbit.io/exclude' not allowed")
                continue
            try:
                setting = parse_bool(str(value))
            except ValueError:
                setting = False
        for target in (STDOUT, STDERR):
            if stream not in (None, target):
                continue
            slot = (kind, target)
            if container is not None or slot not in values:
                values[slot] = setting
    if not values:
        return NO_PROPS
    return Props(
        stdout_parser=values.get(("parser", STDOUT)),
        stderr_parser=values.get(("parser", STDERR)),
        stdout_exclude=bool(values.get(("exclude", STDOUT), False)),
        stderr_exclude=bool(values.get(("exclude", STDERR), False)),
    )
