"""The evaluation suites (seeds, synthetic damage, a built output folder), their report and targets."""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from eval.baselines import gale_church_align, zip_align
from eval.gold import SEEDS_GOLD, EvalDoc, LineUnits, load_gold
from eval.score import LEVELS, Counts, ItemBead, Judged, PairEvaluation, evaluate_pair, segment_errors
from eval.synthetic import DAMAGES, synthetic_cases
from schemas.build import EMBEDDINGS_MISSING
from tasks.align import PairAlignment, align_pair
from tasks.langtag import tag_language
from tasks.segment import Segment, segment_text

__all__ = [
    "ALIGNER",
    "EMBEDDING_ALIGNER",
    "SEEDS_DIR",
    "SYSTEMS",
    "Report",
    "TargetResult",
    "check_targets",
    "embedding_aligner",
    "evaluate_pairs",
    "format_report",
    "format_seed_errors",
    "gold_for",
    "pair_name",
    "run_seeds",
    "run_synthetic",
    "seed_documents",
    "threshold_curve",
]

SEEDS_DIR = Path(__file__).resolve().parent.parent / "seeds"

Aligner = Callable[[Sequence[Segment], Sequence[Segment]], PairAlignment]
Progress = Callable[[str], None]  # told one line each time a system has aligned every case of a group
ALIGNER = "aligner"
EMBEDDING_ALIGNER = "aligner+embeddings"
SYSTEMS: dict[str, Aligner] = {ALIGNER: align_pair, "gale-church": gale_church_align, "zip": zip_align}

DROPPED_SHARES = (0.0, 0.05, 0.1, 0.2, 0.3, 0.5)  # of the lowest-scored beads, for the threshold curve

# Targets (aligner without embeddings). Seeds are scored strictly; synthetic damage on links, because
# a swap of two list items cannot be expressed by monotone beads, so strict scores cap it below 0.9.
SEEDS_SEGMENT_F1 = 0.90
SEEDS_SECTION_F1 = 0.97
SEEDS_MARGIN_OVER_GALE_CHURCH = 0.10
SYNTHETIC_SEGMENT_LINK_F1 = 0.90
# With sentence embeddings (the aligner's optional signal), on the seeds.
SEEDS_EMBEDDING_SEGMENT_F1 = 0.95
SEEDS_EMBEDDING_SECTION_F1 = 0.99


@dataclass(frozen=True, slots=True)
class Row:
    group: str  # a pair of documents, or a damage type
    system: str
    level: str
    counts: Counts


@dataclass(frozen=True, slots=True)
class Report:
    suite: str  # "seeds", "synthetic" or "output"
    command: str
    rows: list[Row]
    judged: dict[str, list[Judged]]  # by aligner (not baseline): its linking segment beads, for the threshold curve
    seconds: dict[str, float]  # by aligner: time spent aligning (with embeddings, embedding included)
    notes: list[str] = field(default_factory=list)

    @property
    def systems(self) -> list[str]:
        return list(dict.fromkeys(r.system for r in self.rows))

    @property
    def groups(self) -> list[str]:
        return list(dict.fromkeys(r.group for r in self.rows))

    def total(self, system: str, level: str, group: str | None = None) -> Counts:
        return sum((r.counts for r in self.rows
                    if r.system == system and r.level == level and group in (None, r.group)), Counts())


@dataclass(frozen=True, slots=True)
class TargetResult:
    name: str
    value: float
    threshold: float

    @property
    def ok(self) -> bool:
        return self.value >= self.threshold


def evaluate_pairs(pairs: Iterable[tuple[EvalDoc, EvalDoc, PairAlignment]]) -> list[PairEvaluation]:
    """Scores of in-memory alignments: (source doc, target doc, alignment) triples."""
    return [evaluate_pair(src, tgt, alignment) for src, tgt, alignment in pairs]


def seed_documents(seeds_dir: Path = SEEDS_DIR, gold_path: Path = SEEDS_GOLD) -> list[EvalDoc]:
    """The gold files' documents, segmented as the pipeline segments them."""
    gold = load_gold(gold_path)
    docs = []
    for name in sorted(gold):
        text = (seeds_dir / name).read_text(encoding="utf-8")
        docs.append(EvalDoc(name, segment_text(text, script=tag_language(text).script), gold[name]))
    return docs


def _run(suite: str, command: str, cases: Sequence[tuple[str, EvalDoc, EvalDoc]], systems: Mapping[str, Aligner],
         progress: Progress | None = None) -> Report:
    rows: list[Row] = []
    judged: dict[str, list[Judged]] = {}
    seconds: dict[str, float] = {}
    started_at = time.perf_counter()
    in_group = {group: sum(c[0] == group for c in cases) for group, _, _ in cases}
    for step, (name, aligner) in enumerate(systems.items(), start=1):
        done: dict[str, int] = dict.fromkeys(in_group, 0)
        for group, src, tgt in cases:
            started = time.perf_counter()
            alignment = aligner(src.segments, tgt.segments)
            elapsed = time.perf_counter() - started
            evaluation = evaluate_pair(src, tgt, alignment)
            rows += [Row(group, name, level, evaluation.counts[level]) for level in LEVELS]
            if name in (ALIGNER, EMBEDDING_ALIGNER):
                seconds[name] = seconds.get(name, 0.0) + elapsed
                judged.setdefault(name, []).extend(evaluation.judged["segment"])
            done[group] += 1
            if progress is not None and done[group] == in_group[group]:
                progress(f"{suite}: system {step}/{len(systems)} {name}, {group}: {in_group[group]} pair(s) aligned "
                         f"({time.perf_counter() - started_at:.0f} s so far)")
    return Report(suite, command, rows, judged, seconds)


def _embeddings_option(systems: Mapping[str, Aligner]) -> str:
    return " --embeddings" if EMBEDDING_ALIGNER in systems else ""


def pair_name(src: str, tgt: str) -> str:
    """A short name for a pair of documents: their file names up to the first '_' or '.'."""
    return f"{short(src)}-{short(tgt)}"


def run_seeds(seeds_dir: Path = SEEDS_DIR, gold_path: Path = SEEDS_GOLD,
              systems: Mapping[str, Aligner] = SYSTEMS, progress: Progress | None = None) -> Report:
    """Every pair of the gold documents, aligned by every system and scored."""
    docs = seed_documents(seeds_dir, gold_path)
    cases = [(pair_name(a.name, b.name), a, b) for a, b in itertools.combinations(docs, 2)]
    return _run("seeds", "python -m eval seeds" + _embeddings_option(systems), cases, systems, progress)


def run_synthetic(n_docs: int, seed: int = 0, seeds_dir: Path = SEEDS_DIR, gold_path: Path = SEEDS_GOLD,
                  systems: Mapping[str, Aligner] = SYSTEMS, progress: Progress | None = None) -> Report:
    """n_docs damaged documents per damage type, aligned by every system and scored by damage type."""
    cases = synthetic_cases(seed_documents(seeds_dir, gold_path), n_docs, seed)
    if progress is not None:
        progress(f"synthetic: {len(cases)} damaged documents ({n_docs} per damage type, {len(DAMAGES)} types) "
                 f"x {len(systems)} system(s)")
    report = _run("synthetic", f"python -m eval synthetic --docs {n_docs} --seed {seed}{_embeddings_option(systems)}",
                  [(c.damage, c.src, c.tgt) for c in cases], systems, progress)
    sizes = [len(c.src.segments) for c in cases]
    report.notes.append(f"{len(cases)} documents, {min(sizes)}-{max(sizes)} source segments "
                        f"({sum(sizes) / len(sizes):.0f} on average)")
    return report


def embedding_aligner(cache_dir: Path) -> Aligner:
    """The aligner with sentence embeddings from the bundled model, cached in ``cache_dir`` (ImportError
    without the embeddings extra)."""
    from tasks.embeddings import embeddings_available, model_cache

    if not embeddings_available():
        raise ImportError(EMBEDDINGS_MISSING)
    embed = model_cache(cache_dir).embed
    return lambda src, tgt: align_pair(src, tgt, embed=embed)


def check_targets(report: Report) -> list[TargetResult]:
    """The quality targets that apply to a report's suite (for each aligner it ran)."""
    aligners = [system for system in (ALIGNER, EMBEDDING_ALIGNER) if system in report.systems]
    if report.suite == "synthetic":
        return [
            TargetResult(f"synthetic {damage}: segment link F1{_suffix(system)}",
                         report.total(system, "segment", damage).links.f1, SYNTHETIC_SEGMENT_LINK_F1)
            for system in aligners for damage in DAMAGES
        ]
    results = [
        TargetResult("segment strict F1", report.total(ALIGNER, "segment").strict.f1, SEEDS_SEGMENT_F1),
        TargetResult("section strict F1", report.total(ALIGNER, "section").strict.f1, SEEDS_SECTION_F1),
    ]
    if EMBEDDING_ALIGNER in aligners:
        results += [
            TargetResult("segment strict F1 with embeddings", report.total(EMBEDDING_ALIGNER, "segment").strict.f1,
                         SEEDS_EMBEDDING_SEGMENT_F1),
            TargetResult("section strict F1 with embeddings", report.total(EMBEDDING_ALIGNER, "section").strict.f1,
                         SEEDS_EMBEDDING_SECTION_F1),
        ]
    if "gale-church" in report.systems:
        for system in aligners:
            margin = report.total(system, "segment").strict.f1 - report.total("gale-church", "segment").strict.f1
            results.append(TargetResult(f"segment strict F1 above Gale-Church by{_suffix(system)}", margin,
                                        SEEDS_MARGIN_OVER_GALE_CHURCH))
    return results


def _suffix(system: str) -> str:
    return "" if system == ALIGNER else f" ({system})"


def _prf_row(label: str, counts: Counts) -> str:
    s, lax, links = counts.strict, counts.lax, counts.links
    return (f"| {label} | {s.precision:.3f} | {s.recall:.3f} | **{s.f1:.3f}** | {lax.f1:.3f} | {links.precision:.3f} "
            f"| {links.recall:.3f} | {links.f1:.3f} |")


def threshold_curve(judged: Sequence[Judged]) -> list[tuple[float, int, float, float]]:
    """Precision as the lowest-scored beads are dropped: (min score, beads kept, strict P, lax P) rows."""
    ranked = sorted(judged, key=lambda j: j.score)
    rows = []
    for share in DROPPED_SHARES:
        kept = ranked[round(share * len(ranked)):]
        if kept:
            rows.append((kept[0].score, len(kept), sum(j.strict for j in kept) / len(kept),
                         sum(j.lax for j in kept) / len(kept)))
    return rows


def _threshold_table(judged: Sequence[Judged]) -> list[str]:
    lines = ["| min score | beads kept | share kept | strict P | lax P |", "|---|---|---|---|---|"]
    for score, kept, strict, lax in threshold_curve(judged):
        lines.append(f"| {score:.3f} | {kept} | {kept / len(judged):.2f} | {strict:.3f} | {lax:.3f} |")
    return lines


def format_report(report: Report) -> str:
    """The report as Markdown: totals per system and level, per group, threshold curve, targets."""
    head = "| system | strict P | strict R | strict F1 | lax F1 | link P | link R | link F1 |"
    rule = "|---|---|---|---|---|---|---|---|"
    timing = "".join(f"; {system} time {seconds:.2f} s" for system, seconds in report.seconds.items())
    out = [f"# Alignment quality: {report.suite}", "", f"{date.today().isoformat()}, `{report.command}`{timing}.", ""]
    out += [f"{note}" for note in report.notes] + ([""] if report.notes else [])
    for level in reversed(LEVELS):
        unit = "documents" if report.suite == "synthetic" else "pairs"
        out += [f"## {level.capitalize()} level (micro-average over all {unit})", "", head, rule]
        out += [_prf_row(system, report.total(system, level)) for system in report.systems]
        out.append("")
    systems = report.systems
    label = "damage" if report.suite == "synthetic" else "pair"
    out += [f"## Per {label}: segment strict F1 / link F1, section strict F1", "",
            f"| {label} | " + " | ".join(systems) + " |", "|---|" + "---|" * len(systems)]
    for group in report.groups:
        cells = []
        for system in systems:
            seg, sec = report.total(system, "segment", group), report.total(system, "section", group)
            cells.append(f"{seg.strict.f1:.3f} / {seg.links.f1:.3f}, {sec.strict.f1:.3f}")
        out.append(f"| {group} | " + " | ".join(cells) + " |")
    for system, judged in report.judged.items():
        out += ["", f"## Precision of the linking segment beads of the {system} by minimum score", ""]
        out += _threshold_table(judged)
    out += ["", "## Targets", ""]
    for result in check_targets(report):
        verdict = "ok  " if result.ok else "FAIL"
        out.append(f"- {verdict} {result.name}: {result.value:.3f} (target {result.threshold:.2f})")
    return "\n".join(out) + "\n"


def format_seed_errors(system: str, aligner: Aligner, seeds_dir: Path = SEEDS_DIR, gold_path: Path = SEEDS_GOLD
                       ) -> str:
    """Markdown listing of an aligner's segment errors on the seed pairs: each group of overlapping wrong and
    missed beads with the gold beads, the aligner's beads and the text of every line involved."""
    docs = seed_documents(seeds_dir, gold_path)
    lines = {d.name: (seeds_dir / d.name).read_text(encoding="utf-8").splitlines() for d in docs}
    languages = {d.name: tag_language("\n".join(lines[d.name])).lang for d in docs}
    out = [f"## Wrong and missed segment beads: {system}", "",
           "Each group: the gold beads, then the aligner's beads over the same lines (its score in brackets: how "
           "sure it was; `-` is no counterpart), then the lines. Documents: "
           + ", ".join(f"{short(d.name)} {languages[d.name]}" for d in docs) + ".", ""]
    for src, tgt in itertools.combinations(docs, 2):
        errors = segment_errors(src, tgt, aligner(src.segments, tgt.segments))
        if not errors.wrong and not errors.missed:
            continue
        out += [f"### {short(src.name)} {languages[src.name]} - {short(tgt.name)} {languages[tgt.name]}", ""]
        for wrong, missed in _error_groups(errors.wrong, errors.missed):
            out.append("- gold: " + "; ".join(_bead_text(bead) for bead in sorted(missed, key=_bead_order)))
            out.append("  aligner: " + "; ".join(f"{_bead_text(bead)} ({score:.2f})"
                                                 for bead, score in sorted(wrong, key=lambda w: _bead_order(w[0]))))
            for doc, side in ((src, 0), (tgt, 1)):
                for x in sorted({x for bead in missed + [b for b, _ in wrong] for x in bead[side]}):
                    out.append(f"  - {short(doc.name)} {x}: {_clipped(lines[doc.name][x - 1])}")
        out.append("")
    return "\n".join(out) + "\n"


def _error_groups(wrong: Sequence[tuple[ItemBead, float]], missed: Sequence[ItemBead]
                  ) -> list[tuple[list[tuple[ItemBead, float]], list[ItemBead]]]:
    """Wrong and missed beads grouped where they share a line, in line order."""
    groups: list[tuple[list[tuple[ItemBead, float]], list[ItemBead]]] = []
    entries = [(bead, (bead, score)) for bead, score in wrong] + [(bead, None) for bead in missed]
    for bead, scored in entries:
        touching = [g for g in groups
                    if any(_overlap(bead, b) for b, _ in g[0]) or any(_overlap(bead, b) for b in g[1])]
        group_wrong = [w for g in touching for w in g[0]]
        group_missed = [m for g in touching for m in g[1]]
        if scored is None:
            group_missed.append(bead)
        else:
            group_wrong.append(scored)
        groups = [g for g in groups if g not in touching] + [(group_wrong, group_missed)]
    return sorted(groups, key=lambda g: min(min(b[0] | b[1]) for b in [w for w, _ in g[0]] + g[1]))


def _bead_order(bead: ItemBead) -> tuple[float, float]:
    return (min(bead[1], default=math.inf), min(bead[0], default=math.inf))


def _overlap(a: ItemBead, b: ItemBead) -> bool:
    return bool(a[0] & b[0] or a[1] & b[1])


def _bead_text(bead: ItemBead) -> str:
    def side(items: frozenset[int]) -> str:
        return "+".join(str(x) for x in sorted(items)) or "-"
    return f"{side(bead[0])} = {side(bead[1])}"


def _clipped(line: str) -> str:
    text = line.strip()
    return text if len(text) <= _ERROR_TEXT else text[:_ERROR_TEXT - 1] + "…"


_ERROR_TEXT = 80  # characters of each line shown


def short(name: str) -> str:
    """A document's short name: its file name up to the first '_' or '.'."""
    return Path(name).name.split("_")[0].split(".")[0]


def gold_for(gold: Mapping[str, LineUnits], source_path: str) -> tuple[str, LineUnits] | None:
    """The gold of a document by its source path: an exact key, else a key equal to its file name."""
    if source_path in gold:
        return source_path, gold[source_path]
    name = Path(source_path).name
    return (name, gold[name]) if name in gold else None
