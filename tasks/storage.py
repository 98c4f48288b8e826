"""The output folder: immutable Parquet files, and ``manifest.json`` naming the current snapshot.

Every Parquet file is written once under a name derived from what it holds and is never modified:
a per-document file is named by its ``doc_id``, a per-work file by its work key plus a digest of its
bytes. A build writes new files next to the old ones and then atomically replaces the manifest, so a
reader that follows ``manifest.json`` always sees one complete snapshot, and a build killed at any
moment leaves the previous snapshot intact. Files that no manifest names are leftovers of an
interrupted build (or of the snapshot just replaced) and are removed by :func:`collect_garbage`.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from schemas import SCHEMA_VERSION, TABLES, Manifest, ManifestFile, ManifestTable, Row, Table

MANIFEST_NAME = "manifest.json"
_TEMP_PREFIX = ".tmp-"


class CorpusFormatError(Exception):
    """The output folder holds something this version cannot read (a newer schema, a broken manifest)."""


def work_key(work_id: str) -> str:
    """A file-name-safe key for a work id (work ids are arbitrary relative paths)."""
    return "w" + hashlib.sha256(work_id.encode("utf-8")).hexdigest()[:12]


def rows_to_table(table: Table, rows: Sequence[Row] | Sequence[dict[str, Any]]) -> pa.Table:
    """Arrow table of ``rows`` with the table's schema (columns checked against the row model)."""
    schema = table.arrow_schema
    columns: dict[str, list[Any]] = {name: [] for name in schema.names}
    for row in rows:
        values = row if isinstance(row, dict) else row.__dict__
        for name in schema.names:
            columns[name].append(values[name])
    return pa.table(columns, schema=schema)


def parquet_bytes(data: pa.Table) -> bytes:
    """Serialise ``data`` to Parquet (zstd, statistics on) deterministically: same rows, same bytes."""
    buffer = io.BytesIO()
    pq.write_table(data, buffer, compression="zstd", write_statistics=True)
    return buffer.getvalue()


def _write_atomically(path: Path, payload: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp_name = tempfile.mkstemp(prefix=_TEMP_PREFIX, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise


def write_rows(out_dir: Path, relative_path: str, table: Table, rows: Sequence[Row]) -> ManifestFile:
    """Write ``rows`` to ``out_dir/relative_path`` unless an identical file is already there."""
    payload = parquet_bytes(rows_to_table(table, rows))
    target = out_dir / relative_path
    if not (target.exists() and target.stat().st_size == len(payload) and target.read_bytes() == payload):
        _write_atomically(target, payload)
    return ManifestFile(path=relative_path, rows=len(rows))


def write_digest_named(out_dir: Path, table: Table, stem: str, rows: Sequence[Row]) -> ManifestFile:
    """Write ``rows`` to ``<table>/<stem>-<digest of the bytes>.parquet``: a new content, a new name."""
    return write_arrow_digest_named(out_dir, table.name, stem, rows_to_table(table, rows))


def write_arrow_digest_named(out_dir: Path, table_name: str, stem: str, data: pa.Table) -> ManifestFile:
    payload = parquet_bytes(data)
    digest = hashlib.sha256(payload).hexdigest()[:16]
    relative_path = f"{table_name}/{stem}-{digest}.parquet"
    target = out_dir / relative_path
    if not target.exists():
        _write_atomically(target, payload)
    return ManifestFile(path=relative_path, rows=data.num_rows)


def write_merged(out_dir: Path, folder: str, data: pa.Table, members: Sequence[str]) -> ManifestFile:
    """Write the rows of several works or documents to ``<folder>/merged-<digest>.parquet``."""
    entry = write_arrow_digest_named(out_dir, folder, MERGED_STEM, data)
    return ManifestFile(path=entry.path, rows=entry.rows, members=tuple(members))


def segment_file_path(lang: str, doc_id: str) -> str:
    """Where a new document's segments go: one file per document, hive-partitioned by language."""
    return f"segments/lang={lang}/{doc_id}.parquet"


MERGED_STEM = "merged"


def file_folder(path: str) -> str:
    """The folder of a table file, relative to the output folder (``segments/lang=sw``, ``documents``)."""
    return path.rsplit("/", 1)[0]


def is_merged(path: str) -> bool:
    """Whether a table file was merged from others by ``corpus compact``."""
    return path.rsplit("/", 1)[1].startswith(MERGED_STEM + "-")


def file_members(entry: ManifestFile) -> tuple[str, ...]:
    """Whose rows a table file holds: a merged file's members, else the work key or doc id in its name."""
    if entry.members:
        return entry.members
    name = entry.path.rsplit("/", 1)[1].removesuffix(".parquet")
    return (name if entry.path.startswith("segments/") else name.split("-", 1)[0],)


def segment_locations(manifest: Manifest | None) -> dict[str, str]:
    """The file holding each stored document's segments (its own, or one merged by ``corpus compact``)."""
    if manifest is None or "segments" not in manifest.tables:
        return {}
    return {doc_id: f.path for f in manifest.tables["segments"].files for doc_id in file_members(f)}


def read_segment_tables(out_dir: Path, locations: Mapping[str, str], doc_ids: Iterable[str]
                        ) -> Iterator[tuple[str, pa.Table]]:
    """The segment rows of each document, file by file: each file is read once (a merged file holds many
    documents) and only one file's rows are held at a time."""
    wanted: dict[str, list[str]] = {}
    for doc_id in doc_ids:
        wanted.setdefault(locations[doc_id], []).append(doc_id)
    for path, ids in wanted.items():
        data = pq.read_table(out_dir / path)
        merged = len(ids) > 1 or is_merged(path)
        for doc_id in ids:
            yield doc_id, data.filter(pc.equal(data["doc_id"], doc_id)) if merged else data


def read_rows(out_dir: Path, files: Iterable[ManifestFile], columns: Sequence[str] | None = None) -> pa.Table | None:
    """Concatenation of the given Parquet files, in their order (None when there are none).

    Read as one dataset, on several threads: a table of a thousand small files is read twice as fast.
    """
    paths = [str(out_dir / f.path) for f in files]
    if not paths:
        return None
    if len(paths) == 1:
        return pq.read_table(paths[0], columns=list(columns) if columns else None)
    first = pq.read_schema(paths[0])
    data = ds.dataset(paths, format="parquet", schema=first).to_table(columns=list(columns) if columns else None)
    return data.replace_schema_metadata(first.metadata) if columns is None else data


def read_table(out_dir: Path, manifest: Manifest | None, table: Table) -> pa.Table:
    """A whole table of the snapshot (empty, with its schema, when there is no snapshot or no file)."""
    files = manifest.tables[table.name].files if manifest and table.name in manifest.tables else []
    data = read_rows(out_dir, files)
    return data if data is not None else table.arrow_schema.empty_table()


def load_manifest(out_dir: Path) -> Manifest | None:
    """The current snapshot's manifest, or None for a new output folder."""
    path = out_dir / MANIFEST_NAME
    if not path.exists():
        return None
    try:
        manifest = Manifest.model_validate_json(path.read_bytes())
    except ValueError as error:
        raise CorpusFormatError(
            f"{path} is not a valid manifest ({error.__class__.__name__}); "
            "move the output folder aside and build again"
        ) from error
    if manifest.schema_version > SCHEMA_VERSION:
        raise CorpusFormatError(
            f"{out_dir} was written with schema version {manifest.schema_version}, newer than this "
            f"program's {SCHEMA_VERSION}; upgrade parallel-corpus"
        )
    return manifest


def make_manifest(
    build_id: str, files_by_table: dict[str, list[ManifestFile]], languages: Sequence[str] = ()
) -> Manifest:
    tables = {}
    for table in TABLES:
        files = sorted(files_by_table.get(table.name, []), key=lambda f: f.path)
        tables[table.name] = ManifestTable(files=files, rows=sum(f.rows for f in files))
    for name, files in files_by_table.items():
        if name not in tables:
            files = sorted(files, key=lambda f: f.path)
            tables[name] = ManifestTable(files=files, rows=sum(f.rows for f in files))
    return Manifest(written_at=datetime.now(UTC), build_id=build_id, tables=tables, languages=list(languages))


def write_manifest(out_dir: Path, manifest: Manifest) -> None:
    """Publish a snapshot: the manifest is replaced atomically (temp file, fsync, rename)."""
    payload = json.dumps(manifest.model_dump(mode="json"), indent=2, ensure_ascii=False) + "\n"
    _write_atomically(out_dir / MANIFEST_NAME, payload.encode("utf-8"))


def collect_garbage(out_dir: Path, manifest: Manifest | None) -> list[str]:
    """Remove table files no manifest names and temp files of interrupted writes; return what went."""
    keep = {f.path for t in (manifest.tables.values() if manifest else []) for f in t.files}
    removed: list[str] = []
    for table_name in {t.name for t in TABLES} | set(manifest.tables if manifest else ()):
        table_dir = out_dir / table_name
        if not table_dir.is_dir():
            continue
        for path in sorted(table_dir.rglob("*")):
            if not path.is_file():
                continue
            relative = PurePosixPath(path.relative_to(out_dir)).as_posix()
            if relative not in keep:
                path.unlink(missing_ok=True)
                removed.append(relative)
        for directory in sorted((p for p in table_dir.rglob("*") if p.is_dir()), reverse=True):
            if not any(directory.iterdir()):
                directory.rmdir()
    for temp in out_dir.glob(_TEMP_PREFIX + "*"):
        temp.unlink(missing_ok=True)
        removed.append(temp.name)
    return removed
