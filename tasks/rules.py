"""Per-corpus boilerplate rules: patterns a person gives for what is page furniture and what is text.

The segmenter decides by shape what is boilerplate (a copyright line, a dated byline, a publication stamp at the
edge of a page). A corpus has its own furniture, and now and then text that looks like furniture; a rules file
(TOML) says so with regular expressions, searched in each segment's text:

    [boilerplate]
    drop = ['reproduction autorisée', '^Lire aussi']   # a segment matching one of these is boilerplate
    keep = ['^Par .* — publié']                        # a boilerplate segment matching one of these is text

Dropping wins over keeping. The rules are stored in the manifest and stay in force for later builds; when a
build is given other rules, every stored document whose source file is there is analysed again, so the corpus
does not mix two sets of rules. An empty rules file goes back to the defaults.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from schemas import BoilerplateRules, Manifest
from tasks.errors import RulesFileError
from tasks.segment import Segment

__all__ = ["BoilerplateRules", "RulesFileError", "apply_rules", "load_rules", "rules_in_force"]


def _patterns(path: Path, table: dict[str, object], key: str) -> tuple[str, ...]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise RulesFileError(f"{path}: boilerplate.{key} must be a list of strings (regular expressions)")
    for pattern in value:
        try:
            re.compile(pattern)
        except re.error as error:
            raise RulesFileError(f"{path}: boilerplate.{key}: {pattern!r} is not a regular expression ({error})",
                                 hint="check the pattern; special characters such as ( [ . need a backslash"
                                 ) from None
    return tuple(value)


def load_rules(path: Path) -> BoilerplateRules:
    """The rules of a TOML file; a clear error when it cannot be used."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise RulesFileError(f"rules file {path} cannot be read ({error.strerror})") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise RulesFileError(f"rules file {path} is not valid TOML ({error})") from None
    unknown = set(data) - {"boilerplate"}
    table = data.get("boilerplate", {})
    if unknown or not isinstance(table, dict) or set(table) - {"drop", "keep"}:
        raise RulesFileError(f"rules file {path} may only hold a [boilerplate] table with drop and keep lists",
                             hint="see README, 'Boilerplate rules'")
    return BoilerplateRules(drop=_patterns(path, table, "drop"), keep=_patterns(path, table, "keep"))


def rules_in_force(rules_file: Path | None, manifest: Manifest | None) -> BoilerplateRules | None:
    """The rules of this build: the file's when one is given (an empty file: none), else the corpus' own."""
    if rules_file is None:
        return manifest.rules if manifest else None
    rules = load_rules(rules_file)
    return rules if rules.drop or rules.keep else None


def apply_rules(segments: Sequence[Segment], rules: BoilerplateRules | None) -> tuple[Segment, ...]:
    """The segments with the rules applied to their kinds (nothing else changes: text, lines and offsets stay)."""
    if rules is None or not (rules.drop or rules.keep):
        return tuple(segments)
    drop = [re.compile(p) for p in rules.drop]
    keep = [re.compile(p) for p in rules.keep]
    out = []
    for segment in segments:
        if segment.kind != "boilerplate" and any(p.search(segment.text) for p in drop):
            segment = replace(segment, kind="boilerplate")
        elif segment.kind == "boilerplate" and any(p.search(segment.text) for p in keep) and not any(
                p.search(segment.text) for p in drop):
            segment = replace(segment, kind="paragraph")
        out.append(segment)
    return tuple(out)
