"""Schemas of every output table (the single source of truth) and of ``manifest.json``."""

from schemas.manifest import Manifest, ManifestFile, ManifestTable
from schemas.tables import (
    ALIGNMENTS,
    DOCUMENTS,
    REJECTS,
    SCHEMA_VERSION,
    SEGMENT_KINDS,
    SEGMENTS,
    TABLES,
    AlignmentLevel,
    AlignmentRow,
    DocumentRow,
    RejectRow,
    Row,
    SegmentKind,
    SegmentRow,
    Table,
)

__all__ = [
    "ALIGNMENTS",
    "DOCUMENTS",
    "REJECTS",
    "SCHEMA_VERSION",
    "SEGMENTS",
    "SEGMENT_KINDS",
    "TABLES",
    "AlignmentLevel",
    "AlignmentRow",
    "DocumentRow",
    "Manifest",
    "ManifestFile",
    "ManifestTable",
    "RejectRow",
    "Row",
    "SegmentKind",
    "SegmentRow",
    "Table",
]
