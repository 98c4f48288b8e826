"""One text in two close languages, or two texts in one language: the evidence that decides whether a folder
holds one work or several (Django's translations of two applications, see tests/data/django_po)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tasks.langtag import language_signature, same_language
from tasks.same_text import TextShape, same_text, text_shape
from tasks.segment import segment_text
from tasks.store.plan import take_inventory
from tasks.works import crowded_folders

DATA = Path(__file__).resolve().parent / "data" / "django_po"
CLOSE_PAIRS = [("ms", "id"), ("hr", "sr_Latn"), ("hi", "mr"), ("es", "pt"), ("zh_Hans", "zh_Hant")]
MAX_BYTES = 1 << 20


def shape(folder: str, lang: str) -> TextShape:
    return text_shape(segment_text((DATA / folder / f"{lang}.txt").read_text(encoding="utf-8")))


@pytest.mark.parametrize(("a", "b"), CLOSE_PAIRS)
def test_the_close_pairs_look_like_one_language(a: str, b: str) -> None:
    """What makes them hard: the language check takes each pair for one language (Chinese: one script)."""
    sa = language_signature((DATA / "one_text" / f"{a}.txt").read_text(encoding="utf-8"))
    sb = language_signature((DATA / "one_text" / f"{b}.txt").read_text(encoding="utf-8"))
    assert sa is not None and sb is not None and same_language(sa, sb)


@pytest.mark.parametrize(("a", "b"), CLOSE_PAIRS)
def test_one_text_in_two_close_languages_is_one_text(a: str, b: str) -> None:
    assert same_text(shape("one_text", a), shape("one_text", b))


@pytest.mark.parametrize(("a", "b"), [(a, b) for pair in CLOSE_PAIRS for a, b in (pair, pair[::-1])]
                         + [(a, a) for a, _ in CLOSE_PAIRS])
def test_two_texts_in_one_or_close_languages_are_two_texts(a: str, b: str) -> None:
    assert not same_text(shape("one_text", a), shape("other_text", b))


def test_two_halves_of_one_document_are_two_texts() -> None:
    segments = segment_text((DATA / "one_text" / "en.txt").read_text(encoding="utf-8"))
    half = len(segments) // 2
    assert not same_text(text_shape(segments[:half]), text_shape(segments[half:]))


def folder_of(tmp_path: Path, files: list[tuple[str, str]]) -> Path:
    source = tmp_path / "in"
    source.mkdir()
    for folder, lang in files:
        shutil.copy(DATA / folder / f"{lang}.txt", source / f"{folder}-{lang}.txt")
    return source


def test_a_folder_of_one_text_in_close_languages_is_one_work(tmp_path: Path) -> None:
    source = folder_of(tmp_path, [("one_text", p.stem) for p in sorted((DATA / "one_text").glob("*.txt"))])
    inventory = take_inventory(source, "**/*.txt", MAX_BYTES)
    assert crowded_folders(inventory.fingerprints, [], MAX_BYTES) == set()


# Two texts whose languages look like one: the same language, or close ones alike enough in these texts.
@pytest.mark.parametrize(("a", "b"), [("ms", "ms"), ("id", "id"), ("hr", "sr_Latn"), ("hi", "mr"), ("es", "es"),
                                      ("zh_Hans", "zh_Hant")])
def test_a_folder_holding_two_texts_in_one_language_is_several_works(tmp_path: Path, a: str, b: str) -> None:
    source = folder_of(tmp_path, [("one_text", a), ("other_text", b), ("one_text", "en"), ("other_text", "pt")])
    inventory = take_inventory(source, "**/*.txt", MAX_BYTES)
    assert crowded_folders(inventory.fingerprints, [], MAX_BYTES) == {"."}
