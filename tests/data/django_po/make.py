"""Lay out the strings of one Django application as one document per language (see README.md).

    python make.py APP OUT_FOLDER LANG,LANG,...   (run beside the unpacked wheel's django/ folder)
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

ROOT = Path("django")
_ENTRY_LINE = re.compile(r'(msgctxt|msgid_plural|msgid|msgstr(?:\[\d\])?)\s+(".*")$')
_PLACEHOLDER = re.compile(r"%\([^)]*\)[sd]|%[sd]|\{[^}]*\}|<[^>]+>|\d+|[“”\"]")
_STRINGS_PER_PARAGRAPH = 4
_PARAGRAPHS_PER_HEADING = 5


def parse_po(path: Path) -> dict[str, str]:
    """msgid -> msgstr of the translated, non-fuzzy, context-free singular entries."""
    entries: dict[str, str] = {}
    current: dict[str, str] = {}
    field = ""
    fuzzy = False
    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        line = line.strip()
        if not line:
            if current.get("msgid") and current.get("msgstr") and not fuzzy and "msgctxt" not in current:
                entries[current["msgid"]] = current["msgstr"]
            current, field, fuzzy = {}, "", False
        elif line.startswith("#"):
            fuzzy = fuzzy or (line.startswith("#,") and "fuzzy" in line)
        elif match := _ENTRY_LINE.match(line):
            field = match.group(1)
            current[field] = ast.literal_eval(match.group(2))
        elif line.startswith('"') and field:
            current[field] += ast.literal_eval(line)
    return entries


def clean(text: str) -> str:
    return re.sub(r"\s+", " ", _PLACEHOLDER.sub("", text)).strip(" :")


def full_stop(lang: str) -> str:
    return "।" if lang in ("hi", "mr") else "。" if lang.startswith(("zh", "ja")) else "."


def build(app: str, langs: list[str], out: Path) -> int:
    """Write OUT/<lang>.txt for each language (``en`` is the msgids); return the number of strings."""
    folder = ROOT / ("conf" if app == "conf" else f"contrib/{app}")
    translated = {lang: parse_po(folder / "locale" / lang / "LC_MESSAGES" / "django.po")
                  for lang in langs if lang != "en"}
    first = next(iter(translated.values()))
    ids = [msgid for msgid in first
           if "\n" not in msgid and len(clean(msgid)) >= 3
           and all(len(clean(strings.get(msgid, ""))) >= 2 for strings in translated.values())]
    out.mkdir(parents=True, exist_ok=True)
    for lang in langs:
        lines: list[str] = []
        paragraph: list[str] = []
        for k, msgid in enumerate(ids):
            text = clean(msgid if lang == "en" else translated[lang][msgid])
            if k % (_STRINGS_PER_PARAGRAPH * _PARAGRAPHS_PER_HEADING) == 0:
                if paragraph:
                    lines += [" ".join(paragraph), ""]
                    paragraph = []
                lines += [text.rstrip(".。।"), ""]
                continue
            paragraph.append(text if text[-1] in ".?!。？！।" else text + full_stop(lang))
            if len(paragraph) == _STRINGS_PER_PARAGRAPH:
                lines += [" ".join(paragraph), ""]
                paragraph = []
        if paragraph:
            lines.append(" ".join(paragraph))
        (out / f"{lang}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return len(ids)


if __name__ == "__main__":
    print(build(sys.argv[1], sys.argv[3].split(","), Path(sys.argv[2])))
