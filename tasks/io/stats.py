"""Statistics of a built corpus, read through its manifest.

They come from the snapshot's stats tables (``document_stats/``, ``pair_stats/``: two files, see
``tasks.store.overview``); for a corpus whose snapshot lacks them (built before they existed, until its next build
that changes something), from the tables themselves, which means reading every work's files.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import BaseModel

from schemas import ALIGNMENTS, DOCUMENTS, REJECTS, SEGMENT_KINDS, SEGMENTS, Manifest, ManifestFile
from tasks.store.overview import read_overview
from tasks.store.storage import CorpusFormatError, load_manifest, read_rows


class LanguageStats(BaseModel):
    lang: str
    documents: int
    segments: int
    segments_by_kind: dict[str, int]


class PairStats(BaseModel):
    src_lang: str
    tgt_lang: str
    pairs: int
    beads: int
    src_coverage: float  # share of source content segments in a bead with a target
    tgt_coverage: float
    mean_score: float


class CorpusStats(BaseModel):
    works: int
    documents: int
    segments: int
    alignment_rows: int
    rejects_by_reason: dict[str, int]
    languages: list[LanguageStats]
    pairs: list[PairStats]
    written_at: str


def corpus_stats(out_dir: Path, version: int | None = None, *, from_tables: bool = False) -> CorpusStats:
    """The statistics of the corpus in ``out_dir``: from its stats tables, or (``from_tables``, or when the snapshot
    has none for some of its works) from the tables they summarise. On an object store, ``version`` reads a kept
    earlier version."""
    manifest = load_manifest(out_dir, version)
    if manifest is None:
        raise CorpusFormatError(f"{out_dir} holds no corpus (no manifest.json)", hint="run `corpus build` first")
    overview = None if from_tables else read_overview(out_dir, manifest)
    if overview is not None:
        return _stats_from_overview(out_dir, manifest, *overview)

    def table(name: str, columns: list[str]) -> list[dict[str, object]]:
        files = manifest.tables[name].files if name in manifest.tables else []
        data = read_rows(out_dir, files, columns)
        return [] if data is None else data.to_pylist()

    documents = table(DOCUMENTS.name, ["doc_id", "work_id", "lang"])
    segments = read_rows(out_dir, manifest.tables[SEGMENTS.name].files, ["segment_id", "lang", "kind"])
    kinds: dict[str, Counter[str]] = defaultdict(Counter)
    content_ids = pa.array([], pa.string())
    if segments is not None:
        for row in segments.group_by(["lang", "kind"]).aggregate([([], "count_all")]).to_pylist():
            kinds[row["lang"]][row["kind"]] += row["count_all"]
        content = segments.filter(pc.not_equal(segments["kind"], "boilerplate"))
        content_ids = content["segment_id"].combine_chunks()
    docs_by_lang = Counter(str(d["lang"]) for d in documents)
    languages = [
        LanguageStats(lang=lang, documents=docs_by_lang[lang], segments=sum(kinds[lang].values()),
                      segments_by_kind=dict(sorted(kinds[lang].items())))
        for lang in sorted(docs_by_lang)
    ]
    return CorpusStats(
        works=len({d["work_id"] for d in documents}),
        documents=len(documents),
        segments=0 if segments is None else segments.num_rows,
        alignment_rows=manifest.tables[ALIGNMENTS.name].rows,
        rejects_by_reason=dict(Counter(str(r["reason"]) for r in table(REJECTS.name, ["reason"]))),
        languages=languages,
        pairs=_pair_stats(out_dir, manifest.tables[ALIGNMENTS.name].files, content_ids),
        written_at=manifest.written_at.isoformat(timespec="seconds"),
    )


def _rejects_by_reason(out_dir: Path, manifest: Manifest) -> dict[str, int]:
    data = read_rows(out_dir, manifest.tables[REJECTS.name].files, ["reason"])
    return dict(Counter(data["reason"].to_pylist())) if data is not None else {}


def _sums(data: pa.Table, keys: Sequence[str], values: Sequence[str], where: str | None = None
          ) -> dict[tuple[str, ...], list[float]]:
    """Per value of the key columns: the row count, then the sum of each value column (over the rows whose ``where``
    column is not 0). In Python: the rows are a few per document, and Arrow's group_by (or a comparison with a
    Python number) imports pandas, which costs more than these sums."""
    sums: dict[tuple[str, ...], list[float]] = {}
    columns = [data[c].to_pylist() for c in values]
    counted = data[where].to_pylist() if where else [1] * data.num_rows
    for i, key in enumerate(zip(*(data[k].to_pylist() for k in keys), strict=True)):
        if not counted[i]:
            continue
        row = sums.setdefault(key, [0] * (len(values) + 1))
        row[0] += 1
        for j, column in enumerate(columns, start=1):
            row[j] += column[i]
    return sums


def _stats_from_overview(out_dir: Path, manifest: Manifest, documents: pa.Table, pairs: pa.Table) -> CorpusStats:
    """The statistics from the stats tables: sums over document rows and pair rows."""
    languages = []
    for (lang,), (n, *counts) in sorted(_sums(documents, ["lang"], [f"n_{k}" for k in SEGMENT_KINDS]).items()):
        kinds = {kind: int(c) for kind, c in zip(SEGMENT_KINDS, counts, strict=True) if c}
        languages.append(LanguageStats(lang=lang, documents=int(n), segments=sum(kinds.values()),
                                       segments_by_kind=dict(sorted(kinds.items()))))
    sums = _sums(pairs, ["src_lang", "tgt_lang"],
                 ["beads", "score_sum", "src_content", "src_aligned", "tgt_content", "tgt_aligned"], where="beads")
    return CorpusStats(
        works=len(set(documents["work_id"].to_pylist())),
        documents=documents.num_rows,
        segments=sum(language.segments for language in languages),
        alignment_rows=manifest.tables[ALIGNMENTS.name].rows,
        rejects_by_reason=_rejects_by_reason(out_dir, manifest),
        languages=languages,
        pairs=[
            PairStats(
                src_lang=src, tgt_lang=tgt, pairs=int(n), beads=int(beads),
                src_coverage=round(src_aligned / max(1, src_content), 4),
                tgt_coverage=round(tgt_aligned / max(1, tgt_content), 4),
                mean_score=round(score / max(1, beads), 4),
            )
            for (src, tgt), (n, beads, score, src_content, src_aligned, tgt_content, tgt_aligned)
            in sorted(sums.items())
        ],
        written_at=manifest.written_at.isoformat(timespec="seconds"),
    )


def _content_counts(ids: pa.ChunkedArray, content_ids: pa.Array, rows: int) -> npt.NDArray[np.int64]:
    """Per row, how many of its segment ids are content segments."""
    lists = ids.combine_chunks()
    hits = pc.is_in(pc.list_flatten(lists), value_set=content_ids).to_numpy(zero_copy_only=False)
    parents = pc.list_parent_indices(lists).to_numpy(zero_copy_only=False)
    return np.bincount(parents, weights=hits, minlength=rows).astype(np.int64)


def _pair_stats(out_dir: Path, files: list[ManifestFile], content_ids: pa.Array) -> list[PairStats]:
    """Per language pair: document pairs, segment beads, the share of content segments in a bead with the other
    side (coverage), and the mean bead score; computed on whole columns (a corpus has millions of beads)."""
    data = read_rows(out_dir, files, ["src_doc_id", "tgt_doc_id", "src_lang", "tgt_lang", "level",
                                      "src_ids", "tgt_ids", "score"])
    if data is None:
        return []
    beads = data.filter(pc.equal(data["level"], "segment"))
    counts = {side: _content_counts(beads[f"{side}_ids"], content_ids, beads.num_rows) for side in ("src", "tgt")}
    has = {side: pc.greater(pc.list_value_length(beads[f"{side}_ids"]), 0).to_numpy(zero_copy_only=False)
           for side in ("src", "tgt")}
    columns = beads.select(["src_lang", "tgt_lang", "src_doc_id", "tgt_doc_id", "score"]).append_column(
        "src_total", pa.array(counts["src"])).append_column(
        "tgt_total", pa.array(counts["tgt"])).append_column(
        "src_aligned", pa.array(counts["src"] * has["tgt"])).append_column(
        "tgt_aligned", pa.array(counts["tgt"] * has["src"]))
    keys = ["src_lang", "tgt_lang"]
    sums = columns.group_by(keys).aggregate([([], "count_all"), ("score", "sum"), ("src_total", "sum"),
                                             ("tgt_total", "sum"), ("src_aligned", "sum"), ("tgt_aligned", "sum")])
    pairs = columns.group_by([*keys, "src_doc_id", "tgt_doc_id"]).aggregate([]).group_by(keys).aggregate(
        [([], "count_all")])
    n_pairs = {(r["src_lang"], r["tgt_lang"]): r["count_all"] for r in pairs.to_pylist()}
    return [
        PairStats(
            src_lang=r["src_lang"], tgt_lang=r["tgt_lang"], pairs=n_pairs[(r["src_lang"], r["tgt_lang"])],
            beads=r["count_all"],
            src_coverage=round(r["src_aligned_sum"] / max(1, r["src_total_sum"]), 4),
            tgt_coverage=round(r["tgt_aligned_sum"] / max(1, r["tgt_total_sum"]), 4),
            mean_score=round((r["score_sum"] or 0.0) / max(1, r["count_all"]), 4),
        )
        for r in sorted(sums.to_pylist(), key=lambda r: (r["src_lang"], r["tgt_lang"]))
    ]
