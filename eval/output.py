"""Scores of the alignments stored in a built output folder, against gold."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from eval.gold import EvalDoc, LineUnits
from eval.run import ALIGNER, Report, Row, gold_for, pair_name
from eval.score import LEVELS, Judged, evaluate_pair
from schemas import ALIGNMENTS, DOCUMENTS, SEGMENTS
from tasks.align import Bead, PairAlignment
from tasks.errors import CorpusError
from tasks.segment import Segment
from tasks.store.storage import load_manifest, read_table

__all__ = ["NoOutputError", "NothingToScoreError", "evaluate_output"]


class NoOutputError(CorpusError):
    """The folder holds no built corpus."""


class NothingToScoreError(CorpusError):
    """No aligned pair of the corpus has both its documents in the gold."""


def _segments(rows: list[dict[str, Any]]) -> dict[str, list[tuple[str, Segment]]]:
    by_doc: dict[str, list[tuple[str, Segment]]] = defaultdict(list)
    for r in rows:
        segment = Segment(r["ordinal"], r["section"], r["kind"], r["text"], r["line_start"], r["line_end"],
                          r["char_start"], r["char_end"])
        by_doc[r["doc_id"]].append((r["segment_id"], segment))
    return {doc: sorted(segs, key=lambda s: s[1].ordinal) for doc, segs in by_doc.items()}


def evaluate_output(out_dir: Path, gold: Mapping[str, LineUnits]) -> Report:
    """Scores of every stored pair whose two documents have gold (matched by source path or file name)."""
    manifest = load_manifest(out_dir)
    if manifest is None:
        raise NoOutputError(f"{out_dir} has no manifest.json; build a corpus there first")
    documents = read_table(out_dir, manifest, DOCUMENTS).to_pylist()
    segments = _segments(read_table(out_dir, manifest, SEGMENTS).to_pylist())
    alignments = read_table(out_dir, manifest, ALIGNMENTS).to_pylist()

    docs: dict[str, EvalDoc] = {}
    for d in documents:
        found = gold_for(gold, d["source_path"])
        if found is not None and d["doc_id"] in segments:
            docs[d["doc_id"]] = EvalDoc(found[0], [s for _, s in segments[d["doc_id"]]], found[1])
    ordinal = {sid: s.ordinal for segs in segments.values() for sid, s in segs}
    section = {sid: s.section for segs in segments.values() for sid, s in segs}

    beads: dict[tuple[str, str], dict[str, list[tuple[int, Bead]]]] = defaultdict(lambda: defaultdict(list))
    methods: dict[tuple[str, str], str] = {}
    for a in alignments:
        pair = (a["src_doc_id"], a["tgt_doc_id"])
        if pair[0] not in docs or pair[1] not in docs:
            continue
        if a["level"] == "section":
            bead = Bead(tuple(sorted({section[i] for i in a["src_ids"]})),
                        tuple(sorted({section[i] for i in a["tgt_ids"]})), a["score"])
        else:
            bead = Bead(tuple(ordinal[i] for i in a["src_ids"]), tuple(ordinal[i] for i in a["tgt_ids"]), a["score"])
        beads[pair][a["level"]].append((a["bead"], bead))
        methods[pair] = a["method"]

    if not beads:  # scores of nothing would read as perfect and pass every target
        raise NothingToScoreError(
            f"no aligned pair of {out_dir} has gold: {len(docs)} of its {len(documents)} documents are in the gold "
            "file (matched by source path or file name)",
            hint="give the gold of these files with --gold")
    rows: list[Row] = []
    judged: list[Judged] = []
    for pair in sorted(beads, key=lambda p: (docs[p[0]].name, docs[p[1]].name)):
        by_level = {level: [b for _, b in sorted(beads[pair][level], key=lambda x: x[0])] for level in LEVELS}
        alignment = PairAlignment(by_level["section"], by_level["segment"], methods[pair])
        src, tgt = docs[pair[0]], docs[pair[1]]
        evaluation = evaluate_pair(src, tgt, alignment)
        rows += [Row(pair_name(src.name, tgt.name), ALIGNER, level, evaluation.counts[level]) for level in LEVELS]
        judged += evaluation.judged["segment"]
    report = Report("output", f"python -m eval output {out_dir}", rows, {ALIGNER: judged}, {})
    report.notes.append(f"{len(docs)} documents with gold, {len(beads)} aligned pairs; method: "
                        + ", ".join(sorted(set(methods.values()))))
    return report
