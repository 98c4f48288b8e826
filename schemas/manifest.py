"""``manifest.json``: the one file a reader follows to see a complete, consistent snapshot."""

from __future__ import annotations

import re
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from schemas.tables import SCHEMA_VERSION, TABLES

TABLE_NAMES = frozenset(table.name for table in TABLES)
# A table file: `<table>/<name>.parquet`, or `segments/lang=<tag>/<name>.parquet`; plain names, no `..`.
_FILE_PATH = re.compile(r"(?P<table>[a-z][a-z_]*)/(?:lang=[A-Za-z0-9-]+/)?[A-Za-z0-9][A-Za-z0-9_-]*\.parquet")


class ManifestFile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    path: str = Field(description="Parquet file path relative to the output folder (POSIX).")
    rows: int = Field(description="Number of rows in the file.")
    members: tuple[str, ...] = Field(
        default=(),
        description="Only for a file merged by `corpus compact`: the works (work keys) or, in segments, the "
        "documents (doc ids) whose rows it holds. Empty for a file of one work or one document.",
    )
    bytes: int | None = Field(
        default=None, ge=0, description="Size of the file in bytes (absent in manifests written before 2026-12)."
    )
    sha256: str | None = Field(
        default=None, pattern=r"^[0-9a-f]{64}$",
        description="SHA-256 of the file's bytes (absent in manifests written before 2026-12).",
    )

    @field_validator("path")
    @classmethod
    def _inside_a_table_folder(cls, path: str) -> str:
        match = _FILE_PATH.fullmatch(path)
        if match is None or match["table"] not in TABLE_NAMES:
            raise ValueError(f"{path!r} is not a table file of the output folder (<table>/<name>.parquet)")
        return path

    @property
    def table(self) -> str:
        return self.path.split("/", 1)[0]


class ManifestTable(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    files: list[ManifestFile] = Field(description="The table's Parquet files in this snapshot.")
    rows: int = Field(ge=0, description="Total rows of the table in this snapshot.")

    @model_validator(mode="after")
    def _rows_add_up(self) -> ManifestTable:
        if self.rows != sum(f.rows for f in self.files):
            raise ValueError(f"the table's rows ({self.rows}) are not the sum of its files' rows")
        return self


class BoilerplateRules(BaseModel):
    """Per-corpus boilerplate rules (``--rules FILE``): regular expressions searched in each segment's text."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    drop: tuple[str, ...] = Field(default=(), description="A segment matching one of these is boilerplate.")
    keep: tuple[str, ...] = Field(
        default=(), description="A boilerplate segment matching one of these (and none of drop) is text."
    )


class Correction(BaseModel):
    """One bead set by hand (``--corrections FILE``): these lines of one document are the translation of those
    lines of the other. Lines are 1-based lines of the source files, inclusive; no lines on one side marks
    text that the other document omits."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    src: str = Field(description="Source path (relative to the input root) of one document of the pair.")
    tgt: str = Field(description="Source path of the other document.")
    src_lines: tuple[int, int] | None = Field(description="First and last line of the bead in src (none: omitted).")
    tgt_lines: tuple[int, int] | None = Field(description="First and last line of the bead in tgt (none: omitted).")


class Manifest(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: int = Field(default=SCHEMA_VERSION, ge=1, description="Schema version of every table.")
    written_at: datetime = Field(description="When the snapshot was published (UTC).")
    build_id: str = Field(description="Id of the build that wrote this snapshot (the Prefect flow run id).")
    tables: dict[str, ManifestTable] = Field(
        description="Per table: its files (path relative to the output folder, rows, and for a file merged by "
        "`corpus compact` the works or documents it holds) and total rows."
    )
    languages: list[str] = Field(
        default_factory=list,
        description="Languages of the corpus, sorted: the fields of the per-language structs of the parallel table's "
        "all-languages file.",
    )
    rules: BoilerplateRules | None = Field(
        default=None, description="The boilerplate rules every stored document was analysed with (none: the defaults)."
    )
    corrections: tuple[Correction, ...] = Field(
        default=(), description="The beads set by hand that the stored alignments were built with (see README, "
        "'Correcting a bead'); they stay in force for later builds until another corrections file is given."
    )

    @model_validator(mode="after")
    def _known_tables_own_their_files(self) -> Manifest:
        for name, table in self.tables.items():
            if name not in TABLE_NAMES:
                raise ValueError(f"unknown table {name!r} (known: {', '.join(sorted(TABLE_NAMES))})")
            strays = [f.path for f in table.files if f.table != name]
            if strays:
                raise ValueError(f"table {name!r} names files of another folder: {strays[:3]}")
        return self

    def files(self) -> list[ManifestFile]:
        """Every file of the snapshot, of every table."""
        return [f for table in self.tables.values() for f in table.files]
