"""The chain of stages of one work: ingest -> langtag -> segment -> align -> parallel units -> write its tables.

``rebuild_batch`` runs it for a batch of works, stage by stage (each stage a task run where the orchestrator records
them); everything a work needs is read and written here, so a worker process receives jobs and sends back only
file names and counts. The snapshot it reads and the one the build publishes are ``tasks.store.snapshot``'s.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Protocol, TypeVar

import pyarrow.compute as pc

from schemas import (
    ALIGNMENTS,
    DOCUMENTS,
    PARALLEL,
    SEGMENTS,
    AlignmentRow,
    BoilerplateRules,
    Correction,
    DocumentRow,
    ManifestFile,
)
from tasks.align import Embed
from tasks.corrections import align_corrected
from tasks.documents import (
    AnalysedDocument,
    WorkAnalysis,
    analyse_file,
    new_pairs,
    segments_from_table,
)
from tasks.ingest import Rejection
from tasks.parallel import SegmentText, WorkDocument, parallel_rows, parallel_table
from tasks.store.overview import work_overview
from tasks.store.plan import WorkPlan
from tasks.store.snapshot import PER_WORK_TABLES, Snapshot, WorkResult, string_array
from tasks.store.storage import (
    read_rows,
    read_segment_tables,
    segment_file_path,
    work_key,
    write_arrow_digest_named,
    write_digest_named,
    write_rows,
)

STAGES = ("ingest+langtag+segment", "align", "export")


T = TypeVar("T")


@dataclass(frozen=True)
class WorkJob:
    """Everything a worker needs to rebuild one work, picklable for process pools."""

    plan: WorkPlan
    kept_documents: tuple[DocumentRow, ...]
    previous_alignment_files: tuple[ManifestFile, ...]
    kept_segment_files: tuple[ManifestFile, ...]  # where the segments of each kept document are, in their order
    corrections: tuple[Correction, ...] = ()  # beads set by hand, of the corpus (see tasks.corrections)
    realign: frozenset[frozenset[str]] = frozenset()  # pairs of kept documents (doc ids) to align again


def work_jobs(snapshot: Snapshot, plans: Iterable[WorkPlan], corrections: tuple[Correction, ...] = (),
              realign: dict[str, frozenset[frozenset[str]]] | None = None) -> list[WorkJob]:
    locations = snapshot.segment_files()
    return [
        WorkJob(
            plan=plan,
            kept_documents=tuple(snapshot.documents[d.doc_id] for d in plan.kept),
            previous_alignment_files=tuple(snapshot.work_files(ALIGNMENTS.name, plan.work_id)),
            kept_segment_files=tuple(locations[d.doc_id] for d in plan.kept),
            corrections=corrections,
            realign=(realign or {}).get(plan.work_id, frozenset()),
        )
        for plan in plans
    ]


def analyse_work(job: WorkJob, out_dir: Path, max_bytes: int, now: datetime, rules: BoilerplateRules | None = None
                 ) -> WorkAnalysis:
    """Ingest, tag and segment a work's new files; read back the segments of the documents it keeps."""
    new: list[AnalysedDocument] = []
    rejections: list[Rejection] = []
    for fp in job.plan.to_ingest:
        result = analyse_file(fp, max_bytes, now, rules)
        (rejections if isinstance(result, Rejection) else new).append(result)  # type: ignore[arg-type]
    locations = {d.doc_id: entry.path for d, entry in zip(job.kept_documents, job.kept_segment_files, strict=True)}
    tables = dict(read_segment_tables(out_dir, locations, locations))
    kept = tuple(AnalysedDocument(d, segments_from_table(tables[d.doc_id])) for d in job.kept_documents)
    return WorkAnalysis(job.plan.work_id, tuple(new), kept, tuple(rejections), job.kept_segment_files)


def align_work(
    job: WorkJob, analysis: WorkAnalysis, out_dir: Path, embed: Embed | None = None
) -> list[AlignmentRow]:
    """Alignment rows of the work: stored rows of pairs that stay, plus the new pairs and the pairs whose
    corrections changed, aligned now (with their corrections)."""
    kept_ids = {d.doc_id for d in analysis.kept}
    previous = read_rows(out_dir, job.previous_alignment_files)
    rows: list[AlignmentRow] = []
    if previous is not None and kept_ids:
        ids = list(kept_ids)
        keep = pc.and_(pc.and_(pc.is_in(previous["src_doc_id"], value_set=string_array(ids)),
                               pc.is_in(previous["tgt_doc_id"], value_set=string_array(ids))),
                       pc.equal(previous["work_id"], job.plan.work_id))  # a merged file holds other works
        rows = [AlignmentRow.model_validate(r) for r in previous.filter(keep).to_pylist()
                if frozenset((r["src_doc_id"], r["tgt_doc_id"])) not in job.realign]
    for a, b in new_pairs(analysis) + realigned_pairs(job, analysis):
        rows.extend(align_corrected(a, b, job.corrections, embed))
    return rows


def realigned_pairs(job: WorkJob, analysis: WorkAnalysis) -> list[tuple[AnalysedDocument, AnalysedDocument]]:
    """The pairs of kept documents that a change of their corrections aligns again."""
    kept = analysis.kept
    return [(a, b) for i, a in enumerate(kept) for b in kept[i + 1:] if frozenset((a.doc_id, b.doc_id)) in job.realign]


def _alignment_sort_key(row: AlignmentRow) -> tuple[str, str, str, int]:
    return (row.src_doc_id, row.tgt_doc_id, row.level, row.bead)


def write_work(analysis: WorkAnalysis, alignments: Sequence[AlignmentRow], out_dir: Path) -> WorkResult:
    """Write a changed work: segments of its new documents, and its documents, alignments and parallel files."""
    files: dict[str, list[ManifestFile]] = {name: [] for name in (*PER_WORK_TABLES, SEGMENTS.name)}
    documents = analysis.documents
    languages = tuple(sorted({d.document.lang for d in documents}))
    own_files = {entry.path: entry for entry in analysis.kept_segment_files}
    for doc in documents:
        path = segment_file_path(doc.document.lang, doc.doc_id)
        # A kept document keeps its own file; a new one, or one whose rows sit in a merged file, gets one.
        files[SEGMENTS.name].append(own_files.get(path) or write_rows(out_dir, path, SEGMENTS, doc.segment_rows()))
    stem = work_key(analysis.work_id)
    if documents:
        files[DOCUMENTS.name].append(
            write_digest_named(out_dir, DOCUMENTS, stem, [d.document for d in documents])
        )
    if alignments:
        ordered = sorted(alignments, key=_alignment_sort_key)
        files[ALIGNMENTS.name].append(write_digest_named(out_dir, ALIGNMENTS, stem, ordered))
        units = parallel_rows(
            analysis.work_id,
            [WorkDocument(d.doc_id, d.document.lang) for d in documents],
            {d.segment_id(s.ordinal): SegmentText(d.doc_id, s.ordinal, s.text, s.kind)
             for d in documents for s in d.segments},
            ordered,
        )
        files[PARALLEL.name].append(
            write_arrow_digest_named(out_dir, PARALLEL.name, stem, parallel_table(units, languages))
        )
    return WorkResult(
        work_id=analysis.work_id,
        files=files,
        new_documents=tuple(d.document for d in analysis.new),
        rejections=analysis.rejections,
        n_pairs_aligned=len(new_pairs(analysis)),
        languages=languages,
        overview=work_overview([(d.document, [(d.segment_id(s.ordinal), s.kind) for s in d.segments])
                                for d in documents], (row.__dict__ for row in alignments)),
    )


class WorkBatch:
    """Jobs of a batch of works in a plain container that task runners pass along without looking inside."""

    __slots__ = ("jobs",)

    def __init__(self, jobs: list[WorkJob]) -> None:
        self.jobs = jobs


@dataclass(frozen=True)
class BatchResult:
    """What rebuilding a batch of works gives back: small, whatever the size of the works."""

    works: list[WorkResult]
    seconds: dict[str, float]  # per stage, summed over the batch's works


class StageRunner(Protocol):
    """Runs one stage of a batch: ``call()``, as it is or as something an orchestrator can show (a task run)."""

    def __call__(self, stage: str, call: Callable[[], T]) -> T: ...


def run_stage(stage: str, call: Callable[[], T]) -> T:
    """The plain stage runner: ``call()`` as it is."""
    return call()


def rebuild_batch(
    jobs: Sequence[WorkJob], out_dir: Path, max_bytes: int, now: datetime, embed: Embed | None = None,
    rules: BoilerplateRules | None = None, stage: StageRunner = run_stage,
) -> BatchResult:
    """The per-work stages for a batch of works, stage by stage: ingest+langtag+segment -> align -> export.

    Everything a work needs is read and written here, so a worker process receives jobs and sends back
    only file names and counts, never documents or beads.
    """
    seconds: dict[str, float] = {}

    def timed(name: str, call: Callable[[], T]) -> T:
        started = time.perf_counter()
        try:
            return stage(name, call)
        finally:
            seconds[name] = time.perf_counter() - started

    analyses = timed(STAGES[0], lambda: [analyse_work(job, out_dir, max_bytes, now, rules) for job in jobs])
    alignments = timed(STAGES[1], lambda: [align_work(job, analysis, out_dir, embed)
                                           for job, analysis in zip(jobs, analyses, strict=True)])
    works = timed(STAGES[2], lambda: [
        _with_realigned(write_work(analysis, rows, out_dir), job, analysis)
        for job, analysis, rows in zip(jobs, analyses, alignments, strict=True)])
    return BatchResult(works, seconds)


def _with_realigned(result: WorkResult, job: WorkJob, analysis: WorkAnalysis) -> WorkResult:
    """The work's result counting the stored pairs aligned again (their corrections changed) as aligned."""
    return replace(result, n_pairs_aligned=result.n_pairs_aligned + len(realigned_pairs(job, analysis)))


def rebuild_work_batch(
    batch: WorkBatch, out_dir: Path, max_bytes: int, now: datetime, embeddings: bool,
    rules: BoilerplateRules | None = None, stage: StageRunner = run_stage, workers: int = 1,
    embed_progress: Path | None = None,
) -> BatchResult:
    """:func:`rebuild_batch` as an orchestrator submits it, to this process or a worker process: the batch as an
    opaque WorkBatch, and the embedder (when ``embeddings``) of the worker's own process, with its share of the
    cores among ``workers`` and its counts written to a file of the folder ``embed_progress``."""
    from tasks.embeddings import embedder_for

    progress = embed_progress / str(os.getpid()) if embed_progress is not None else None
    embed = embedder_for(out_dir, workers, progress) if embeddings else None
    return rebuild_batch(batch.jobs, out_dir, max_bytes, now, embed, rules, stage)
