"""``corpus export``, ``corpus report`` and ``corpus show``: getting a built corpus out to people and tools.

The commands only parse options and print; reading and writing live in ``tasks.io.reader``,
``tasks.io.formats`` and ``tasks.io.report``. ``register`` adds them to the ``corpus`` app. As in ``flows.cli``,
the tasks are imported when a command runs, so ``corpus --help`` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, cast

import typer

if TYPE_CHECKING:
    from tasks.io.formats import Format
    from tasks.io.reader import PairSource

_SUFFIX_FORMATS = {".tmx": "tmx", ".tsv": "tsv", ".jsonl": "jsonl"}
_HTML_SUFFIXES = (".html", ".htm")

CorpusArg = Annotated[Path, typer.Argument(help="Output folder of a corpus made by `corpus build`.")]
VersionOpt = Annotated[int | None, typer.Option(
    "--version", min=1, help="On an object store: a kept earlier version of the corpus (default: the current).")]
LangsOpt = Annotated[
    str | None,
    typer.Option("--langs", "-l", help="The language pair, two tags separated by a comma, in any case: sw,zh-Hant."),
]


def _fail(message: str) -> typer.Exit:
    # flows.cli imports this module to register the commands, so its helpers are imported late.
    from flows.cli import _fail as fail

    return fail(message)


def _langs(value: str | None, corpus_dir: Path, every_pair: bool = False) -> list[str]:
    if value:
        return [part.strip() for part in value.split(",") if part.strip()]
    from tasks.io.reader import Corpus

    available = ", ".join(Corpus.open(corpus_dir).languages)
    also = " (or --langs all for every pair)" if every_pair else ""
    raise _fail(f"choose a language pair with --langs A,B{also}; languages of the corpus: {available or 'none'}")


def export(
    corpus_dir: CorpusArg,
    dest: Annotated[Path, typer.Argument(
        help="File to write; for moses the prefix of DEST.<src> and DEST.<tgt>. With several pairs (--langs all): "
             "a folder, one file per pair.")],
    langs: Annotated[str | None, typer.Option(
        "--langs", "-l", help="The language pair, two tags separated by a comma, in any case: sw,zh-Hant. "
                              "'all' (or three tags or more): every pair that shares a work, one file each.")] = None,
    fmt: Annotated[
        str | None,
        typer.Option("--format", "-f", help="tmx, tsv, jsonl or moses (default: from DEST's extension)."),
    ] = None,
    min_score: Annotated[float, typer.Option(min=0.0, max=1.0, help="Keep pairs scored at least this (0-1).")] = 0.0,
    source: Annotated[
        str, typer.Option(help="beads: the pair's own aligned beads, every 1-1 link kept (default); parallel: the "
                               "multi-language units of parallel/, the same units in every pair, fewer and coarser.")
    ] = "beads",
    work: Annotated[list[str] | None, typer.Option(help="Only this work (repeat for several).")] = None,
    spreadsheet_safe: Annotated[
        bool, typer.Option(help="TSV: prefix cells starting with = + - @ with ' so spreadsheets show them as text.")
    ] = False,
    version: VersionOpt = None,
) -> None:
    """Export the sentence pairs of two languages (or of every pair) as TMX, TSV, JSONL or Moses parallel text.

    Examples: corpus export output pairs.tmx --langs sw,id --min-score 0.5  |
    corpus export output pairs/ --langs all --format tsv
    """
    from typing import get_args

    from flows.cli import console
    from tasks.io.formats import FORMATS, ExportResult, export_every_pair, export_pairs
    from tasks.io.reader import PairSource
    from tasks.store.storage import reading_the_current_snapshot

    tags = _langs(langs, corpus_dir, every_pair=True)
    every_language = [tag.lower() for tag in tags] == ["all"]
    several = every_language or len(tags) > 2
    if len(tags) < 2 and not every_language:
        raise _fail("give two languages, e.g. --langs sw,id, or --langs all for every pair")
    chosen = fmt or (None if several else _SUFFIX_FORMATS.get(dest.suffix.lower()))
    if chosen not in FORMATS:
        if chosen is not None:
            raise _fail(f"unknown format {chosen!r}; choose one of {', '.join(FORMATS)}")
        raise _fail(f"{'DEST is a folder of one file per pair: ' if several else ''}"
                    f"choose the format with --format ({', '.join(FORMATS)})")
    if source not in get_args(PairSource):
        raise _fail(f"unknown source {source!r}; choose one of {', '.join(get_args(PairSource))}")
    pair_source = cast("PairSource", source)
    results: list[ExportResult]
    if several:
        results = reading_the_current_snapshot(corpus_dir, lambda: export_every_pair(
            corpus_dir, cast("Format", chosen), dest, langs=None if every_language else tags, min_score=min_score,
            source=pair_source, spreadsheet_safe=spreadsheet_safe, works=work, version=version))
    else:
        results = [reading_the_current_snapshot(corpus_dir, lambda: export_pairs(
            corpus_dir, cast("Format", chosen), tags, dest, min_score=min_score, source=pair_source,
            spreadsheet_safe=spreadsheet_safe, works=work, version=version))]
    for r in results:
        console.print(f"wrote {r.pairs} {'-'.join(r.langs)} pairs (from {r.source}) to "
                      f"{', '.join(str(f) for f in r.files)}", highlight=False)
    if several:
        console.print(f"{len(results)} language pairs, {sum(r.pairs for r in results)} pairs in {dest}",
                      highlight=False)


def report(
    target: Annotated[
        Path,
        typer.Argument(help="The corpus folder (writes FOLDER/report.html), or the report file to write, "
                            "e.g. output/report.html (reads the corpus in its folder)."),
    ] = Path("output"),
    html: Annotated[Path | None, typer.Option(help="Where to write the report when TARGET is a folder.")] = None,
    work: Annotated[list[str] | None, typer.Option(help="Only this work (repeat for several).")] = None,
    low_score: Annotated[
        float | None, typer.Option(min=0.0, max=1.0, help="Highlight beads scored below this (default: 0.5).")
    ] = None,
    version: VersionOpt = None,
) -> None:
    """Write one self-contained HTML page showing every document pair side by side, bead by bead.

    Examples: corpus report output  |  corpus report output/report.html. Open it in any browser; it loads
    nothing from the network.
    """
    from flows.cli import console
    from tasks.io.report import LOW_SCORE, write_report
    from tasks.store.storage import reading_the_current_snapshot

    if target.suffix.lower() in _HTML_SUFFIXES and not target.is_dir():
        if html is not None:
            raise _fail("give the report file either as TARGET or with --html, not both")
        corpus_dir, dest = target.parent, target
    else:
        corpus_dir, dest = target, html or target / "report.html"
    result = reading_the_current_snapshot(corpus_dir, lambda: write_report(
        corpus_dir, dest, works=work, low_score=LOW_SCORE if low_score is None else low_score, version=version))
    console.print(f"wrote {result.path} ({result.works} works, {result.pairs} document pairs, {result.beads} beads, "
                  f"{result.size_bytes / 1e6:.1f} MB)", highlight=False)


def show(
    corpus_dir: CorpusArg = Path("output"),
    work: Annotated[str | None, typer.Option(help="Work to show (default: the only one).")] = None,
    langs: LangsOpt = None,
    min_score: Annotated[float, typer.Option(min=0.0, max=1.0, help="Show only beads scored at least this.")] = 0.0,
    limit: Annotated[int | None, typer.Option(min=1, help="Show at most this many beads per document pair.")] = None,
    version: VersionOpt = None,
) -> None:
    """Print the aligned segments of a work in two languages as a table, bead by bead.

    Beads scored below 0.5 are highlighted; beads set by hand (a corrections file) say so. Example:
    corpus show output --langs sw,zh-Hant --limit 20
    """
    from rich.table import Table
    from rich.text import Text

    from flows.cli import console
    from flows.views import safe_text
    from tasks.io.reader import open_pair
    from tasks.io.report import LOW_SCORE

    pair = _langs(langs, corpus_dir)
    corpus, (src, tgt) = open_pair(corpus_dir, pair, version)
    work = corpus.only_work() if work is None else work
    corpus.check_work(work)
    beads = corpus.beads(work, (src, tgt), min_score)
    if not beads:
        present = sorted({d.lang for d in corpus.work_documents(work)})
        raise _fail(f"work {work!r} has no {src}-{tgt} beads; its languages: {', '.join(present)}")
    segments = corpus.segments({b.src_doc_id for b in beads} | {b.tgt_doc_id for b in beads})
    for doc_pair in dict.fromkeys((b.src_doc_id, b.tgt_doc_id) for b in beads):
        src_doc, tgt_doc = corpus.documents[doc_pair[0]], corpus.documents[doc_pair[1]]
        table = Table(title=safe_text(f"{work}: {src_doc.source_path} ↔ {tgt_doc.source_path}"), show_lines=True)
        table.add_column("#", justify="right")
        table.add_column(src, ratio=1, overflow="fold")
        table.add_column(tgt, ratio=1, overflow="fold")
        table.add_column("score", justify="right")
        shown = [b for b in beads if (b.src_doc_id, b.tgt_doc_id) == doc_pair][:limit]
        for position, bead in enumerate(shown):
            cells = [
                safe_text(" ".join(segments[i].text for i in ids)) if ids else Text("(omitted)", style="dim italic")
                for ids in (bead.src_ids, bead.tgt_ids)
            ]
            table.add_row(str(position), *cells, f"{bead.score:.2f}" + (" set by hand" if bead.by_hand else ""),
                          style="on dark_orange3" if bead.score < LOW_SCORE else None)
        console.print(table)


def register(app: typer.Typer) -> None:
    """Add the export, report and show commands to ``app``."""
    app.command("export")(export)
    app.command("report")(report)
    app.command("show")(show)
