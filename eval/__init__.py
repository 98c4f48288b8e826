"""Measured alignment quality: gold data, scores, baselines, a synthetic damage benchmark.

``python -m eval seeds`` aligns every pair of the seed files and scores them against the hand-made
gold in ``eval/gold``; ``python -m eval synthetic --docs N`` does the same for damaged documents;
``python -m eval real`` for the development corpus of real translations in ``eval/real``;
``python -m eval output DIR`` scores a built output folder. ``eval.cli.app`` is the command line, the
``corpus eval`` command group; ``main`` runs it and returns the exit status.
"""

from eval.cli import main
from eval.gold import SEEDS_GOLD, EvalDoc, GoldError, LineUnits, load_gold
from eval.output import NoOutputError, evaluate_output
from eval.run import (
    SEEDS_DIR,
    Report,
    TargetResult,
    check_targets,
    evaluate_pairs,
    format_report,
    run_seeds,
    run_synthetic,
    seed_documents,
)
from eval.score import Counts, Judged, PairEvaluation, Prf, evaluate_pair

__all__ = [
    "SEEDS_DIR",
    "SEEDS_GOLD",
    "Counts",
    "EvalDoc",
    "GoldError",
    "Judged",
    "LineUnits",
    "NoOutputError",
    "PairEvaluation",
    "Prf",
    "Report",
    "TargetResult",
    "check_targets",
    "evaluate_output",
    "evaluate_pair",
    "evaluate_pairs",
    "format_report",
    "load_gold",
    "main",
    "run_seeds",
    "run_synthetic",
    "seed_documents",
]
