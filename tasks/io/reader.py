"""Reading a built corpus through its manifest: documents, segments, beads, the pairs of a language pair.

:class:`Corpus` is the read side every consumer shares (export, report, ``corpus show``): it follows
``manifest.json`` only, and reads one work's files at a time, so memory is bounded by the largest
work, not by the corpus.

Pairs come by default from the segment-level beads of the pair's own documents (``source="beads"``):
every bead with text on both sides, with its own score, a bead of several segments on a side joined by
a space; omissions (a side with no segment) are not exported. With ``source="parallel"`` they come from
the multi-language units of the ``parallel`` table instead: a unit with text in both languages, whose
score is the lowest of every link that formed it across all languages. A third language's disagreement
can merge several clean 1-1 beads of the pair into one unit there, so units are fewer and coarser, and
a ``min_score`` filter is conservative; choose it to get the same units in every language pair.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Literal, get_args

import pyarrow as pa
import pyarrow.compute as pc

from schemas import ALIGNMENTS, CORRECTION_METHOD, DOCUMENTS, PARALLEL, SEGMENTS, Manifest, ManifestFile
from tasks.errors import CorpusNotFoundError, UnknownLanguageError, UnknownWorkError
from tasks.fs import is_remote
from tasks.store.storage import file_members, load_manifest, read_parquet, read_rows, work_key

__all__ = [
    "Bead",
    "Corpus",
    "CorpusNotFoundError",
    "DocumentInfo",
    "Pair",
    "PairSource",
    "SegmentView",
    "UnknownLanguageError",
    "UnknownWorkError",
    "canonical_tag",
    "iter_pairs",
    "open_pair",
]


PairSource = Literal["beads", "parallel"]


@dataclass(frozen=True, slots=True)
class DocumentInfo:
    doc_id: str
    work_id: str
    lang: str
    source_path: str
    title: str
    n_segments: int


@dataclass(frozen=True, slots=True)
class SegmentView:
    text: str
    kind: str
    section: int


@dataclass(frozen=True, slots=True)
class Bead:
    """A segment-level bead of one document pair, oriented as asked."""

    src_doc_id: str
    tgt_doc_id: str
    src_ids: tuple[str, ...]
    tgt_ids: tuple[str, ...]
    score: float
    by_hand: bool = False  # set by a person (a corrections file), not by the aligner


def canonical_tag(tag: str) -> str:
    """A BCP-47 tag in its canonical case, ``_`` read as ``-``: language lower, script title, region upper
    (``ZH_hant_tw`` -> ``zh-Hant-TW``); everything after a singleton (``x-``, ``u-``) lower."""
    parts = [part for part in tag.strip().replace("_", "-").split("-") if part]
    if not parts:
        return ""
    cased = [parts[0].lower()]
    extension = False
    for part in parts[1:]:
        extension = extension or len(part) == 1
        if not extension and len(part) == 4 and part.isalpha():
            cased.append(part.title())
        elif not extension and ((len(part) == 2 and part.isalpha()) or (len(part) == 3 and part.isdigit())):
            cased.append(part.upper())
        else:
            cased.append(part.lower())
    return "-".join(cased)


def _of_works(data: pa.Table, works: Collection[str]) -> pa.ChunkedArray:
    """Which rows of ``data`` belong to one of ``works``."""
    return pc.is_in(data["work_id"], value_set=pa.array(sorted(works), pa.string()))


_BEAD_COLUMNS = ["work_id", "src_doc_id", "tgt_doc_id", "src_lang", "tgt_lang", "level", "src_ids", "tgt_ids", "score",
                 "method"]


@dataclass(frozen=True)
class Corpus:
    """A built corpus as its manifest describes it."""

    out_dir: Path
    manifest: Manifest
    documents: dict[str, DocumentInfo]  # by doc_id

    @classmethod
    def open(cls, out_dir: Path, version: int | None = None) -> Corpus:
        """The corpus in ``out_dir`` (a folder or a store URL); on a store, ``version`` opens a kept earlier one."""
        manifest = load_manifest(out_dir, version) if is_remote(out_dir) or out_dir.is_dir() else None
        if manifest is None:
            raise CorpusNotFoundError(
                f"{out_dir} holds no corpus (no manifest.json); run `corpus build SOURCE --out {out_dir}` first"
            )
        columns = ["doc_id", "work_id", "lang", "source_path", "title", "n_segments"]
        data = read_rows(out_dir, manifest.tables[DOCUMENTS.name].files, columns)
        rows = [] if data is None else data.to_pylist()
        return cls(out_dir, manifest, {row["doc_id"]: DocumentInfo(**row) for row in rows})

    @cached_property
    def languages(self) -> list[str]:
        return sorted({d.lang for d in self.documents.values()})

    @cached_property
    def works(self) -> list[str]:
        return sorted({d.work_id for d in self.documents.values()})

    def work_documents(self, work_id: str) -> list[DocumentInfo]:
        return sorted((d for d in self.documents.values() if d.work_id == work_id), key=lambda d: (d.lang, d.doc_id))

    def files(self, table: str) -> list[ManifestFile]:
        entry = self.manifest.tables.get(table)
        return list(entry.files) if entry else []

    @cached_property
    def _files_by_member(self) -> dict[tuple[str, str], list[ManifestFile]]:
        """Files by table and whose rows they hold: work keys for per-work tables, doc ids for segments."""
        index: dict[tuple[str, str], list[ManifestFile]] = defaultdict(list)
        for table, entry in self.manifest.tables.items():
            for f in entry.files:
                for member in file_members(f):
                    index[(table, member)].append(f)
        return index

    def work_files(self, table: str, work_id: str) -> list[ManifestFile]:
        """The files holding the work's rows (a file merged by ``corpus compact`` holds other works' too)."""
        return list(self._files_by_member.get((table, work_key(work_id)), []))

    def files_of(self, table: str, works: Collection[str] | None) -> list[ManifestFile]:
        """The table's files holding rows of ``works`` (each file once), or all its files for None."""
        if works is None:
            return self.files(table)
        return list({f.path: f for w in sorted(works) for f in self.work_files(table, w)}.values())

    def language(self, tag: str) -> str:
        """The corpus's spelling of a language tag typed in any case (``ZH-HANT``, ``zh_hant`` -> ``zh-Hant``);
        a tag the corpus does not have comes back in BCP-47 canonical case."""
        by_key = {lang.lower(): lang for lang in self.languages}
        return by_key.get(canonical_tag(tag).lower(), canonical_tag(tag))

    def language_pairs(self, works: Collection[str] | None = None) -> list[tuple[str, str]]:
        """The language pairs (in tag order) of documents that share a work: the pairs that can have beads."""
        by_work: dict[str, set[str]] = defaultdict(set)
        for d in self.documents.values():
            if works is None or d.work_id in works:
                by_work[d.work_id].add(d.lang)
        return sorted({(a, b) for langs in by_work.values() for a in langs for b in langs if a < b})

    def check_languages(self, langs: Iterable[str]) -> None:
        unknown = [lang for lang in langs if lang not in self.languages]
        if unknown:
            raise UnknownLanguageError(
                f"no document in {', '.join(unknown)}; languages of the corpus: {', '.join(self.languages) or 'none'}"
            )

    def pair(self, langs: Sequence[str]) -> tuple[str, str]:
        """A checked language pair, typed in any case: two different languages the corpus has, in its spelling."""
        tags = [self.language(lang) for lang in langs]
        if len(tags) != 2 or tags[0] == tags[1]:
            raise UnknownLanguageError(
                f"give two different languages, e.g. --langs {','.join(self.languages[:2]) or 'en,fr'}; "
                f"languages of the corpus: {', '.join(self.languages) or 'none'}"
            )
        self.check_languages(tags)
        return tags[0], tags[1]

    def _works_shown(self) -> str:
        return ", ".join(repr(w) for w in self.works[:20]) + (" ..." if len(self.works) > 20 else "")

    def check_work(self, work_id: str) -> None:
        if work_id not in self.works:
            raise UnknownWorkError(f"no work {work_id!r}; works of the corpus: {self._works_shown() or 'none'}")

    def check_works(self, works: Iterable[str]) -> None:
        for work_id in works:
            self.check_work(work_id)

    def only_work(self) -> str:
        """The corpus's one work (what a command shows when no work is named)."""
        if len(self.works) != 1:
            raise UnknownWorkError(
                f"the corpus has {len(self.works)} works; choose one with --work ({self._works_shown()})"
            )
        return self.works[0]

    def segments(self, doc_ids: Iterable[str]) -> dict[str, SegmentView]:
        """The segments of the given documents by segment id, read from their files only."""
        files = list({f.path: f for d in sorted(set(doc_ids)) for f in self._files_by_member.get((SEGMENTS.name, d), [])
                      }.values())
        data = read_rows(self.out_dir, files, ["segment_id", "text", "kind", "section"])
        if data is None:
            return {}
        return {
            sid: SegmentView(text, kind, section)
            for sid, text, kind, section in zip(*(data[c].to_pylist() for c in data.column_names), strict=True)
        }

    def beads(self, work_id: str, langs: tuple[str, str] | None = None, min_score: float = 0.0) -> list[Bead]:
        """Segment-level beads of a work, in bead order: of every document pair, as stored, or only of pairs
        in ``langs``, oriented ``langs[0]`` -> ``langs[1]``."""
        return self.beads_in(self.work_files(ALIGNMENTS.name, work_id), langs, min_score, [work_id])

    def beads_in(self, files: Sequence[ManifestFile], langs: tuple[str, str] | None = None, min_score: float = 0.0,
                 works: Collection[str] | None = None) -> list[Bead]:
        """Segment-level beads in the given alignment files (of ``works`` only, if given), as ``beads``."""
        data = read_rows(self.out_dir, files, _BEAD_COLUMNS)
        if data is None:
            return []
        keep = pc.and_(pc.equal(data["level"], "segment"), pc.greater_equal(data["score"], min_score))
        if works is not None:
            keep = pc.and_(keep, _of_works(data, works))
        if langs is not None:
            src, tgt = langs
            keep = pc.and_(keep, pc.or_(
                pc.and_(pc.equal(data["src_lang"], src), pc.equal(data["tgt_lang"], tgt)),
                pc.and_(pc.equal(data["src_lang"], tgt), pc.equal(data["tgt_lang"], src)),
            ))
        beads = []
        for row in data.filter(keep).to_pylist():
            forward = langs is None or row["src_lang"] == langs[0]
            beads.append(Bead(
                src_doc_id=row["src_doc_id"] if forward else row["tgt_doc_id"],
                tgt_doc_id=row["tgt_doc_id"] if forward else row["src_doc_id"],
                src_ids=tuple(row["src_ids"] if forward else row["tgt_ids"]),
                tgt_ids=tuple(row["tgt_ids"] if forward else row["src_ids"]),
                score=row["score"],
                by_hand=row["method"] == CORRECTION_METHOD,
            ))
        return beads


def open_pair(out_dir: Path, langs: Sequence[str], version: int | None = None) -> tuple[Corpus, tuple[str, str]]:
    """The corpus (on a store, a kept earlier ``version`` if given) and a checked language pair (two different
    languages the corpus has, in its spelling)."""
    corpus = Corpus.open(out_dir, version)
    return corpus, corpus.pair(langs)


@dataclass(frozen=True, slots=True)
class Pair:
    work_id: str
    src: str
    tgt: str
    score: float
    src_ids: tuple[str, ...]
    tgt_ids: tuple[str, ...]


def _pairs_from_parallel(corpus: Corpus, langs: tuple[str, str], min_score: float,
                         works: Collection[str] | None) -> Iterator[Pair]:
    src, tgt = langs
    for file in corpus.files_of(PARALLEL.name, works):
        data = read_parquet(corpus.out_dir, file.path, ["work_id", "translation", "segment_ids", "score"])
        keep = pc.greater_equal(data["score"], min_score)
        if works is not None:
            keep = pc.and_(keep, _of_works(data, works))
        for row in data.filter(keep).to_pylist():
            texts, ids = row["translation"], row["segment_ids"]
            if texts.get(src) is not None and texts.get(tgt) is not None:
                yield Pair(row["work_id"], texts[src], texts[tgt], row["score"],
                           tuple(ids.get(src) or ()), tuple(ids.get(tgt) or ()))


def _pairs_from_beads(corpus: Corpus, langs: tuple[str, str], min_score: float,
                      works: Collection[str] | None) -> Iterator[Pair]:
    for file in corpus.files_of(ALIGNMENTS.name, works):
        beads = [b for b in corpus.beads_in([file], langs, min_score, works) if b.src_ids and b.tgt_ids]
        if not beads:
            continue
        segments = corpus.segments({b.src_doc_id for b in beads} | {b.tgt_doc_id for b in beads})
        for b in beads:
            yield Pair(
                corpus.documents[b.src_doc_id].work_id,
                " ".join(segments[i].text for i in b.src_ids),
                " ".join(segments[i].text for i in b.tgt_ids),
                b.score, b.src_ids, b.tgt_ids,
            )


def iter_pairs(corpus: Corpus, langs: tuple[str, str], min_score: float = 0.0, source: PairSource = "beads",
               works: Collection[str] | None = None) -> Iterator[Pair]:
    """The pairs of ``langs`` (of ``works`` only, if given) from ``source``, read one work file at a time."""
    if source not in get_args(PairSource):
        raise ValueError(f"unknown source {source!r}; choose one of {', '.join(get_args(PairSource))}")
    reader = _pairs_from_parallel if source == "parallel" else _pairs_from_beads
    return reader(corpus, langs, min_score, works)
