"""Grouping one work's pairwise segment beads into multi-language units (the ``parallel`` table).

The aligner gives, for every pair of documents of a work, a monotone chain of beads. Taking the
transitive closure of all those links (union-find over every bead) would chain small disagreements
between pairs (one pair splits a paragraph where another merges it, one pair is off by one) into
giant units. Instead the units are built around a pivot document:

1. Links are the segment-level beads with a segment on both sides and a score of at least
   ``min_link_score``; a bead scored below 0.5 is more likely wrong than right, so by default it
   joins nothing.
2. The pivot is the document with the highest total link score to the others (the best-connected
   version, so the units rest on the most reliable alignments).
3. Each other document's links to the pivot are taken in order, keeping only a strictly increasing
   chain (so a malformed, crossing bead cannot tangle the order). A link whose pivot side overlaps
   another document's link merges the two groups of pivot segments, unless the merged group would
   exceed ``max_unit_segments`` pivot segments: such a merge is a disagreement between pairs, not a
   real n-to-m translation (the aligner's largest bead has three segments a side), and the link is
   dropped instead.
4. Every group becomes a unit holding, for each other document, the segments of its links into the
   group plus any of its segments lying between them (a sentence one translator added inside the
   unit). Pivot segments in no group become units of their own.
5. The segments left over in the other documents (omitted by the pivot, or whose link was dropped)
   are placed in a gap between the units holding their document's neighbouring linked segments
   (the first such gap, or a later one where a leftover run of another document they are linked
   with can go too), and each gap is grouped again the same way among the remaining documents, with
   a pivot of its own. A segment linked to nothing is a unit of one language.

So every content segment (boilerplate is not a translation unit) of the kept documents lands in
exactly one unit, each unit holds a contiguous run of every document it touches, and reading the
units in order gives every document in order.

A work with two documents of the same language (a copy, a revision) keeps only the one with most
segments in links, since a unit has one slot per language; ties go to the smaller ``doc_id``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol

import pyarrow as pa

from schemas import PARALLEL, ParallelRow

__all__ = ["BeadRecord", "SegmentText", "WorkDocument", "parallel_rows", "parallel_table", "struct_languages",
           "widen_parallel"]

DEFAULT_MIN_LINK_SCORE = 0.5
DEFAULT_MAX_UNIT_SEGMENTS = 4


class WorkDocument(NamedTuple):
    doc_id: str
    lang: str


class SegmentText(NamedTuple):
    doc_id: str
    ordinal: int
    text: str
    kind: str


class BeadRecord(Protocol):
    """What is read of a bead: an :class:`schemas.AlignmentRow` is one."""

    @property
    def level(self) -> str: ...

    @property
    def src_ids(self) -> Sequence[str]: ...

    @property
    def tgt_ids(self) -> Sequence[str]: ...

    @property
    def score(self) -> float: ...


Span = tuple[int, int]  # [start, end) positions in a document's content segments


@dataclass(frozen=True, slots=True)
class _Link:
    a: int  # document index
    a_span: Span
    b: int
    b_span: Span
    score: float

    def span(self, doc: int) -> Span:
        return self.a_span if doc == self.a else self.b_span

    def other(self, doc: int) -> tuple[int, Span]:
        return (self.b, self.b_span) if doc == self.a else (self.a, self.a_span)


@dataclass(slots=True)
class _Unit:
    spans: dict[int, Span]
    score: float | None  # None: no link formed it (one document only)


@dataclass(slots=True)
class _Groups:
    """Intervals of pivot positions, merged as links arrive, each at most ``cap`` long."""

    cap: int
    owner: dict[int, int] = field(default_factory=dict)  # pivot position -> group id
    spans: dict[int, Span] = field(default_factory=dict)
    next_id: int = 0

    def try_add(self, span: Span) -> bool:
        touched = {self.owner[p] for p in range(*span) if p in self.owner}
        start = min([span[0], *(self.spans[g][0] for g in touched)])
        end = max([span[1], *(self.spans[g][1] for g in touched)])
        if end - start > self.cap:
            return False
        if touched:
            group = min(touched)
        else:
            group, self.next_id = self.next_id, self.next_id + 1
        for g in touched:
            del self.spans[g]
        self.spans[group] = (start, end)
        for p in range(start, end):
            self.owner[p] = group
        return True


def _contiguous_span(positions: Sequence[int]) -> Span | None:
    ordered = sorted(set(positions))
    if not ordered or ordered[-1] - ordered[0] != len(ordered) - 1:
        return None
    return ordered[0], ordered[-1] + 1


def _side(ids: Sequence[str], where: Mapping[str, tuple[int, int]]) -> tuple[int, Span] | None:
    """The document and span of a bead side, or None if it is not one contiguous run of one document."""
    located = [where[i] for i in ids if i in where]
    if not located or len(located) != len(ids) or len({doc for doc, _ in located}) != 1:
        return None
    span = _contiguous_span([position for _, position in located])
    return None if span is None else (located[0][0], span)


def _links(beads: Sequence[BeadRecord], where: Mapping[str, tuple[int, int]], min_score: float) -> list[_Link]:
    links = []
    for bead in beads:
        if bead.level != "segment" or bead.score < min_score:
            continue
        src, tgt = _side(bead.src_ids, where), _side(bead.tgt_ids, where)
        if src is None or tgt is None or src[0] == tgt[0]:
            continue
        links.append(_Link(src[0], src[1], tgt[0], tgt[1], bead.score))
    return links


def _within(link: _Link, scope: Mapping[int, Span]) -> bool:
    for doc, (start, end) in ((link.a, link.a_span), (link.b, link.b_span)):
        if doc not in scope or start < scope[doc][0] or end > scope[doc][1]:
            return False
    return True


def _links_in(scope: Mapping[int, Span], by_segment: Mapping[tuple[int, int], list[_Link]]) -> list[_Link]:
    seen: dict[int, _Link] = {}
    for doc, (start, end) in scope.items():
        for position in range(start, end):
            for link in by_segment.get((doc, position), ()):
                if id(link) not in seen and _within(link, scope):
                    seen[id(link)] = link
    return list(seen.values())


def _singletons(scope: Mapping[int, Span]) -> list[_Unit]:
    return [_Unit({doc: (p, p + 1)}, None) for doc in sorted(scope) for p in range(*scope[doc])]


_PivotLink = tuple[Span, Span, float]  # pivot span, other document's span, score
_Run = tuple[int, Span, int, int]  # document, leftover span, anchor before it, anchor after it


def _chain(links: list[_PivotLink]) -> list[_PivotLink]:
    """The links taken in pivot order that are strictly increasing on both sides."""
    kept: list[_PivotLink] = []
    for pivot_span, other_span, score in sorted(links):
        if not kept or (pivot_span[0] >= kept[-1][0][1] and other_span[0] >= kept[-1][1][1]):
            kept.append((pivot_span, other_span, score))
    return kept


def _pivot_groups(pivot: int, links: Sequence[_Link], cap: int) -> tuple[_Groups, dict[int, list[_PivotLink]]]:
    """Groups of pivot segments and, per other document, its links to the pivot that formed them.

    The documents best aligned to the pivot merge groups first, so a disagreeing one is the one
    whose link is dropped when a group would grow past ``cap``.
    """
    by_doc: dict[int, list[_PivotLink]] = defaultdict(list)
    for link in links:
        if pivot in (link.a, link.b):
            other, other_span = link.other(pivot)
            by_doc[other].append((link.span(pivot), other_span, link.score))
    chains = {doc: _chain(doc_links) for doc, doc_links in by_doc.items()}
    groups = _Groups(cap)
    accepted = {
        doc: [link for link in chains[doc] if groups.try_add(link[0])]
        for doc in sorted(chains, key=lambda d: (-sum(s for *_, s in chains[d]), d))
    }
    return groups, accepted


def _anchors(
    pivot: int, scope: Mapping[int, Span], groups: _Groups, accepted: Mapping[int, list[_PivotLink]]
) -> tuple[list[_Unit], list[_Run]]:
    """Units holding pivot segments, filled with the other documents' linked segments, and what is left."""
    anchors: list[_Unit] = []
    anchor_of: dict[int, int] = {}  # group id -> anchor index
    for p in range(*scope[pivot]):
        group = groups.owner.get(p)
        if group is None:
            anchors.append(_Unit({pivot: (p, p + 1)}, None))
        elif group not in anchor_of:
            anchor_of[group] = len(anchors)
            anchors.append(_Unit({pivot: groups.spans[group]}, None))
    runs: list[_Run] = []
    for doc in sorted(set(scope) - {pivot}):
        cursor, previous = scope[doc][0], -1
        for pivot_span, other_span, score in accepted.get(doc, []):
            index = anchor_of[groups.owner[pivot_span[0]]]
            unit = anchors[index]
            unit.score = score if unit.score is None else min(unit.score, score)
            if doc in unit.spans:
                # A later link into the same unit: what lies between (an added sentence) joins it.
                unit.spans[doc] = (unit.spans[doc][0], other_span[1])
            else:
                if other_span[0] > cursor:
                    runs.append((doc, (cursor, other_span[0]), previous, index))
                unit.spans[doc] = other_span
                previous = index
            cursor = other_span[1]
        if scope[doc][1] > cursor:
            runs.append((doc, (cursor, scope[doc][1]), previous, len(anchors)))
    return anchors, runs


def _place_runs(runs: Sequence[_Run], links: Sequence[_Link]) -> dict[int, dict[int, Span]]:
    """Per gap (the anchor index it follows, -1 for the start), the leftover runs placed in it.

    A run may go in any gap between its document's neighbouring anchors; it goes in the first one,
    or later to meet a run of another document it has a link with, so the two can form a unit.
    """
    run_at = {(doc, p): i for i, (doc, span, _, _) in enumerate(runs) for p in range(*span)}
    partners: dict[int, set[int]] = defaultdict(set)
    for link in links:
        r, s = run_at.get((link.a, link.a_span[0])), run_at.get((link.b, link.b_span[0]))
        if r is not None and s is not None:
            partners[r].add(s)
            partners[s].add(r)
    gaps: dict[int, dict[int, Span]] = defaultdict(dict)
    for i, (doc, span, after, before) in enumerate(runs):
        gap = max([after, *(runs[j][2] for j in partners[i] if runs[j][2] < before)])
        gaps[gap][doc] = span
    return gaps


def _group(
    scope: dict[int, Span], by_segment: Mapping[tuple[int, int], list[_Link]], cap: int
) -> list[_Unit]:
    scope = {doc: span for doc, span in scope.items() if span[1] > span[0]}
    links = _links_in(scope, by_segment)
    if not links:
        return _singletons(scope)
    weight: dict[int, float] = defaultdict(float)
    for link in links:
        weight[link.a] += link.score
        weight[link.b] += link.score
    pivot = max(scope, key=lambda d: (weight[d], scope[d][1] - scope[d][0], -d))
    groups, accepted = _pivot_groups(pivot, links, cap)
    anchors, runs = _anchors(pivot, scope, groups, accepted)
    gaps = _place_runs(runs, links)
    units = _group(gaps[-1], by_segment, cap) if -1 in gaps else []
    for index, anchor in enumerate(anchors):
        units.append(anchor)
        if index in gaps:
            units.extend(_group(gaps[index], by_segment, cap))
    return units


def _kept_documents(
    documents: Sequence[WorkDocument], content: Mapping[int, list[str]], links: Sequence[_Link]
) -> list[int]:
    """Indices of the documents kept: per language, the one with most segments in links (then most
    segments), and only documents with content."""
    linked: dict[int, set[int]] = defaultdict(set)
    for link in links:
        linked[link.a].update(range(*link.a_span))
        linked[link.b].update(range(*link.b_span))

    def preference(index: int) -> tuple[int, int, str]:
        return -len(linked[index]), -len(content.get(index, ())), documents[index].doc_id

    best: dict[str, int] = {}
    for index, doc in enumerate(documents):
        current = best.get(doc.lang)
        if current is None or preference(index) < preference(current):
            best[doc.lang] = index
    return sorted(index for index in best.values() if index in content)


def parallel_rows(
    work_id: str,
    documents: Sequence[WorkDocument],
    segments: Mapping[str, SegmentText],
    beads: Sequence[BeadRecord],
    *,
    min_link_score: float = DEFAULT_MIN_LINK_SCORE,
    max_unit_segments: int = DEFAULT_MAX_UNIT_SEGMENTS,
) -> list[ParallelRow]:
    """The multi-language units of one work, in document order.

    ``segments`` maps segment ids to their document, ordinal, text and kind (other documents' segments
    are ignored); ``beads`` are the work's alignment rows (only segment-level ones are read). A unit's
    text in a language is its segments joined by a space, None where the language has none; its score
    is the lowest score of the links that formed it, 0.0 for a unit of a single language.
    """
    if max_unit_segments < 1:
        raise ValueError("max_unit_segments must be at least 1")
    index_of = {doc.doc_id: i for i, doc in enumerate(documents)}
    content: dict[int, list[str]] = defaultdict(list)
    for segment_id, segment in sorted(segments.items(), key=lambda item: (item[1].doc_id, item[1].ordinal)):
        if segment.doc_id in index_of and segment.kind != "boilerplate":
            content[index_of[segment.doc_id]].append(segment_id)
    where = {sid: (doc, position) for doc, ids in content.items() for position, sid in enumerate(ids)}
    all_links = _links(beads, where, min_link_score)
    kept = set(_kept_documents(documents, content, all_links))
    by_segment: dict[tuple[int, int], list[_Link]] = defaultdict(list)
    for link in all_links:
        if link.a in kept and link.b in kept:
            for doc, span in ((link.a, link.a_span), (link.b, link.b_span)):
                for position in range(*span):
                    by_segment[(doc, position)].append(link)
    units = _group({doc: (0, len(content[doc])) for doc in kept}, by_segment, max_unit_segments)

    languages = sorted(documents[doc].lang for doc in kept)
    rows = []
    for position, unit in enumerate(units):
        translation: dict[str, str | None] = dict.fromkeys(languages)
        segment_ids: dict[str, list[str] | None] = dict.fromkeys(languages)
        for doc, (start, end) in unit.spans.items():
            ids = content[doc][start:end]
            lang = documents[doc].lang
            segment_ids[lang] = ids
            translation[lang] = " ".join(segments[i].text for i in ids)
        rows.append(ParallelRow(
            work_id=work_id, unit=position, translation=translation, segment_ids=segment_ids,
            n_langs=len(unit.spans),
            score=0.0 if unit.score is None else round(unit.score, 6),
        ))
    return rows


def parallel_table(rows: Sequence[ParallelRow], languages: Sequence[str]) -> pa.Table:
    """Rows as an Arrow table of ``PARALLEL.arrow_schema_for(languages)``: one struct field per language."""
    schema = PARALLEL.arrow_schema_for(languages)
    known = set(languages)
    columns: dict[str, list[object]] = {name: [] for name in schema.names}
    for row in rows:
        unknown = (set(row.translation) | set(row.segment_ids)) - known
        if unknown:
            raise ValueError(f"unit {row.unit} of work {row.work_id!r} has languages {sorted(unknown)} "
                             f"outside the table's {list(languages)}")
        columns["work_id"].append(row.work_id)
        columns["unit"].append(row.unit)
        columns["translation"].append({lang: row.translation.get(lang) for lang in languages})
        columns["segment_ids"].append({lang: row.segment_ids.get(lang) for lang in languages})
        columns["n_langs"].append(row.n_langs)
        columns["score"].append(row.score)
    return pa.table(columns, schema=schema)


def struct_languages(schema: pa.Schema) -> list[str]:
    """The languages of a parallel table's ``translation`` struct (the fields of a work's or of the corpus')."""
    struct = schema.field("translation").type
    return [struct.field(i).name for i in range(struct.num_fields)]


def widen_parallel(data: pa.Table, languages: Sequence[str]) -> pa.Table:
    """A parallel table with its per-language structs given a field for each of ``languages`` (a superset of the
    table's own): null where the table has no text in a language."""
    missing = set(struct_languages(data.schema)) - set(languages)
    if missing:
        raise ValueError(f"the table has languages {sorted(missing)} outside {list(languages)}")
    schema = PARALLEL.arrow_schema_for(languages)
    columns = []
    for target in schema:
        column = data[target.name].combine_chunks()
        if pa.types.is_struct(target.type):
            present = {column.type.field(i).name for i in range(column.type.num_fields)}
            children = [
                column.field(child.name) if child.name in present else pa.nulls(len(column), child.type)
                for child in target.type
            ]
            column = pa.StructArray.from_arrays(children, fields=list(target.type), mask=column.is_null())
        columns.append(column)
    return pa.Table.from_arrays(columns, schema=schema)
