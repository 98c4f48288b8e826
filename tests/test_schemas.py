"""The schemas are the one source of truth: Arrow schemas, row models and docs agree."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from flows.cli import app
from schemas import SEGMENT_KINDS, TABLES
from schemas.docs import render_schema_markdown

DOCS = Path(__file__).resolve().parent.parent / "docs" / "schema.md"


def test_docs_schema_md_is_rendered_from_the_schemas() -> None:
    assert DOCS.read_text(encoding="utf-8") == render_schema_markdown(), "run `corpus schema-docs`"
    assert CliRunner().invoke(app, ["schema-docs", str(DOCS), "--check"]).exit_code == 0


@pytest.mark.parametrize("table", TABLES, ids=lambda t: t.name)
def test_every_column_is_typed_and_described(table: object) -> None:
    schema = table.arrow_schema  # type: ignore[attr-defined]
    assert schema.names == table.columns  # type: ignore[attr-defined]
    for field in schema:
        assert field.metadata[b"description"], field.name
    assert schema.metadata[b"parallel_corpus.schema_version"] == b"1"


def test_segment_kinds_are_the_documented_five() -> None:
    assert SEGMENT_KINDS == ("title", "heading", "paragraph", "list_item", "boilerplate")
