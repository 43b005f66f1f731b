"""docs/migration.md says what the code does: it is the page tools/migration_doc.py generates."""

from __future__ import annotations

from tools.migration_doc import PAGE, render


def test_the_migration_page_is_generated_from_the_option_tables():
    assert PAGE.read_text() == render(), "docs/migration.md is out of date: run python -m tools.migration_doc"
