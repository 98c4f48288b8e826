"""The summary of a build: counts, new documents, rejects, timings; as a model and as markdown."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from schemas import DocumentRow, Manifest, RejectRow
from schemas.build import BuildParameters, BuildSummary, DocumentSummary, RejectSummary
from tasks.fs import display
from tasks.langtag import UNDETERMINED
from tasks.store.plan import BuildPlan
from tasks.store.snapshot import WorkResult

LOW_CONFIDENCE = 0.6


def summarise(
    build_id: str,
    params: BuildParameters,
    plan: BuildPlan,
    results: Sequence[WorkResult],
    rejects: Sequence[RejectRow],
    manifest: Manifest | None,
    timings: dict[str, float],
    nothing_to_do: bool,
    repaired: Sequence[str] = (),
    warnings: Sequence[str] = (),
    *,
    dry_run: bool = False,
) -> BuildSummary:
    """What the build did; with ``dry_run``, what its plan would do."""
    ingested = sorted((d for r in results for d in r.new_documents), key=lambda d: d.source_path)
    # A changed file is one ingested again in place of a stored version under the same path.
    replaced = {d.source_path for w in plan.works for d in w.dropped}
    new_documents = [d for d in ingested if d.source_path not in replaced]
    changed_documents = [d for d in ingested if d.source_path in replaced]
    counts = plan.summary()
    if not dry_run:  # the documents made: a planned file can still be rejected once read (binary, no text)
        moved = set(plan.moved)
        counts |= {"new": len(new_documents),
                   "changed": sum(d.source_path not in moved for d in changed_documents)}
    return BuildSummary(
        build_id=build_id,
        source=display(params.source),
        out=display(params.out),
        nothing_to_do=nothing_to_do,
        dry_run=dry_run,
        repaired=list(repaired),
        counts=counts,
        new_documents=[_document_summary(d) for d in new_documents],
        changed_documents=[_document_summary(d) for d in changed_documents],
        low_confidence=[d.source_path for d in ingested if d.lang_confidence < LOW_CONFIDENCE],
        rejects=[RejectSummary(source_path=r.source_path, reason=r.reason, message=r.message) for r in rejects],
        missing=list(plan.missing),
        pruned=list(plan.pruned),
        pairs_aligned=sum(r.n_pairs_aligned for r in results),
        warnings=[*warnings, *one_language_twice(plan, results)],
        embeddings=params.embeddings,
        table_rows={name: t.rows for name, t in manifest.tables.items()} if manifest else {},
        timings={stage: round(seconds, 3) for stage, seconds in timings.items()},
    )


def _document_summary(d: DocumentRow) -> DocumentSummary:
    return DocumentSummary(source_path=d.source_path, lang=d.lang, lang_confidence=d.lang_confidence,
                           n_segments=d.n_segments, n_sections=d.n_sections)


def one_language_twice(plan: BuildPlan, results: Sequence[WorkResult]) -> list[str]:
    """A warning for each rebuilt work holding two documents tagged with one language: a unit of the parallel
    table has one slot per language, so parallel/ keeps only one of them (every pair stays in alignments/)."""
    kept = {w.work_id: w.kept for w in plan.works}
    warnings = []
    for result in results:
        by_lang: dict[str, list[str]] = {}
        for lang, path in [*((d.lang, d.source_path) for d in kept.get(result.work_id, ())),
                           *((d.lang, d.source_path) for d in result.new_documents)]:
            by_lang.setdefault(lang, []).append(path)
        warnings += [
            f"work {result.work_id}: {len(paths)} documents are tagged {lang} ({', '.join(sorted(paths))}); "
            "parallel/ keeps one of them, alignments/ has every pair. If they are different works, name their "
            "works in a works file; if one is in another language, it is mistagged"
            for lang, paths in sorted(by_lang.items()) if len(paths) > 1 and lang != UNDETERMINED
        ]
    return warnings


def stage_log_lines(results: Sequence[WorkResult]) -> list[str]:
    """One line per per-work stage saying what it did, then one DEBUG-worthy line per document."""
    documents = [d for r in results for d in r.new_documents]
    languages = Counter(d.lang for d in documents)
    files_written = sum(len(files) for r in results for files in r.files.values())
    return [
        f"ingest+langtag+segment: {len(documents)} document(s) ({dict(sorted(languages.items()))}), "
        f"{sum(d.n_segments for d in documents)} segments, {sum(len(r.rejections) for r in results)} rejected",
        f"align: {sum(r.n_pairs_aligned for r in results)} new document pair(s) in {len(results)} work(s)",
        f"export: {len(results)} work(s) written, {files_written} file(s) in their snapshot entries",
    ]


def _md(text: str) -> str:
    """Markdown-safe cell text: no table breaks, no HTML, no line breaks."""
    return (
        text.replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")
        .replace("\r", " ").replace("\n", " ")
    )


def render_markdown(summary: BuildSummary) -> str:
    """A human summary of the run (the Prefect artifact)."""
    lines = [f"# Corpus build `{_md(summary.build_id)}`", ""]
    lines.append(f"Input `{_md(summary.source)}` -> output `{_md(summary.out)}`.")
    if summary.nothing_to_do:
        lines += ["", "**Nothing to do**: the corpus is up to date with the input folder."]
    lines += ["", "## Documents", "", "| new | changed | unchanged | missing | pruned | moved |",
              "|---|---|---|---|---|---|"]
    c = summary.counts
    lines.append(f"| {c['new']} | {c['changed']} | {c['unchanged']} | {c['missing']} | {c['pruned']} "
                 f"| {c.get('moved', 0)} |")
    for title, documents in (("New documents", summary.new_documents),
                             ("Changed documents (new versions)", summary.changed_documents)):
        if documents:
            by_lang = Counter(d.lang for d in documents)
            lines += ["", f"{title} by language: " + ", ".join(f"{k}: {v}" for k, v in sorted(by_lang.items()))]
            lines += ["", "| file | lang | confidence | segments | sections |", "|---|---|---|---|---|"]
            lines += [
                f"| {_md(d.source_path)} | {d.lang} | {d.lang_confidence:.2f} | {d.n_segments} | {d.n_sections} |"
                for d in documents
            ]
    if summary.low_confidence:
        lines += ["", "Uncertain language: " + ", ".join(_md(p) for p in summary.low_confidence)]
    lines += [f"\nWarning: {_md(warning)}" for warning in summary.warnings]
    if summary.missing:
        lines += ["", "Source file gone, rows kept (build with `--prune` to remove): "
                  + ", ".join(_md(p) for p in summary.missing)]
    lines += ["", f"Pairs aligned in this build: {summary.pairs_aligned}"
              + (" (with sentence embeddings)" if summary.embeddings and summary.pairs_aligned else "")]
    lines += ["", "## Rejects", ""]
    if summary.rejects:
        lines += ["| file | reason | what to do |", "|---|---|---|"]
        lines += [f"| {_md(r.source_path)} | {r.reason} | {_md(r.message)} |" for r in summary.rejects]
    else:
        lines.append("None.")
    lines += ["", "## Tables", "", "| table | rows |", "|---|---|"]
    lines += [f"| {name} | {rows} |" for name, rows in summary.table_rows.items()]
    lines += ["", "## Timings", "", "| stage | seconds |", "|---|---|"]
    lines += [f"| {stage} | {seconds:.3f} |" for stage, seconds in summary.timings.items()]
    return "\n".join(lines) + "\n"
