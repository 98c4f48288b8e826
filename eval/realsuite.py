"""The real-translations suite: ``python -m eval real`` scores the development corpus in ``eval/real``.

Each file is decoded, tagged and segmented as the pipeline does it (``tasks.ingest.decode_bytes``,
``tasks.langtag.tag_language``, ``tasks.segment.segment_text`` with the tag's script); every pair of
files within a work is aligned by the aligner and the baselines and scored against the gold
(``eval/real/gold.tsv``, derived from the sources' own ids) with the scores of ``eval.score``, strict,
lax and link, at section and segment level: overall, per kind of text, per language pair, with the ten
worst pairs. The one-sentence-per-line documents are also scored as bertalign's eval.py scores them
(vecalign's ``score.py``: micro-summed strict precision over the hypothesis beads, deletions included,
and strict recall over the gold beads without deletions). The language tag of every document is compared
with its true tag, and the default grouping (``--group detect``) of each kind's folder with the true works.
"""

from __future__ import annotations

import csv
import itertools
import multiprocessing
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from eval.gold import EvalDoc, GoldError, LineUnits, load_gold
from eval.run import ALIGNER, EMBEDDING_ALIGNER, SYSTEMS, Aligner, TargetResult
from eval.score import LEVELS, Counts, ItemBead, Summable, _line_beads, _project, evaluate_pair, gold_beads
from schemas.build import DEFAULT_MAX_FILE_MB, Grouping
from tasks.ingest import Fingerprint, Rejection, decode_bytes, discover_inputs, fingerprint
from tasks.langtag import tag_language
from tasks.segment import segment_text
from tasks.works import assign_works

__all__ = [
    "REAL_DIR",
    "BertalignCounts",
    "PairResult",
    "RealDoc",
    "RealFile",
    "RealReport",
    "bertalign_counts",
    "check_real_targets",
    "format_real_report",
    "load_real_files",
    "real_documents",
    "run_real",
]

REAL_DIR = Path(__file__).resolve().parent / "real"
MAX_BYTES = int(DEFAULT_MAX_FILE_MB * 1024 * 1024)

# Targets of issue 15 on the development corpus (aligner without embeddings unless said).
REAL_LANG_TAGS = 1.0  # share of documents with the right tag
REAL_GROUPING = 1.0  # share of kinds' folders grouped exactly into their works
REAL_SEGMENT_F1 = 0.97
REAL_SECTION_F1 = 0.99
REAL_PAIRS_OVER_GALE_CHURCH = 1.0  # share of language pairs where the aligner is not below Gale-Church
REAL_SENTENCE_LINE_F1 = 0.92  # bertalign's strict F1 on the one-sentence-per-line documents
REAL_SENTENCE_LINE_EMBEDDING_F1 = 0.95
WORST_PAIRS = 10


@dataclass(frozen=True, slots=True)
class RealFile:
    """A file of the corpus as ``works.tsv`` describes it."""

    path: str  # relative to the corpus folder
    kind: str
    work: str
    lang: str  # true BCP-47 tag
    layout: str
    sentence_per_line: bool


@dataclass(frozen=True, slots=True)
class RealDoc:
    file: RealFile
    doc: EvalDoc
    tag: str  # the language tag the pipeline gives the file


@dataclass(frozen=True, slots=True)
class BertalignCounts(Summable):
    """vecalign/bertalign score counts: precision (over hypothesis beads) and recall (over gold beads)."""

    p_strict: int = 0
    p_strict_wrong: int = 0
    p_lax: int = 0
    p_lax_wrong: int = 0
    r_strict: int = 0
    r_strict_wrong: int = 0
    r_lax: int = 0
    r_lax_wrong: int = 0

    @staticmethod
    def _f1(p: float, r: float) -> float:
        return 2 * p * r / (p + r) if p + r else 0.0

    @staticmethod
    def _share(hit: int, miss: int) -> float:
        return hit / (hit + miss) if hit + miss else 0.0  # vecalign's value_for_div_by_0

    @property
    def strict_f1(self) -> float:
        return self._f1(self._share(self.p_strict, self.p_strict_wrong),
                        self._share(self.r_strict, self.r_strict_wrong))

    @property
    def lax_f1(self) -> float:
        return self._f1(self._share(self.p_lax, self.p_lax_wrong), self._share(self.r_lax, self.r_lax_wrong))


def _bertalign_precision(gold: Iterable[ItemBead], test: Iterable[ItemBead]) -> tuple[int, int, int, int]:
    """Strict and lax hits and misses of the test beads against the gold beads, as vecalign counts them."""
    gold_set = {bead for bead in gold if bead[0] or bead[1]}
    test_set = {bead for bead in test if bead[0] or bead[1]}
    linked: dict[int, set[int]] = defaultdict(set)
    for src, tgt in gold_set:
        for i in src:
            linked[i] |= tgt
    strict = strict_wrong = lax = lax_wrong = 0
    for bead in test_set:
        if bead in gold_set:
            strict += 1
            lax += 1
            continue
        strict_wrong += 1
        if set(bead[1]) & {j for i in bead[0] for j in linked[i]}:
            lax += 1
        else:
            lax_wrong += 1
    return strict, strict_wrong, lax, lax_wrong


def bertalign_counts(hyp: Sequence[ItemBead], gold: Sequence[ItemBead]) -> BertalignCounts:
    """Counts of one document pair as vecalign's score.py (used by bertalign's eval.py) makes them: precision
    over all hypothesis beads against all gold beads; recall over the gold beads that link both sides
    against the hypothesis beads that do."""
    p = _bertalign_precision(gold, hyp)
    r = _bertalign_precision([b for b in hyp if b[0] and b[1]], [b for b in gold if b[0] and b[1]])
    return BertalignCounts(*p, *r)


@dataclass(frozen=True, slots=True)
class PairResult:
    work: str
    kind: str
    src: RealDoc
    tgt: RealDoc
    system: str
    counts: Mapping[str, Counts]  # by level
    bertalign: BertalignCounts | None  # for one-sentence-per-line documents

    @property
    def langs(self) -> str:
        return "-".join(sorted((self.src.file.lang, self.tgt.file.lang)))

    @property
    def name(self) -> str:
        return f"{self.work}: {Path(self.src.file.path).name} ({self.src.file.lang}) - " \
               f"{Path(self.tgt.file.path).name} ({self.tgt.file.lang})"


@dataclass(frozen=True, slots=True)
class GroupingResult:
    kind: str
    true_works: int
    found_works: int
    exact: bool
    pair_f1: float  # pairwise "same work" F1
    wrong: list[str]  # files placed with files of another work, or apart from their own


@dataclass(slots=True)
class RealReport:
    command: str
    docs: list[RealDoc]
    pairs: list[PairResult]
    seconds: dict[str, float]
    grouping: list[GroupingResult] | None
    notes: list[str] = field(default_factory=list)

    @property
    def systems(self) -> list[str]:
        return list(dict.fromkeys(p.system for p in self.pairs))

    def total(self, system: str, level: str, keep: Callable[[PairResult], bool] = lambda p: True) -> Counts:
        return sum((p.counts[level] for p in self.pairs if p.system == system and keep(p)), Counts())

    def bertalign(self, system: str) -> BertalignCounts | None:
        counts = [p.bertalign for p in self.pairs if p.system == system and p.bertalign is not None]
        return sum(counts, BertalignCounts()) if counts else None


def load_real_files(root: Path = REAL_DIR) -> list[RealFile]:
    """The files of the corpus with their true work, kind, language and layout (``works.tsv``)."""
    path = root / "works.tsv"
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        missing = {"file", "kind", "work", "lang", "layout", "sentence_per_line"} - set(reader.fieldnames or ())
        if missing:
            raise GoldError(f"{path}: missing columns {sorted(missing)}")
        return [RealFile(row["file"], row["kind"], row["work"], row["lang"], row["layout"],
                         row["sentence_per_line"] == "yes") for row in reader]


def real_documents(root: Path, files: Sequence[RealFile], gold: Mapping[str, LineUnits]) -> list[RealDoc]:
    """Each file decoded, tagged and segmented as the pipeline does it, with its gold."""
    docs = []
    for file in files:
        if file.path not in gold:
            raise GoldError(f"{file.path} has no gold in {root / 'gold.tsv'}")
        decoded = decode_bytes((root / file.path).read_bytes(), source_path=file.path)
        if isinstance(decoded, Rejection):
            raise GoldError(f"{file.path}: {decoded.message}")
        tag = tag_language(decoded.text)
        segments = segment_text(decoded.text, script=tag.script)
        docs.append(RealDoc(file, EvalDoc(file.path, segments, gold[file.path]), tag.lang))
    return docs


def _ordered(a: RealDoc, b: RealDoc) -> tuple[RealDoc, RealDoc]:
    """A pair in the pipeline's canonical orientation (by language tag, then name)."""
    return (a, b) if (a.file.lang, a.file.path) <= (b.file.lang, b.file.path) else (b, a)


def run_real(root: Path = REAL_DIR, systems: Mapping[str, Aligner] = SYSTEMS, works: Sequence[str] = (),
             files_per_work: int | None = None, grouping: bool = True, command: str = "python -m eval real",
             jobs: int = 1) -> RealReport:
    """Every pair of files within each work, aligned by every system and scored; language tags and grouping.

    ``jobs`` > 1 aligns pairs in that many forked processes (the systems must then be safe to fork)."""
    files = load_real_files(root)
    if works:
        unknown = set(works) - {f.work for f in files}
        if unknown:
            raise GoldError(f"no such work in {root / 'works.tsv'}: {', '.join(sorted(unknown))}")
        files = [f for f in files if f.work in works]
    by_work: dict[str, list[RealFile]] = defaultdict(list)
    for file in files:
        by_work[file.work].append(file)
    if files_per_work is not None:
        by_work = {work: members[:files_per_work] for work, members in by_work.items()}
    gold = load_gold(root / "gold.tsv")
    docs = real_documents(root, [f for members in by_work.values() for f in members], gold)
    docs_by_work: dict[str, list[RealDoc]] = defaultdict(list)
    for doc in docs:
        docs_by_work[doc.file.work].append(doc)
    tasks = [(name, _ordered(a, b)) for name in systems for members in docs_by_work.values()
             for a, b in itertools.combinations(members, 2)]
    global _SYSTEMS
    _SYSTEMS = systems
    if jobs > 1 and len(tasks) > 1:
        with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("fork")) as pool:
            scored = list(pool.map(_score_pair, tasks, chunksize=4))
    else:
        scored = [_score_pair(task) for task in tasks]
    pairs: list[PairResult] = []
    seconds: dict[str, float] = {}
    for (name, (src, tgt)), (counts, bertalign, elapsed) in zip(tasks, scored, strict=True):
        seconds[name] = seconds.get(name, 0.0) + elapsed
        pairs.append(PairResult(src.file.work, src.file.kind, src, tgt, name, counts, bertalign))
    group_results = grouping_results(root, sorted({d.file.kind for d in docs}), files) if grouping else None
    report = RealReport(command, docs, pairs, seconds, group_results)
    report.notes.append(f"{len(docs)} documents in {len(docs_by_work)} works, {len(pairs) // max(1, len(systems))} "
                        f"pairs; {len({d.file.lang for d in docs})} languages"
                        + (f"; pairs aligned in {jobs} processes (times are the sum over them)" if jobs > 1 else ""))
    return report


_SYSTEMS: Mapping[str, Aligner] = SYSTEMS  # the systems of the running suite, for forked workers


def _score_pair(task: tuple[str, tuple[RealDoc, RealDoc]]
                ) -> tuple[dict[str, Counts], BertalignCounts | None, float]:
    """One pair aligned by one system: its counts by level, its bertalign counts, the seconds it took."""
    name, (src, tgt) = task
    started = time.perf_counter()
    alignment = _SYSTEMS[name](src.doc.segments, tgt.doc.segments)
    elapsed = time.perf_counter() - started
    evaluation = evaluate_pair(src.doc, tgt.doc, alignment)
    bertalign = None
    if src.file.sentence_per_line and tgt.file.sentence_per_line:
        hyp = [bead for bead, _ in _project(_line_beads(alignment.segments, src.doc, tgt.doc),
                                            src.doc.gold, tgt.doc.gold)]
        bertalign = bertalign_counts(hyp, gold_beads(src.doc.gold, tgt.doc.gold))
    return dict(evaluation.counts), bertalign, elapsed


def grouping_results(root: Path, kinds: Sequence[str], files: Sequence[RealFile]) -> list[GroupingResult]:
    """The default grouping (``--group detect``) of each kind's folder, as ``corpus build`` of it would group."""
    true_work = {f.path: f.work for f in files}
    results = []
    for kind in kinds:
        inputs, _ = discover_inputs(root / kind)
        fingerprints = [fp for fp in (fingerprint(file, MAX_BYTES) for file in inputs) if isinstance(fp, Fingerprint)]
        with tempfile.TemporaryDirectory(prefix="eval-real-") as out:
            assigned = assign_works(fingerprints, [], Path(out), MAX_BYTES, Grouping.detect, None)
        found = {f"{kind}/{fp.file.source_path}": fp.file.work_id for fp in assigned}
        truth = {path: work for path, work in true_work.items() if path in found}
        found = {path: found[path] for path in truth}
        results.append(_compare_grouping(kind, truth, found))
    return results


def _compare_grouping(kind: str, truth: Mapping[str, str], found: Mapping[str, str]) -> GroupingResult:
    same_true = {(a, b) for a, b in itertools.combinations(sorted(truth), 2) if truth[a] == truth[b]}
    same_found = {(a, b) for a, b in itertools.combinations(sorted(found), 2) if found[a] == found[b]}
    hits = len(same_true & same_found)
    p = hits / len(same_found) if same_found else 1.0
    r = hits / len(same_true) if same_true else 1.0
    wrong = sorted({x for pair in same_true ^ same_found for x in pair})
    partition_true = {frozenset(p for p in truth if truth[p] == w) for w in truth.values()}
    partition_found = {frozenset(p for p in found if found[p] == w) for w in found.values()}
    return GroupingResult(kind, len(partition_true), len(partition_found), partition_true == partition_found,
                          2 * p * r / (p + r) if p + r else 0.0, wrong)


def check_real_targets(report: RealReport) -> list[TargetResult]:
    """Issue 15's targets on the development corpus (those the report has the data for)."""
    right = sum(d.tag == d.file.lang for d in report.docs)
    results = [TargetResult("language tag right (share of documents)", right / max(1, len(report.docs)),
                            REAL_LANG_TAGS)]
    if report.grouping is not None:
        results.append(TargetResult("default grouping equal to the true works (share of kinds)",
                                    sum(g.exact for g in report.grouping) / max(1, len(report.grouping)),
                                    REAL_GROUPING))
    results += [
        TargetResult("segment strict F1", report.total(ALIGNER, "segment").strict.f1, REAL_SEGMENT_F1),
        TargetResult("section strict F1", report.total(ALIGNER, "section").strict.f1, REAL_SECTION_F1),
    ]
    if "gale-church" in report.systems:
        pairs = _language_pairs(report)
        above = [lp for lp in pairs if _pair_f1(report, ALIGNER, lp) >= _pair_f1(report, "gale-church", lp)]
        results.append(TargetResult("language pairs with segment strict F1 not below Gale-Church (share)",
                                    len(above) / max(1, len(pairs)), REAL_PAIRS_OVER_GALE_CHURCH))
    for system, threshold in ((ALIGNER, REAL_SENTENCE_LINE_F1), (EMBEDDING_ALIGNER, REAL_SENTENCE_LINE_EMBEDDING_F1)):
        counts = report.bertalign(system) if system in report.systems else None
        if counts is not None:
            suffix = "" if system == ALIGNER else " with embeddings"
            results.append(TargetResult(f"sentence-per-line strict F1 (bertalign scoring){suffix}",
                                        counts.strict_f1, threshold))
    return results


def _language_pairs(report: RealReport) -> list[str]:
    return sorted({p.langs for p in report.pairs})


def _pair_f1(report: RealReport, system: str, langs: str) -> float:
    return report.total(system, "segment", _where("langs", langs)).strict.f1


def _where(attribute: str, value: str) -> Callable[[PairResult], bool]:
    """A filter of pairs: those whose ``attribute`` (kind, work, langs) is ``value``."""
    def keep(pair: PairResult) -> bool:
        return bool(getattr(pair, attribute) == value)
    return keep


def _prf_row(label: str, counts: Counts) -> str:
    s, lax, links = counts.strict, counts.lax, counts.links
    return (f"| {label} | {s.precision:.3f} | {s.recall:.3f} | **{s.f1:.3f}** | {lax.f1:.3f} | {links.precision:.3f} "
            f"| {links.recall:.3f} | {links.f1:.3f} |")


def format_real_report(report: RealReport) -> str:
    """The report as Markdown."""
    systems = report.systems
    head = "| system | strict P | strict R | strict F1 | lax F1 | link P | link R | link F1 |"
    rule = "|---|---|---|---|---|---|---|---|"
    timing = "".join(f"; {system} time {seconds:.1f} s" for system, seconds in report.seconds.items())
    out = ["# Alignment quality: real translations (dev corpus)", "",
           f"{date.today().isoformat()}, `{report.command}`{timing}.", ""]
    out += [*report.notes, ""]
    for level in reversed(LEVELS):
        out += [f"## {level.capitalize()} level, overall (micro-average over all pairs)", "", head, rule]
        out += [_prf_row(system, report.total(system, level)) for system in systems]
        out.append("")
    kinds = sorted({p.kind for p in report.pairs})
    out += ["## Per kind of text: segment strict F1 / lax F1, section strict F1", "",
            "| kind | pairs | " + " | ".join(systems) + " |", "|---|---|" + "---|" * len(systems)]
    for kind in kinds:
        n = sum(1 for p in report.pairs if p.kind == kind and p.system == systems[0])
        out.append(f"| {kind} | {n} | " + " | ".join(_cell(report, s, _where("kind", kind))
                                                     for s in systems) + " |")
    works = list(dict.fromkeys(p.work for p in report.pairs))
    out += ["", "## Per work: segment strict F1 / lax F1, section strict F1", "",
            "| work | kind | pairs | " + " | ".join(systems) + " |", "|---|---|---|" + "---|" * len(systems)]
    for work in works:
        kind = next(p.kind for p in report.pairs if p.work == work)
        n = sum(1 for p in report.pairs if p.work == work and p.system == systems[0])
        out.append(f"| {work} | {kind} | {n} | " + " | ".join(_cell(report, s, _where("work", work))
                                                             for s in systems) + " |")
    sentence_line = [s for s in systems if report.bertalign(s) is not None]
    if sentence_line:
        out += ["", "## One-sentence-per-line documents, scored as bertalign's eval.py scores (vecalign score.py)",
                "", "| system | strict F1 | lax F1 |", "|---|---|---|"]
        for system in sentence_line:
            counts = report.bertalign(system)
            assert counts is not None
            out.append(f"| {system} | **{counts.strict_f1:.3f}** | {counts.lax_f1:.3f} |")
    out += _language_pair_table(report, systems)
    out += _worst_pairs(report)
    out += _language_tags(report)
    if report.grouping is not None:
        out += ["", "## Default grouping (`--group detect`) of each kind's folder", "",
                "| kind | true works | works found | exact | pairwise F1 | misplaced files |",
                "|---|---|---|---|---|---|"]
        for g in report.grouping:
            wrong = ", ".join(g.wrong[:8]) + (f" (+{len(g.wrong) - 8})" if len(g.wrong) > 8 else "")
            out.append(f"| {g.kind} | {g.true_works} | {g.found_works} | {'yes' if g.exact else 'no'} "
                       f"| {g.pair_f1:.3f} | {wrong or '-'} |")
    out += ["", "## Targets", ""]
    for result in check_real_targets(report):
        verdict = "ok  " if result.ok else "FAIL"
        out.append(f"- {verdict} {result.name}: {result.value:.3f} (target {result.threshold:.2f})")
    return "\n".join(out) + "\n"


def _cell(report: RealReport, system: str, keep: Callable[[PairResult], bool]) -> str:
    seg, sec = report.total(system, "segment", keep), report.total(system, "section", keep)
    return f"{seg.strict.f1:.3f} / {seg.lax.f1:.3f}, {sec.strict.f1:.3f}"


def _language_pair_table(report: RealReport, systems: Sequence[str]) -> list[str]:
    out = ["", "## Per language pair: segment strict F1 (all works with both languages)", "",
           "| languages | pairs | " + " | ".join(systems) + " | aligner section F1 | below Gale-Church |",
           "|---|---|" + "---|" * len(systems) + "---|---|"]
    for langs in _language_pairs(report):
        n = sum(1 for p in report.pairs if p.langs == langs and p.system == systems[0])
        f1 = {s: _pair_f1(report, s, langs) for s in systems}
        section = report.total(systems[0], "section", _where("langs", langs)).strict.f1
        below = "gale-church" in f1 and f1[systems[0]] < f1["gale-church"]
        out.append(f"| {langs} | {n} | " + " | ".join(f"{f1[s]:.3f}" for s in systems)
                   + f" | {section:.3f} | {'**yes**' if below else ''} |")
    return out


def _worst_pairs(report: RealReport) -> list[str]:
    systems = report.systems
    first = systems[0]
    scored = sorted((p for p in report.pairs if p.system == first), key=lambda p: (p.counts["segment"].strict.f1,
                                                                                   p.name))
    others = {(p.work, p.src.file.path, p.tgt.file.path, p.system): p for p in report.pairs}
    out = ["", f"## The {WORST_PAIRS} worst pairs ({first}, segment strict F1)", "",
           "| pair | " + " | ".join(f"{s} segment F1" for s in systems) + f" | {first} section F1 |",
           "|---|" + "---|" * len(systems) + "---|"]
    for pair in scored[:WORST_PAIRS]:
        cells = [f"{others[(pair.work, pair.src.file.path, pair.tgt.file.path, s)].counts['segment'].strict.f1:.3f}"
                 for s in systems]
        out.append(f"| {pair.name} | " + " | ".join(cells) + f" | {pair.counts['section'].strict.f1:.3f} |")
    return out


def _language_tags(report: RealReport) -> list[str]:
    right = sum(d.tag == d.file.lang for d in report.docs)
    out = ["", "## Language tags", "", f"{right} of {len(report.docs)} documents tagged right "
           f"({right / max(1, len(report.docs)):.3f})."]
    wrong = [d for d in report.docs if d.tag != d.file.lang]
    if wrong:
        out += ["", "| file | true | tagged |", "|---|---|---|"]
        out += [f"| {d.file.path} | {d.file.lang} | {d.tag} |" for d in wrong]
    return out
