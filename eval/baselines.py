"""Baseline aligners, run on the same segments as the real one so the scores compare like with like.

* ``zip_align``: the i-th content segment (and section) of one side with the i-th of the other.
* ``gale_church_align``: NLTK's Gale-Church on character lengths, the target's rescaled by the pair's
  total length ratio (otherwise a Chinese/Latin pair would fail on the ratio alone). Sections and
  segments are aligned independently, each over the whole document.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from nltk.translate.gale_church import align_blocks

from tasks.align import Bead, PairAlignment
from tasks.segment import Segment

__all__ = ["gale_church_align", "zip_align"]


def _content(segments: Sequence[Segment]) -> list[Segment]:
    return [s for s in segments if s.kind != "boilerplate"]


def _sections(segments: Sequence[Segment]) -> list[int]:
    return sorted({s.section for s in segments})


def _zip(src: Sequence[int], tgt: Sequence[int]) -> list[Bead]:
    beads = [Bead((a,), (b,), 1.0) for a, b in zip(src, tgt, strict=False)]
    beads += [Bead((a,), (), 1.0) for a in src[len(tgt):]]
    beads += [Bead((), (b,), 1.0) for b in tgt[len(src):]]
    return beads


def zip_align(src: Sequence[Segment], tgt: Sequence[Segment]) -> PairAlignment:
    """Positional 1-1 alignment; the longer side's tail is left unaligned."""
    s, t = _content(src), _content(tgt)
    return PairAlignment(
        sections=_zip(_sections(s), _sections(t)),
        segments=_zip([x.ordinal for x in s], [x.ordinal for x in t]),
        method="baseline-zip",
    )


def _safe_align_blocks(src_lens: Sequence[int], tgt_lens: Sequence[int]) -> list[tuple[int, int]]:
    """NLTK's align_blocks, which raises (math domain, too many blocks) on very unequal inputs."""
    try:
        return list(align_blocks(list(src_lens), list(tgt_lens)))
    except (ValueError, ZeroDivisionError, OverflowError, KeyError, IndexError):
        return []


def _beads_from_links(n: int, m: int, links: Sequence[tuple[int, int]], src_ids: Sequence[int],
                      tgt_ids: Sequence[int]) -> list[Bead]:
    """Beads from monotone index links: linked indices grouped into beads, unlinked ones alone."""
    groups: list[tuple[list[int], list[int]]] = []
    for i, j in sorted(links):
        if groups and (i in groups[-1][0] or j in groups[-1][1]):
            src, tgt = groups[-1]
            if i not in src:
                src.append(i)
            if j not in tgt:
                tgt.append(j)
        else:
            groups.append(([i], [j]))
    beads: list[Bead] = []
    i = j = 0
    for src, tgt in groups:
        beads += [Bead((src_ids[k],), (), 1.0) for k in range(i, min(src))]
        beads += [Bead((), (tgt_ids[k],), 1.0) for k in range(j, min(tgt))]
        beads.append(Bead(tuple(src_ids[k] for k in src), tuple(tgt_ids[k] for k in tgt), 1.0))
        i, j = max(src) + 1, max(tgt) + 1
    beads += [Bead((src_ids[k],), (), 1.0) for k in range(i, n)]
    beads += [Bead((), (tgt_ids[k],), 1.0) for k in range(j, m)]
    return beads


def _gale_church(src: Sequence[tuple[int, int]], tgt: Sequence[tuple[int, int]]) -> list[Bead]:
    """Align (id, length) lists; target lengths rescaled to the source's total."""
    total_src = sum(length for _, length in src) or 1
    total_tgt = sum(length for _, length in tgt) or 1
    src_lens = [max(1, length) for _, length in src]
    tgt_lens = [max(1, round(length * total_src / total_tgt)) for _, length in tgt]
    links = _safe_align_blocks(src_lens, tgt_lens)
    return _beads_from_links(len(src), len(tgt), links, [i for i, _ in src], [j for j, _ in tgt])


def _length(segment: Segment) -> int:
    return sum(not ch.isspace() for ch in segment.text)


def _section_lengths(segments: Sequence[Segment]) -> list[tuple[int, int]]:
    lengths: dict[int, int] = defaultdict(int)
    for s in segments:
        lengths[s.section] += _length(s)
    return sorted(lengths.items())


def gale_church_align(src: Sequence[Segment], tgt: Sequence[Segment]) -> PairAlignment:
    """NLTK Gale-Church at both levels (see the module docstring)."""
    s, t = _content(src), _content(tgt)
    return PairAlignment(
        sections=_gale_church(_section_lengths(s), _section_lengths(t)),
        segments=_gale_church([(x.ordinal, _length(x)) for x in s], [(x.ordinal, _length(x)) for x in t]),
        method="baseline-gale-church(nltk)",
    )

