"""The stored snapshot: read the output folder's current one, publish the next.

Layout under the output folder (each file immutable, see ``tasks.store.storage``):

- ``documents/<work key>-<digest>.parquet``: one file per work.
- ``segments/lang=<lang>/<doc_id>.parquet``: one file per document.
- ``alignments/<work key>-<digest>.parquet``: one file per work, every pair of its documents.
- ``parallel/<work key>-<digest>.parquet``: one file per work, its structs with a field per language of the
  work; and ``parallel/all-languages-<digest>.parquet``, no rows, a field per language of the corpus.
- ``rejects/rejects-<digest>.parquet``: one file.
- ``manifest.json``: the files of the current snapshot and their row counts.

A build rewrites only the per-work files of the works that changed and adds one segments file per
new document; everything else in the new manifest is carried over from the previous one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from schemas import (
    ALIGNMENTS,
    DOCUMENT_STATS,
    DOCUMENTS,
    PARALLEL,
    REJECTS,
    SEGMENTS,
    TABLES,
    BoilerplateRules,
    Correction,
    DocumentRow,
    Manifest,
    ManifestFile,
    ManifestTable,
    RejectRow,
)
from tasks.ingest import Rejection
from tasks.store.overview import NO_OVERVIEW, WorkOverview, covers, overview_files
from tasks.store.plan import StoredDocument, StoredReject
from tasks.store.storage import (
    LANGUAGES_STEM,
    Damage,
    check_files,
    collect_garbage,
    file_folder,
    file_members,
    is_languages_file,
    make_manifest,
    python_rows,
    read_parquet,
    read_rows,
    work_key,
    write_arrow_digest_named,
    write_digest_named,
    write_manifest,
    write_merged,
)

PER_WORK_TABLES = (DOCUMENTS.name, ALIGNMENTS.name, PARALLEL.name)


TABLE_BY_NAME = {table.name: table for table in TABLES}


@dataclass(frozen=True)
class Snapshot:
    """The stored corpus as a build needs it: manifest, documents and rejects.

    Files the manifest names that are missing or damaged are left out of it (``damaged``), and so are the works
    they held rows of: those works' documents are not among ``documents``, so a build ingests their source files
    again and writes the works anew.
    """

    manifest: Manifest | None
    documents: dict[str, DocumentRow]  # by doc_id
    rejects: tuple[RejectRow, ...]
    damaged: tuple[Damage, ...] = field(default=())
    lost_works: frozenset[str] = field(default=frozenset())  # work keys whose rows are dropped with ``damaged``
    lost_documents: tuple[DocumentRow, ...] = field(default=())  # the readable documents of those works

    def repairs(self, current_paths: set[str]) -> list[str]:
        """What a build repairs: each damaged file, and each document of a lost work that cannot be re-derived."""
        return [f"{d.path}: {d.problem}" for d in self.damaged] + [
            f"{d.source_path}: lost (its rows were in a damaged file and its source file is gone)"
            for d in self.lost_documents if d.source_path not in current_paths
        ]

    def stored_documents(self) -> list[StoredDocument]:
        return [
            StoredDocument(d.doc_id, d.work_id, d.source_path, d.content_sha256, d.lang)
            for d in self.documents.values()
        ]

    def stored_rejects(self) -> list[StoredReject]:
        return [StoredReject(r.source_path, r.reason, r.content_sha256) for r in self.rejects]

    def files(self, table: str) -> list[ManifestFile]:
        if self.manifest is None or table not in self.manifest.tables:
            return []
        return list(self.manifest.tables[table].files)

    def work_files(self, table: str, work_id: str) -> list[ManifestFile]:
        """The files holding a work's rows of a per-work table (a merged file holds other works' rows too)."""
        key = work_key(work_id)
        return [f for f in self.files(table) if key in file_members(f)]

    def segment_files(self) -> dict[str, ManifestFile]:
        """The file holding each stored document's segments (its own, or one merged by ``corpus compact``)."""
        return {doc_id: f for f in self.files(SEGMENTS.name) for doc_id in file_members(f)}


def _readable_documents(out_dir: Path, files: Sequence[ManifestFile]) -> tuple[list[DocumentRow], list[Damage]]:
    """The rows of the documents files; a file that cannot be read is damage, not a crash."""
    try:
        data = read_rows(out_dir, files)
        return [DocumentRow.model_validate(row) for row in python_rows(data)] if data is not None else [], []
    except (OSError, pa.ArrowException):
        pass
    rows: list[DocumentRow] = []
    damaged: list[Damage] = []
    for entry in files:  # one by one, to tell which file is damaged
        try:
            rows += [DocumentRow.model_validate(row) for row in python_rows(read_parquet(out_dir, entry.path))]
        except (OSError, pa.ArrowException) as error:
            damaged.append(Damage(entry.path, f"is not a readable Parquet file ({error})"))
    return rows, damaged


def _documents_from_overview(out_dir: Path, manifest: Manifest) -> list[DocumentRow] | None:
    """The documents table's rows as the document stats file holds them (all in one file: a build reads one file
    instead of one per work), or None when the snapshot has no such file for every work or it cannot be read."""
    table = manifest.tables.get(DOCUMENT_STATS.name)
    if table is None or not table.files:
        return None
    try:
        data = read_rows(out_dir, table.files, DOCUMENTS.columns)
    except (OSError, pa.ArrowException):
        return None
    if data is None or not covers(manifest, data):
        return None
    return [DocumentRow.model_validate(row) for row in python_rows(data)]


def load_snapshot(out_dir: Path, manifest: Manifest | None) -> Snapshot:
    """The snapshot ``manifest`` names: its documents (from the document stats file when it covers every work and
    nothing is damaged, else from the documents table) and rejects, and what is damaged."""
    if manifest is None:
        return Snapshot(None, {}, ())
    damaged = check_files(out_dir, manifest)
    bad = {d.path for d in damaged}
    summarised = None if damaged else _documents_from_overview(out_dir, manifest)
    documents, unreadable = (summarised, []) if summarised is not None else _readable_documents(
        out_dir, [f for f in manifest.tables[DOCUMENTS.name].files if f.path not in bad]
    )
    damaged += unreadable
    bad |= {d.path for d in unreadable}
    lost = {key for f in manifest.files() if f.path in bad and f.table in PER_WORK_TABLES for key in file_members(f)}
    lost_docs = {doc_id for f in manifest.files() if f.path in bad and f.table == SEGMENTS.name
                 for doc_id in file_members(f)}
    lost |= {work_key(d.work_id) for d in documents if d.doc_id in lost_docs}
    kept_documents = {d.doc_id: d for d in documents if work_key(d.work_id) not in lost}
    lost_documents = tuple(d for d in documents if work_key(d.work_id) in lost)
    rejects: tuple[RejectRow, ...] = ()
    reject_files = [f for f in manifest.tables[REJECTS.name].files if f.path not in bad]
    try:
        data = read_rows(out_dir, reject_files)
        rejects = tuple(RejectRow.model_validate(row) for row in python_rows(data)) if data is not None else ()
    except (OSError, pa.ArrowException) as error:  # re-derived: the rejected files are looked at again
        damaged += [Damage(f.path, f"is not a readable Parquet file ({error})") for f in reject_files]
        bad |= {f.path for f in reject_files}
    if bad:
        manifest = _without_files(manifest, bad, set(kept_documents))
    return Snapshot(manifest, kept_documents, rejects, tuple(damaged), frozenset(lost), lost_documents)


def _without_files(manifest: Manifest, bad: set[str], doc_ids: set[str]) -> Manifest:
    """The manifest without damaged files and without segment files of documents no longer stored."""
    tables = {}
    for name, table in manifest.tables.items():
        files = [f for f in table.files if f.path not in bad
                 and (name != SEGMENTS.name or doc_ids.intersection(file_members(f)))]
        tables[name] = ManifestTable(files=files, rows=sum(f.rows for f in files))
    return manifest.model_copy(update={"tables": tables})


def string_array(values: Sequence[str]) -> pa.Array:
    return pa.array(values, type=pa.string())


@dataclass(frozen=True)
class WorkResult:
    """What a rebuilt work contributes to the new snapshot, and what happened to it."""

    work_id: str
    files: dict[str, list[ManifestFile]]
    new_documents: tuple[DocumentRow, ...]
    rejections: tuple[Rejection, ...]
    n_pairs_aligned: int
    languages: tuple[str, ...]  # of all the work's documents: the fields of its parallel file's structs
    overview: WorkOverview = NO_OVERVIEW  # its rows of the stats tables


def _without(out_dir: Path, files: Sequence[ManifestFile], members: set[str]) -> list[ManifestFile]:
    """The table's files without the rows of the given works (work keys) or documents (doc ids): their own files
    are left out, and a merged file that holds some of them is written again without their rows. Placeholder
    files of an empty table and the parallel table's all-languages file are left out too (they are written
    again, under the same name when nothing they depend on changed)."""
    kept: list[ManifestFile] = []
    for entry in files:
        held = file_members(entry)
        if held == (EMPTY_STEM,) or is_languages_file(entry.path):
            continue
        if not members.intersection(held):
            kept.append(entry)
        elif len(held) > 1:
            remaining = tuple(m for m in held if m not in members)
            if remaining:
                data = read_parquet(out_dir, entry.path)
                if entry.table == SEGMENTS.name:
                    gone = pc.is_in(data["doc_id"], value_set=string_array(sorted(members)))
                else:
                    works = data["work_id"].unique().to_pylist()
                    gone = pc.is_in(data["work_id"],
                                    value_set=string_array([w for w in works if work_key(w) in members]))
                kept.append(write_merged(out_dir, file_folder(entry.path), data.filter(pc.invert(gone)), remaining))
    return kept


EMPTY_STEM = "empty"


def _placeholder(out_dir: Path, table_name: str) -> ManifestFile:
    """An empty file with the table's schema, so that a reader's glob over the table's folder finds one."""
    empty = TABLE_BY_NAME[table_name].arrow_schema.empty_table()
    return write_arrow_digest_named(out_dir, table_name, EMPTY_STEM, empty)


def write_languages_file(out_dir: Path, languages: Sequence[str]) -> ManifestFile:
    """The parallel table's all-languages file: no rows, its structs with a field for every language of the corpus.

    Each work's parallel file has fields for its own languages only, so a language that appears in one work
    rewrites no other work's file; only this empty file gets a new name. Its name sorts first in the folder, and
    readers that take the schema of the first file (DuckDB, pyarrow datasets, pandas; polars when told to insert
    missing struct fields) read the other files into it, with nulls for the languages a work lacks. Hugging Face
    ``datasets`` takes its features from it but cannot add the missing fields: it reads the table pyarrow read.
    """
    return write_arrow_digest_named(out_dir, PARALLEL.name, LANGUAGES_STEM,
                                    PARALLEL.arrow_schema_for(languages).empty_table())


def reject_rows(
    rejections: Iterable[Rejection], reused: Iterable[StoredReject], previous: Sequence[RejectRow], now: datetime
) -> list[RejectRow]:
    """The rejects table of the new snapshot; a reject seen before keeps its first ``seen_at``."""
    before = {(r.source_path, r.reason, r.content_sha256): r for r in previous}
    rows = [before[(r.source_path, r.reason, r.content_sha256)] for r in reused
            if (r.source_path, r.reason, r.content_sha256) in before]
    for rejection in rejections:
        key = (rejection.source_path, rejection.reason, rejection.content_sha256)
        old = before.get(key)
        rows.append(
            old if old is not None and old.message == rejection.message
            else RejectRow(source_path=rejection.source_path, reason=rejection.reason,
                           message=rejection.message, content_sha256=rejection.content_sha256, seen_at=now)
        )
    return sorted(rows, key=lambda r: (r.source_path, r.reason))


def publish_snapshot(
    out_dir: Path,
    snapshot: Snapshot,
    build_id: str,
    results: Sequence[WorkResult],
    rejects: Sequence[RejectRow],
    rules: BoilerplateRules | None = None,
    corrections: tuple[Correction, ...] = (),
) -> Manifest:
    """Write the new manifest (carrying over unchanged works' files) and remove what it no longer names."""
    rebuilt = {r.work_id for r in results}
    rebuilt_keys = {work_key(w) for w in rebuilt} | snapshot.lost_works
    rebuilt_doc_ids = {d.doc_id for d in snapshot.documents.values() if d.work_id in rebuilt}
    files: dict[str, list[ManifestFile]] = {}
    for table in PER_WORK_TABLES:
        files[table] = _without(out_dir, snapshot.files(table), rebuilt_keys)
    files[SEGMENTS.name] = _without(out_dir, snapshot.files(SEGMENTS.name), rebuilt_doc_ids)
    for result in results:
        for table, table_files in result.files.items():
            files[table].extend(table_files)
    languages = sorted(
        {d.lang for d in snapshot.documents.values() if d.work_id not in rebuilt}
        | {lang for r in results for lang in r.languages}
    )
    if languages:  # (Parquet cannot hold a struct without fields: a corpus with no document has no parallel file)
        files[PARALLEL.name].append(write_languages_file(out_dir, languages))
    files[REJECTS.name] = [write_digest_named(out_dir, REJECTS, "rejects", rejects)]  # empty: still a file
    for table in (DOCUMENTS.name, ALIGNMENTS.name):
        if not files[table]:
            files[table] = [_placeholder(out_dir, table)]
    files.update(overview_files(out_dir, snapshot.manifest, list(snapshot.documents.values()), rebuilt,
                                [r.overview for r in results]))
    manifest = make_manifest(build_id, files, languages, rules).model_copy(update={"corrections": corrections})
    write_manifest(out_dir, manifest, base=snapshot.manifest)
    collect_garbage(out_dir, manifest)
    return manifest
