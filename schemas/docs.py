"""Render the documented schema of every table as markdown (``docs/schema.md``)."""

from __future__ import annotations

from pathlib import Path

from schemas.manifest import Manifest
from schemas.tables import SCHEMA_VERSION, TABLES


def project_schema_docs() -> Path | None:
    """``docs/schema.md`` of the project this package runs from (a source checkout or an editable install),
    wherever the command is run; None for an installed copy, which has no project folder."""
    root = Path(__file__).resolve().parent.parent
    return root / "docs" / "schema.md" if (root / "pyproject.toml").is_file() else None


def render_schema_markdown() -> str:
    lines = [
        "# Output tables",
        "",
        f"Schema version {SCHEMA_VERSION}. Generated from `schemas/` by `corpus schema-docs`; do not edit by hand.",
        "Every Parquet file carries these descriptions in its field metadata (`description`) and the schema",
        "version in its key-value metadata (`parallel_corpus.schema_version`).",
    ]
    for table in TABLES:
        lines += ["", f"## `{table.name}/`", "", table.description]
        if table.partition_by:
            lines += ["", f"Hive-partitioned by `{table.partition_by}` (`{table.name}/{table.partition_by}=<value>/`)."]
        lines += ["", "| column | type | meaning |", "|---|---|---|"]
        for field in table.arrow_schema:
            meaning = field.metadata[b"description"].decode("utf-8") if field.metadata else ""
            nullable = " (nullable)" if field.nullable else ""
            shown = "struct<one field per language>" if str(field.type) == "struct<>" else str(field.type)
            lines.append(f"| `{field.name}` | `{shown}`{nullable} | {meaning} |")
    lines += ["", "## `manifest.json`", "", "| key | meaning |", "|---|---|"]
    for name, info in Manifest.model_fields.items():
        lines.append(f"| `{name}` | {info.description or ''} |")
    return "\n".join(lines) + "\n"
