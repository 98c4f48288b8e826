"""Which work is this: folders, a works file, `--group auto` on a flat pile (incrementally), and the default
that tells a folder of one work from a pile of several."""

from __future__ import annotations

import itertools
import shutil
from pathlib import Path

import pyarrow.dataset as ds
import pytest
from typer.testing import CliRunner

from bench.generate import generate_corpus
from eval.grouping import generate_pile
from flows.cli import app
from tests.helpers import SEEDS, build_json

pytestmark = pytest.mark.usefixtures("prefect_harness")
runner = CliRunner()
DJANGO_PO = Path(__file__).resolve().parent / "data" / "django_po"


def partition(out: Path) -> set[frozenset[str]]:
    works: dict[str, set[str]] = {}
    for d in ds.dataset(out / "documents").to_table().to_pylist():
        works.setdefault(d["work_id"], set()).add(d["source_path"])
    return {frozenset(paths) for paths in works.values()}


@pytest.fixture(scope="module")
def pile(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, bytes], set[frozenset[str]]]:
    """The seeds and three unrelated generated works as one flat pile of files, with the true works."""
    files: dict[str, bytes] = {}
    truth: dict[object, set[str]] = {}
    for document in generate_pile(3, seed=3):
        name = f"{document.doc_id}.txt"
        files[name] = document.text.encode("utf-8")
        truth.setdefault(document.work, set()).add(name)
    for seed in sorted(SEEDS.glob("*.txt")):
        files[seed.name] = seed.read_bytes()
        truth.setdefault("seeds", set()).add(seed.name)
    return files, {frozenset(names) for names in truth.values()}


def write(folder: Path, files: dict[str, bytes], names: list[str]) -> None:
    folder.mkdir(exist_ok=True)
    for name in names:
        (folder / name).write_bytes(files[name])


def test_a_flat_pile_is_grouped_into_its_works(pile: tuple[dict[str, bytes], set[frozenset[str]]],
                                               tmp_path: Path) -> None:
    files, truth = pile
    write(tmp_path / "in", files, sorted(files))
    build_json(tmp_path / "in", tmp_path / "out", "--group", "auto")
    assert partition(tmp_path / "out") == truth
    documents = ds.dataset(tmp_path / "out" / "documents").to_table().to_pylist()
    assert {d["work_assigned_by"] for d in documents} == {"auto"}
    assert all(0 <= d["work_confidence"] <= 1 for d in documents)
    alignments = ds.dataset(tmp_path / "out" / "alignments").to_table()
    aligned = {(r["src_doc_id"], r["tgt_doc_id"]) for r in alignments.to_pylist()}
    expected = sum(len(work) * (len(work) - 1) // 2 for work in truth)
    assert len(aligned) == expected, "every pair inside each work, none across works"


@pytest.mark.parametrize("order", ["seeds-first", "seeds-last"])
def test_files_arriving_over_several_builds_join_the_same_works(
    pile: tuple[dict[str, bytes], set[frozenset[str]]], tmp_path: Path, order: str
) -> None:
    files, truth = pile
    names = sorted(files, key=lambda n: (n[0].isdigit() == (order == "seeds-first"), n))
    source, out = tmp_path / "in", tmp_path / "out"
    for chunk in (names[: len(names) // 3], names[len(names) // 3: 2 * len(names) // 3], names[2 * len(names) // 3:]):
        write(source, files, chunk)
        build_json(source, out, "--group", "auto")
    assert partition(out) == truth


def test_a_works_file_overrides_folders_and_guesses(seeds_copy: Path, tmp_path: Path) -> None:
    works = tmp_path / "works.csv"
    works.write_text("source_path,work_id\n004_61b3231e0c8e63ca.txt,chinese-edition\n", encoding="utf-8")
    build_json(seeds_copy, tmp_path / "out", "--group", "auto", "--works", str(works))
    documents = {d["source_path"]: d for d in ds.dataset(tmp_path / "out" / "documents").to_table().to_pylist()}
    assert documents["004_61b3231e0c8e63ca.txt"]["work_id"] == "chinese-edition"
    assert documents["004_61b3231e0c8e63ca.txt"]["work_assigned_by"] == "mapping"
    others = {d["work_id"] for p, d in documents.items() if p != "004_61b3231e0c8e63ca.txt"}
    assert len(others) == 1


def test_by_default_one_article_and_its_translations_in_a_folder_are_one_work(seeds_copy: Path,
                                                                              tmp_path: Path) -> None:
    build_json(seeds_copy, tmp_path / "out")
    documents = ds.dataset(tmp_path / "out" / "documents").to_table().to_pylist()
    assert {(d["work_id"], d["work_assigned_by"], d["work_confidence"]) for d in documents} == {(".", "folder", 1.0)}


def test_by_default_one_text_in_close_languages_is_one_work(tmp_path: Path) -> None:
    """Malay and Indonesian, Croatian and Serbian, Hindi and Marathi, Spanish and Portuguese, Simplified and
    Traditional Chinese look like one language each; the folder still holds one text (tests/data/django_po)."""
    shutil.copytree(DJANGO_PO / "one_text", tmp_path / "in")
    summary = build_json(tmp_path / "in", tmp_path / "out")
    assert partition(tmp_path / "out") == {frozenset(p.name for p in (tmp_path / "in").glob("*.txt"))}
    n = len(list((tmp_path / "in").glob("*.txt")))
    assert summary["pairs_aligned"] == n * (n - 1) // 2


def test_by_default_a_folder_per_work_gives_the_folders(tmp_path: Path) -> None:
    generate_corpus(tmp_path / "in", works=3)
    build_json(tmp_path / "in", tmp_path / "out")
    documents = ds.dataset(tmp_path / "out" / "documents").to_table().to_pylist()
    assert {d["work_assigned_by"] for d in documents} == {"folder"}
    assert partition(tmp_path / "out") == {
        frozenset(str(p.relative_to(tmp_path / "in")) for p in folder.glob("*.txt"))
        for folder in (tmp_path / "in").iterdir()
    }


def test_by_default_a_flat_pile_of_several_works_is_grouped_by_content(
    pile: tuple[dict[str, bytes], set[frozenset[str]]], tmp_path: Path
) -> None:
    files, truth = pile
    write(tmp_path / "in", files, sorted(files))
    summary = build_json(tmp_path / "in", tmp_path / "out")
    assert partition(tmp_path / "out") == truth
    documents = ds.dataset(tmp_path / "out" / "documents").to_table().to_pylist()
    assert {d["work_assigned_by"] for d in documents} == {"auto"}
    assert summary["counts"]["new"] == len(files)


def test_folder_grouping_keeps_a_pile_together_when_asked(
    pile: tuple[dict[str, bytes], set[frozenset[str]]], tmp_path: Path
) -> None:
    files, truth = pile
    names = sorted(name for work in truth for name in sorted(work)[:2])  # two files of each work: few pairs to align
    write(tmp_path / "in", files, names)
    build_json(tmp_path / "in", tmp_path / "out", "--group", "folder")
    assert len(truth) > 1 and partition(tmp_path / "out") == {frozenset(names)}


@pytest.mark.parametrize(("content", "message"), [
    ("path,work\na.txt,w\n", "needs the columns source_path and work_id"),
    ("source_path,work_id\na.txt,\n", "line 2: source_path and work_id must both be given"),
])
def test_a_bad_works_file_is_a_clear_error(seeds_copy: Path, tmp_path: Path, content: str, message: str) -> None:
    works = tmp_path / "works.csv"
    works.write_text(content, encoding="utf-8")
    result = runner.invoke(app, ["build", str(seeds_copy), "--out", str(tmp_path / "out"), "--works", str(works)])
    assert result.exit_code == 2 and message in result.output and "Traceback" not in result.output


def test_status_lists_uncertain_automatic_assignments(tmp_path: Path) -> None:
    from tasks.io.status import corpus_status

    pile = tmp_path / "in"
    pile.mkdir()
    for seed in sorted(SEEDS.glob("*.txt")):
        shutil.copy(seed, pile / seed.name)
    (pile / "unrelated.txt").write_text("Hii ni barua fupi kuhusu hali ya hewa ya leo.\n", encoding="utf-8")
    build_json(pile, tmp_path / "out", "--group", "auto")
    status = corpus_status(tmp_path / "out")
    assert all(u.confidence < 0.6 for u in status.uncertain_works)
    assert {u.source_path for u in status.uncertain_works} <= {p.name for p in pile.iterdir()}
    assert len(list(itertools.chain(status.works))) >= 2


def test_profiles_are_cached_and_equal_to_those_made_from_the_stored_segments(
    pile: tuple[dict[str, bytes], set[frozenset[str]]], tmp_path: Path
) -> None:
    from tasks.documents import segments_from_table
    from tasks.grouping import profile_document
    from tasks.store.profile_cache import PROFILE_VERSION, ProfileCache

    files, truth = pile
    names = sorted(files)
    source, out = tmp_path / "in", tmp_path / "out"
    write(source, files, names[:-3])
    build_json(source, out, "--group", "auto")
    documents = ds.dataset(out / "documents").to_table().to_pylist()
    cache = ProfileCache(out)
    assert len(cache) == len(documents)
    for d in documents:
        segments = ds.dataset(out / "segments", partitioning="hive").to_table(
            filter=ds.field("doc_id") == d["doc_id"])
        assert cache.get(d["doc_id"]) == profile_document(segments_from_table(segments), d["lang"]), d["source_path"]

    # A damaged shard is ignored; the next build still places the rest right.
    (cache.cache_dir / ("0" * 32 + f".v{PROFILE_VERSION}.jsonl.gz")).write_bytes(b"not gzip")
    write(source, files, names[-3:])
    build_json(source, out, "--group", "auto")
    assert partition(out) == truth
    assert len(ProfileCache(out)) == len(files)


def alignment_pairs(out: Path) -> dict[str, set[frozenset[str]]]:
    """Document pairs aligned at segment level, by work, named by source path."""
    paths = {d["doc_id"]: d["source_path"] for d in ds.dataset(out / "documents").to_table().to_pylist()}
    pairs: dict[str, set[frozenset[str]]] = {}
    for row in ds.dataset(out / "alignments").to_table(columns=["work_id", "src_doc_id", "tgt_doc_id"]).to_pylist():
        pairs.setdefault(row["work_id"], set()).add(frozenset((paths[row["src_doc_id"]], paths[row["tgt_doc_id"]])))
    return pairs


def test_a_works_file_moves_stored_documents_and_realigns_only_their_pairs(seeds_copy: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    build_json(seeds_copy, out)
    before = alignment_pairs(out)
    moved = {"003_8846db1da0658b01.txt", "004_61b3231e0c8e63ca.txt"}
    works = tmp_path / "works.csv"
    works.write_text("source_path,work_id\n" + "".join(f"{p},second-edition\n" for p in sorted(moved)),
                     encoding="utf-8")

    dry = runner.invoke(app, ["build", str(seeds_copy), "--out", str(out), "--works", str(works), "--dry-run"],
                        env={"COLUMNS": "300"})
    assert dry.exit_code == 0, dry.output
    assert "moved: 003_8846db1da0658b01.txt from work '.' to 'second-edition' (works file)" in dry.output
    assert alignment_pairs(out) == before

    summary = build_json(seeds_copy, out, "--works", str(works))
    assert not summary["nothing_to_do"]
    assert summary["counts"]["moved"] == 2 and summary["counts"]["new"] == 0
    assert summary["pairs_aligned"] == 1, "only the pair the new work gains is aligned"
    documents = {d["source_path"]: d for d in ds.dataset(out / "documents").to_table().to_pylist()}
    assert {p for p, d in documents.items() if d["work_id"] == "second-edition"} == moved
    assert {documents[p]["work_assigned_by"] for p in moved} == {"mapping"}
    after = alignment_pairs(out)
    assert after["second-edition"] == {frozenset(moved)}
    assert after["."] == {pair for pair in before["."] if not pair & moved}, "the old work only loses pairs"
    segments = ds.dataset(out / "segments", partitioning="hive").to_table(columns=["doc_id", "work_id"]).to_pylist()
    assert {r["work_id"] for r in segments if r["doc_id"] in {documents[p]["doc_id"] for p in moved}} == {
        "second-edition"}

    again = build_json(seeds_copy, out, "--works", str(works))
    assert again["nothing_to_do"] and again["counts"]["moved"] == 0
    assert build_json(seeds_copy, out)["nothing_to_do"], "without the works file, stored documents keep their work"


def test_status_lists_each_work_with_its_files_and_titles(seeds_copy: Path, tmp_path: Path) -> None:
    build_json(seeds_copy, tmp_path / "out")
    result = runner.invoke(app, ["status", str(tmp_path / "out")], env={"COLUMNS": "300"})
    assert result.exit_code == 0, result.output
    documents = ds.dataset(tmp_path / "out" / "documents").to_table().to_pylist()
    for d in documents:
        assert d["source_path"] in result.output
        assert d["title"] and d["title"][:20] in result.output


def test_works_file_rows_that_do_nothing_are_reported(seeds_copy: Path, tmp_path: Path) -> None:
    works = tmp_path / "works.csv"
    works.write_text("source_path,work_id\n004_61b3231e0c8e63ca.txt,zh\nno_such_file.txt,zh\n"
                     "004_61b3231e0c8e63ca.txt,zh\n", encoding="utf-8")
    result = runner.invoke(app, ["build", str(seeds_copy), "--out", str(tmp_path / "out"), "--works", str(works)],
                           env={"COLUMNS": "300"})
    assert result.exit_code == 0, result.output
    assert "no_such_file.txt is not a file of the input folder; its row is ignored" in result.output
    assert "line 4: 004_61b3231e0c8e63ca.txt is listed again" in result.output


def test_a_works_file_giving_one_file_two_works_is_a_clear_error(seeds_copy: Path, tmp_path: Path) -> None:
    works = tmp_path / "works.csv"
    works.write_text("source_path,work_id\na.txt,w1\nb.txt,w1\na.txt,w2\n", encoding="utf-8")
    result = runner.invoke(app, ["build", str(seeds_copy), "--out", str(tmp_path / "out"), "--works", str(works)])
    assert result.exit_code == 2 and "line 4: a.txt is given the work 'w2', but line 2 gives it 'w1'" in result.output


def test_a_work_with_two_documents_in_one_language_is_reported(seeds_copy: Path, tmp_path: Path) -> None:
    """parallel/ has one slot per language: the build says which documents share one, instead of silently
    keeping one of them."""
    works = tmp_path / "works.csv"
    (seeds_copy / "sub").mkdir()
    shutil.copy(DJANGO_PO / "one_text" / "id.txt", seeds_copy / "sub" / "id.txt")
    works.write_text("source_path,work_id\nsub/id.txt,.\n", encoding="utf-8")
    summary = build_json(seeds_copy, tmp_path / "out", "--works", str(works))
    indonesian = sorted(d["source_path"] for d in summary["new_documents"] if d["lang"] == "id")
    assert len(indonesian) == 2
    assert any(w.startswith(f"work .: 2 documents are tagged id ({', '.join(indonesian)}); parallel/ keeps one")
               for w in summary["warnings"]), summary["warnings"]


def test_by_default_translations_in_a_folder_per_language_are_one_work(
        pile: tuple[dict[str, bytes], set[frozenset[str]]], tmp_path: Path) -> None:
    """en/article.txt, fr/article.txt, ...: every folder alone would be a work of one document with nothing to
    align; by default such files are grouped by content, with each other and with the stored documents alone in
    their work, so a translation added later in a folder of its own joins them too."""
    source = tmp_path / "in"
    seeds = sorted(SEEDS.glob("*.txt"))
    for index, seed in enumerate(seeds[:3]):
        (source / f"lang{index}").mkdir(parents=True)
        shutil.copy(seed, source / f"lang{index}" / "article.txt")
    summary = build_json(source, tmp_path / "out")
    assert summary["pairs_aligned"] == 3
    assert partition(tmp_path / "out") == {frozenset(f"lang{i}/article.txt" for i in range(3))}
    (source / "lang3").mkdir()
    shutil.copy(seeds[3], source / "lang3" / "article.txt")
    summary = build_json(source, tmp_path / "out")
    assert summary["pairs_aligned"] == 3 and summary["counts"]["new"] == 1
    assert partition(tmp_path / "out") == {frozenset(f"lang{i}/article.txt" for i in range(4))}


def test_by_default_a_lone_file_that_matches_nothing_keeps_its_folder(
        pile: tuple[dict[str, bytes], set[frozenset[str]]], tmp_path: Path) -> None:
    """Two folders of one file each that are two different works stay two works named by their folders."""
    files, truth = pile
    source = tmp_path / "in"
    source.mkdir()
    other = next(name for work in truth for name in sorted(work) if name not in {s.name for s in SEEDS.glob("*.txt")})
    write(source / "generated", files, [other])
    (source / "seed").mkdir()
    shutil.copy(sorted(SEEDS.glob("*.txt"))[0], source / "seed" / "article.txt")
    build_json(source, tmp_path / "out")
    documents = ds.dataset(tmp_path / "out" / "documents").to_table().to_pylist()
    assert {(d["source_path"], d["work_id"], d["work_assigned_by"]) for d in documents} == {
        (f"generated/{other}", "generated", "folder"), ("seed/article.txt", "seed", "folder")}


def test_a_works_file_row_may_name_its_file_as_a_shell_completes_it(tmp_path: Path) -> None:
    from tasks.works import read_works_file

    works = tmp_path / "works.csv"
    works.write_text("source_path,work_id\n./en/article.txt,a\nfr//article.txt,a\n", encoding="utf-8")
    assert read_works_file(works).mapping == {"en/article.txt": "a", "fr/article.txt": "a"}
