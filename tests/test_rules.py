"""Per-corpus boilerplate rules (`corpus build --rules FILE`): patterns that make a segment boilerplate or keep it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyarrow.dataset as ds
import pytest
from typer.testing import CliRunner

from flows.cli import app
from tasks.rules import RulesFileError, apply_rules, load_rules
from tasks.segment import segment_text
from tests.helpers import SEEDS

TEXT = """A Title

Par Jeanne Martin — publié le 3 mars 2024

The first paragraph says something of substance about the subject at hand.

Lire aussi : another article

The second paragraph goes on with more to say about the same subject.
"""


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_build_help_shows_the_tables_of_the_rules_and_corrections_files() -> None:
    """Typer renders help as rich markup, where an unescaped [boilerplate] is a style tag and vanishes."""
    result = CliRunner().invoke(app, ["build", "--help"], env={"COLUMNS": "300"})
    assert result.exit_code == 0
    assert "([boilerplate] drop / keep" in result.output and "([[correction]] src, tgt" in result.output


def test_drop_makes_boilerplate_and_keep_brings_text_back(tmp_path: Path) -> None:
    segments = segment_text(TEXT)
    kinds = {s.text: s.kind for s in segments}
    assert kinds["Lire aussi : another article"] != "boilerplate"
    byline = next(s.text for s in segments if s.text.startswith("Par "))
    assert kinds[byline] == "boilerplate"
    rules = load_rules(write(tmp_path / "r.toml", "[boilerplate]\ndrop = ['^Lire aussi']\nkeep = ['^Par ']\n"))
    applied = {s.text: s.kind for s in apply_rules(segments, rules)}
    assert applied["Lire aussi : another article"] == "boilerplate"
    assert applied[byline] == "paragraph"
    assert [(s.line_start, s.char_start, s.text) for s in apply_rules(segments, rules)] == [
        (s.line_start, s.char_start, s.text) for s in segments], "only kinds change"


@pytest.mark.parametrize(("text", "message"), [
    ("[boilerplate]\ndrop = ['(unclosed']\n", "is not a regular expression"),
    ("[boilerplate]\ndrop = 'one string'\n", "must be a list of strings"),
    ("[filters]\ndrop = []\n", "may only hold a [boilerplate] table"),
    ("[boilerplate\n", "is not valid TOML"),
])
def test_a_bad_rules_file_is_a_clear_error(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(RulesFileError, match=message.replace("[", r"\[")):
        load_rules(write(tmp_path / "r.toml", text))


@pytest.mark.usefixtures("prefect_harness")
def test_rules_stay_in_force_and_changing_them_analyses_the_corpus_again(tmp_path: Path) -> None:
    source, out = tmp_path / "in", tmp_path / "out"
    shutil.copytree(SEEDS, source)
    first_lines = {p.name: p.read_text(encoding="utf-8").splitlines()[2] for p in source.glob("*.txt")}
    pattern = "^" + first_lines["000_4cf4beee2d576faf.txt"][:12].replace("(", r"\(").replace(".", r"\.")
    rules = write(tmp_path / "rules.toml", f"[boilerplate]\ndrop = [{json.dumps(pattern)}]\n")
    runner = CliRunner()

    def build(*extra: str) -> dict[str, int]:
        result = runner.invoke(app, ["build", str(source), "--out", str(out), "--json", *extra])
        assert result.exit_code == 0, result.output
        counts: dict[str, int] = json.loads(result.stdout)["counts"]
        return counts

    def kind_of_the_line() -> str:
        segments = ds.dataset(out / "segments", partitioning="hive").to_table().to_pylist()
        return next(s["kind"] for s in segments if s["text"] == first_lines["000_4cf4beee2d576faf.txt"])

    build()
    assert kind_of_the_line() != "boilerplate"
    assert build("--rules", str(rules))["changed"] == 5  # new rules: every document analysed again
    assert kind_of_the_line() == "boilerplate"
    assert json.loads((out / "manifest.json").read_text(encoding="utf-8"))["rules"]["drop"] == [pattern]
    assert build()["unchanged"] == 5  # the rules stay in force without --rules: nothing to do
    assert kind_of_the_line() == "boilerplate"
    assert build("--rules", str(write(tmp_path / "none.toml", "")))["changed"] == 5  # back to the defaults
    assert kind_of_the_line() != "boilerplate"
    bad = runner.invoke(app, ["build", str(source), "--out", str(out), "--rules",
                              str(write(tmp_path / "bad.toml", "[boilerplate]\ndrop = ['(']\n"))])
    assert bad.exit_code == 2 and "is not a regular expression" in bad.output
