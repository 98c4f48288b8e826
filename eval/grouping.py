"""Grouping benchmark: a flat pile of translations of many works, regrouped without folders.

The pile is made from the seed translations and their gold alignment (``eval/gold/seeds.tsv``), which
says which lines of each translation belong to which section of the article. Each work is a genuinely
different text built from those sections, and similar works exist on purpose:

* its own article: 4-9 of the 12 body sections, in a random order (or the original order), after the
  title; a fifth of the works are near-duplicates of an earlier work (one section replaced, or two
  sections swapped);
* its own figures: every number is replaced consistently in all its languages (a number of the seed
  becomes the same new number in every translation);
* its own names: each Latin-script name of the seeds (a capitalised token found in several seeds) is
  renamed with probability 1/2 (its renderings in other scripts stay: they then mislead);
* its own entities: 40% of its sections (at least one) get a new name and a figure, the name written
  in Latin script or transliterated into the script of the translation (Devanagari, Thai, Han) where a
  syllable table allows;
* 3-5 of the seed languages, each translation damaged on its own: paragraphs dropped or merged, a
  section dropped, native digits (Devanagari, Thai, full width) instead of ASCII.

Documents are then placed one at a time, in several random arrival orders, into a
:class:`tasks.grouping.WorkIndex`, and once with :func:`tasks.grouping.group_documents`; pairwise
precision, recall and F1 of "same work" are reported, with the number of false merges (pairs of
documents of different works put together) and how many arrival orders gave the canonical grouping.
Finally the time to place one new document into an index of 1,000 works is measured.

    python -m eval.grouping [--works 60] [--seed 0] [--orders 5] [--index-works 1000]
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import random
import re
import statistics
import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from eval.gold import SEEDS_GOLD, load_gold
from tasks.grouping import WorkIndex, WorkProfile, group_documents, profile_document
from tasks.langtag import tag_language
from tasks.segment import segment_text

__all__ = ["PileDocument", "evaluate_grouping", "generate_pile", "pairwise_scores", "placement_time", "profile_pile"]

SEEDS = Path(__file__).resolve().parent.parent / "seeds"

MIN_SECTIONS, MAX_SECTIONS = 4, 9
NEAR_DUPLICATE_SHARE = 0.2
INSERT_SHARE = 0.4  # sections that get a new name and figure of the work
MIN_LANGUAGES = 3

# Syllables of invented names with their spelling in other scripts; anyascii reads each rendering back
# as (about) the Latin syllable. A name with a syllable missing for a script stays in Latin script there.
_SYLLABLES: dict[str, dict[str, str]] = {
    "ka": {"Deva": "का", "Thai": "คา", "Han": "卡"},
    "li": {"Deva": "ली", "Thai": "ลี", "Han": "李"},
    "na": {"Deva": "ना", "Thai": "นา", "Han": "娜"},
    "ta": {"Deva": "ता", "Thai": "ตา", "Han": "塔"},
    "mi": {"Deva": "मी", "Thai": "มี", "Han": "米"},
    "bo": {"Deva": "बो", "Han": "波"},
    "wen": {"Deva": "वेन", "Han": "文"},
    "la": {"Deva": "ला", "Thai": "ลา", "Han": "拉"},
    "jin": {"Deva": "जिन", "Han": "金"},
    "lin": {"Deva": "लिन", "Thai": "ลิน", "Han": "林"},
    "wa": {"Deva": "वा", "Thai": "วา", "Han": "瓦"},
    "sen": {"Deva": "सेन", "Han": "森"},
    "ha": {"Deva": "हा", "Thai": "ฮา", "Han": "哈"},
    "ru": {"Deva": "रू"},
    "ko": {"Deva": "को"},
    "ven": {"Deva": "वेन"},
    "dor": {},
    "zel": {},
}
_HAN_SCRIPTS = frozenset({"Hani", "Hant", "Hans"})
# Zero of the native digits of a script.
_NATIVE_ZERO = {"Deva": 0x0966, "Thai": 0x0E50, "Arab": 0x0660, "Beng": 0x09E6, "Han": 0xFF10}
_NATIVE_DIGITS_SHARE = 0.3
_KEEP_LATIN_SHARE = 0.3  # a name that could be transliterated stays in Latin script this often

_DIGITS = re.compile(r"\d+")
_CAPITALISED = re.compile(r"(?<![A-Za-z0-9])[A-Z][A-Za-z0-9]+(?![A-Za-z0-9])")


@dataclass(frozen=True, slots=True)
class PileDocument:
    doc_id: str
    work: int  # gold: documents of one work are translations of each other
    lang: str
    script: str
    text: str


@dataclass(frozen=True, slots=True)
class _Seed:
    lang: str
    script: str
    header: tuple[str, ...]  # lines before the first body section: stamps, title
    sections: Mapping[str, tuple[str, ...]]  # body section ("intro", "s01", ...) -> its lines
    first_body_line: Mapping[str, int]  # section -> index of its first non-heading line


def _section_of(units: frozenset[str]) -> str:
    return min(unit.split(".")[0] for unit in units)


@lru_cache(maxsize=1)
def _seeds() -> tuple[_Seed, ...]:
    """The seed translations cut into sections by the gold: lines without a unit (blank lines,
    boilerplate) stay with the section before them."""
    gold = load_gold(SEEDS_GOLD)
    seeds = []
    for path in sorted(SEEDS.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        tag = tag_language(text)
        units = gold[path.name]
        header: list[str] = []
        sections: dict[str, list[str]] = defaultdict(list)
        first_body: dict[str, int] = {}
        current = ""
        for number, line in enumerate(text.split("\n"), 1):
            line_units = units.get(number)
            if line_units:
                section = _section_of(line_units)
                if section not in ("title", "h1"):
                    current = section
                if current and section == current and current not in first_body and not any(
                        unit.endswith(".head") for unit in line_units):
                    first_body[current] = len(sections[current])
            (sections[current] if current else header).append(line)
        seeds.append(_Seed(tag.lang, tag.script, tuple(header),
                           {k: tuple(v) for k, v in sections.items()}, first_body))
    return tuple(seeds)


def _invented_name(rng: random.Random) -> list[str]:
    return rng.sample(sorted(_SYLLABLES), rng.randint(2, 3))


def _render_name(syllables: Sequence[str], script: str, rng: random.Random) -> str:
    family = "Han" if script in _HAN_SCRIPTS else script
    spelled = [_SYLLABLES[s].get(family) for s in syllables]
    if script == "Latn" or None in spelled or rng.random() < _KEEP_LATIN_SHARE:
        return "".join(syllables).capitalize()
    return "".join(s for s in spelled if s)


def _native_digits(text: str, script: str) -> str:
    zero = _NATIVE_ZERO.get("Han" if script in _HAN_SCRIPTS else script)
    if zero is None:
        return text
    return _DIGITS.sub(lambda m: "".join(chr(zero + int(d)) for d in m.group()), text)


def _new_number(digits: str, rng: random.Random) -> str:
    if len(digits) == 1:
        return str(rng.randint(1, 9))
    return str(rng.randint(10 ** (len(digits) - 1), 10 ** len(digits) - 1))


@dataclass(frozen=True, slots=True)
class _Work:
    sections: tuple[str, ...]
    numbers: Mapping[str, str]
    names: Mapping[str, str]
    inserts: Mapping[str, tuple[tuple[str, ...], str]]  # section -> (name syllables, number)
    langs: tuple[int, ...]  # indexes of seeds


def _draw_sections(rng: random.Random, body: Sequence[str], earlier: Sequence[tuple[str, ...]]) -> tuple[str, ...]:
    while True:
        if earlier and rng.random() < NEAR_DUPLICATE_SHARE:
            sections = list(rng.choice(earlier))
            i = rng.randrange(len(sections))
            unused = [s for s in body if s not in sections]
            if unused and rng.random() < 0.5:
                sections[i] = rng.choice(unused)
            elif i + 1 < len(sections):
                sections[i], sections[i + 1] = sections[i + 1], sections[i]
        else:
            sections = rng.sample(list(body), rng.randint(MIN_SECTIONS, MAX_SECTIONS))
            if rng.random() < 0.5:
                sections.sort()
        if tuple(sections) not in earlier:
            return tuple(sections)


def _seed_names(seeds: Sequence[_Seed]) -> list[str]:
    """Capitalised Latin tokens of the body found in at least two seeds: the names the article shares."""
    found: defaultdict[str, set[int]] = defaultdict(set)
    for i, seed in enumerate(seeds):
        for token in _CAPITALISED.findall("\n".join(itertools.chain(*seed.sections.values()))):
            found[token].add(i)
    return sorted(token for token, where in found.items() if len(where) >= 2)


@dataclass(frozen=True, slots=True)
class _Material:
    body: tuple[str, ...]  # sections every seed has
    numbers: tuple[str, ...]  # digit strings of the seeds
    names: tuple[str, ...]
    languages: int


def _material(seeds: Sequence[_Seed]) -> _Material:
    text = "\n".join(line for seed in seeds for lines in seed.sections.values() for line in lines)
    return _Material(
        body=tuple(sorted(set.intersection(*(set(s.sections) for s in seeds)))),
        numbers=tuple(sorted(set(_DIGITS.findall(text)))),
        names=tuple(_seed_names(seeds)),
        languages=len(seeds),
    )


def _draw_work(rng: random.Random, material: _Material, earlier: Sequence[tuple[str, ...]]) -> _Work:
    sections = _draw_sections(rng, material.body, earlier)
    numbers = {d: _new_number(d, rng) for d in material.numbers}
    names = {name: "".join(_invented_name(rng)).capitalize() for name in material.names if rng.random() < 0.5}
    marked = [s for s in sections if rng.random() < INSERT_SHARE] or [rng.choice(sections)]
    inserts = {section: (tuple(_invented_name(rng)), _new_number("0000", rng)) for section in marked}
    count = rng.randint(MIN_LANGUAGES, material.languages)
    langs = tuple(sorted(rng.sample(range(material.languages), count)))
    return _Work(sections, numbers, names, inserts, langs)


def _damage(sections: list[list[str]], rng: random.Random) -> list[list[str]]:
    """Drop a section (rarely) and drop or merge a paragraph or two, as loose translations do."""
    if len(sections) > MIN_SECTIONS and rng.random() < 0.1:
        del sections[rng.randrange(len(sections))]
    for _ in range(rng.randint(0, 2)):
        lines = rng.choice(sections)
        long = [i for i in range(1, len(lines) - 1) if len(lines[i]) > 80 and len(lines[i + 1]) > 80]
        if not long:
            continue
        i = rng.choice(long)
        if rng.random() < 0.5:
            del lines[i]
        else:
            lines[i:i + 2] = [lines[i] + " " + lines[i + 1]]
    return sections


def _write(work: _Work, seed: _Seed, rng: random.Random) -> str:
    sections: list[list[str]] = []
    for name in work.sections:
        lines = list(seed.sections[name])
        if name in work.inserts:
            syllables, number = work.inserts[name]
            rendered = _render_name(syllables, seed.script, rng)
            at = seed.first_body_line.get(name, 0)
            open_, close = ("（", "）") if seed.script in _HAN_SCRIPTS else (" (", ")")
            lines[at] = f"{lines[at]}{open_}{rendered}, {number}{close}"
        sections.append(lines)
    text = "\n".join([*seed.header, *itertools.chain(*_damage(sections, rng))])
    text = _DIGITS.sub(lambda m: work.numbers.get(m.group(), m.group()), text)
    for old, new in work.names.items():
        text = re.sub(rf"(?<![A-Za-z0-9]){re.escape(old)}(?![A-Za-z0-9])", new, text)
    if rng.random() < _NATIVE_DIGITS_SHARE:
        text = _native_digits(text, seed.script)
    return text


def generate_pile(n_works: int, seed: int = 0) -> list[PileDocument]:
    """A shuffled pile of translations of ``n_works`` different works, 3-5 languages each."""
    rng = random.Random(seed)
    seeds = _seeds()
    material = _material(seeds)
    works: list[_Work] = []
    for _ in range(n_works):
        works.append(_draw_work(rng, material, [w.sections for w in works]))
    pile = []
    for index, work in enumerate(works):
        for lang_index in work.langs:
            source = seeds[lang_index]
            text = _write(work, source, random.Random(f"{seed}/{index}/{lang_index}"))
            doc_id = hashlib.sha256(text.encode()).hexdigest()[:16]
            pile.append(PileDocument(doc_id, index, source.lang, source.script, text))
    rng.shuffle(pile)
    return pile


def profile_pile(pile: Sequence[PileDocument]) -> dict[str, WorkProfile]:
    """Profiles of the pile's documents (language and script are the seed's, tagged once)."""
    return {d.doc_id: profile_document(segment_text(d.text, d.script), d.lang) for d in pile}


def pairwise_scores(gold: Mapping[str, int], predicted: Mapping[str, str]) -> dict[str, float]:
    """Precision, recall and F1 of "these two documents are the same work", and the false merges."""
    true_pos = false_pos = false_neg = 0
    for a, b in itertools.combinations(sorted(gold), 2):
        same_gold, same_predicted = gold[a] == gold[b], predicted[a] == predicted[b]
        true_pos += same_gold and same_predicted
        false_pos += same_predicted and not same_gold
        false_neg += same_gold and not same_predicted
    precision = true_pos / (true_pos + false_pos) if true_pos + false_pos else 1.0
    recall = true_pos / (true_pos + false_neg) if true_pos + false_neg else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "false_merges": float(false_pos)}


def _partition(assignment: Mapping[str, str]) -> frozenset[frozenset[str]]:
    groups: defaultdict[str, set[str]] = defaultdict(set)
    for doc_id, work_id in assignment.items():
        groups[work_id].add(doc_id)
    return frozenset(frozenset(g) for g in groups.values())


def _placed_in_order(profiles: Mapping[str, WorkProfile], order: Sequence[str]) -> dict[str, str]:
    index = WorkIndex()
    for doc_id in order:
        index.place(doc_id, profiles[doc_id])
    return index.assignments()


def placement_time(index_works: int = 1000, seed: int = 0, newcomers: int = 20) -> dict[str, float]:
    """Seconds to profile a document and to place it into an index of ``index_works`` works.

    The index holds one translation of each work (given works); half the newcomers are other
    translations of indexed works, half translations of works it does not have.
    """
    half = newcomers // 2
    pile = generate_pile(index_works + half, seed)
    first: dict[int, PileDocument] = {}
    second: dict[int, PileDocument] = {}
    for doc in pile:
        (second if doc.work in first else first).setdefault(doc.work, doc)
    indexed = [first[w] for w in range(index_works)]
    arriving = [second[w] for w in range(half)] + [first[w] for w in range(index_works, index_works + half)]
    profiles = profile_pile(indexed)
    profile_seconds = []
    for doc in arriving:
        start = time.perf_counter()
        profiles |= profile_pile([doc])
        profile_seconds.append(time.perf_counter() - start)
    index = WorkIndex()
    for doc in indexed:
        index.add(f"work-{doc.work}", doc.doc_id, profiles[doc.doc_id])
    place_seconds = []
    correct = 0
    for doc in arriving:
        start = time.perf_counter()
        work_id = index.place(doc.doc_id, profiles[doc.doc_id])
        place_seconds.append(time.perf_counter() - start)
        correct += work_id == (f"work-{doc.work}" if doc.work < index_works else doc.doc_id)
    return {
        "index_works": float(index_works),
        "profile_seconds_median": statistics.median(profile_seconds),
        "place_seconds_median": statistics.median(place_seconds),
        "place_seconds_max": max(place_seconds),
        "placed_correctly": correct / len(arriving),
    }


def evaluate_grouping(n_works: int = 60, seed: int = 0, orders: int = 5) -> dict[str, float]:
    """Group a generated pile in ``orders`` random arrival orders and canonically; pairwise scores."""
    pile = generate_pile(n_works, seed)
    gold = {d.doc_id: d.work for d in pile}
    profiles = profile_pile(pile)
    canonical = group_documents(profiles)
    result = {f"canonical_{k}": v for k, v in pairwise_scores(gold, canonical).items()}
    rng = random.Random(seed)
    runs = []
    agree = 0
    for _ in range(orders):
        order = [d.doc_id for d in pile]
        rng.shuffle(order)
        placed = _placed_in_order(profiles, order)
        runs.append(pairwise_scores(gold, placed))
        agree += _partition(placed) == _partition(canonical)
    result |= {
        "works": float(n_works), "documents": float(len(pile)),
        "min_f1": min(r["f1"] for r in runs), "mean_f1": statistics.fmean(r["f1"] for r in runs),
        "min_precision": min(r["precision"] for r in runs), "min_recall": min(r["recall"] for r in runs),
        "false_merges": max(r["false_merges"] for r in runs), "orders": float(orders),
        "orders_as_canonical": float(agree),
    }
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--works", type=int, default=60)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--orders", type=int, default=5)
    parser.add_argument("--index-works", type=int, default=1000)
    args = parser.parse_args()
    report = evaluate_grouping(args.works, args.seed, args.orders)
    if args.index_works:
        report |= placement_time(args.index_works, args.seed)
    print(json.dumps({k: round(v, 4) for k, v in report.items()}, indent=2))


if __name__ == "__main__":
    main()
