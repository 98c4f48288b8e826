"""The output folder: immutable Parquet files, and ``manifest.json`` naming the current snapshot.

Every Parquet file is written once under a name derived from what it holds and is never modified:
a per-document file is named by its ``doc_id``, a per-work file by its work key plus a digest of its
bytes. A build writes new files next to the old ones and then atomically replaces the manifest, so a
reader that follows ``manifest.json`` always sees one complete snapshot, and a build killed at any
moment leaves the previous snapshot intact.

A build deletes only files it can prove are its own (:func:`collect_garbage`):

- every table file is recorded in ``.journal`` before it is created, so the leftovers of a build that was
  killed or ran out of disk are known by name;
- every published manifest is also remembered in ``.snapshots/`` until its files are gone; a file that an
  earlier snapshot named and none of the kept snapshots does is deleted once a new manifest is published.

The files of the last :func:`kept_snapshots` snapshots (the current one and, by default, the one before it)
stay, so that a reader that loaded the previous manifest while a build replaced it can still read every file
it names; a superseded file goes with the next build that publishes a snapshot. A reader that globs a table's
folder therefore sees the superseded files too (their rows twice): readers follow the manifest. A reader that
follows a manifest and still finds a file gone reloads the manifest and reads again
(:func:`reading_the_current_snapshot`).

Anything else in the output folder (a user's file, a folder that happens to be called ``documents``) is
never touched, and the manifest itself is validated (known tables, paths inside their table's folder).

On an object store (an output given as ``s3://...``, see ``tasks.fs``) the same functions read and write objects
instead; there is no rename, append or lock, so publishing, the leftovers of a killed build and garbage collection
follow ``tasks.store.remote`` (numbered manifest versions created by a conditional write).
"""

from __future__ import annotations

import errno
import hashlib
import io
import json
import os
import shutil
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from pydantic import ValidationError

from schemas import SCHEMA_VERSION, TABLES, BoilerplateRules, Manifest, ManifestFile, ManifestTable, Row, Table
from tasks.errors import CorpusError, CorpusFormatError, NoSpaceError
from tasks.files import FILE_MODE as _FILE_MODE
from tasks.files import TEMP_PREFIX as _TEMP_PREFIX
from tasks.files import atomic_binary
from tasks.fs import open_store, store_url
from tasks.store import remote

__all__ = ["CorpusFormatError", "NoSpaceError"]  # with the functions below

T = TypeVar("T")

MANIFEST_NAME = "manifest.json"
KEEP_SNAPSHOTS_VARIABLE = "CORPUS_KEEP_SNAPSHOTS"
DEFAULT_KEEP_SNAPSHOTS = 1  # the current snapshot only: a glob over a table folder reads exactly it
JOURNAL_NAME = ".journal"
SNAPSHOTS_DIR = ".snapshots"


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
    """Serialise ``data`` to Parquet (zstd, statistics on) deterministically: same rows, same bytes.

    A table without rows is written without row groups: Hugging Face ``datasets`` fails on an empty row group."""
    buffer = io.BytesIO()
    if data.num_rows:
        pq.write_table(data, buffer, compression="zstd", write_statistics=True)
    else:
        pq.ParquetWriter(buffer, data.schema, compression="zstd", write_statistics=True).close()
    return buffer.getvalue()


def _size(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 100_000 else f"{max(n, 1) / 1e3:.1f} kB"


def _no_space(out_dir: Path, error: OSError, needed: int) -> NoSpaceError:
    try:
        free = shutil.disk_usage(out_dir).free
    except OSError:
        free = 0
    return NoSpaceError(
        f"no space left on {out_dir}: {_size(needed)} needed for the next file, {_size(free)} free",
        hint="the corpus is unchanged and this build's partial files were removed; free some space and build again",
    )


def write_atomically(out_dir: Path, path: Path, payload: bytes) -> None:
    """Write ``payload`` to ``path`` (inside ``out_dir``) through a temp file, fsync and rename: a reader sees
    the old file or the whole new one. The file gets the user's usual permissions (umask), not mkstemp's 0600.
    A full disk is a :class:`NoSpaceError` with the space needed, the temp file removed. On an object store, one
    PUT (atomic there)."""
    if store_url(out_dir):
        open_store(out_dir).write_bytes(path.relative_to(out_dir).as_posix(), payload)
        return
    try:
        with atomic_binary(path, durable=True) as handle:
            handle.write(payload)
    except OSError as error:
        if error.errno in (errno.ENOSPC, errno.EDQUOT):
            raise _no_space(out_dir, error, len(payload)) from error
        raise


def _journal(out_dir: Path, relative_path: str, size: int) -> None:
    """Record a table file about to be written, so that its leftovers are known to be this corpus' own.

    One short append per file: atomic between the processes of a build (O_APPEND), durable against the death of
    the process (the kernel keeps what was written). An object store has no append: there, what a build wrote
    and did not publish is known by its name and age instead (``tasks.store.remote``)."""
    if store_url(out_dir):
        return
    out_dir.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(out_dir / JOURNAL_NAME, os.O_WRONLY | os.O_APPEND | os.O_CREAT, _FILE_MODE)
        try:
            os.write(fd, (relative_path + "\n").encode("utf-8"))
        finally:
            os.close(fd)
    except OSError as error:
        if error.errno in (errno.ENOSPC, errno.EDQUOT):
            raise _no_space(out_dir, error, size) from error
        raise


def _write_table_file(out_dir: Path, relative_path: str, payload: bytes) -> None:
    if store_url(out_dir):
        open_store(out_dir).put_once(relative_path, payload)
        return
    _journal(out_dir, relative_path, len(payload))
    write_atomically(out_dir, out_dir / relative_path, payload)


def _entry(relative_path: str, payload: bytes, rows: int, members: Sequence[str] = ()) -> ManifestFile:
    return ManifestFile(path=relative_path, rows=rows, members=tuple(members), bytes=len(payload),
                        sha256=hashlib.sha256(payload).hexdigest())


def write_rows(out_dir: Path, relative_path: str, table: Table, rows: Sequence[Row]) -> ManifestFile:
    """Write ``rows`` to ``out_dir/relative_path`` unless an identical file is already there."""
    payload = parquet_bytes(rows_to_table(table, rows))
    target = out_dir / relative_path
    if store_url(out_dir) or not (target.exists() and target.stat().st_size == len(payload)
                                  and target.read_bytes() == payload):
        _write_table_file(out_dir, relative_path, payload)
    return _entry(relative_path, payload, len(rows))


def write_digest_named(out_dir: Path, table: Table, stem: str, rows: Sequence[Row]) -> ManifestFile:
    """Write ``rows`` to ``<table>/<stem>-<digest of the bytes>.parquet``: a new content, a new name."""
    return write_arrow_digest_named(out_dir, table.name, stem, rows_to_table(table, rows))


def write_arrow_digest_named(out_dir: Path, table_name: str, stem: str, data: pa.Table,
                             members: Sequence[str] = ()) -> ManifestFile:
    payload = parquet_bytes(data)
    relative_path = f"{table_name}/{stem}-{hashlib.sha256(payload).hexdigest()[:16]}.parquet"
    target = out_dir / relative_path
    # On a store, one conditional PUT that leaves an object of the same name and size as it is.
    if store_url(out_dir) or not (target.exists() and target.stat().st_size == len(payload)):
        _write_table_file(out_dir, relative_path, payload)
    return _entry(relative_path, payload, data.num_rows, members)


def write_merged(out_dir: Path, folder: str, data: pa.Table, members: Sequence[str]) -> ManifestFile:
    """Write the rows of several works or documents to ``<folder>/merged-<digest>.parquet``."""
    return write_arrow_digest_named(out_dir, folder, MERGED_STEM, data, members)


def segment_file_path(lang: str, doc_id: str) -> str:
    """Where a new document's segments go: one file per document, hive-partitioned by language."""
    return f"segments/lang={lang}/{doc_id}.parquet"


MERGED_STEM = "merged"
LANGUAGES_STEM = "all-languages"  # the parallel table's empty file with a struct field for every corpus language


def file_folder(path: str) -> str:
    """The folder of a table file, relative to the output folder (``segments/lang=sw``, ``documents``)."""
    return path.rsplit("/", 1)[0]


def is_merged(path: str) -> bool:
    """Whether a table file was merged from others by ``corpus compact``."""
    return path.rsplit("/", 1)[1].startswith(MERGED_STEM + "-")


def is_languages_file(path: str) -> bool:
    """Whether a table file is the parallel table's all-languages file (no rows, the corpus' widest schema)."""
    return path.rsplit("/", 1)[1].startswith(LANGUAGES_STEM + "-")


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
        data = read_parquet(out_dir, path)
        merged = len(ids) > 1 or is_merged(path)
        for doc_id in ids:
            yield doc_id, data.filter(pc.equal(data["doc_id"], doc_id)) if merged else data


def read_rows(out_dir: Path, files: Iterable[ManifestFile], columns: Sequence[str] | None = None) -> pa.Table | None:
    """Concatenation of the given Parquet files, in their order (None when there are none).

    Read as one dataset, on several threads: a table of a thousand small files is read twice as fast.
    """
    files = list(files)
    if not files:
        return None
    if len(files) == 1:
        return read_parquet(out_dir, files[0].path, list(columns) if columns else None)
    store = open_store(out_dir) if store_url(out_dir) else None
    paths = [store.path(f.path) if store else str(out_dir / f.path) for f in files]
    filesystem = store.fs if store else None
    import pyarrow.dataset as ds  # here: it imports pandas (~0.3 s), which reading one file does not need

    first = pq.read_schema(paths[0], filesystem=filesystem)
    data = ds.dataset(paths, format="parquet", schema=first, filesystem=filesystem).to_table(
        columns=list(columns) if columns else None)
    return data.replace_schema_metadata(first.metadata) if columns is None else data


def read_parquet(out_dir: Path, relative_path: str, columns: Sequence[str] | None = None) -> pa.Table:
    """One table file of the corpus, from a folder or a store (by ``pq.ParquetFile``: ``pq.read_table`` would import
    pyarrow.dataset, and with it pandas, ~0.4 s)."""
    if store_url(out_dir):
        store = open_store(out_dir)
        return pq.ParquetFile(store.path(relative_path), filesystem=store.fs).read(columns=columns)
    return pq.ParquetFile(out_dir / relative_path).read(columns=columns)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def python_rows(data: pa.Table) -> list[dict[str, Any]]:
    """``data.to_pylist()``, with UTC timestamps made into datetimes here: pyarrow does it through pandas, whose
    import costs more (~0.4 s) than a command that reads a few small tables takes."""
    columns: dict[str, list[Any]] = {}
    for name, column in zip(data.column_names, data.columns, strict=True):
        if pa.types.is_timestamp(column.type) and column.type.unit == "us" and column.type.tz in ("UTC", "+00:00"):
            columns[name] = [None if v is None else _EPOCH + timedelta(microseconds=v)
                             for v in column.cast(pa.int64()).to_pylist()]
        else:
            columns[name] = column.to_pylist()
    return [dict(zip(columns, values, strict=True)) for values in zip(*columns.values(), strict=True)]


def read_table(out_dir: Path, manifest: Manifest | None, table: Table) -> pa.Table:
    """A whole table of the snapshot (empty, with its schema, when there is no snapshot or no file)."""
    files = manifest.tables[table.name].files if manifest and table.name in manifest.tables else []
    data = read_rows(out_dir, files)
    return data if data is not None else table.arrow_schema.empty_table()


def _parse_manifest(path: Path) -> Manifest:
    try:
        return Manifest.model_validate_json(path.read_bytes())
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise CorpusFormatError(
            f"{path} is not a valid manifest ({where + ': ' if where else ''}"
            f"{str(first['msg']).removeprefix('Value error, ')})",
            hint="move the output folder aside and build again",
        ) from error
    except (OSError, ValueError) as error:
        raise CorpusFormatError(f"{path} cannot be read ({error.__class__.__name__}: {error})",
                                hint="move the output folder aside and build again") from error


def load_manifest(out_dir: Path, version: int | None = None) -> Manifest | None:
    """The current snapshot's manifest, or None for a new output folder. On an object store, the latest manifest
    version, or ``version`` (a kept earlier one)."""
    if store_url(out_dir):
        found = remote.load_version(open_store(out_dir), version)
        if found is None:
            return None
        manifest = found[1]
    else:
        if version is not None:
            raise CorpusError(f"{out_dir} is a local folder: it keeps its current snapshot only, with no versions",
                              hint="leave --version out (versions are kept on an object store: s3://, gs://, az://)")
        path = out_dir / MANIFEST_NAME
        if not path.exists():
            return None
        manifest = _parse_manifest(path)
    if manifest.schema_version > SCHEMA_VERSION:
        raise CorpusFormatError(
            f"{out_dir} was written with schema version {manifest.schema_version}, newer than this "
            f"program's {SCHEMA_VERSION}", hint="upgrade parallel-corpus",
        )
    return manifest


def make_manifest(
    build_id: str, files_by_table: dict[str, list[ManifestFile]], languages: Sequence[str] = (),
    rules: BoilerplateRules | None = None,
) -> Manifest:
    tables = {}
    for table in TABLES:
        files = sorted(files_by_table.get(table.name, []), key=lambda f: f.path)
        tables[table.name] = ManifestTable(files=files, rows=sum(f.rows for f in files))
    return Manifest(written_at=datetime.now(UTC), build_id=build_id, tables=tables, languages=list(languages),
                    rules=rules)


def _manifest_payload(manifest: Manifest) -> bytes:
    return (json.dumps(manifest.model_dump(mode="json"), indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def _history_name(manifest: Manifest) -> str:
    return f"{manifest.written_at.strftime('%Y%m%dT%H%M%S%fZ')}-{manifest.build_id}.json"


def _remember(out_dir: Path, manifest: Manifest, payload: bytes | None = None) -> None:
    """Keep a copy of a published manifest in ``.snapshots/``: the proof of which files are this corpus' own."""
    path = out_dir / SNAPSHOTS_DIR / _history_name(manifest)
    if not path.exists():
        write_atomically(out_dir, path, payload if payload is not None else _manifest_payload(manifest))


def write_manifest(out_dir: Path, manifest: Manifest, base: Manifest | None = None) -> None:
    """Publish a snapshot: the manifest is replaced atomically (temp file, fsync, rename), then remembered. On an
    object store, the next manifest version after ``base`` (the snapshot the build started from), created only if
    no other build published meanwhile (``tasks.store.remote``)."""
    payload = _manifest_payload(manifest)  # once: ~0.2 s for the 8,000 files of 1,000 works
    if store_url(out_dir):
        remote.commit(open_store(out_dir), manifest, payload, base)
        return
    write_atomically(out_dir, out_dir / MANIFEST_NAME, payload)
    _remember(out_dir, manifest, payload)


def _history(out_dir: Path) -> list[tuple[Path, Manifest]]:
    """The remembered snapshots, oldest first (a copy that cannot be read proves nothing and is skipped)."""
    folder = out_dir / SNAPSHOTS_DIR
    remembered = []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            remembered.append((path, Manifest.model_validate_json(path.read_bytes())))
        except (OSError, ValueError):
            continue
    return sorted(remembered, key=lambda item: item[1].written_at)


def _journal_entries(out_dir: Path) -> set[str]:
    try:
        lines = (out_dir / JOURNAL_NAME).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return set()
    entries = set()
    for line in lines:
        try:
            entries.add(ManifestFile(path=line, rows=0).path)  # the same path rules as a manifest's
        except ValueError:
            continue
    return entries


def _remove(out_dir: Path, relative: str) -> bool:
    """Remove a table file of this corpus and the temp files of its writes; True if the file was there."""
    path = out_dir / relative
    for temp in path.parent.glob(f"{_TEMP_PREFIX}{path.name}-*") if path.parent.is_dir() else []:
        temp.unlink(missing_ok=True)
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    folder = path.parent
    while folder != out_dir and folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
        folder = folder.parent
    return True


def kept_snapshots() -> int:
    """How many snapshots keep their files: ``CORPUS_KEEP_SNAPSHOTS`` (at least 1: the current one), else 1."""
    value = os.environ.get(KEEP_SNAPSHOTS_VARIABLE, "").strip()
    if not value:
        return DEFAULT_KEEP_SNAPSHOTS
    try:
        keep = int(value)
    except ValueError:
        keep = 0
    if keep < 1:
        raise CorpusError(f"{KEEP_SNAPSHOTS_VARIABLE}={value!r} is not a number of snapshots of 1 or more",
                          hint=f"unset it (default {DEFAULT_KEEP_SNAPSHOTS}: the current snapshot and the one "
                               "before it), or 1 to delete superseded files as soon as a build publishes")
    return keep


def collect_garbage(out_dir: Path, manifest: Manifest | None, keep: int | None = None) -> list[str]:
    """Remove the files this corpus wrote that none of the last ``keep`` snapshots names; return what went.

    ``keep`` (default :func:`kept_snapshots`) counts the current snapshot and the ones published before it, so
    that a reader still reading a previous snapshot finds its files. Only files it can prove are its own are
    candidates: those named by a remembered snapshot (``.snapshots/``) and those in the journal of writes
    (leftovers of an interrupted build). The remembered snapshots older than the kept ones are dropped once
    their files are gone.
    """
    if store_url(out_dir):
        return remote.collect_garbage(open_store(out_dir), keep)
    keep = kept_snapshots() if keep is None else keep
    if keep < 1:
        raise ValueError("keep must be at least 1: the current snapshot")
    if manifest is not None:
        with suppress(NoSpaceError):  # a corpus written before snapshots were remembered; on a full disk, later
            _remember(out_dir, manifest)
    history = _history(out_dir)
    current = _history_name(manifest) if manifest else None
    earlier = [(path, m) for path, m in history if path.name != current]
    kept = earlier[max(0, len(earlier) - (keep - 1)):] if manifest is not None and keep > 1 else []
    needed = {f.path for m in [*([manifest] if manifest else []), *(m for _, m in kept)] for f in m.files()}
    owned = {f.path for _, m in history for f in m.files()} | _journal_entries(out_dir)
    removed = [relative for relative in sorted(owned - needed) if _remove(out_dir, relative)]
    kept_names = {path.name for path, _ in kept} | ({current} if current else set())
    for path, _ in history:
        if path.name not in kept_names:
            path.unlink(missing_ok=True)
    temps = [*out_dir.glob(f"{_TEMP_PREFIX}{MANIFEST_NAME}-*"), *(out_dir / SNAPSHOTS_DIR).glob(f"{_TEMP_PREFIX}*")]
    for temp in temps:
        temp.unlink(missing_ok=True)
        removed.append(temp.relative_to(out_dir).as_posix())
    (out_dir / JOURNAL_NAME).unlink(missing_ok=True)
    return removed


@dataclass(frozen=True, slots=True)
class Damage:
    """A file the manifest names that is not as the manifest says."""

    path: str
    problem: str


def check_files(out_dir: Path, manifest: Manifest, *, deep: bool = False) -> list[Damage]:
    """The files of the snapshot that are missing or damaged: size against the manifest (cheap: one stat per
    file); with ``deep``, also the SHA-256, the row count and the columns of each file."""
    damaged: list[Damage] = []
    schemas = {table.name: table.arrow_schema for table in TABLES}
    store = open_store(out_dir) if store_url(out_dir) else None
    listing = store.listing() if store else {}  # one paged LIST instead of a request per file
    for entry in manifest.files():
        path = out_dir / entry.path
        try:
            if store is not None:
                if entry.path not in listing:
                    raise FileNotFoundError(entry.path)
                size = listing[entry.path].size
            else:
                size = path.stat().st_size
        except FileNotFoundError:
            damaged.append(Damage(entry.path, "missing"))
            continue
        except OSError as error:
            damaged.append(Damage(entry.path, f"cannot be read ({error.strerror})"))
            continue
        if entry.bytes is not None and size != entry.bytes:
            damaged.append(Damage(entry.path, f"{size} bytes where the manifest says {entry.bytes}"))
            continue
        if not deep:
            continue
        try:
            payload = store.read_bytes(entry.path) if store is not None else path.read_bytes()
            if entry.sha256 is not None and hashlib.sha256(payload).hexdigest() != entry.sha256:
                damaged.append(Damage(entry.path, "its content differs from what was written (SHA-256)"))
                continue
            parquet = pq.ParquetFile(io.BytesIO(payload))
        except (OSError, pa.ArrowException) as error:
            damaged.append(Damage(entry.path, f"is not a readable Parquet file ({error})"))
            continue
        if parquet.metadata.num_rows != entry.rows:
            damaged.append(Damage(entry.path, f"{parquet.metadata.num_rows} rows where the manifest says {entry.rows}"))
            continue
        expected = schemas[entry.table].names
        if parquet.schema_arrow.names != expected:
            damaged.append(Damage(entry.path, f"columns {parquet.schema_arrow.names} where the table has {expected}"))
    return damaged


def _build_id(out_dir: Path) -> str | None:
    with suppress(CorpusFormatError):
        manifest = load_manifest(out_dir)
        return manifest.build_id if manifest else None
    return None


def reading_the_current_snapshot(out_dir: Path, read: Callable[[], T]) -> T:
    """``read()`` (which reads the snapshot through the manifest); if a file vanished meanwhile because a build
    replaced the snapshot and removed it, once more. A file the current manifest names that is missing is damage,
    reported as such."""
    before = _build_id(out_dir)
    try:
        return read()
    except FileNotFoundError as error:
        if _build_id(out_dir) != before:
            return read()
        raise CorpusFormatError(f"a file that {out_dir / MANIFEST_NAME} names is missing ({error.filename or error})",
                                hint=_REPAIR_HINT.format(out=out_dir)) from error
    except pa.ArrowInvalid as error:
        raise CorpusFormatError(f"a file that {out_dir / MANIFEST_NAME} names is damaged ({error})",
                                hint=_REPAIR_HINT.format(out=out_dir)) from error


_REPAIR_HINT = "`corpus verify {out}` lists what is damaged; `corpus build` repairs it from the source files"
