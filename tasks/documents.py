"""Per-document and per-pair work of a build, turning stage results into output rows.

``analyse_file`` runs ingest -> langtag -> segment on one file; ``align_documents`` aligns two
analysed documents and expresses the beads as rows of the alignments table. Both are pure apart
from reading the input file, and depend only on their inputs, so the same document or pair always
gives the same rows, whatever else is in the corpus and in whatever order files arrived.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import pyarrow as pa

from schemas import AlignmentRow, BoilerplateRules, DocumentRow, ManifestFile, SegmentRow
from tasks.align import Bead, Embed, PairAlignment, align_pair
from tasks.ingest import Fingerprint, Rejection, read_document
from tasks.langtag import tag_language
from tasks.rules import apply_rules
from tasks.segment import Segment, segment_text


@dataclass(frozen=True, slots=True)
class AnalysedDocument:
    document: DocumentRow
    segments: tuple[Segment, ...]

    @property
    def doc_id(self) -> str:
        return self.document.doc_id

    def segment_id(self, ordinal: int) -> str:
        return segment_id(self.doc_id, ordinal)

    def segment_rows(self) -> list[SegmentRow]:
        d = self.document
        return [
            SegmentRow(
                segment_id=self.segment_id(s.ordinal), doc_id=d.doc_id, work_id=d.work_id, lang=d.lang,
                ordinal=s.ordinal, section=s.section, kind=s.kind, text=s.text,
                line_start=s.line_start, line_end=s.line_end, char_start=s.char_start, char_end=s.char_end,
            )
            for s in self.segments
        ]


def doc_id_for(content_sha256: str) -> str:
    return content_sha256[:16]


def segment_id(doc_id: str, ordinal: int) -> str:
    return f"{doc_id}-{ordinal:05d}"


def count_lines(text: str) -> int:
    """Lines as an editor counts them: \\n, \\r\\n and \\r end a line; a last line without one counts."""
    if not text:
        return 0
    breaks = text.count("\n") + text.count("\r") - text.count("\r\n")
    return breaks + (0 if text.endswith(("\n", "\r")) else 1)


def analyse_file(fp: Fingerprint, max_bytes: int, ingested_at: datetime, rules: BoilerplateRules | None = None
                 ) -> AnalysedDocument | Rejection:
    """Decode, tag and segment one file (with the corpus' boilerplate rules, if any)."""
    read = read_document(fp, max_bytes)
    if isinstance(read, Rejection):
        return read
    decoded, sha = read
    tag = tag_language(decoded.text)
    segments = apply_rules(segment_text(decoded.text, script=tag.script), rules)
    if not segments:
        return Rejection(fp.file.source_path, "empty", "the file has no text; remove it or fill it in", sha)
    title = next((s.text for s in segments if s.kind == "title"), "")
    document = DocumentRow(
        doc_id=doc_id_for(sha), work_id=fp.file.work_id, work_assigned_by=fp.file.work_assigned_by,
        work_confidence=fp.file.work_confidence, source_path=fp.file.source_path,
        content_sha256=sha, encoding=decoded.encoding, lang=tag.lang, lang_confidence=tag.confidence,
        script=tag.script, title=title, n_lines=count_lines(decoded.text), n_segments=len(segments),
        n_sections=max(s.section for s in segments) + 1, ingested_at=ingested_at,
    )
    return AnalysedDocument(document, segments)


def segments_from_table(table: pa.Table) -> tuple[Segment, ...]:
    """Segments of one document read back from its segments file, in document order."""
    columns = table.select(
        ["ordinal", "section", "kind", "text", "line_start", "line_end", "char_start", "char_end"]
    ).to_pydict()
    segments = [Segment(*values) for values in zip(*columns.values(), strict=True)]
    return tuple(sorted(segments, key=lambda s: s.ordinal))


def pair_order(a: AnalysedDocument, b: AnalysedDocument) -> tuple[AnalysedDocument, AnalysedDocument]:
    """The canonical orientation of a pair: by language tag, then doc_id."""
    key_a, key_b = (a.document.lang, a.doc_id), (b.document.lang, b.doc_id)
    return (a, b) if key_a <= key_b else (b, a)


def _section_ids(doc: AnalysedDocument) -> dict[int, list[str]]:
    ids: dict[int, list[str]] = defaultdict(list)
    for s in doc.segments:
        if s.kind != "boilerplate":
            ids[s.section].append(doc.segment_id(s.ordinal))
    return ids


def _bead_rows(
    src: AnalysedDocument, tgt: AnalysedDocument, level: str, beads: Sequence[Bead], method: str,
    src_ids: dict[int, list[str]] | None = None, tgt_ids: dict[int, list[str]] | None = None,
) -> list[AlignmentRow]:
    rows = []
    for position, bead in enumerate(beads):
        if src_ids is None or tgt_ids is None:
            src_list = [src.segment_id(i) for i in bead.src]
            tgt_list = [tgt.segment_id(i) for i in bead.tgt]
        else:
            src_list = [sid for i in bead.src for sid in src_ids.get(i, [])]
            tgt_list = [sid for i in bead.tgt for sid in tgt_ids.get(i, [])]
        rows.append(AlignmentRow(
            work_id=src.document.work_id, src_doc_id=src.doc_id, tgt_doc_id=tgt.doc_id,
            src_lang=src.document.lang, tgt_lang=tgt.document.lang, level=level, bead=position,  # type: ignore[arg-type]
            src_ids=src_list, tgt_ids=tgt_list, score=round(bead.score, 6), method=method,
        ))
    return rows


def alignment_rows(src: AnalysedDocument, tgt: AnalysedDocument, alignment: PairAlignment) -> list[AlignmentRow]:
    """Rows of the alignments table for one aligned pair: section beads, then segment beads."""
    return _bead_rows(
        src, tgt, "section", alignment.sections, alignment.method, _section_ids(src), _section_ids(tgt)
    ) + _bead_rows(src, tgt, "segment", alignment.segments, alignment.method)


def align_documents(a: AnalysedDocument, b: AnalysedDocument, embed: Embed | None = None) -> list[AlignmentRow]:
    """Align two documents of the same work (in canonical orientation) into alignment rows."""
    src, tgt = pair_order(a, b)
    return alignment_rows(src, tgt, align_pair(src.segments, tgt.segments, embed=embed))


@dataclass(frozen=True, slots=True)
class WorkAnalysis:
    """A changed work after analysis: its new documents, the documents it keeps, what was rejected."""

    work_id: str
    new: tuple[AnalysedDocument, ...]
    kept: tuple[AnalysedDocument, ...]
    rejections: tuple[Rejection, ...]
    kept_segment_files: tuple[ManifestFile, ...] = ()  # the manifest's entries of the kept documents' segments

    @property
    def documents(self) -> tuple[AnalysedDocument, ...]:
        return tuple(sorted(self.new + self.kept, key=lambda d: d.document.source_path))


def new_pairs(analysis: WorkAnalysis) -> list[tuple[AnalysedDocument, AnalysedDocument]]:
    """The pairs a change has to align: each new document against every other document of the work."""
    pairs = [(n, k) for n in analysis.new for k in analysis.kept]
    pairs += [(a, b) for i, a in enumerate(analysis.new) for b in analysis.new[i + 1:]]
    return pairs
