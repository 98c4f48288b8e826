"""Locations of a corpus and its input: a local path, or an object-store URL carried as a Path.

``Path("s3://bucket/key")`` is ``s3:/bucket/key``: a relative path whose first part is the scheme. Build
parameters and jobs keep their ``Path`` type (and pickle to any worker) while naming a store; ``store_url`` gives
the URL back. What reads and writes a store is ``tasks.fs``.
"""

from __future__ import annotations

from pathlib import Path

# scheme -> (the module fsspec needs for it, the extra that installs it)
SCHEMES: dict[str, tuple[str | None, str]] = {
    "s3": ("s3fs", "s3"),
    "s3a": ("s3fs", "s3"),
    "gs": ("gcsfs", "gcs"),
    "gcs": ("gcsfs", "gcs"),
    "az": ("adlfs", "azure"),
    "abfs": ("adlfs", "azure"),
    "abfss": ("adlfs", "azure"),
    "memory": (None, ""),
}


def _scheme_of(part: str) -> str | None:
    scheme = part[:-1].lower() if part.endswith(":") else ""
    return scheme if scheme in SCHEMES else None


def store_url(location: Path | str) -> str | None:
    """The URL of an object-store location (``s3://bucket/key``), None for a local path."""
    if isinstance(location, str):
        location = to_location(location)
    parts = location.parts
    if not parts or location.is_absolute():
        return None
    scheme = _scheme_of(parts[0])
    if scheme is None:
        return None
    return f"{scheme}://" + "/".join(parts[1:])


def is_remote(location: Path | str) -> bool:
    return store_url(location) is not None


def to_location(text: str | Path) -> Path:
    """A command-line location as the build carries it: ``file://`` URLs become local paths, other URLs keep
    their scheme as the first part of the path (see the module's docstring)."""
    text = str(text)
    lowered = text.lower()
    if lowered.startswith("file://"):
        return Path(text[len("file://"):] or "/")
    if lowered.startswith("file:/"):  # what Path("file:///x") made of it
        return Path(text[len("file:"):])
    return Path(text)
