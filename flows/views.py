"""Terminal rendering of the CLI's results (rich tables), with document text made safe to print."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from rich import box
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from schemas.build import BuildSummary
from tasks.io.stats import CorpusStats
from tasks.io.status import CorpusStatus, WorkStatus
from tasks.text import visible_controls


def safe_text(value: str) -> Text:
    """Text for a terminal: control characters (escape sequences included) and bidi overrides shown as
    escapes, no markup."""
    return Text(visible_controls(value, keep="\t", bidi=True))


@contextmanager
def stage_progress(console: Console, enabled: bool) -> Iterator[None]:
    """A progress bar per stage (works done of works to rebuild) while a build runs in this process."""
    from flows.progress import progress_reporting

    if not enabled:
        yield
        return
    columns = (TextColumn("{task.description:<24}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    progress = Progress(*columns, console=console, transient=False)
    bars: dict[str, TaskID] = {}

    def update(stage: str, done: int, total: int) -> None:
        if not bars:  # started by the first stage: a build refused or with nothing to do prints no empty line
            progress.start()
        if stage not in bars:
            bars[stage] = progress.add_task(stage, total=total)
        progress.update(bars[stage], completed=done, total=total)

    try:
        with progress_reporting(update):
            yield
    finally:
        if bars:
            progress.stop()


def print_build_summary(console: Console, summary: BuildSummary, quiet: bool = False) -> None:
    c = summary.counts
    for line in summary.repaired:
        console.print(Text.assemble("repaired: ", safe_text(line)))
    if summary.dry_run:
        for line in summary.planned:
            console.print(Text.assemble("plan: ", safe_text(line)))
        console.print(safe_text(
            f"dry run, nothing written: {c['new']} new, {c['changed']} changed, {c['unchanged']} unchanged, "
            f"{c['pruned']} pruned documents"))
        return
    if not quiet:
        for title, documents in (("New documents", summary.new_documents),
                                 ("Changed documents (new versions)", summary.changed_documents)):
            if documents:
                table = Table(title=title)
                for column in ("file", "lang", "confidence", "segments", "sections"):
                    table.add_column(column)
                for d in documents:
                    table.add_row(safe_text(d.source_path), d.lang, f"{d.lang_confidence:.2f}",
                                  str(d.n_segments), str(d.n_sections))
                console.print(table)
        if summary.rejects:
            table = Table(title="Rejected files")
            for column in ("file", "reason", "what to do"):
                table.add_column(column)
            for r in summary.rejects:
                table.add_row(safe_text(r.source_path), r.reason, safe_text(r.message))
            console.print(table)
        for path in summary.missing:
            console.print(Text.assemble("source file gone, rows kept (use --prune to remove): ", safe_text(path)))
        for path in summary.low_confidence:
            console.print(Text.assemble("warning: uncertain language for ", safe_text(path)))
        for warning in summary.warnings:
            console.print(Text.assemble("warning: ", safe_text(warning)))
        timings = ", ".join(f"{stage} {seconds:.2f}s" for stage, seconds in summary.timings.items())
        console.print(f"timings: {timings}", highlight=False)
    if summary.nothing_to_do:
        headline = f"nothing to do: {summary.out} is up to date ({c['unchanged']} documents)"
    else:
        headline = (
            f"built {summary.out}: {c['new']} new, {c['changed']} changed, {c['unchanged']} unchanged, "
            f"{c['pruned']} pruned" + (f", {c['moved']} moved" if c.get("moved") else "")
            + f" documents; {summary.pairs_aligned} pairs aligned"
            + (" (with sentence embeddings)" if summary.embeddings and summary.pairs_aligned else "")
        )
    if summary.rejects:
        headline += f"; {len(summary.rejects)} file(s) rejected (see {summary.out}/rejects)"
    console.print(safe_text(headline))


def _compact_table(title: str, columns: dict[str, str]) -> Table:
    """A table without vertical rules, so that it stays readable at 80 columns; columns: header -> justify."""
    table = Table(title=title, box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=(0, 1, 0, 0),
                  title_justify="left")
    for header, justify in columns.items():
        table.add_column(header, justify="left" if justify == "left" else "right", no_wrap=True)
    return table


def print_stats(console: Console, stats: CorpusStats) -> None:
    console.print(
        f"{stats.works} work(s), {stats.documents} documents, {stats.segments} segments, "
        f"{stats.alignment_rows} alignment rows\nsnapshot of {stats.written_at}",
        highlight=False,
    )
    kinds = ("title", "heading", "paragraph", "list_item", "boilerplate")
    languages = _compact_table("Documents and segments (by kind) per language",
                               {"lang": "left", "docs": "right", "segments": "right", **dict.fromkeys(kinds, "right")})
    for lang in stats.languages:
        languages.add_row(lang.lang, str(lang.documents), str(lang.segments),
                          *(str(lang.segments_by_kind.get(k, 0)) for k in kinds))
    console.print()
    console.print(languages)
    pairs = _compact_table("Alignment coverage per language pair (segment level)",
                           {"pair": "left", **dict.fromkeys(("doc pairs", "beads", "src cover", "tgt cover",
                                                             "mean score"), "right")})
    for p in stats.pairs:
        pairs.add_row(f"{p.src_lang}-{p.tgt_lang}", str(p.pairs), str(p.beads), f"{p.src_coverage:.1%}",
                      f"{p.tgt_coverage:.1%}", f"{p.mean_score:.2f}")
    console.print()
    console.print(pairs)
    if stats.rejects_by_reason:
        console.print("rejects: " + ", ".join(f"{k}: {v}" for k, v in sorted(stats.rejects_by_reason.items())),
                      highlight=False)


# Up to this many works, `corpus status` lists every document; beyond, a summary and the works that need a look
# (`--all` lists everything, `--json` gives everything to a program).
LISTED_WORKS = 20


def _works_table(works: Sequence[WorkStatus]) -> Table:
    table = Table(title="Works")
    for column in ("work", "file", "lang", "title", "pairs aligned"):
        table.add_column(column)
    for w in works:
        done = "all" if w.pairs_aligned == w.pairs_expected else "INCOMPLETE"
        for k, (path, lang) in enumerate(w.documents.items()):
            first = k == 0
            table.add_row(safe_text(w.work_id) if first else "", safe_text(path), lang,
                          safe_text(w.titles.get(path, "")), f"{w.pairs_aligned}/{w.pairs_expected} ({done})" if first
                          else "", end_section=k == len(w.documents) - 1)
    return table


def _print_works_summary(console: Console, status: CorpusStatus) -> None:
    """A corpus of many works: its counts, and the works whose pairs are not all aligned (at most LISTED_WORKS)."""
    languages = Counter(lang for w in status.works for lang in w.documents.values())
    aligned = sum(w.pairs_aligned for w in status.works)
    expected = sum(w.pairs_expected for w in status.works)
    incomplete = [w for w in status.works if w.pairs_aligned != w.pairs_expected]
    console.print(safe_text(
        f"{len(status.works)} works, {sum(languages.values())} documents ("
        + ", ".join(f"{lang} {n}" for lang, n in sorted(languages.items()))
        + f"); {aligned} of {expected} document pairs aligned"
        + (f", {len(incomplete)} work(s) INCOMPLETE" if incomplete else "")))
    if incomplete:
        console.print(_works_table(incomplete[:LISTED_WORKS]))
        if len(incomplete) > LISTED_WORKS:
            console.print(f"... and {len(incomplete) - LISTED_WORKS} more incomplete work(s)")
    console.print(safe_text(f"every work and document: `corpus status {status.out} --all` (or --json)"))


def print_status(console: Console, status: CorpusStatus, show_all: bool = False) -> None:
    """What the corpus holds: every document when ``show_all`` or the corpus has at most LISTED_WORKS works, else a
    summary; then what is pending, uncertain or rejected."""
    if not status.built:
        console.print(safe_text(f"{status.out} holds no corpus yet; run `corpus build SOURCE --out {status.out}`"))
    elif not status.works:
        rejected = f" ({len(status.rejects)} file(s) rejected, listed below)" if status.rejects else ""
        console.print(safe_text(f"{status.out} holds a corpus with no documents{rejected}; add text files to the "
                                f"input folder and run `corpus build SOURCE --out {status.out}`"))
    if status.works and (show_all or len(status.works) <= LISTED_WORKS):
        console.print(_works_table(status.works))
    elif status.works:
        _print_works_summary(console, status)
    if status.pending is not None:
        p = status.pending
        if not (p.new or p.changed or p.missing):
            console.print("pending: nothing, the corpus is up to date with the input folder")
        for label, paths in (("new", p.new), ("changed", p.changed), ("source gone", p.missing)):
            for path in paths:
                console.print(Text.assemble(f"pending ({label}): ", safe_text(path)))
    for u in status.uncertain_works:
        console.print(Text.assemble("uncertain work: ", safe_text(u.source_path), " -> ", safe_text(u.work_id),
                                    f" (confidence {u.confidence:.2f}; to fix it, name its work in a works file: "
                                    "a CSV row source_path,work_id, then corpus build --works FILE)"))
    for path, reason in status.rejects.items():
        console.print(Text.assemble("rejected: ", safe_text(path), f" ({reason})"))
