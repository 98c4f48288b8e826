"""``manifest.json``: the one file a reader follows to see a complete, consistent snapshot."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from schemas.tables import SCHEMA_VERSION


class ManifestFile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    path: str = Field(description="Parquet file path relative to the output folder (POSIX).")
    rows: int = Field(description="Number of rows in the file.")


class ManifestTable(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    files: list[ManifestFile]
    rows: int


class Manifest(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: int = SCHEMA_VERSION
    written_at: datetime
    build_id: str = Field(description="Id of the build that wrote this snapshot.")
    tables: dict[str, ManifestTable]
