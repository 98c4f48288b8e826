"""Statistics of a built corpus, read through its manifest."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow.compute as pc
from pydantic import BaseModel

from schemas import ALIGNMENTS, DOCUMENTS, REJECTS, SEGMENTS, ManifestFile
from tasks.storage import CorpusFormatError, load_manifest, read_rows


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


def corpus_stats(out_dir: Path) -> CorpusStats:
    manifest = load_manifest(out_dir)
    if manifest is None:
        raise CorpusFormatError(f"{out_dir} holds no corpus (no manifest.json)", hint="run `corpus build` first")

    def table(name: str, columns: list[str]) -> list[dict[str, object]]:
        files = manifest.tables[name].files if name in manifest.tables else []
        data = read_rows(out_dir, files, columns)
        return [] if data is None else data.to_pylist()

    documents = table(DOCUMENTS.name, ["doc_id", "work_id", "lang"])
    segments = read_rows(out_dir, manifest.tables[SEGMENTS.name].files, ["segment_id", "lang", "kind"])
    kinds: dict[str, Counter[str]] = defaultdict(Counter)
    content_ids: set[str] = set()
    if segments is not None:
        for lang, kind in zip(segments["lang"].to_pylist(), segments["kind"].to_pylist(), strict=True):
            kinds[lang][kind] += 1
        content = segments.filter(pc.not_equal(segments["kind"], "boilerplate"))
        content_ids = set(content["segment_id"].to_pylist())
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


@dataclass
class _PairAccumulator:
    pairs: set[tuple[str, str]] = field(default_factory=set)
    beads: int = 0
    score_sum: float = 0.0
    aligned: dict[str, int] = field(default_factory=lambda: {"src": 0, "tgt": 0})
    total: dict[str, int] = field(default_factory=lambda: {"src": 0, "tgt": 0})


def _pair_stats(out_dir: Path, files: list[ManifestFile], content_ids: set[str]) -> list[PairStats]:
    data = read_rows(out_dir, files, ["src_doc_id", "tgt_doc_id", "src_lang", "tgt_lang", "level",
                                      "src_ids", "tgt_ids", "score"])
    if data is None:
        return []
    accumulators: dict[tuple[str, str], _PairAccumulator] = defaultdict(_PairAccumulator)
    for row in data.filter(pc.equal(data["level"], "segment")).to_pylist():
        acc = accumulators[(row["src_lang"], row["tgt_lang"])]
        acc.pairs.add((row["src_doc_id"], row["tgt_doc_id"]))
        acc.beads += 1
        acc.score_sum += row["score"]
        for side, ids, other in (("src", row["src_ids"], row["tgt_ids"]), ("tgt", row["tgt_ids"], row["src_ids"])):
            n_content = sum(1 for i in ids if i in content_ids)
            acc.total[side] += n_content
            if other:
                acc.aligned[side] += n_content
    return [
        PairStats(
            src_lang=src_lang, tgt_lang=tgt_lang, pairs=len(acc.pairs), beads=acc.beads,
            src_coverage=round(acc.aligned["src"] / max(1, acc.total["src"]), 4),
            tgt_coverage=round(acc.aligned["tgt"] / max(1, acc.total["tgt"]), 4),
            mean_score=round(acc.score_sum / max(1, acc.beads), 4),
        )
        for (src_lang, tgt_lang), acc in sorted(accumulators.items())
    ]
