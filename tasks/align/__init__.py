"""Alignment of two documents of the same work: sections first, then n-to-m segment beads.

``align_pair`` is a pure, deterministic function from two segment lists to beads, in two levels.
The sections are aligned first (headings and the title block are strong anchors); the segments are
then aligned over the whole document twice: in a band around the aligned section groups, and free
of them in a band around the anchors, and the guided alignment is kept only if it costs less, so
that sections that disagree (headings found on one side only, short lines taken for headings)
cannot trap them; wherever the best path reaches the band's edge the band is widened and the
program run again. The reported section beads are the sections the segment beads join, so both
levels always agree; where the sections did not guide the segments, a section no bead links joins
its neighbours rather than standing alone.

The package, in the order a pair goes through it: ``features`` (what a segment brings to the cost, a document
as a side), ``costs`` (beads and omissions of every shape, scores), ``dp`` (the banded dynamic program, its band
and the length ratios that place it), ``levels`` (sections, then segments; absorbing and title variants),
``lexicon`` (word pairs learned from a first alignment that leaves units out, for a second run);
``params`` holds the fitted constants and ``types`` the beads returned.
"""

from __future__ import annotations

from collections.abc import Sequence

from tasks.align.levels import _align_oriented, _leads, _mirrored, _sources_first
from tasks.align.params import _METHOD_BASE
from tasks.align.types import Bead, Embed, PairAlignment
from tasks.segment import Segment

__all__ = ["Bead", "Embed", "PairAlignment", "align_pair", "alignment_method"]


def align_pair(src: Sequence[Segment], tgt: Sequence[Segment], *, embed: Embed | None = None) -> PairAlignment:
    """Align two documents: section beads (section numbers) and segment beads (segment ordinals).

    Boilerplate segments appear in no bead; every other segment is in exactly one segment bead and
    every section with content in exactly one section bead, in document order on both sides.
    ``embed`` maps texts to sentence vectors (one row per text) and adds their cosine to the cost.

    The sections are aligned first; the segment alignment then runs over the whole document in a band
    around the aligned section groups (or around anchors, if the section alignment leaves much content
    unaligned, e.g. when one side has no headings), widened wherever the best path reaches its edge.
    The reported section beads are the sections the segment beads join, so both levels agree.

    The result does not depend on which document is given first: the pair is aligned with the
    document that has more content as the source (see ``_leads``), and the beads are then given with
    ``src`` as their source, unaligned source units before unaligned target units where they meet.
    """
    method = alignment_method(embedded=embed is not None)
    if _leads(tgt, src):
        sections, segments = _align_oriented(tgt, src, embed)
        sections, segments = _mirrored(sections), _mirrored(segments)
    else:
        sections, segments = _align_oriented(src, tgt, embed)
    return PairAlignment(_sources_first(sections), _sources_first(segments), method)


def alignment_method(*, embedded: bool) -> str:
    """The ``method`` of the aligner's beads: its signals, ``embed`` among them when sentence embeddings are on."""
    return _METHOD_BASE + (",embed" if embedded else "")
