"""What the aligner returns: beads of a document pair, and the types its modules share.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


IntArray = npt.NDArray[np.int64]


Embed = Callable[[list[str]], npt.NDArray[np.floating]]


@dataclass(frozen=True, slots=True)
class Bead:
    src: tuple[int, ...]  # section numbers (section level) or segment ordinals (segment level)
    tgt: tuple[int, ...]
    score: float  # 0-1


@dataclass(frozen=True, slots=True)
class PairAlignment:
    sections: list[Bead]
    segments: list[Bead]
    method: str


Span = tuple[int, int, int, int]  # source units [i0, i1), target units [j0, j1)
