"""The columns of every output table, defined once.

Each table is a pydantic row model whose fields carry a description; the Arrow schema written to
Parquet, the column docs in ``docs/schema.md`` and the validation of rows are all derived from it.
"""

from __future__ import annotations

import json
import types
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Union, get_args, get_origin

import pyarrow as pa
from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = 1

SegmentKind = Literal["title", "heading", "paragraph", "list_item", "boilerplate"]
AlignmentLevel = Literal["section", "segment"]
SEGMENT_KINDS: tuple[str, ...] = get_args(SegmentKind)
CORRECTION_METHOD = "correction"  # the method of a bead set by hand


class Row(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class DocumentRow(Row):
    doc_id: str = Field(description="Stable document id: the first 16 hex digits of content_sha256.")
    work_id: str = Field(
        description="The work this document is a version of: by default the input file's folder relative to "
        "the input root ('.' for files directly in it); see work_assigned_by."
    )
    work_assigned_by: str = Field(
        description="How work_id was decided: 'folder', 'mapping' (a works file) or 'auto' (grouped by content)."
    )
    work_confidence: float = Field(description="Confidence of an automatic work assignment, 0-1 (1 otherwise).")
    source_path: str = Field(description="Path of the source file relative to the input root (POSIX).")
    content_sha256: str = Field(description="SHA-256 of the file's raw bytes.")
    encoding: str = Field(description="Encoding the bytes were decoded with (Python codec name).")
    lang: str = Field(description="BCP-47 language tag, with script where it matters (zh-Hant); 'und' if unknown.")
    lang_confidence: float = Field(description="Confidence of the language tag, 0-1.")
    script: str = Field(description="ISO 15924 code of the dominant script (Latn, Thai, Deva, Hant, Hans, ...).")
    title: str = Field(description="Text of the document's title segment ('' if none was found).")
    n_lines: int = Field(description="Number of lines of the decoded source file.")
    n_segments: int = Field(description="Number of segments of the document.")
    n_sections: int = Field(description="Number of sections (section 0 is the title block).")
    ingested_at: datetime = Field(description="When this file version was first ingested (UTC).")


class SegmentRow(Row):
    segment_id: str = Field(description="Stable, unique segment id: '<doc_id>-<ordinal, 5 digits>'.")
    doc_id: str = Field(description="Document the segment belongs to.")
    work_id: str = Field(description="Work of the document.")
    lang: str = Field(description="Language tag of the document (also the hive partition key).")
    ordinal: int = Field(description="0-based position of the segment in the document.")
    section: int = Field(description="0-based section index; the title block before the first heading is 0.")
    kind: SegmentKind = Field(description="title, heading, paragraph, list_item or boilerplate.")
    text: str = Field(description="NFC text with list marker and surrounding whitespace removed.")
    line_start: int = Field(description="First source line of the segment (1-based, inclusive).")
    line_end: int = Field(description="Last source line of the segment (1-based, inclusive).")
    char_start: int = Field(description="Offset of the segment's first character in the decoded source.")
    char_end: int = Field(description="Offset just past the segment's last character in the decoded source.")


class AlignmentRow(Row):
    work_id: str = Field(description="Work both documents belong to.")
    src_doc_id: str = Field(description="Source document (the pair is ordered by language tag, then doc_id).")
    tgt_doc_id: str = Field(description="Target document.")
    src_lang: str = Field(description="Language of the source document.")
    tgt_lang: str = Field(description="Language of the target document.")
    level: AlignmentLevel = Field(description="'section' (whole sections) or 'segment' (n-to-m segment beads).")
    bead: int = Field(description="0-based position of the bead in the pair's alignment at this level.")
    src_ids: list[str] = Field(description="Source segment ids of the bead; empty marks an insertion in target.")
    tgt_ids: list[str] = Field(description="Target segment ids of the bead; empty marks an omission in target.")
    score: float = Field(description="Confidence that the bead is a correct translation unit, 0-1.")
    method: str = Field(
        description=f"Aligner and signals that produced the bead; '{CORRECTION_METHOD}' for a bead set by hand (a "
        "corrections file), whose score is then 1.0."
    )


class RejectRow(Row):
    source_path: str = Field(description="Path of the rejected file relative to the input root.")
    reason: str = Field(description="Short code: empty, binary, too_large, duplicate, unreadable, ...")
    message: str = Field(description="What happened and what a person should do about it.")
    content_sha256: str | None = Field(
        description="SHA-256 of the file's bytes when they could be read (a later build skips the file "
        "while it is unchanged)."
    )
    seen_at: datetime = Field(description="When the build first saw the file in this state (UTC).")


class ParallelRow(Row):
    work_id: str = Field(description="Work the unit belongs to.")
    unit: int = Field(description="0-based position of the unit in the work.")
    translation: dict[str, str | None] = Field(
        description="Language -> text of the unit (Hugging Face Translation feature: a struct with one field per "
        "language of the work, null where the language has no text for the unit; the table's all-languages file, "
        "which has no rows, has a field for every language of the corpus)."
    )
    segment_ids: dict[str, list[str] | None] = Field(
        description="Language -> segment ids of the unit (a struct like translation)."
    )
    n_langs: int = Field(description="Number of languages with text in the unit.")
    score: float = Field(description="Confidence of the unit: the lowest score of the beads that form it, 0-1.")


_SCALARS: dict[Any, pa.DataType] = {
    str: pa.string(),
    int: pa.int64(),
    float: pa.float64(),
    bool: pa.bool_(),
    datetime: pa.timestamp("us", tz="UTC"),
}


def _arrow_type(annotation: Any) -> tuple[pa.DataType, bool]:
    """Arrow type of a field annotation, and whether it is nullable."""
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        members = [a for a in get_args(annotation) if a is not type(None)]
        if len(members) != 1:
            raise TypeError(f"unsupported union {annotation!r}")
        return _arrow_type(members[0])[0], True
    if origin is Literal:
        return pa.string(), False
    if origin is list:
        (item,) = get_args(annotation)
        return pa.list_(_arrow_type(item)[0]), False
    if origin is dict:
        key, value = get_args(annotation)
        return pa.map_(_arrow_type(key)[0], _arrow_type(value)[0]), False
    if annotation in _SCALARS:
        return _SCALARS[annotation], False
    raise TypeError(f"no Arrow type for {annotation!r}")


@dataclass(frozen=True)
class Table:
    """An output table: its directory under the output folder, row model and partitioning."""

    name: str
    row_model: type[Row]
    description: str
    partition_by: str | None = None
    translation_column: str | None = None  # a language -> text struct: Hugging Face's Translation feature

    @property
    def columns(self) -> list[str]:
        return list(self.row_model.model_fields)

    @property
    def arrow_schema(self) -> pa.Schema:
        return self.arrow_schema_for(())

    def arrow_schema_for(self, languages: Sequence[str]) -> pa.Schema:
        """The Arrow schema; dict-of-language columns become a struct with one field per language."""
        fields = []
        for name, info in self.row_model.model_fields.items():
            arrow_type, nullable = _arrow_type(info.annotation)
            if pa.types.is_map(arrow_type):
                value_type = arrow_type.item_type
                arrow_type = pa.struct([pa.field(lang, value_type) for lang in languages])
            # `datasets` applies a column's feature only to a field exactly like its own, and its fields are nullable.
            nullable = nullable or name == self.translation_column
            fields.append(
                pa.field(name, arrow_type, nullable=nullable,
                         metadata={"description": info.description or ""})
            )
        metadata = {
            "parallel_corpus.schema_version": str(SCHEMA_VERSION),
            "parallel_corpus.table": self.name,
            "parallel_corpus.description": self.description,
        }
        if self.translation_column is not None:
            metadata["huggingface"] = json.dumps({"info": {"features": _hf_features(fields, self.translation_column)}})
        return pa.schema(fields, metadata=metadata)


def _hf_feature(arrow_type: pa.DataType) -> dict[str, Any]:
    """The Hugging Face `datasets` feature of an Arrow type, as `Features.to_dict` writes it."""
    if pa.types.is_struct(arrow_type):
        return {arrow_type.field(i).name: _hf_feature(arrow_type.field(i).type) for i in range(arrow_type.num_fields)}
    if pa.types.is_list(arrow_type):
        return {"feature": _hf_feature(arrow_type.value_type), "_type": "Sequence"}
    return {"dtype": "float64" if pa.types.is_float64(arrow_type) else str(arrow_type), "_type": "Value"}


def _hf_features(fields: Sequence[pa.Field], translation_column: str) -> dict[str, Any]:
    """Features of every column (`datasets` reads them from the Parquet schema's "huggingface" metadata), the
    translation struct as a Translation feature, so that `translation` loads as one, not as a dict of strings."""
    return {
        f.name: {"languages": [f.type.field(i).name for i in range(f.type.num_fields)], "_type": "Translation"}
        if f.name == translation_column else _hf_feature(f.type)
        for f in fields
    }


DOCUMENTS = Table("documents", DocumentRow, "One row per ingested file version.")
SEGMENTS = Table(
    "segments", SegmentRow, "One row per segment of every document, hive-partitioned by lang.",
    partition_by="lang",
)
ALIGNMENTS = Table(
    "alignments", AlignmentRow,
    "One row per bead, for every pair of documents of the same work, at section and segment level.",
)
REJECTS = Table("rejects", RejectRow, "One row per input file that was not ingested, with the reason.")
PARALLEL = Table(
    "parallel", ParallelRow,
    "One row per aligned unit across all languages of a work (the pairwise beads grouped into units).",
    translation_column="translation",
)



class DocumentStatsRow(DocumentRow):
    """Every column of documents/, then the document's segments by kind."""

    n_title: int = Field(description="Segments of kind title.")
    n_heading: int = Field(description="Segments of kind heading.")
    n_paragraph: int = Field(description="Segments of kind paragraph.")
    n_list_item: int = Field(description="Segments of kind list_item.")
    n_boilerplate: int = Field(description="Segments of kind boilerplate.")


class PairStatsRow(Row):
    work_id: str = Field(description="Work both documents belong to.")
    src_doc_id: str = Field(description="Source document of the pair (as in alignments/).")
    tgt_doc_id: str = Field(description="Target document of the pair.")
    src_lang: str = Field(description="Language of the source document.")
    tgt_lang: str = Field(description="Language of the target document.")
    beads: int = Field(description="Segment-level beads of the pair.")
    src_content: int = Field(description="Source segment ids in the pair's segment beads that are not boilerplate.")
    src_aligned: int = Field(description="Of src_content, those in a bead with at least one target segment.")
    tgt_content: int = Field(description="Target segment ids in the pair's segment beads that are not boilerplate.")
    tgt_aligned: int = Field(description="Of tgt_content, those in a bead with at least one source segment.")
    score_sum: float = Field(description="Sum of the scores of the pair's segment beads (their mean: / beads).")


# Counts per document and per document pair, derived from the tables above by the build: what `corpus stats` and
# `corpus status` read, so that they need not read every work's files. One file each, rewritten when works change.
DOCUMENT_STATS = Table(
    "document_stats", DocumentStatsRow,
    "One row per document: its row of documents/ (every column) and its segments by kind (from segments/); all "
    "the corpus' documents in one file, what a build plans with and `corpus stats`/`status` read.",
)
PAIR_STATS = Table(
    "pair_stats", PairStatsRow,
    "One row per aligned document pair: its segment beads, coverage counts and score sum (derived from "
    "alignments/ and segments/).",
)
STATS_TABLES: tuple[Table, ...] = (DOCUMENT_STATS, PAIR_STATS)

TABLES: tuple[Table, ...] = (DOCUMENTS, SEGMENTS, ALIGNMENTS, REJECTS, PARALLEL, *STATS_TABLES)
