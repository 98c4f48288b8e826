"""The command line: ``python -m eval {seeds,synthetic,real,output} [--check]``."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from eval.gold import SEEDS_GOLD, GoldError, load_gold
from eval.output import NoOutputError, evaluate_output
from eval.realsuite import REAL_DIR, check_real_targets, format_real_report, run_real
from eval.run import (
    ALIGNER,
    EMBEDDING_ALIGNER,
    SEEDS_DIR,
    SYSTEMS,
    Aligner,
    Report,
    check_targets,
    embedding_aligner,
    format_report,
    format_seed_errors,
    run_seeds,
    run_synthetic,
)
from tasks.embeddings import MODEL_NAME

# Vectors of the bundled model, kept between runs: a rerun of the seeds embeds nothing.
DEFAULT_EMBEDDING_CACHE = (Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
                           / "parallel-corpus" / "embeddings" / MODEL_NAME)


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {number}")
    return number


def _parser(prog: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Measure alignment quality against gold; print a Markdown report. Each command has its own "
                    "options: seeds --help, synthetic --help, real --help, output --help.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    seeds = commands.add_parser("seeds", help="align every pair of the seed files and score them against gold")
    synthetic = commands.add_parser("synthetic", help="score damaged documents built from the seed files")
    synthetic.add_argument("--docs", type=_positive, default=10,
                           help="documents per damage type (default: %(default)s)")
    synthetic.add_argument("--seed", type=int, default=0, help="random seed of the damage (default: %(default)s)")
    real = commands.add_parser("real", help="align every pair of each work of the development corpus of real "
                                            "translations (eval/real) and score them, with language tags and grouping")
    real.add_argument("--corpus", type=Path, default=REAL_DIR,
                      help="folder of the corpus, with its gold.tsv and works.tsv (default: %(default)s)")
    real.add_argument("--works", default="",
                      help="comma-separated works to score (default: all); language tags and grouping are then "
                           "measured on those works' files")
    real.add_argument("--files-per-work", type=_positive, default=None,
                      help="score only the first N files of each work (a quick run)")
    real.add_argument("--no-grouping", action="store_true", help="do not measure the default grouping")
    real.add_argument("--jobs", type=_positive, default=min(2, os.cpu_count() or 1),
                      help="processes that align pairs (default: %(default)s; 1 with --embeddings)")
    real.add_argument("--check", action="store_true", help="exit with status 1 if a target is missed")
    for command in (seeds, synthetic):
        command.add_argument("--seeds", type=Path, default=SEEDS_DIR,
                             help="folder of the seed files (default: %(default)s)")
    for command in (seeds, synthetic, real):
        command.add_argument("--no-baselines", action="store_true",
                             help="run the aligner only, not the zip and Gale-Church baselines")
        command.add_argument("--embeddings", action="store_true",
                             help="also run the aligner with sentence embeddings (the embeddings extra), with "
                                  "its own targets")
        command.add_argument("--embedding-cache", type=Path, default=DEFAULT_EMBEDDING_CACHE,
                             help="folder of cached sentence vectors (default: %(default)s)")
    seeds.add_argument("--errors", action="store_true",
                       help="also list every wrong and missed segment bead of the aligner(s), with the lines' text")
    output = commands.add_parser("output", help="score the alignments of a built output folder")
    output.add_argument("out_dir", type=Path, help="the output folder of a build")
    for command in (seeds, synthetic, output):
        command.add_argument("--gold", type=Path, default=SEEDS_GOLD, help="gold TSV (default: %(default)s)")
        command.add_argument("--check", action="store_true", help="exit with status 1 if a target is missed")
    return parser


def _progress(line: str) -> None:
    """Progress of a long run on stderr, so that the report on stdout stays clean markdown."""
    print(line, file=sys.stderr, flush=True)


def main(argv: Sequence[str] | None = None, prog: str = "python -m eval") -> int:
    """Run the command line; returns the exit status (1 if --check and a target is missed, 2 on bad input)."""
    args = _parser(prog).parse_args(argv)
    if args.command == "real":
        return _real(args, prog)
    try:
        report: Report
        if args.command in ("seeds", "synthetic"):
            systems = _systems(args)
            report = (run_seeds(args.seeds, args.gold, systems) if args.command == "seeds"
                      else run_synthetic(args.docs, args.seed, args.seeds, args.gold, systems, _progress))
        else:
            report = evaluate_output(args.out_dir, load_gold(args.gold))
    except (GoldError, NoOutputError, FileNotFoundError, ImportError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(format_report(report), end="")
    if getattr(args, "errors", False):
        for system in (ALIGNER, EMBEDDING_ALIGNER):
            if system in systems:
                print("\n" + format_seed_errors(system, systems[system], args.seeds, args.gold), end="")
    return 1 if args.check and not all(r.ok for r in check_targets(report)) else 0


def _systems(args: argparse.Namespace) -> dict[str, Aligner]:
    """The aligner, the baselines unless --no-baselines, the aligner with embeddings if --embeddings."""
    systems: dict[str, Aligner] = {ALIGNER: SYSTEMS[ALIGNER]} if args.no_baselines else dict(SYSTEMS)
    if args.embeddings:
        systems = {ALIGNER: SYSTEMS[ALIGNER], EMBEDDING_ALIGNER: embedding_aligner(args.embedding_cache), **systems}
    return systems


def _real(args: argparse.Namespace, prog: str) -> int:
    """``real``: the development corpus of real translations; its report, and its targets with --check."""
    options = "".join(f" {flag}" for flag, on in (("--embeddings", args.embeddings),
                                                 ("--no-baselines", args.no_baselines),
                                                 ("--no-grouping", args.no_grouping)) if on)
    if args.works:
        options += f" --works {args.works}"
    if args.files_per_work:
        options += f" --files-per-work {args.files_per_work}"
    try:
        report = run_real(args.corpus, _systems(args), [w for w in args.works.split(",") if w],
                          args.files_per_work, not args.no_grouping, command=f"{prog} real{options}",
                          jobs=1 if args.embeddings else args.jobs)
    except (GoldError, FileNotFoundError, ImportError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(format_real_report(report), end="")
    if not args.check:
        return 0
    failed = [r for r in check_real_targets(report) if not r.ok]
    for result in failed:
        print(f"target missed: {result.name}: {result.value:.3f} < {result.threshold:.2f}", file=sys.stderr)
    return 1 if failed else 0
