"""Reading a built corpus through its manifest, and exporting language pairs to common formats.

:class:`Corpus` is the read side every consumer shares (export, report, ``corpus show``): it follows
``manifest.json`` only, and reads one work's files at a time, so memory is bounded by the largest
work, not by the corpus.

Export formats, each safe for any text a document may hold:

* **TMX 1.4b**: characters XML 1.0 forbids (most C0 controls, so also the ESC of ANSI sequences,
  U+FFFE, U+FFFF) are removed, everything else is escaped (so the text reads back exactly otherwise);
  no DOCTYPE, so no parser fetches a DTD.
* **Moses**: ``DEST.<src>`` and ``DEST.<tgt>``, line *n* of one the translation of line *n* of the
  other. Every line break (including U+2028, U+2029, NEL, VT, FF) and tab becomes a space, other
  control characters are removed, so the two files always have the same number of lines.
* **TSV**: a header ``<src>\\t<tgt>\\tscore``, then one pair a line. Backslash, tab, newline and
  carriage return are escaped as ``\\\\``, ``\\t``, ``\\n``, ``\\r`` (so the file is lossless for them and
  never gains a column or a line); other control characters are removed. Text is not altered
  otherwise: a sentence may well start with ``-`` or ``=``. For a file to open in a spreadsheet,
  ``spreadsheet_safe`` prefixes a cell starting with ``= + - @`` with ``'`` so it is not run as a formula.
* **JSONL**: one object a line, ``{"work_id", "score", "translation": {src, tgt}, "segment_ids"}``
  (the shape of Hugging Face's translation datasets); every control character, DEL, U+2028 and U+2029
  is written as a ``\\u`` escape.

Pairs come by default from the segment-level beads of the pair's own documents (``source="beads"``):
every bead with text on both sides, with its own score, a bead of several segments on a side joined by
a space; omissions (a side with no segment) are not exported. With ``source="parallel"`` they come from
the multi-language units of the ``parallel`` table instead: a unit with text in both languages, whose
score is the lowest of every link that formed it across all languages. A third language's disagreement
can merge several clean 1-1 beads of the pair into one unit there, so units are fewer and coarser, and
a ``min_score`` filter is conservative; choose it to get the same units in every language pair.

:func:`export_pairs` writes one language pair to one file; :func:`export_every_pair` writes every pair
of languages that share a work, one file per pair, into a folder.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Literal, get_args
from xml.sax.saxutils import escape, quoteattr

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from schemas import ALIGNMENTS, CORRECTION_METHOD, DOCUMENTS, PARALLEL, SEGMENTS, Manifest, ManifestFile
from tasks.errors import CorpusNotFoundError, DestinationError, UnknownLanguageError, UnknownWorkError
from tasks.files import atomic_text
from tasks.store.storage import file_members, load_manifest, read_rows, work_key

__all__ = [
    "FORMATS",
    "Bead",
    "Corpus",
    "CorpusNotFoundError",
    "DocumentInfo",
    "ExportResult",
    "Format",
    "Pair",
    "PairSource",
    "SegmentView",
    "UnknownLanguageError",
    "UnknownWorkError",
    "canonical_tag",
    "export_every_pair",
    "export_pairs",
    "iter_pairs",
    "one_line",
    "tsv_cell",
    "xml_text",
]

Format = Literal["tmx", "tsv", "jsonl", "moses"]
FORMATS: tuple[str, ...] = get_args(Format)
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
    def open(cls, out_dir: Path) -> Corpus:
        manifest = load_manifest(out_dir) if out_dir.is_dir() else None
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


def open_pair(out_dir: Path, langs: Sequence[str]) -> tuple[Corpus, tuple[str, str]]:
    """The corpus and a checked language pair (two different languages the corpus has, in its spelling)."""
    corpus = Corpus.open(out_dir)
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
        data = pq.read_table(corpus.out_dir / file.path, columns=["work_id", "translation", "segment_ids", "score"])
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


# --- making text safe for each format -------------------------------------------------------------

_XML_FORBIDDEN = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_LINE_BREAKS = re.compile("[\t\n\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")
_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f]")
_TSV_ESCAPES = {"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"}
_TSV_SPECIAL = re.compile(r"[\\\t\n\r]")
_FORMULA_TRIGGERS = ("=", "+", "-", "@")
_JSON_UNSAFE = re.compile("[\x7f-\x9f\u2028\u2029]")


def xml_text(text: str) -> str:
    """Text as XML 1.0 character data: forbidden characters removed, markup characters escaped, and
    carriage returns as a character reference, which a parser keeps (a raw one it turns into a newline)."""
    return escape(_XML_FORBIDDEN.sub("", text), {"\r": "&#13;"})


def one_line(text: str) -> str:
    """Text on one line: line breaks and tabs become spaces, other control characters are removed."""
    return _CONTROLS.sub("", _LINE_BREAKS.sub(" ", text))


def tsv_cell(text: str, spreadsheet_safe: bool = False) -> str:
    escaped = one_line(_TSV_SPECIAL.sub(lambda m: _TSV_ESCAPES[m.group()], text))
    if spreadsheet_safe and escaped.startswith(_FORMULA_TRIGGERS):
        return "'" + escaped
    return escaped


def _json_line(value: object) -> str:
    dumped = json.dumps(value, ensure_ascii=False)
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", dumped)


# --- writers --------------------------------------------------------------------------------------


def _tool_version() -> str:
    try:
        return version("parallel-corpus")
    except PackageNotFoundError:
        return "unknown"


def write_tmx(pairs: Iterable[Pair], langs: tuple[str, str], dest: Path) -> int:
    src, tgt = langs
    n = 0
    with atomic_text(dest) as out:
        out.write('<?xml version="1.0" encoding="UTF-8"?>\n<tmx version="1.4">\n')
        out.write(f'<header creationtool="parallel-corpus" creationtoolversion={quoteattr(_tool_version())} '
                  f'segtype="paragraph" o-tmf="parallel-corpus" adminlang="en" srclang={quoteattr(src)} '
                  'datatype="plaintext"/>\n<body>\n')
        for pair in pairs:
            n += 1
            out.write(
                f'<tu tuid="{n}"><prop type="x-score">{pair.score:.6g}</prop>'
                f'<prop type="x-work">{xml_text(pair.work_id)}</prop>'
                f'<tuv xml:lang={quoteattr(src)}><seg>{xml_text(pair.src)}</seg></tuv>'
                f'<tuv xml:lang={quoteattr(tgt)}><seg>{xml_text(pair.tgt)}</seg></tuv></tu>\n'
            )
        out.write("</body>\n</tmx>\n")
    return n


def write_tsv(pairs: Iterable[Pair], langs: tuple[str, str], dest: Path, spreadsheet_safe: bool = False) -> int:
    n = 0
    with atomic_text(dest) as out:
        out.write(f"{tsv_cell(langs[0])}\t{tsv_cell(langs[1])}\tscore\n")
        for pair in pairs:
            n += 1
            out.write(f"{tsv_cell(pair.src, spreadsheet_safe)}\t{tsv_cell(pair.tgt, spreadsheet_safe)}\t"
                      f"{pair.score:.6g}\n")
    return n


def write_jsonl(pairs: Iterable[Pair], langs: tuple[str, str], dest: Path) -> int:
    src, tgt = langs
    n = 0
    with atomic_text(dest) as out:
        for pair in pairs:
            n += 1
            out.write(_json_line({
                "work_id": pair.work_id, "score": pair.score,
                "translation": {src: pair.src, tgt: pair.tgt},
                "segment_ids": {src: list(pair.src_ids), tgt: list(pair.tgt_ids)},
            }) + "\n")
    return n


def moses_paths(dest: Path, langs: tuple[str, str]) -> tuple[Path, Path]:
    return dest.with_name(f"{dest.name}.{langs[0]}"), dest.with_name(f"{dest.name}.{langs[1]}")


def write_moses(pairs: Iterable[Pair], langs: tuple[str, str], dest: Path) -> int:
    src_path, tgt_path = moses_paths(dest, langs)
    n = 0
    with atomic_text(src_path) as src_out, atomic_text(tgt_path) as tgt_out:
        for pair in pairs:
            n += 1
            src_out.write(one_line(pair.src) + "\n")
            tgt_out.write(one_line(pair.tgt) + "\n")
    return n


@dataclass(frozen=True, slots=True)
class ExportResult:
    langs: tuple[str, str]
    pairs: int
    files: tuple[Path, ...]
    source: PairSource


_SUFFIXES: dict[str, str] = {"tmx": ".tmx", "tsv": ".tsv", "jsonl": ".jsonl", "moses": ""}


def _pair_file_name(langs: tuple[str, str], fmt: Format) -> str:
    return f"{langs[0]}-{langs[1]}{_SUFFIXES[fmt]}"


def _write(corpus: Corpus, fmt: Format, langs: tuple[str, str], dest: Path, min_score: float, source: PairSource,
           spreadsheet_safe: bool, works: Collection[str] | None) -> ExportResult:
    pairs = iter_pairs(corpus, langs, min_score, source, works)
    writers: dict[str, Callable[[], int]] = {
        "tmx": lambda: write_tmx(pairs, langs, dest),
        "tsv": lambda: write_tsv(pairs, langs, dest, spreadsheet_safe),
        "jsonl": lambda: write_jsonl(pairs, langs, dest),
        "moses": lambda: write_moses(pairs, langs, dest),
    }
    n = writers[fmt]()
    return ExportResult(langs, n, moses_paths(dest, langs) if fmt == "moses" else (dest,), source)


def _checked(out_dir: Path, fmt: Format, works: Collection[str] | None) -> Corpus:
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    corpus = Corpus.open(out_dir)
    corpus.check_works(works or ())
    return corpus


def export_pairs(
    out_dir: Path,
    fmt: Format,
    langs: Sequence[str],
    dest: Path,
    *,
    min_score: float = 0.0,
    source: PairSource = "beads",
    spreadsheet_safe: bool = False,
    works: Collection[str] | None = None,
) -> ExportResult:
    """Write the ``langs`` pairs of the corpus in ``out_dir`` (of ``works`` only, if given) to ``dest``
    (for moses: a path prefix); into an existing folder ``dest``, under the name :func:`export_every_pair`
    gives the pair."""
    corpus = _checked(out_dir, fmt, works)
    pair = corpus.pair(langs)
    if dest.is_dir():
        dest = dest / _pair_file_name(pair, fmt)
    return _write(corpus, fmt, pair, dest, min_score, source, spreadsheet_safe, works)


def export_every_pair(
    out_dir: Path,
    fmt: Format,
    dest_dir: Path,
    *,
    langs: Sequence[str] | None = None,
    min_score: float = 0.0,
    source: PairSource = "beads",
    spreadsheet_safe: bool = False,
    works: Collection[str] | None = None,
) -> list[ExportResult]:
    """Write every language pair that shares a work (among ``langs``, if given; of ``works`` only, if given)
    into the folder ``dest_dir``, one file per pair named ``<src>-<tgt>.<format>`` (moses:
    ``<src>-<tgt>.<src>`` and ``<src>-<tgt>.<tgt>``), the languages of a pair in tag order."""
    corpus = _checked(out_dir, fmt, works)
    chosen = None if langs is None else {corpus.language(lang) for lang in langs}
    if chosen is not None:
        corpus.check_languages(sorted(chosen))
    if dest_dir.exists() and not dest_dir.is_dir():
        raise DestinationError(f"{dest_dir} is a file; several pairs are written into a folder, one file per pair")
    pairs = [p for p in corpus.language_pairs(works) if chosen is None or set(p) <= chosen]
    if not pairs:
        shown = ", ".join(sorted(chosen if chosen is not None else corpus.languages)) or "none"
        raise UnknownLanguageError(f"no two of these languages share a work: {shown}")
    return [_write(corpus, fmt, pair, dest_dir / _pair_file_name(pair, fmt), min_score, source, spreadsheet_safe,
                   works) for pair in pairs]
