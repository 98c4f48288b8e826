"""The aligner's constants: bead shapes and priors, the weights of each signal, the score's logistic.

Fitted on the seed pairs, synthetic damage and the dev corpus of real translations (eval/); each says what it is for.
"""

from __future__ import annotations

import numpy as np
import regex

# Linking bead shapes (source units, target units).
_MAX_BEAD = 5  # units in a linking bead, both sides together (vecalign's make_alignment_types)


def _link_shapes(max_bead: int) -> tuple[tuple[int, int], ...]:
    """Every linking shape of at most ``max_bead`` units, smallest first."""
    shapes = [(a, b) for a in range(1, max_bead) for b in range(1, max_bead) if a + b <= max_bead]
    return tuple(sorted(shapes, key=lambda shape: (shape[0] + shape[1], abs(shape[0] - shape[1]), -shape[0])))


_LINK_SHAPES = _link_shapes(_MAX_BEAD)


_MAX_SIDE = max(a for a, _ in _LINK_SHAPES)


_SIDE_SIZES = tuple(range(1, _MAX_SIDE + 1))


_MERGE_COST = 1.2  # per unit beyond 1-1: merges and splits are common in loose translations


_AGREED_MERGE_COST = 3.0  # added to it where a first alignment found no merges (lengths of short segments are


# weak evidence against a merge that swallows an untranslated one)
_AGREEMENT = 0.1  # share of merged units in the first alignment from which nothing is added


_LARGE_BEAD_COST = 0.5  # per unit beyond four: such beads are rarer, and a wrong one costs precision


_LENGTH_UNIT = 100.0  # the median segment measures this many length units


_NULL_COST = 2.6  # per omitted or inserted segment of median length or more (sections: per segment)


_NULL_FLOOR = 0.4  # share of it for the shortest segments


_ABSORB_GAIN = 0.5  # how much better a bead must match to absorb an unaligned neighbour


_SENTENCE_TOLERANCE = 0.0  # how much worse it may match when absorbing a short whole sentence


_SHORT_SENTENCE = _LENGTH_UNIT / 2  # length units of a short sentence


_GAP_EXTEND = 0.5  # share of it for each further unit of a run of unaligned units


_LENGTH_VARIANCE = 6.8  # Gale-Church: variance of the difference per character of length


_LENGTH_REL_SD = 0.3  # floor of the relative standard deviation of loose translations


_MATCH_BONUS = 2.0  # per shared rare name (weight 1)


_NUMBER_MISS = 1.2  # per number of 100 or more found on one side only: rarely dropped or reworded


_SMALL_NUMBER_MISS = 0.4  # per smaller number (or time, "4.45"): often written in words ("dix-huit heures")


_NAME_MISS = 0.25  # per name found on one side only


_FORMAT_MISS = 1.2  # per placeholder or final mark found on one side only: a program needs its placeholders


_POSITION_COST = 1.0  # per unit of difference of relative position inside the section group


_EMBED_WEIGHT = 2.0  # from a typical best match (-half) to a typical unrelated pair (+half)


_EMBED_SAMPLE = 500  # source segments whose nearest target calibrates the cosines


_WINDOW_SIZES = tuple(range(2, _MAX_SIDE + 1))  # merged bead sides embedded as one text


_WINDOW_JOIN = " "


# Kinds of a bead side: a head (title/heading) side, body sides of paragraphs, list items or both,
# and a side mixing heads with body.
_HEAD, _PARA, _ITEM, _BODY, _MIXED = range(5)


_KIND_COST = np.array([
    # head  para  item  body  mixed
    [-1.5, 1.0, 1.0, 1.0, 2.5],  # head
    [1.0, 0.0, 0.3, 0.1, 2.5],  # para
    [1.0, 0.3, 0.0, 0.1, 2.5],  # item
    [1.0, 0.1, 0.1, 0.0, 2.5],  # body
    [2.5, 2.5, 2.5, 2.5, 2.5],  # mixed
])


# Logistic map of a bead's cost per aligned unit to a score: fitted to whether the beads of the seed
# pairs and of synthetic damage were exactly right (python -m eval shows precision by score).
_SCORE_BIAS = 2.4


_SCORE_SLOPE = 1.6


# The same for 1-0/0-1 beads, from the cost per unit of the best 1-1 link the unit could have had nearby.
_NULL_SCORE_BIAS = 0.45


_NULL_SCORE_SLOPE = 0.6


_BAND_MARGIN = 4  # segments (or sections) beyond the expected path, doubled while the path hits it


_MAX_NULL_SHARE = 0.25  # a section alignment leaving more content unaligned does not guide segments


_SENTENCE_END = regex.compile(r"\p{Sentence_Terminal}[\p{Pe}\p{Pf}\p{Po}\s]*$")


_METHOD_BASE = "dp-sections+segments/len,num,latin,kind"


_LINK, _SRC_GAP, _TGT_GAP = range(3)  # states: the last bead links, or leaves source/target units alone


# Sentence embeddings only where the plain alignment is unsure (tasks.align.corridor): beads scoring under
# this, and this many beads either side of each.
_CORRIDOR_SCORE = 0.93


_CORRIDOR_REACH = 0


# Word pairs learned from a first alignment (tasks.align.lexicon), for pairs that leave units out.
_LEXICON_UNALIGNED = 0.05  # share of both sides' units left unaligned from which the pair is aligned again
_LEXICON_MIN_PAIRS = 2  # linking beads a word pair must meet in
_LEXICON_DICE = 0.7  # and its Dice coefficient over the linking beads
_LEXICON_MAX_LENGTH = 40.0  # characters (spaces left out) of the segments that carry the learned tokens
_LEXICON_MARKED = 0.2  # share of each side's segments the learned tokens must mark
