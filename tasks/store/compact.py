"""Compaction: merge the corpus' many small Parquet files into few large ones, for readers that want that.

A build writes one file per work (documents, alignments, parallel) and one per document (segments), so that
adding a translation writes a few new files and never rewrites a table. Readers scanning the whole corpus
prefer fewer, larger files. ``compact_corpus`` merges the files of each table (of each language, for
segments) into files of up to ``max_rows`` rows, named ``merged-<digest>.parquet``; the manifest lists, for
each merged file, the works or documents it holds (``members``), so later builds still find a work's rows.
When a later build changes a work held by a merged file, that one merged file is written again without the
work's rows, and the work gets files of its own again. A merged parallel file's structs have a field for each
language of the works it holds; the parallel table's all-languages file (no rows) is kept as it is.

Like a build, compaction writes new files first, then replaces manifest.json atomically, then removes the
files the manifest no longer names: a reader following the manifest sees the same rows before and after.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from schemas import PARALLEL, SEGMENTS, Manifest, ManifestFile
from tasks.parallel import struct_languages, widen_parallel
from tasks.store.storage import (
    CorpusFormatError,
    collect_garbage,
    file_folder,
    file_members,
    is_languages_file,
    load_manifest,
    make_manifest,
    read_parquet,
    read_rows,
    write_manifest,
    write_merged,
)

DEFAULT_MAX_ROWS = 1_000_000


@dataclass(frozen=True, slots=True)
class Compaction:
    """Files per table before and after."""

    files_before: dict[str, int]
    files_after: dict[str, int]

    @property
    def changed(self) -> bool:
        return self.files_before != self.files_after


def _chunks(files: Sequence[ManifestFile], max_rows: int) -> list[list[ManifestFile]]:
    """Consecutive runs of files of up to ``max_rows`` rows together (a larger file is a run of its own)."""
    chunks: list[list[ManifestFile]] = []
    rows = 0
    for entry in files:
        if not chunks or rows + entry.rows > max_rows:
            chunks.append([])
            rows = 0
        chunks[-1].append(entry)
        rows += entry.rows
    return chunks


def _read_parallel(out_dir: Path, files: Sequence[ManifestFile]) -> pa.Table:
    """Parallel files of works with different languages as one table, its structs with a field for each."""
    tables = [read_parquet(out_dir, f.path) for f in files]
    languages = sorted({lang for t in tables for lang in struct_languages(t.schema)})
    return pa.concat_tables([widen_parallel(t, languages) for t in tables])


def merge_files(out_dir: Path, files: Sequence[ManifestFile], max_rows: int) -> list[ManifestFile]:
    """The files of one table folder merged into as few files of up to ``max_rows`` rows as the order allows.

    A run that is already a single file is kept as it is, so compacting a compacted corpus writes nothing.
    """
    merged = [f for f in files if is_languages_file(f.path)]
    for chunk in _chunks(sorted((f for f in files if not is_languages_file(f.path)), key=lambda f: f.path), max_rows):
        if len(chunk) == 1:
            merged.append(chunk[0])
            continue
        data = _read_parallel(out_dir, chunk) if chunk[0].table == PARALLEL.name else read_rows(out_dir, chunk)
        assert data is not None
        members = [m for f in chunk for m in file_members(f)]
        merged.append(write_merged(out_dir, file_folder(chunk[0].path), data, members))
    return merged


def compact_corpus(out_dir: Path, build_id: str, max_rows: int = DEFAULT_MAX_ROWS) -> Compaction:
    """Merge the small files of every table of the corpus in ``out_dir`` (call it holding the corpus lock)."""
    if max_rows < 1:
        raise ValueError("max_rows must be at least 1")
    manifest = load_manifest(out_dir)
    if manifest is None:
        raise CorpusFormatError(f"{out_dir} holds no corpus (no manifest.json): build one first")
    files: dict[str, list[ManifestFile]] = {}
    for name, table in manifest.tables.items():
        by_folder: defaultdict[str, list[ManifestFile]] = defaultdict(list)
        for entry in table.files:
            by_folder[file_folder(entry.path) if name == SEGMENTS.name else name].append(entry)
        files[name] = [f for folder in sorted(by_folder) for f in merge_files(out_dir, by_folder[folder], max_rows)]
    before = _file_counts(manifest)
    compacted = make_manifest(build_id, files, manifest.languages, manifest.rules)
    after = _file_counts(compacted)
    if after != before:
        write_manifest(out_dir, compacted, base=manifest)
        collect_garbage(out_dir, compacted)
    return Compaction(before, after)


def _file_counts(manifest: Manifest) -> dict[str, int]:
    return {name: len(table.files) for name, table in sorted(manifest.tables.items())}
