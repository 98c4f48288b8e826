"""What the corpus holds and what is pending, without building anything."""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path

import pyarrow.compute as pc
from pydantic import BaseModel

from schemas import ALIGNMENTS, REJECTS, DocumentRow, DocumentStatsRow
from tasks.fs import is_remote
from tasks.store.overview import read_overview
from tasks.store.plan import plan_build, take_inventory
from tasks.store.snapshot import load_snapshot
from tasks.store.storage import load_manifest, python_rows, read_table

UNCERTAIN_WORK = 0.6  # automatic work assignments less sure than this are listed for a person to check


class WorkStatus(BaseModel):
    work_id: str
    documents: dict[str, str]  # source_path -> lang
    titles: dict[str, str] = {}  # source_path -> title ('' if none was found)
    pairs_aligned: int
    pairs_expected: int


class PendingWork(BaseModel):
    new: list[str]
    changed: list[str]
    missing: list[str]


class UncertainWork(BaseModel):
    source_path: str
    work_id: str
    confidence: float


class CorpusStatus(BaseModel):
    out: str
    built: bool
    works: list[WorkStatus]
    uncertain_works: list[UncertainWork]  # automatic assignments to check (fix them with a works file)
    rejects: dict[str, str]  # source_path -> reason
    pending: PendingWork | None  # None when no input folder was given


def corpus_status(out_dir: Path, source: Path | None = None, glob: str = "**/*.txt",
                  max_bytes: int = 50 * 1024 * 1024, *, from_tables: bool = False) -> CorpusStatus:
    """The works and documents of the corpus in ``out_dir`` (from its stats tables, or from the tables when
    ``from_tables`` or when the snapshot has no stats for some works), its rejects, and with ``source`` what a
    build would do."""
    manifest = load_manifest(out_dir) if is_remote(out_dir) or out_dir.exists() else None
    overview = None if manifest is None or from_tables else read_overview(out_dir, manifest)
    snapshot = load_snapshot(out_dir, manifest) if overview is None or source is not None else None
    if overview is not None:
        documents_data, pairs = overview
        documents: list[DocumentStatsRow | DocumentRow] = [
            DocumentStatsRow.model_validate(row) for row in python_rows(documents_data)]
        aligned = Counter(w for w, beads in zip(pairs["work_id"].to_pylist(), pairs["beads"].to_pylist(), strict=True)
                          if beads)
    else:
        assert snapshot is not None
        documents = [*snapshot.documents.values()]
        alignments = read_table(out_dir, manifest, ALIGNMENTS).select(["work_id", "src_doc_id", "tgt_doc_id", "level"])
        alignments = alignments.filter(pc.equal(alignments["level"], "segment"))
        aligned_pairs: dict[str, set[tuple[str, str]]] = defaultdict(set)
        for row in alignments.to_pylist():
            aligned_pairs[row["work_id"]].add((row["src_doc_id"], row["tgt_doc_id"]))
        aligned = Counter({w: len(p) for w, p in aligned_pairs.items()})
    by_work: dict[str, dict[str, str]] = defaultdict(dict)
    titles: dict[str, dict[str, str]] = defaultdict(dict)
    for d in documents:
        by_work[d.work_id][d.source_path] = d.lang
        titles[d.work_id][d.source_path] = d.title
    works = [
        WorkStatus(work_id=w, documents=dict(sorted(docs.items())), titles=dict(sorted(titles[w].items())),
                   pairs_aligned=aligned[w], pairs_expected=len(docs) * (len(docs) - 1) // 2)
        for w, docs in sorted(by_work.items())
    ]
    pending = None
    if source is not None:
        assert snapshot is not None
        inventory = take_inventory(source, glob, max_bytes)
        plan = plan_build(inventory.fingerprints, inventory.rejections, snapshot.stored_documents(),
                          snapshot.stored_rejects(), prune=False)
        stored_paths = {d.source_path for d in snapshot.documents.values()}
        to_ingest = [fp.file.source_path for w in plan.works for fp in w.to_ingest]
        pending = PendingWork(
            new=sorted(p for p in to_ingest if p not in stored_paths),
            changed=sorted(p for p in to_ingest if p in stored_paths),
            missing=list(plan.missing),
        )
    rejects = read_table(out_dir, manifest, REJECTS).select(["source_path", "reason"]).to_pylist()
    uncertain = [
        UncertainWork(source_path=d.source_path, work_id=d.work_id, confidence=d.work_confidence)
        for d in sorted(documents, key=lambda d: d.source_path)
        if d.work_assigned_by == "auto" and d.work_confidence < UNCERTAIN_WORK
    ]
    return CorpusStatus(out=str(out_dir), built=manifest is not None, works=works, uncertain_works=uncertain,
                        rejects={r["source_path"]: r["reason"] for r in rejects}, pending=pending)
