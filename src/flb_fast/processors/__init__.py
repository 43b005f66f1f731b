"""Processors that exist only as processors in Fluent Bit (``processors: logs:`` lists in YAML)."""
