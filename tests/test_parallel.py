"""Grouping pairwise segment beads into multi-language units (tasks/parallel.py)."""

from __future__ import annotations

import io
import itertools
from collections.abc import Sequence

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schemas import PARALLEL, AlignmentRow, ParallelRow
from tasks.parallel import SegmentText, WorkDocument, parallel_rows, parallel_table, struct_languages, widen_parallel

Beads = list[AlignmentRow]


def sid(doc: str, ordinal: int) -> str:
    return f"{doc}-{ordinal:05d}"


def make_work(
    sizes: dict[str, int], boilerplate: Sequence[str] = ()
) -> tuple[list[WorkDocument], dict[str, SegmentText]]:
    """Documents named after their language (or 'lang#n' for a second one), segments 'doc:i'."""
    documents = [WorkDocument(doc, doc.split("#")[0]) for doc in sizes]
    segments = {
        sid(doc, i): SegmentText(doc, i, f"{doc}:{i}", "boilerplate" if sid(doc, i) in boilerplate else "paragraph")
        for doc, n in sizes.items() for i in range(n)
    }
    return documents, segments


def bead(src: str, src_ords: Sequence[int], tgt: str, tgt_ords: Sequence[int], score: float = 0.9) -> AlignmentRow:
    return AlignmentRow(
        work_id="w", src_doc_id=src, tgt_doc_id=tgt, src_lang=src, tgt_lang=tgt, level="segment", bead=0,
        src_ids=[sid(src, i) for i in src_ords], tgt_ids=[sid(tgt, i) for i in tgt_ords], score=score,
        method="test",
    )


def identity(src: str, tgt: str, n: int, score: float = 0.9) -> Beads:
    return [bead(src, [i], tgt, [i], score) for i in range(n)]


def texts(rows: Sequence[ParallelRow]) -> list[dict[str, str | None]]:
    return [row.translation for row in rows]


def check_invariants(rows: Sequence[ParallelRow], documents: Sequence[WorkDocument],
                     segments: dict[str, SegmentText]) -> None:
    """Every content segment of a kept document is in exactly one unit, and units read each in order."""
    assert [r.unit for r in rows] == list(range(len(rows)))
    languages = {lang for r in rows for lang in r.translation}
    for row in rows:
        present = [lang for lang, ids in row.segment_ids.items() if ids]
        assert row.n_langs == len(present) >= 1
        assert set(present) == {lang for lang, text in row.translation.items() if text is not None}
        assert 0.0 <= row.score <= 1.0
        assert (row.score == 0.0) if row.n_langs == 1 else True
    kept = {lang: [d for d in documents if d.lang == lang] for lang in languages}
    for lang, candidates in kept.items():
        read = [i for r in rows for i in (r.segment_ids[lang] or [])]
        matching = [
            d for d in candidates
            if read == sorted((i for i, s in segments.items() if s.doc_id == d.doc_id and s.kind != "boilerplate"),
                              key=lambda i: segments[i].ordinal)
        ]
        assert matching, f"units do not read document(s) of {lang} in order: {read}"


def test_consistent_pairs_give_one_unit_per_segment_with_every_language() -> None:
    documents, segments = make_work({"aa": 4, "bb": 4, "cc": 4})
    beads = identity("aa", "bb", 4, 0.9) + identity("aa", "cc", 4, 0.8) + identity("bb", "cc", 4, 0.7)
    rows = parallel_rows("w", documents, segments, beads)
    assert texts(rows) == [{"aa": f"aa:{i}", "bb": f"bb:{i}", "cc": f"cc:{i}"} for i in range(4)]
    assert {r.n_langs for r in rows} == {3}
    assert {r.score for r in rows} == {0.8}  # the lowest link to the pivot (aa, the best connected)
    check_invariants(rows, documents, segments)


def test_merges_join_segments_with_a_space_and_omissions_are_none() -> None:
    documents, segments = make_work({"aa": 4, "bb": 3})
    beads = [bead("aa", [0, 1], "bb", [0]), bead("aa", [2], "bb", []), bead("aa", [3], "bb", [1, 2], 0.6)]
    rows = parallel_rows("w", documents, segments, beads)
    assert texts(rows) == [
        {"aa": "aa:0 aa:1", "bb": "bb:0"},
        {"aa": "aa:2", "bb": None},
        {"aa": "aa:3", "bb": "bb:1 bb:2"},
    ]
    assert rows[1].segment_ids == {"aa": [sid("aa", 2)], "bb": None}
    assert [r.score for r in rows] == [0.9, 0.0, 0.6]


def test_links_scored_below_the_threshold_join_nothing() -> None:
    documents, segments = make_work({"aa": 2, "bb": 2})
    beads = [bead("aa", [0], "bb", [0], 0.95), bead("aa", [1], "bb", [1], 0.3)]
    rows = parallel_rows("w", documents, segments, beads)
    assert [r.n_langs for r in rows] == [2, 1, 1]
    assert len(parallel_rows("w", documents, segments, beads, min_link_score=0.2)) == 2


def test_pairs_that_disagree_by_one_do_not_chain_into_a_giant_unit() -> None:
    # aa-bb and aa-cc agree, bb-cc is shifted by one: the transitive closure would be one unit.
    documents, segments = make_work({"aa": 10, "bb": 10, "cc": 10})
    shifted = [bead("bb", [i], "cc", [i + 1], 0.6) for i in range(9)]
    rows = parallel_rows("w", documents, segments,
                         identity("aa", "bb", 10) + identity("aa", "cc", 10) + shifted)
    assert texts(rows) == [{"aa": f"aa:{i}", "bb": f"bb:{i}", "cc": f"cc:{i}"} for i in range(10)]


def test_staggered_merges_are_capped() -> None:
    # bb merges pairs (0,1)(2,3)..., cc merges (1,2)(3,4)...: together they would swallow the work.
    n = 12
    documents, segments = make_work({"aa": n, "bb": n // 2, "cc": n // 2 + 1})
    beads = [bead("aa", [2 * i, 2 * i + 1], "bb", [i], 0.9) for i in range(n // 2)]
    beads += [bead("aa", [0], "cc", [0], 0.8)]
    beads += [bead("aa", [2 * i + 1, 2 * i + 2], "cc", [i + 1], 0.8) for i in range(n // 2 - 1)]
    beads += [bead("aa", [n - 1], "cc", [n // 2], 0.8)]
    full_units = {}
    for cap in (2, 4, 6):
        rows = parallel_rows("w", documents, segments, beads, max_unit_segments=cap)
        check_invariants(rows, documents, segments)
        assert max(len(r.segment_ids["aa"] or []) for r in rows) <= cap
        full_units[cap] = sum(r.n_langs == 3 for r in rows)
    assert full_units == {2: 0, 4: 3, 6: 2}


def test_segments_the_pivot_lacks_are_grouped_among_the_others() -> None:
    documents, segments = make_work({"aa": 2, "bb": 3, "cc": 3})
    beads = [bead("aa", [0], "bb", [0]), bead("aa", [], "bb", [1]), bead("aa", [1], "bb", [2])]
    beads += [bead("aa", [0], "cc", [0]), bead("aa", [], "cc", [1]), bead("aa", [1], "cc", [2])]
    beads += identity("bb", "cc", 3, 0.7)
    rows = parallel_rows("w", documents, segments, beads)
    assert texts(rows) == [
        {"aa": "aa:0", "bb": "bb:0", "cc": "cc:0"},
        {"aa": None, "bb": "bb:1", "cc": "cc:1"},
        {"aa": "aa:1", "bb": "bb:2", "cc": "cc:2"},
    ]
    assert rows[1].score == 0.7


def test_a_sentence_added_inside_a_unit_joins_it() -> None:
    # cc merges aa:0-1, so the unit holds aa:0-1; bb added bb:1 between its links to aa:0 and aa:1.
    documents, segments = make_work({"aa": 2, "bb": 3, "cc": 1})
    beads = [bead("aa", [0], "bb", [0]), bead("aa", [], "bb", [1]), bead("aa", [1], "bb", [2])]
    beads += [bead("aa", [0, 1], "cc", [0])]
    rows = parallel_rows("w", documents, segments, beads)
    assert texts(rows) == [{"aa": "aa:0 aa:1", "bb": "bb:0 bb:1 bb:2", "cc": "cc:0"}]


def test_boilerplate_is_not_a_unit() -> None:
    documents, segments = make_work({"aa": 3, "bb": 2}, boilerplate=[sid("aa", 0)])
    rows = parallel_rows("w", documents, segments, [bead("aa", [1], "bb", [0]), bead("aa", [2], "bb", [1])])
    assert texts(rows) == [{"aa": "aa:1", "bb": "bb:0"}, {"aa": "aa:2", "bb": "bb:1"}]


def test_two_documents_of_one_language_keep_the_better_linked() -> None:
    documents, segments = make_work({"aa": 3, "bb#1": 3, "bb#2": 3})
    beads = [*identity("aa", "bb#2", 3), bead("aa", [0], "bb#1", [0])]
    rows = parallel_rows("w", documents, segments, beads)
    assert [r.segment_ids["bb"] for r in rows] == [[sid("bb#2", i)] for i in range(3)]
    check_invariants(rows, documents, segments)


def test_crossing_beads_cannot_break_document_order() -> None:
    documents, segments = make_work({"aa": 3, "bb": 3})
    beads = [bead("aa", [0], "bb", [2]), bead("aa", [2], "bb", [0], 0.95), bead("aa", [1], "bb", [1])]
    rows = parallel_rows("w", documents, segments, beads)
    check_invariants(rows, documents, segments)


@st.composite
def works(draw: st.DrawFn) -> tuple[list[WorkDocument], dict[str, SegmentText], Beads]:
    """Random documents and beads: mostly monotone pairwise chains, plus arbitrary (malformed) beads."""
    n_docs = draw(st.integers(1, 4))
    sizes = {f"l{i}" + ("#2" if draw(st.booleans()) and i else ""): draw(st.integers(0, 7)) for i in range(n_docs)}
    documents, segments = make_work(sizes)
    scores = st.floats(0.0, 1.0)
    beads: Beads = []
    for src, tgt in itertools.combinations(sizes, 2):
        i = j = 0
        while i < sizes[src] or j < sizes[tgt]:
            take_src = draw(st.integers(0, min(3, sizes[src] - i)))
            take_tgt = draw(st.integers(0, min(3, sizes[tgt] - j)))
            if take_src == take_tgt == 0:
                take_src, take_tgt = min(1, sizes[src] - i), min(1, sizes[tgt] - j)
            beads.append(bead(src, range(i, i + take_src), tgt, range(j, j + take_tgt), draw(scores)))
            i, j = i + take_src, j + take_tgt
    malformed: bool = draw(st.booleans())
    if sizes and malformed:
        names = list(sizes)
        for _ in range(draw(st.integers(0, 4))):
            src, tgt = draw(st.sampled_from(names)), draw(st.sampled_from(names))
            src_ords = draw(st.lists(st.integers(0, 8), max_size=3))
            tgt_ords = draw(st.lists(st.integers(0, 8), max_size=3))
            beads.append(bead(src, src_ords, tgt, tgt_ords, draw(scores)))
    return documents, segments, beads


@settings(max_examples=300, deadline=None)
@given(works(), st.integers(1, 5))
def test_every_segment_is_in_one_unit_and_units_follow_each_document(
    work: tuple[list[WorkDocument], dict[str, SegmentText], Beads], cap: int
) -> None:
    documents, segments, beads = work
    rows = parallel_rows("w", documents, segments, beads, max_unit_segments=cap)
    check_invariants(rows, documents, segments)
    assert {lang for r in rows for lang in r.translation} <= {d.lang for d in documents}


def test_parallel_table_has_a_struct_of_every_corpus_language() -> None:
    documents, segments = make_work({"aa": 2, "bb": 2})
    rows = parallel_rows("w", documents, segments, [bead("aa", [0], "bb", [0])])
    table = parallel_table(rows, ["aa", "bb", "cc"])
    assert table.schema.equals(PARALLEL.arrow_schema_for(["aa", "bb", "cc"]), check_metadata=True)
    assert table.schema.field("translation").type == pa.struct(
        [pa.field(lang, pa.string()) for lang in ("aa", "bb", "cc")]
    )
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    back = pq.read_table(io.BytesIO(buffer.getvalue())).to_pylist()
    assert back[0]["translation"] == {"aa": "aa:0", "bb": "bb:0", "cc": None}
    assert [r["segment_ids"] for r in back[1:]] == [
        {"aa": None, "bb": [sid("bb", 1)], "cc": None}, {"aa": [sid("aa", 1)], "bb": None, "cc": None}
    ]
    assert [r["n_langs"] for r in back] == [2, 1, 1]


def test_parallel_table_refuses_a_language_outside_the_schema() -> None:
    documents, segments = make_work({"aa": 1, "bb": 1})
    rows = parallel_rows("w", documents, segments, [bead("aa", [0], "bb", [0])])
    with pytest.raises(ValueError, match=r"\['bb'\]"):
        parallel_table(rows, ["aa"])


def test_a_works_table_widened_to_the_corpus_languages_gets_nulls_for_the_others() -> None:
    rows = [ParallelRow(work_id="w", unit=0, translation={"aa": "x", "cc": None},
                        segment_ids={"aa": ["a-0"], "cc": None}, n_langs=1, score=0.0)]
    table = parallel_table(rows, ["aa", "cc"])
    wide = widen_parallel(table, ["aa", "bb", "cc"])
    assert wide.schema.equals(PARALLEL.arrow_schema_for(["aa", "bb", "cc"]), check_metadata=True)
    assert struct_languages(wide.schema) == ["aa", "bb", "cc"]
    assert wide.to_pylist() == [{"work_id": "w", "unit": 0, "translation": {"aa": "x", "bb": None, "cc": None},
                                 "segment_ids": {"aa": ["a-0"], "bb": None, "cc": None}, "n_langs": 1,
                                 "score": 0.0}]
    with pytest.raises(ValueError, match="outside"):
        widen_parallel(table, ["aa"])
