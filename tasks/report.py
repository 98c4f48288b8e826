"""A static HTML report of a built corpus: every document pair side by side, bead by bead.

One self-contained page: inline CSS, no script, no network (a Content-Security-Policy that allows
nothing but inline styles and data: images). At the top a summary table per work and document pair
(beads, omissions, low-confidence beads, coverage of each side, mean score) linking to the pair; below,
per work, one collapsible ``<details>`` per pair (the first open) with a row per segment-level bead:
headings and titles in bold, a side the other document lacks marked as omitted, beads scored below
``low_score`` highlighted, a bead set by hand (a corrections file) marked "set by hand". Every piece of
document text is HTML-escaped (quotes included) and control characters are shown as ``\\xNN``, so no text
can add markup or hide itself.

The corpus is read one work at a time: the pair tables are rendered to a temporary file while the
summary is collected, then both are joined, so memory stays bounded by one work.
"""

from __future__ import annotations

import html
import os
import shutil
import tempfile
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from tasks.formats import Bead, Corpus, DocumentInfo, SegmentView

__all__ = ["CSP", "LOW_SCORE", "PairSummary", "ReportResult", "pair_summary", "visible_controls", "write_report"]

LOW_SCORE = 0.5
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
_HEAD_KINDS = frozenset({"title", "heading"})
_HEAD_CLASS = ' class="h"'

_STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:1.5em;color:#1b1b1b}
h1{font-size:1.5em}h2{font-size:1.25em;margin-top:2em;border-bottom:2px solid #ccc}
table{border-collapse:collapse}td,th{padding:.25em .5em;vertical-align:top;text-align:left}
.sum td,.sum th{border-bottom:1px solid #ddd}.sum td.r{text-align:right;font-variant-numeric:tabular-nums}
details{margin:.6em 0;border:1px solid #ccc;border-radius:4px}
summary{cursor:pointer;padding:.4em .6em;background:#f3f4f6;font-weight:600}
summary .m{font-weight:400;color:#555}
.al{table-layout:fixed;width:100%}.al col.n{width:3.5em}.al col.s{width:4.5em}
.al td{border-top:1px solid #eee;overflow-wrap:anywhere}.al th{background:#fafafa}
.al p{margin:0 0 .3em}.al td.n,.al td.s{color:#666;font-variant-numeric:tabular-nums}
tr.h td{border-top:2px solid #999}p.h{font-weight:700}
tr.low{background:#fff4d6}tr.low td.s{color:#b00020;font-weight:700}
td.o{background:repeating-linear-gradient(45deg,#f4f4f4 0 6px,#e9e9e9 6px 12px);color:#777;font-style:italic}
.key span{display:inline-block;padding:0 .5em;margin-right:.5em}
.key .low{background:#fff4d6}
tr.fix td.s{color:#0b6e2e;font-weight:700}tr.fix td.n{border-left:4px solid #0b6e2e}
.key .fix{border-left:4px solid #0b6e2e}.key .o{background:#e9e9e9;font-style:italic}
"""


def visible_controls(text: str) -> str:
    """Control characters (escape sequences included) shown as ``\\xNN`` instead of acting."""
    return "".join(
        f"\\x{ord(ch):02x}" if unicodedata.category(ch) == "Cc" and ch not in "\t\n" else ch for ch in text
    )


def _e(text: str) -> str:
    return html.escape(visible_controls(text), quote=True)


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


def _side_cell(ids: Sequence[str], doc: DocumentInfo, other: DocumentInfo, segments: dict[str, SegmentView]) -> str:
    if not ids:
        return f'<td class="o">not in {_e(doc.lang)} (only in {_e(other.lang)})</td>'
    paragraphs = "".join(
        f'<p{_HEAD_CLASS if segments[i].kind in _HEAD_KINDS else ""}>{_e(segments[i].text)}</p>' for i in ids
    )
    return f'<td lang="{_e(doc.lang)}" dir="auto">{paragraphs}</td>'


def _pair_html(summary: PairSummary, beads: Sequence[Bead], segments: dict[str, SegmentView],
               low_score: float, is_open: bool) -> str:
    s = summary
    src, tgt = s.src, s.tgt
    parts = [
        f'<details id="{s.anchor}"{" open" if is_open else ""}><summary>{_e(src.lang)} ↔ {_e(tgt.lang)} '
        f'<span class="m">{_e(src.source_path)} ↔ {_e(tgt.source_path)} · {s.beads} beads · '
        f"mean score {s.mean_score:.2f} · {s.omissions} omissions · {s.low} below {low_score:g}"
        f"{f' · {s.by_hand} set by hand' if s.by_hand else ''}</span></summary>"
        '<table class="al"><colgroup><col class="n"><col><col><col class="s"></colgroup>'
        f'<thead><tr><th>bead</th><th>{_e(src.lang)}</th><th>{_e(tgt.lang)}</th><th>score</th></tr></thead><tbody>'
    ]
    for position, b in enumerate(beads):
        classes = ["b"]
        if any(segments[i].kind in _HEAD_KINDS for i in (*b.src_ids, *b.tgt_ids)):
            classes.append("h")
        if b.score < low_score:
            classes.append("low")
        if b.by_hand:
            classes.append("fix")
        parts.append(
            f'<tr class="{" ".join(classes)}"><td class="n">{position}</td>'
            f"{_side_cell(b.src_ids, src, tgt, segments)}{_side_cell(b.tgt_ids, tgt, src, segments)}"
            f'<td class="s">{b.score:.2f}{"<br>set by hand" if b.by_hand else ""}</td></tr>'
        )
    parts.append("</tbody></table></details>\n")
    return "".join(parts)


def _work_html(corpus: Corpus, work_id: str, work_index: int, first_pair: int, low_score: float
               ) -> tuple[str, list[PairSummary], int]:
    """The work's section, the summaries of its pairs and its number of beads."""
    by_pair: dict[tuple[str, str], list[Bead]] = defaultdict(list)
    for b in corpus.beads(work_id):
        by_pair[(b.src_doc_id, b.tgt_doc_id)].append(b)
    documents = corpus.work_documents(work_id)
    segments = corpus.segments(d.doc_id for d in documents)
    docs = "".join(
        f"<li><b>{_e(d.lang)}</b> {_e(d.source_path)}: {_e(d.title)} ({d.n_segments} segments)</li>"
        for d in documents
    )
    parts = [f'<section><h2 id="w{work_index}">Work {_e(work_id)}</h2><ul>{docs}</ul>\n']
    summaries = []
    ordered = sorted(by_pair, key=lambda p: (corpus.documents[p[0]].lang, corpus.documents[p[1]].lang, p))
    for offset, (src_id, tgt_id) in enumerate(ordered):
        beads = by_pair[(src_id, tgt_id)]
        summary = pair_summary(work_id, corpus.documents[src_id], corpus.documents[tgt_id], beads,
                               f"p{first_pair + offset}", low_score)
        summaries.append(summary)
        parts.append(_pair_html(summary, beads, segments, low_score, is_open=first_pair + offset == 0))
    if not ordered:
        parts.append("<p>No aligned pair: the work has a single document.</p>")
    parts.append("</section>\n")
    return "".join(parts), summaries, sum(len(b) for b in by_pair.values())


def _summary_html(summaries: Sequence[PairSummary]) -> str:
    rows = "".join(
        f'<tr><td>{_e(s.work_id)}</td><td><a href="#{s.anchor}">{_e(s.src.lang)} ↔ {_e(s.tgt.lang)}</a></td>'
        f'<td class="r">{s.beads}</td><td class="r">{s.omissions}</td><td class="r">{s.low}</td>'
        f'<td class="r">{s.src_coverage:.0%}</td><td class="r">{s.tgt_coverage:.0%}</td>'
        f'<td class="r">{s.mean_score:.3f}</td></tr>'
        for s in summaries
    )
    return (
        '<table class="sum"><thead><tr><th>work</th><th>pair</th><th>beads</th><th>omissions</th>'
        "<th>low</th><th>source coverage</th><th>target coverage</th><th>mean score</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>\n"
    )


def _copy_into(target: IO[str], source: IO[str]) -> None:
    source.seek(0)
    shutil.copyfileobj(source, target)


def write_report(out_dir: Path, dest: Path, *, works: Iterable[str] | None = None,
                 low_score: float = LOW_SCORE) -> ReportResult:
    """Write the HTML report of the corpus in ``out_dir`` (optionally only some works) to ``dest``."""
    corpus = Corpus.open(out_dir)
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
        title = f"Parallel corpus report: {out_dir.name or out_dir}"
        header = (
            '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
            '<meta name="referrer" content="no-referrer">'
            '<meta name="viewport" content="width=device-width,initial-scale=1">'
            f"<title>{_e(title)}</title><style>{_STYLE}</style></head><body>\n"
            f"<h1>{_e(title)}</h1><p>{_e(str(out_dir))} · build {_e(corpus.manifest.build_id)} · written "
            f"{corpus.manifest.written_at.isoformat(timespec='seconds')} · {len(chosen)} works · "
            f"{len(summaries)} document pairs · {n_beads} segment beads</p>"
            f'<p class="key"><span class="low">score below {low_score:g}</span>'
            '<span class="o">omitted: the other document has no counterpart</span>'
            '<span class="fix">set by hand (a corrections file)</span>'
            "<b>bold</b>: title or heading</p>\n"
        )
        temp = dest.with_name(f".{dest.name}.partial")
        try:
            with temp.open("w", encoding="utf-8") as out:
                out.write(header)
                out.write(_summary_html(summaries))
                _copy_into(out, body)
                out.write("</body></html>\n")
            os.replace(temp, dest)
        finally:
            temp.unlink(missing_ok=True)
    return ReportResult(dest, len(chosen), len(summaries), n_beads, dest.stat().st_size)
