"""Parsers: [PARSER] sections and the built-in formats, compiled once, applied per batch."""
