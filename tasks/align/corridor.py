"""Where sentence embeddings are worth their cost: the corridor of unsure beads around the plain alignment.

Embedding is the expensive part of the quality mode (about 600 tokens per CPU-second here, against a few
milliseconds per segment for the whole plain alignment), and the plain alignment is right about most beads
and knows which: its scores (see ``tasks.align.costs``) are fitted to how likely a bead is exactly right.
So a pair is aligned without embeddings first; the segments of every bead scoring under
``_CORRIDOR_SCORE``, with ``_CORRIDOR_REACH`` beads either side, form the corridor; only they, and the
windows of consecutive corridor segments, are embedded, and the pair is aligned again with the embedding
term where both sides of a bead have vectors (outside the corridor the term is absent, so the plain
evidence decides there, as it did). Bertalign and vecalign search in a corridor around a first path the
same way. A pair whose plain beads all score high embeds nothing and keeps its plain alignment.
"""

from __future__ import annotations

from collections.abc import Sequence

from tasks.align.features import _Side
from tasks.align.params import _CORRIDOR_REACH, _CORRIDOR_SCORE
from tasks.align.types import Bead

_WINDOW_GROWTH = 1  # windows embedded: up to this many segments more than the corridor's largest bead side


def _corridor(beads: Sequence[Bead], src: _Side, tgt: _Side) -> tuple[list[bool], list[bool], int] | None:
    """Which content segments of each side to embed, from the plain segment beads (ordinals, ``src``
    as their source); None when no bead is unsure (or the corridor misses a side)."""
    s_at = {segment.ordinal: k for k, segment in enumerate(src.segments)}
    t_at = {segment.ordinal: k for k, segment in enumerate(tgt.segments)}
    unsure = [k for k, bead in enumerate(beads) if bead.score < _CORRIDOR_SCORE]
    chosen: set[int] = set()
    for k in unsure:
        chosen.update(range(max(0, k - _CORRIDOR_REACH), min(len(beads), k + _CORRIDOR_REACH + 1)))
    s_keep = [False] * len(src.segments)
    t_keep = [False] * len(tgt.segments)
    for k in chosen:
        for ordinal in beads[k].src:
            s_keep[s_at[ordinal]] = True
        for ordinal in beads[k].tgt:
            t_keep[t_at[ordinal]] = True
    largest = max((max(len(beads[k].src), len(beads[k].tgt)) for k in chosen), default=1)
    return (s_keep, t_keep, largest + _WINDOW_GROWTH) if any(s_keep) and any(t_keep) else None
