"""Beads set by hand: a person's fixes of the alignment, kept across every rebuild.

A corrections file (TOML) names, for a pair of documents, the lines of one that translate the lines of the
other; lines are the 1-based line numbers of the source files, as an editor shows them:

    [[correction]]
    src = "en/article.txt"      # a document: its path relative to the input folder, or its doc_id
    tgt = "fr/article.txt"
    src_lines = "12-14"         # first-last line (inclusive), or one line: 12 or "12"
    tgt_lines = 15

    [[correction]]              # an omission: lines 20-21 of the source have no counterpart in the target
    src = "en/article.txt"
    tgt = "fr/article.txt"
    src_lines = "20-21"         # tgt_lines left out (or "")

A build applies the corrections of a pair as fixed anchors: the pair's content segments are cut at the corrected
beads and only the stretches between them are aligned, each with the aligner (``tasks.align.align_pair``), so the
beads around a fix are aligned again to fit it. A bead set by hand has the method ``correction`` and the score 1.0
(a person checked it). The corrections are stored in the manifest and stay in force for later builds; only the
pairs whose corrections changed are aligned again.
"""

from __future__ import annotations

import json
import posixpath
import re
import tomllib
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from schemas import CORRECTION_METHOD, AlignmentRow, Correction, DocumentRow, Manifest
from tasks.align import Bead, Embed, PairAlignment, align_pair, alignment_method
from tasks.documents import AnalysedDocument, align_documents, alignment_rows, doc_id_for, pair_order
from tasks.errors import CorpusError
from tasks.ingest import Fingerprint
from tasks.segment import Segment
from tasks.store.plan import BuildPlan, StoredDocument, WorkPlan

__all__ = [
    "CORRECTION_METHOD",
    "Correction",
    "CorrectionsFileError",
    "align_corrected",
    "changed_pairs",
    "corpus_documents",
    "corrections_in_force",
    "corrections_toml",
    "describe",
    "load_corrections",
    "parse_lines",
    "plan_realignment",
    "with_fix",
]

_HINT = "see README, 'Correcting a bead'; nothing was changed"
_LINES = re.compile(r"\s*(\d+)\s*(?:-\s*(\d+)\s*)?")


class CorrectionsFileError(CorpusError):
    """A correction that cannot be applied: a malformed file, an unknown document, lines that are no bead."""


def describe(c: Correction) -> str:
    """A correction as a person reads it: ``a.txt:12-14 <-> b.txt:15``."""
    def side(path: str, lines: tuple[int, int] | None) -> str:
        if lines is None:
            return f"{path}:(omitted)"
        return f"{path}:{lines[0]}" + (f"-{lines[1]}" if lines[1] != lines[0] else "")

    return f"{side(c.src, c.src_lines)} <-> {side(c.tgt, c.tgt_lines)}"


def _lines(value: object, where: str, key: str) -> tuple[int, int] | None:
    if value is None or value == "" or value == []:
        return None
    first: object
    last: object
    if isinstance(value, bool):
        first = last = None
    elif isinstance(value, int):
        first = last = value
    elif isinstance(value, str) and (match := _LINES.fullmatch(value)):
        first, last = int(match[1]), int(match[2] or match[1])
    elif isinstance(value, list) and len(value) == 2 and all(type(v) is int for v in value):
        first, last = value
    else:
        first = last = None
    if not isinstance(first, int) or not isinstance(last, int) or first < 1 or last < first:
        raise CorrectionsFileError(f"{where}: {key} = {value!r} is not a line or a range of lines such as "
                                   "12 or \"12-14\" (1-based, first <= last)", hint=_HINT)
    return first, last


def parse_lines(value: str | None, option: str = "lines") -> tuple[int, int] | None:
    """Lines as a person types them on the command line (``option``, named in the error): ``12`` or ``12-14``;
    nothing for an omission."""
    return _lines(value, "corpus fix", option)


def corrections_toml(corrections: Iterable[Correction]) -> str:
    """Corrections as a corrections file that ``load_corrections`` reads back (for a person to edit)."""
    def lines(value: tuple[int, int]) -> str:
        return f'"{value[0]}-{value[1]}"' if value[1] != value[0] else str(value[0])

    parts = []
    for c in corrections:
        entry = [f"src = {json.dumps(c.src, ensure_ascii=False)}", f"tgt = {json.dumps(c.tgt, ensure_ascii=False)}"]
        entry += [f"{key} = {lines(value)}" for key, value in (("src_lines", c.src_lines), ("tgt_lines", c.tgt_lines))
                  if value is not None]
        parts.append("[[correction]]\n" + "\n".join(entry) + "\n")
    return "\n".join(parts)


def with_fix(stored: Iterable[Correction], fix: Correction) -> tuple[Correction, ...]:
    """The stored corrections with one more; a stored correction of the same pair that shares a line with it, or
    crosses it, gives way (the later fix wins)."""
    return (*(c for c in stored if _pair_key(c) != _pair_key(fix) or _clash(_oriented(c, fix.src), fix) is None),
            fix)


def _overlap(a: tuple[int, int] | None, b: tuple[int, int] | None) -> bool:
    return a is not None and b is not None and a[0] <= b[1] and b[0] <= a[1]


def _clash(a: Correction, b: Correction) -> str | None:
    """How two corrections of one pair, oriented alike, cannot both hold: ``overlap`` (a line in two beads),
    ``cross`` (beads out of the order of one document), or None."""
    if _overlap(a.src_lines, b.src_lines) or _overlap(a.tgt_lines, b.tgt_lines):
        return "overlap"
    if a.src_lines and a.tgt_lines and b.src_lines and b.tgt_lines and (
            (a.src_lines[0] < b.src_lines[0]) != (a.tgt_lines[0] < b.tgt_lines[0])):
        return "cross"
    return None


def _check_pairs(corrections: Sequence[Correction], origin: str) -> None:
    """Corrections of one pair must not share a line and must keep the order of both documents."""
    by_pair: dict[frozenset[str], list[Correction]] = defaultdict(list)
    for c in corrections:
        if c.src == c.tgt:
            raise CorrectionsFileError(f"{origin}: {describe(c)} names one document twice", hint=_HINT)
        by_pair[_pair_key(c)].append(_oriented(c, min(c.src, c.tgt)))
    for items in by_pair.values():
        for i, a in enumerate(items):
            for b in items[i + 1:]:
                clash = _clash(a, b)
                if clash == "overlap":
                    raise CorrectionsFileError(f"{origin}: {describe(a)} and {describe(b)} overlap: a line belongs "
                                               "to one bead", hint=_HINT)
                if clash == "cross":
                    raise CorrectionsFileError(f"{origin}: {describe(a)} and {describe(b)} cross: beads keep the "
                                               "order of both documents", hint=_HINT)


def load_corrections(path: Path) -> tuple[Correction, ...]:
    """The corrections of a TOML file, checked for everything that can be checked without the documents."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise CorrectionsFileError(f"corrections file {path} cannot be read ({error.strerror})") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise CorrectionsFileError(f"corrections file {path} is not valid TOML ({error})", hint=_HINT) from None
    entries = data.get("correction", [])
    if set(data) - {"correction"} or not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise CorrectionsFileError(f"corrections file {path} may only hold [[correction]] tables", hint=_HINT)
    corrections = []
    for number, entry in enumerate(entries, 1):
        where = f"{path}: correction {number}"
        unknown = set(entry) - {"src", "tgt", "src_lines", "tgt_lines"}
        if unknown:
            raise CorrectionsFileError(f"{where}: unknown key {sorted(unknown)[0]!r} (keys: src, tgt, src_lines, "
                                       "tgt_lines)", hint=_HINT)
        for key in ("src", "tgt"):
            if not isinstance(entry.get(key), str) or not entry[key].strip():
                raise CorrectionsFileError(f"{where}: {key} must name a document (its path relative to the input "
                                           "folder, or its doc_id)", hint=_HINT)
        src_lines = _lines(entry.get("src_lines"), where, "src_lines")
        tgt_lines = _lines(entry.get("tgt_lines"), where, "tgt_lines")
        if src_lines is None and tgt_lines is None:
            raise CorrectionsFileError(f"{where}: give src_lines, tgt_lines or both", hint=_HINT)
        corrections.append(Correction(src=entry["src"].strip(), tgt=entry["tgt"].strip(), src_lines=src_lines,
                                      tgt_lines=tgt_lines))
    _check_pairs(corrections, str(path))
    return tuple(corrections)


def corpus_documents(stored: Iterable[DocumentRow], fingerprints: Iterable[Fingerprint], prune: bool
                     ) -> dict[str, tuple[str, str]]:
    """(doc_id, work_id) of every source path of the corpus-to-be: the input files, and the stored documents
    whose file is gone unless they are pruned. A file stored unchanged keeps its stored work, as the build keeps it
    there, unless a works file names another (its files' folder is only their work before they are grouped)."""
    stored_by_path = {d.source_path: d for d in stored}

    def work_of(fp: Fingerprint) -> str:
        previous = stored_by_path.get(fp.file.source_path)
        if (previous is not None and previous.content_sha256 == fp.content_sha256
                and fp.file.work_assigned_by != "mapping"):
            return previous.work_id
        return fp.file.work_id

    current = {fp.file.source_path: (doc_id_for(fp.content_sha256), work_of(fp)) for fp in fingerprints}
    kept = {d.source_path: (d.doc_id, d.work_id) for d in stored if not prune or d.source_path in current}
    return kept | current


def corrections_in_force(
    corrections_file: Path | None, manifest: Manifest | None, documents: Mapping[str, tuple[str, str]]
) -> tuple[tuple[Correction, ...], list[str]]:
    """The corrections of this build, documents named by path, and warnings.

    ``documents`` maps every source path of the corpus-to-be to its (doc_id, work_id). A corrections file's
    corrections replace the stored ones (an empty file removes them); a file that names an unknown document, or
    two documents of different works, is an error. Without a file the stored corrections stay, except those whose
    documents have left the corpus (a warning says so)."""
    by_id = {doc_id: path for path, (doc_id, _) in documents.items()}

    def path_of(name: str) -> str | None:
        path = posixpath.normpath(name)  # ./en/a.txt or en//a.txt as a shell completes it: en/a.txt
        return path if path in documents else by_id.get(name)

    if corrections_file is None:
        stored = manifest.corrections if manifest else ()
        kept = tuple(c for c in stored if c.src in documents and c.tgt in documents)
        return kept, [f"correction {describe(c)} dropped: its document left the corpus"
                      for c in stored if c not in kept]
    resolved = []
    for c in load_corrections(corrections_file):
        src, tgt = path_of(c.src), path_of(c.tgt)
        for name, found in ((c.src, src), (c.tgt, tgt)):
            if found is None:
                raise CorrectionsFileError(f"correction {describe(c)}: no document {name!r} in the input "
                                           "folder or the corpus", hint="name it by its path relative to the input "
                                           "folder (as in `corpus status`) or by its doc_id; nothing was changed")
        assert src is not None and tgt is not None
        if documents[src][1] != documents[tgt][1]:
            raise CorrectionsFileError(f"correction {describe(c)}: the documents are in different works "
                                       f"({documents[src][1]!r}, {documents[tgt][1]!r}) and are not aligned",
                                       hint="a works file (--works) puts them into one work; nothing was changed")
        resolved.append(c.model_copy(update={"src": src, "tgt": tgt}))
    _check_pairs(resolved, "corrections")  # two names of one document (path and doc_id) may hide a clash
    return tuple(resolved), []


def _pair_key(c: Correction) -> frozenset[str]:
    return frozenset((c.src, c.tgt))


def _oriented(c: Correction, src: str) -> Correction:
    return c if c.src == src else Correction(src=c.tgt, tgt=c.src, src_lines=c.tgt_lines, tgt_lines=c.src_lines)


def changed_pairs(previous: Iterable[Correction], current: Iterable[Correction]) -> set[frozenset[str]]:
    """The document pairs (source paths) whose corrections differ between two sets of corrections."""
    def by_pair(corrections: Iterable[Correction]) -> dict[frozenset[str], set[Correction]]:
        out: dict[frozenset[str], set[Correction]] = defaultdict(set)
        for c in corrections:
            out[_pair_key(c)].add(_oriented(c, min(c.src, c.tgt)))
        return out

    before, after = by_pair(previous), by_pair(current)
    return {key for key in before.keys() | after.keys() if before.get(key) != after.get(key)}


def plan_realignment(
    plan: BuildPlan, stored: Sequence[StoredDocument], pairs: set[frozenset[str]]
) -> tuple[BuildPlan, dict[str, frozenset[frozenset[str]]]]:
    """The plan with the works of stored pairs whose corrections changed, and those pairs (doc ids) per work.

    A pair with a new or changed document is aligned anyway, with its corrections; a pair of two stored documents
    that stay is aligned again only when its corrections changed, and its work gets a plan that keeps every
    document (nothing is ingested again)."""
    planned = {w.work_id: w for w in plan.works}
    reingested = {fp.file.source_path for w in plan.works for fp in w.to_ingest}
    gone = {d.source_path for w in plan.works for d in w.dropped}
    by_path = {d.source_path: d for d in stored}
    realign: dict[str, set[frozenset[str]]] = defaultdict(set)
    extra: dict[str, WorkPlan] = {}
    for pair in sorted(pairs, key=sorted):
        docs = [by_path.get(path) for path in sorted(pair)]
        if any(d is None or d.source_path in reingested | gone for d in docs):
            continue
        a, b = docs
        assert a is not None and b is not None
        if a.work_id != b.work_id:
            continue
        realign[a.work_id].add(frozenset((a.doc_id, b.doc_id)))
        if a.work_id not in planned and a.work_id not in extra:
            kept = tuple(sorted((d for d in stored if d.work_id == a.work_id), key=lambda d: d.source_path))
            extra[a.work_id] = WorkPlan(work_id=a.work_id, to_ingest=(), kept=kept, dropped=())
    if extra:
        works = tuple(sorted((*plan.works, *extra.values()), key=lambda w: w.work_id))
        unchanged = tuple(w for w in plan.unchanged_work_ids if w not in extra)
        plan = BuildPlan(works, unchanged, plan.n_unchanged, plan.n_new, plan.n_changed, plan.missing, plan.pruned,
                         plan.rejections, plan.reused_rejects,
                         (*plan.decisions, *(f"realign: work {w!r} (its corrections changed)" for w in extra)),
                         plan.moved)
    return plan, {work: frozenset(pairs) for work, pairs in realign.items()}


def _ordinals(doc: AnalysedDocument, lines: tuple[int, int] | None, c: Correction) -> tuple[int, ...]:
    """The ordinals of the segments that the lines cover exactly; an error names what does not fit."""
    if lines is None:
        return ()
    first, last = lines
    path = doc.document.source_path
    inside = [s for s in doc.segments if s.line_start >= first and s.line_end <= last]
    starts = [s.line_start for s in doc.segments]
    if first not in starts:
        near = sorted(starts, key=lambda line: abs(line - first))[:3]
        raise CorrectionsFileError(
            f"correction {describe(c)}: line {first} of {path} is not where a segment starts (segments start at "
            f"lines {', '.join(map(str, sorted(near)))} nearby)",
            hint="lines are those of the source file; has it changed since? fix or remove the correction "
            "(corpus build ... --corrections FILE); nothing was changed")
    if not inside or inside[-1].line_end != last:  # none inside: the segment starting at first goes on after last
        ends = [s.line_end for s in doc.segments]
        near = sorted(ends, key=lambda line: abs(line - last))[:3]
        raise CorrectionsFileError(
            f"correction {describe(c)}: line {last} of {path} is not where a segment ends (segments end at lines "
            f"{', '.join(map(str, sorted(near)))} nearby)",
            hint="a bead holds whole segments; has the file changed since? nothing was changed")
    boilerplate = [s for s in inside if s.kind == "boilerplate"]
    if boilerplate:
        raise CorrectionsFileError(
            f"correction {describe(c)}: line {boilerplate[0].line_start} of {path} is boilerplate, which is never "
            "aligned", hint="a rules file's keep pattern makes it text (README, 'Boilerplate rules'); nothing was "
            "changed")
    return tuple(s.ordinal for s in inside)


def _aligned_around(src: Sequence[Segment], tgt: Sequence[Segment], fixed: Sequence[tuple[tuple[int, ...],
                    tuple[int, ...]]], embed: Embed | None) -> tuple[list[Bead], list[bool]]:
    """Segment beads of the pair: the fixed beads as given, the stretches between them aligned by the aligner.
    With each bead, whether it was set by hand."""
    taken = ({o for s, _ in fixed for o in s}, {o for _, t in fixed for o in t})
    src_free = [s for s in src if s.kind != "boilerplate" and s.ordinal not in taken[0]]
    tgt_free = [s for s in tgt if s.kind != "boilerplate" and s.ordinal not in taken[1]]
    anchors = sorted((f for f in fixed if f[0] and f[1]), key=lambda f: f[0][0])
    beads: list[Bead] = []
    by_hand: list[bool] = []
    after = (-1, -1)
    for anchor in [*anchors, None]:
        before = (anchor[0][0], anchor[1][0]) if anchor else (len(src) + 1, len(tgt) + 1)
        gap_src = [s for s in src_free if after[0] < s.ordinal < before[0]]
        gap_tgt = [s for s in tgt_free if after[1] < s.ordinal < before[1]]
        if gap_src or gap_tgt:
            gap = align_pair(gap_src, gap_tgt, embed=embed).segments
            beads += gap
            by_hand += [False] * len(gap)
        if anchor:
            beads.append(Bead(anchor[0], anchor[1], 1.0))
            by_hand.append(True)
            after = (anchor[0][-1], anchor[1][-1])
    for s_ords, t_ords in (f for f in fixed if not (f[0] and f[1])):
        side, ords = (0, s_ords) if s_ords else (1, t_ords)
        at = next((k for k, b in enumerate(beads) if any(o > ords[-1] for o in (b.src, b.tgt)[side])), len(beads))
        beads.insert(at, Bead(s_ords, t_ords, 1.0))
        by_hand.insert(at, True)
    return beads, by_hand


def _section_beads(beads: Sequence[Bead], src: Sequence[Segment], tgt: Sequence[Segment]) -> list[Bead]:
    """Section beads that agree with the segment beads: sections joined by a linking bead form one section bead,
    the others stand alone; a section bead's score is the mean score of the segment beads in it."""
    s_sec = {s.ordinal: s.section for s in src if s.kind != "boilerplate"}
    t_sec = {s.ordinal: s.section for s in tgt if s.kind != "boilerplate"}
    groups: list[list[int]] = []  # first and last section of each side
    for b in beads:
        if not (b.src and b.tgt):
            continue
        sf, sl = min(s_sec[o] for o in b.src), max(s_sec[o] for o in b.src)
        tf, tl = min(t_sec[o] for o in b.tgt), max(t_sec[o] for o in b.tgt)
        if groups and (sf <= groups[-1][1] or tf <= groups[-1][3]):
            groups[-1][1], groups[-1][3] = max(groups[-1][1], sl), max(groups[-1][3], tl)
        else:
            groups.append([sf, sl, tf, tl])
    s_numbers, t_numbers = sorted(set(s_sec.values())), sorted(set(t_sec.values()))
    shapes: list[tuple[tuple[int, ...], tuple[int, ...]]] = []
    s_next = t_next = -1
    for sf, sl, tf, tl in [*groups, [max(s_numbers, default=0) + 1, 0, max(t_numbers, default=0) + 1, 0]]:
        shapes += [((x,), ()) for x in s_numbers if s_next < x < sf]
        shapes += [((), (y,)) for y in t_numbers if t_next < y < tf]
        if sl >= sf:
            shapes.append((tuple(x for x in s_numbers if sf <= x <= sl), tuple(y for y in t_numbers if tf <= y <= tl)))
        s_next, t_next = sl, tl
    out = []
    for s_part, t_part in shapes:
        scores = [b.score for b in beads if any(s_sec[o] in s_part for o in b.src)
                  or any(t_sec[o] in t_part for o in b.tgt)]
        out.append(Bead(s_part, t_part, round(sum(scores) / len(scores), 6) if scores else 1.0))
    return out


def align_corrected(a: AnalysedDocument, b: AnalysedDocument, corrections: Sequence[Correction],
                    embed: Embed | None = None) -> list[AlignmentRow]:
    """Alignment rows of a pair, its corrections (if any) applied as fixed beads; without corrections, exactly
    ``align_documents``."""
    src, tgt = pair_order(a, b)
    paths = frozenset((src.document.source_path, tgt.document.source_path))
    mine = [_oriented(c, src.document.source_path) for c in corrections if _pair_key(c) == paths]
    if not mine:
        return align_documents(a, b, embed)
    fixed = [(_ordinals(src, c.src_lines, c), _ordinals(tgt, c.tgt_lines, c)) for c in mine]
    segments, by_hand = _aligned_around(src.segments, tgt.segments, fixed, embed)
    method = alignment_method(embedded=embed is not None)
    rows = alignment_rows(src, tgt, PairAlignment(_section_beads(segments, src.segments, tgt.segments), segments,
                                                  method))
    hand = {position for position, flag in enumerate(by_hand) if flag}
    return [row.model_copy(update={"method": CORRECTION_METHOD})
            if row.level == "segment" and row.bead in hand else row for row in rows]
