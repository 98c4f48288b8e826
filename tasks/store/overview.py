"""The corpus' counts per document and per document pair (``document_stats/``, ``pair_stats/``).

``corpus stats`` and ``corpus status`` need, per document, its row and its segments by kind, and per document pair
its segment beads and coverage; computing that from the tables means reading every work's files (~7,000 small
files for 1,000 works x 5 languages, ~10 s of CPU). A build computes these rows for the works it rebuilds, where
their documents, segments and beads are in memory (``work_overview``, in the worker), and publishes them as one
file per table (``overview_files``): the rows of unchanged works are carried over from the previous file as Arrow
columns, the rebuilt works' rows replace theirs. That file is rewritten by every publishing build; it holds a
row per document (every column of ``documents/``: 263 kB for 5,000 documents) and one per pair (191 kB for
10,000), so rewriting it costs milliseconds, where the tables it summarises are never rewritten. A build also plans
from ``document_stats/`` (``tasks.store.snapshot.load_snapshot``): one file instead of one per work.

A corpus built before these tables existed (or whose stats file is damaged or lost) lacks rows of some works: the
next publishing build derives them from the stored tables (reading those works' files once), and until then the
readers compute the statistics from the tables themselves (``covers``, ``read_overview``).
"""

from __future__ import annotations

import errno
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from schemas import (
    ALIGNMENTS,
    DOCUMENT_STATS,
    DOCUMENTS,
    PAIR_STATS,
    SEGMENTS,
    DocumentRow,
    DocumentStatsRow,
    Manifest,
    ManifestFile,
    PairStatsRow,
    Row,
    Table,
)
from tasks.store.storage import (
    check_files,
    file_members,
    read_rows,
    rows_to_table,
    work_key,
    write_arrow_digest_named,
)

BOILERPLATE = "boilerplate"  # the segment kind that is not content: coverage counts the other kinds


@dataclass(frozen=True, slots=True)
class WorkOverview:
    """The stats rows of one work."""

    documents: tuple[DocumentStatsRow, ...]
    pairs: tuple[PairStatsRow, ...]


NO_OVERVIEW = WorkOverview((), ())


def document_stats_row(document: DocumentRow, kinds: Iterable[str]) -> DocumentStatsRow:
    counts = Counter(kinds)
    return DocumentStatsRow(
        **document.__dict__, n_title=counts["title"], n_heading=counts["heading"], n_paragraph=counts["paragraph"],
        n_list_item=counts["list_item"], n_boilerplate=counts[BOILERPLATE],
    )


def pair_stats_rows(alignments: Iterable[Mapping[str, Any]], content_ids: set[str]) -> list[PairStatsRow]:
    """Per document pair of the alignment rows: its segment beads, the content segment ids in them (and of those,
    the ones in a bead with the other side), and the sum of the beads' scores."""
    pairs: dict[tuple[str, str], dict[str, Any]] = {}
    for row in alignments:
        key = (row["src_doc_id"], row["tgt_doc_id"])
        pair = pairs.setdefault(key, {
            "work_id": row["work_id"], "src_doc_id": key[0], "tgt_doc_id": key[1], "src_lang": row["src_lang"],
            "tgt_lang": row["tgt_lang"], "beads": 0, "src_content": 0, "src_aligned": 0, "tgt_content": 0,
            "tgt_aligned": 0, "score_sum": 0.0,
        })
        if row["level"] != "segment":
            continue
        src = sum(1 for i in row["src_ids"] if i in content_ids)
        tgt = sum(1 for i in row["tgt_ids"] if i in content_ids)
        pair["beads"] += 1
        pair["src_content"] += src
        pair["tgt_content"] += tgt
        pair["src_aligned"] += src if row["tgt_ids"] else 0
        pair["tgt_aligned"] += tgt if row["src_ids"] else 0
        pair["score_sum"] += row["score"]
    return [PairStatsRow(**pairs[key]) for key in sorted(pairs)]


def work_overview(documents: Sequence[tuple[DocumentRow, Sequence[tuple[str, str]]]],
                  alignments: Iterable[Mapping[str, Any]]) -> WorkOverview:
    """The stats rows of a work from its documents, each with its segments as (segment id, kind), and its beads."""
    content = {segment_id for _, segments in documents for segment_id, kind in segments if kind != BOILERPLATE}
    return WorkOverview(
        tuple(document_stats_row(d, [kind for _, kind in segments]) for d, segments in documents),
        tuple(pair_stats_rows(alignments, content)),
    )


def _stored_overview(out_dir: Path, manifest: Manifest, documents: Sequence[DocumentRow]) -> WorkOverview:
    """The stats rows of stored works, derived from their stored tables (for works that have none yet)."""
    if not documents:
        return WorkOverview((), ())
    keys = {work_key(d.work_id) for d in documents}
    doc_ids = {d.doc_id for d in documents}
    segments = read_rows(out_dir, [f for f in manifest.tables[SEGMENTS.name].files
                                   if doc_ids.intersection(file_members(f))], ["segment_id", "doc_id", "kind"])
    by_doc: dict[str, list[tuple[str, str]]] = {d: [] for d in doc_ids}
    if segments is not None:
        for segment_id, doc_id, kind in zip(*(segments[c].to_pylist() for c in ("segment_id", "doc_id", "kind")),
                                            strict=True):
            if doc_id in by_doc:
                by_doc[doc_id].append((segment_id, kind))
    alignments = read_rows(out_dir, [f for f in manifest.tables[ALIGNMENTS.name].files
                                     if keys.intersection(file_members(f))])
    work_ids = sorted({d.work_id for d in documents})
    rows = [] if alignments is None else alignments.filter(
        pc.is_in(alignments["work_id"], value_set=pa.array(work_ids, pa.string()))).to_pylist()
    return work_overview([(d, by_doc[d.doc_id]) for d in documents], rows)


_ORDER = {DOCUMENT_STATS.name: ("work_id", "source_path"), PAIR_STATS.name: ("work_id", "src_doc_id", "tgt_doc_id")}


def overview_files(out_dir: Path, manifest: Manifest | None, stored: Sequence[DocumentRow],
                   rebuilt: set[str], overviews: Sequence[WorkOverview]) -> dict[str, list[ManifestFile]]:
    """The stats tables of the next snapshot, one file each: the previous rows of the works in ``stored`` that were
    not ``rebuilt`` (derived from their tables where the previous file lacks them), and the rebuilt works' rows.

    The previous rows are carried over as Arrow columns, never as Python objects: adding one work to a corpus of
    thousands costs a read, a filter and a write of two small files."""
    kept = [d for d in stored if d.work_id not in rebuilt]
    kept_works = pa.array(sorted({d.work_id for d in kept}), pa.string())
    # The two files are written together: rows of a work are in both or in neither. A file that is not in the
    # snapshot (a corpus built before them, or a damaged file left out) leaves every work without its rows.
    complete = manifest is not None and all(t.name in manifest.tables and manifest.tables[t.name].files
                                            for t in (DOCUMENT_STATS, PAIR_STATS))
    previous = {table.name: _previous_rows(out_dir, manifest if complete else None, table, kept_works)
                for table in (DOCUMENT_STATS, PAIR_STATS)}
    have = set(previous[DOCUMENT_STATS.name]["doc_id"].to_pylist())
    lacking = sorted({d.work_id for d in kept if d.doc_id not in have})
    if lacking and manifest is not None:
        derived = _stored_overview(out_dir, manifest, [d for d in kept if d.work_id in set(lacking)])
        lacking_works = pa.array(lacking, pa.string())
        for name, rows in previous.items():
            previous[name] = rows.filter(pc.invert(pc.is_in(rows["work_id"], value_set=lacking_works)))
        overviews = [derived, *overviews]
    new: dict[str, Sequence[Row]] = {
        DOCUMENT_STATS.name: [r for o in overviews for r in o.documents],
        PAIR_STATS.name: [r for o in overviews for r in o.pairs],
    }
    files = {}
    for table in (DOCUMENT_STATS, PAIR_STATS):
        data = pa.concat_tables([previous[table.name], rows_to_table(table, new[table.name])]).cast(table.arrow_schema)
        data = data.sort_by([(column, "ascending") for column in _ORDER[table.name]])
        files[table.name] = [write_arrow_digest_named(out_dir, table.name, table.name, data)]
    return files


def _previous_rows(out_dir: Path, manifest: Manifest | None, table: Table, works: pa.Array) -> pa.Table:
    """The rows of ``works`` in the snapshot's file of the stats table (none without a manifest)."""
    data = read_rows(out_dir, manifest.tables[table.name].files) if manifest is not None else None
    if data is None or not len(works):
        return table.arrow_schema.empty_table()
    return data.filter(pc.is_in(data["work_id"], value_set=works)).cast(table.arrow_schema)


def covers(manifest: Manifest, data: pa.Table) -> bool:
    """Whether the document stats rows ``data`` (its ``work_id`` column) hold every work of the snapshot."""
    stored = {m for f in manifest.tables[DOCUMENTS.name].files for m in file_members(f)} if (
        DOCUMENTS.name in manifest.tables) else set()
    stored.discard("empty")  # the placeholder file of a corpus without documents (tasks.store.snapshot.EMPTY_STEM)
    return stored == {work_key(w) for w in pc.unique(data["work_id"]).to_pylist()}


def read_overview(out_dir: Path, manifest: Manifest) -> tuple[pa.Table, pa.Table] | None:
    """The document and pair stats of the snapshot, or None when the snapshot has none for some of its works.

    The snapshot's files are checked as a build checks them (one ``stat`` each): what the stats say is only true of
    an intact snapshot. A missing file raises FileNotFoundError, a damaged one ArrowInvalid, as reading it would
    (``reading_the_current_snapshot`` tells a file removed by a concurrent build from damage)."""
    damaged = check_files(out_dir, manifest)
    if damaged:
        first = damaged[0]
        if first.problem == "missing":
            raise FileNotFoundError(errno.ENOENT, "missing", str(out_dir / first.path))
        raise pa.ArrowInvalid(f"{first.path} {first.problem}")
    if any(t.name not in manifest.tables or not manifest.tables[t.name].files for t in (DOCUMENT_STATS, PAIR_STATS)):
        return None
    documents = read_rows(out_dir, manifest.tables[DOCUMENT_STATS.name].files)
    pairs = read_rows(out_dir, manifest.tables[PAIR_STATS.name].files)
    if (documents is None or pairs is None or documents.schema.names != DOCUMENT_STATS.columns
            or pairs.schema.names != PAIR_STATS.columns or not covers(manifest, documents)):
        return None
    return documents, pairs
