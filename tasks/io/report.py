"""A static HTML report of a built corpus: every document pair side by side, bead by bead.

One self-contained page: inline CSS, no script, no network (a Content-Security-Policy that allows
nothing but inline styles and data: images). At the top a summary table per work and document pair
(beads, omissions, low-confidence beads, coverage of each side, mean score) linking to the pair; below,
per work, one collapsible ``<details>`` per pair (the first open) with a row per segment-level bead:
headings and titles in bold, a side the other document lacks marked as omitted, beads scored below
``low_score`` highlighted, a bead set by hand (a corrections file) marked "set by hand". Every piece of
document text is HTML-escaped (quotes included) and control characters are shown as ``\\xNN``, so no
text can add markup or hide itself. The page is rendered from the jinja2 template
``templates/report.html.j2`` with autoescaping, by an environment that escapes every value a template
shows (see ``_shown``): escaping is not a call each part of the page has to remember.

The corpus is read one work at a time: the pair tables are rendered to a temporary file while the
summary is collected, then both are joined, so memory stays bounded by one work.
"""

from __future__ import annotations

import html
import shutil
import tempfile
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import IO, Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from tasks.files import atomic_text
from tasks.io.reader import Bead, Corpus, DocumentInfo, SegmentView
from tasks.text import visible_controls

__all__ = ["CSP", "LOW_SCORE", "PairSummary", "ReportResult", "pair_summary", "write_report"]

LOW_SCORE = 0.5
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
_HEAD_KINDS = frozenset({"title", "heading"})

def _shown(value: object) -> object:
    """Every value a template shows, as the page shows it: text escaped (quotes too), control characters visible.

    The environment applies this to every ``{{ value }}``, so a template cannot forget it; markup made by a
    macro of the template passes unchanged, and anything else is escaped by the autoescaping after this."""
    if isinstance(value, str) and not isinstance(value, Markup):
        return Markup(html.escape(visible_controls(value), quote=True))
    return value


@cache
def _template() -> Any:
    """The macros of ``templates/report.html.j2``."""
    environment = Environment(loader=PackageLoader("tasks.io", "templates"), autoescape=True, finalize=_shown,
                              trim_blocks=True, lstrip_blocks=True, undefined=StrictUndefined)
    return environment.get_template("report.html.j2").module


@dataclass(frozen=True, slots=True)
class PairSummary:
    work_id: str
    src: DocumentInfo
    tgt: DocumentInfo
    beads: int
    omissions: int  # beads with one side empty
    low: int  # beads scored below the report's threshold
    by_hand: int  # beads set by hand (a corrections file)
    src_coverage: float  # share of source segments in a bead with a target
    tgt_coverage: float
    mean_score: float
    anchor: str


def pair_summary(
    work_id: str, src: DocumentInfo, tgt: DocumentInfo, beads: Sequence[Bead], anchor: str, low_score: float
) -> PairSummary:
    totals = {"src": 0, "tgt": 0}
    linked = {"src": 0, "tgt": 0}
    for b in beads:
        for side, ids, other in (("src", b.src_ids, b.tgt_ids), ("tgt", b.tgt_ids, b.src_ids)):
            totals[side] += len(ids)
            linked[side] += len(ids) if other else 0
    return PairSummary(
        work_id=work_id, src=src, tgt=tgt, beads=len(beads),
        omissions=sum(1 for b in beads if not (b.src_ids and b.tgt_ids)),
        low=sum(1 for b in beads if b.score < low_score),
        by_hand=sum(1 for b in beads if b.by_hand),
        src_coverage=linked["src"] / max(1, totals["src"]),
        tgt_coverage=linked["tgt"] / max(1, totals["tgt"]),
        mean_score=sum(b.score for b in beads) / max(1, len(beads)),
        anchor=anchor,
    )


@dataclass(frozen=True, slots=True)
class ReportResult:
    path: Path
    works: int
    pairs: int
    beads: int
    size_bytes: int


@dataclass(frozen=True, slots=True)
class _BeadRow:
    """One bead as the template shows it: each side's paragraphs (text, is a title or heading), empty if omitted."""

    classes: str
    src: list[tuple[str, bool]]
    tgt: list[tuple[str, bool]]
    score: float
    by_hand: bool


@dataclass(frozen=True, slots=True)
class _PairView:
    summary: PairSummary
    rows: list[_BeadRow]
    is_open: bool


def _bead_row(bead: Bead, segments: dict[str, SegmentView], low_score: float) -> _BeadRow:
    classes = ["b"]
    if any(segments[i].kind in _HEAD_KINDS for i in (*bead.src_ids, *bead.tgt_ids)):
        classes.append("h")
    if bead.score < low_score:
        classes.append("low")
    if bead.by_hand:
        classes.append("fix")
    src, tgt = ([(segments[i].text, segments[i].kind in _HEAD_KINDS) for i in ids]
                for ids in (bead.src_ids, bead.tgt_ids))
    return _BeadRow(" ".join(classes), src, tgt, bead.score, bead.by_hand)


def _work_html(corpus: Corpus, work_id: str, work_index: int, first_pair: int, low_score: float
               ) -> tuple[str, list[PairSummary], int]:
    """The work's section, the summaries of its pairs and its number of beads."""
    by_pair: dict[tuple[str, str], list[Bead]] = defaultdict(list)
    for b in corpus.beads(work_id):
        by_pair[(b.src_doc_id, b.tgt_doc_id)].append(b)
    documents = corpus.work_documents(work_id)
    segments = corpus.segments(d.doc_id for d in documents)
    pairs = []
    ordered = sorted(by_pair, key=lambda p: (corpus.documents[p[0]].lang, corpus.documents[p[1]].lang, p))
    for offset, (src_id, tgt_id) in enumerate(ordered):
        beads = by_pair[(src_id, tgt_id)]
        summary = pair_summary(work_id, corpus.documents[src_id], corpus.documents[tgt_id], beads,
                               f"p{first_pair + offset}", low_score)
        pairs.append(_PairView(summary, [_bead_row(b, segments, low_score) for b in beads],
                               is_open=first_pair + offset == 0))
    section = str(_template().work_section(work_id, work_index, documents, pairs, low_score))
    return section, [p.summary for p in pairs], sum(len(b) for b in by_pair.values())


def _copy_into(target: IO[str], source: IO[str]) -> None:
    source.seek(0)
    shutil.copyfileobj(source, target)


def write_report(out_dir: Path, dest: Path, *, works: Iterable[str] | None = None,
                 low_score: float = LOW_SCORE, version: int | None = None) -> ReportResult:
    """Write the HTML report of the corpus in ``out_dir`` (optionally only some works; on a store, a kept earlier
    ``version`` if given) to ``dest``."""
    corpus = Corpus.open(out_dir, version)
    chosen = list(works) if works is not None else corpus.works
    for work_id in chosen:
        corpus.check_work(work_id)
    summaries: list[PairSummary] = []
    n_beads = 0
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryFile("w+", encoding="utf-8", dir=dest.parent) as body:
        for index, work_id in enumerate(chosen):
            section, work_summaries, work_beads = _work_html(corpus, work_id, index, len(summaries), low_score)
            body.write(section)
            summaries.extend(work_summaries)
            n_beads += work_beads
        template = _template()
        header = template.head(
            title=f"Parallel corpus report: {out_dir.name or out_dir}", out_dir=str(out_dir),
            build_id=corpus.manifest.build_id, written_at=corpus.manifest.written_at.isoformat(timespec="seconds"),
            works=len(chosen), pairs=len(summaries), beads=n_beads, low_score=low_score, csp=CSP,
        )
        with atomic_text(dest) as out:
            out.write(str(header))
            out.write(str(template.summary_table(summaries)))
            _copy_into(out, body)
            out.write("</body></html>\n")
    return ReportResult(dest, len(chosen), len(summaries), n_beads, dest.stat().st_size)
