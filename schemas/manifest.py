"""``manifest.json``: the one file a reader follows to see a complete, consistent snapshot."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from schemas.tables import SCHEMA_VERSION


class ManifestFile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    path: str = Field(description="Parquet file path relative to the output folder (POSIX).")
    rows: int = Field(description="Number of rows in the file.")
    members: tuple[str, ...] = Field(
        default=(),
        description="Only for a file merged by `corpus compact`: the works (work keys) or, in segments, the "
        "documents (doc ids) whose rows it holds. Empty for a file of one work or one document.",
    )


class ManifestTable(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    files: list[ManifestFile] = Field(description="The table's Parquet files in this snapshot.")
    rows: int = Field(description="Total rows of the table in this snapshot.")


class Manifest(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: int = Field(default=SCHEMA_VERSION, description="Schema version of every table.")
    written_at: datetime = Field(description="When the snapshot was published (UTC).")
    build_id: str = Field(description="Id of the build that wrote this snapshot (the Prefect flow run id).")
    tables: dict[str, ManifestTable] = Field(
        description="Per table: its files (path relative to the output folder, rows, and for a file merged by "
        "`corpus compact` the works or documents it holds) and total rows."
    )
    languages: list[str] = Field(
        default_factory=list,
        description="Languages of the corpus, sorted: the fields of the parallel table's per-language structs.",
    )
