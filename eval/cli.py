"""The command line: ``corpus eval {seeds,synthetic,real,output} [--check]``, also run as ``python -m eval``.

A typer app: ``flows.cli`` mounts it as the ``eval`` command group of ``corpus``. Exit status 0, 1 when
``--check`` finds a target missed, 2 on bad input (a gold file, a folder or an extra that is missing).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from eval.gold import SEEDS_GOLD, load_gold
from eval.output import evaluate_output
from eval.realsuite import REAL_DIR, check_real_targets, format_real_report, run_real
from eval.run import (
    ALIGNER,
    EMBEDDING_ALIGNER,
    SEEDS_DIR,
    SYSTEMS,
    Aligner,
    check_targets,
    embedding_aligner,
    format_report,
    format_seed_errors,
    run_seeds,
    run_synthetic,
)
from tasks.embeddings import MODEL_NAME
from tasks.errors import CorpusError

# Vectors of the bundled model, kept between runs: a rerun of the seeds embeds nothing.
DEFAULT_EMBEDDING_CACHE = (Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
                           / "parallel-corpus" / "embeddings" / MODEL_NAME)


class _EvalCommands(TyperGroup):
    """Bad input to any command (a gold file, a folder, a missing extra) is one line on stderr and status 2."""

    def invoke(self, ctx: Any) -> Any:  # a click Context: typer >= 0.25 vendors its own click
        try:
            return super().invoke(ctx)
        except (CorpusError, FileNotFoundError, ImportError) as error:
            print(f"error: {error}", file=sys.stderr)
            raise typer.Exit(2) from None


app = typer.Typer(
    name="eval",
    cls=_EvalCommands,
    help="Measure alignment quality against gold; print a Markdown report. Each command has its own options: "
         "seeds --help, synthetic --help, real --help, output --help.",
    no_args_is_help=True,
    add_completion=False,
)

SeedsOpt = Annotated[Path, typer.Option("--seeds", help="Folder of the seed files.")]
GoldOpt = Annotated[Path, typer.Option("--gold", help="Gold TSV.")]
CheckOpt = Annotated[bool, typer.Option("--check", help="Exit with status 1 if a target is missed.")]
NoBaselinesOpt = Annotated[bool, typer.Option(
    "--no-baselines", help="Run the aligner only, not the zip and Gale-Church baselines.")]
EmbeddingsOpt = Annotated[bool, typer.Option(
    "--embeddings", help="Also run the aligner with sentence embeddings (the embeddings extra), with its own targets.")]
EmbeddingCacheOpt = Annotated[Path, typer.Option("--embedding-cache", help="Folder of cached sentence vectors.")]


def _progress(line: str) -> None:
    """Progress of a long run on stderr, so that the report on stdout stays clean markdown."""
    print(line, file=sys.stderr, flush=True)


def _systems(no_baselines: bool, embeddings: bool, embedding_cache: Path) -> dict[str, Aligner]:
    """The aligner, the baselines unless --no-baselines, the aligner with embeddings if --embeddings."""
    systems: dict[str, Aligner] = {ALIGNER: SYSTEMS[ALIGNER]} if no_baselines else dict(SYSTEMS)
    if embeddings:
        systems = {ALIGNER: SYSTEMS[ALIGNER], EMBEDDING_ALIGNER: embedding_aligner(embedding_cache), **systems}
    return systems


def _missed(check: bool, results: Sequence[Any]) -> None:
    if check and not all(r.ok for r in results):
        raise typer.Exit(1)


@app.command()
def seeds(
    seeds: SeedsOpt = SEEDS_DIR,
    gold: GoldOpt = SEEDS_GOLD,
    check: CheckOpt = False,
    no_baselines: NoBaselinesOpt = False,
    embeddings: EmbeddingsOpt = False,
    embedding_cache: EmbeddingCacheOpt = DEFAULT_EMBEDDING_CACHE,
    errors: Annotated[bool, typer.Option(
        "--errors", help="Also list every wrong and missed segment bead of the aligner(s), with the lines' text.")
    ] = False,
) -> None:
    """Align every pair of the seed files and score them against gold."""
    systems = _systems(no_baselines, embeddings, embedding_cache)
    report = run_seeds(seeds, gold, systems)
    print(format_report(report), end="")
    if errors:
        for system in (ALIGNER, EMBEDDING_ALIGNER):
            if system in systems:
                print("\n" + format_seed_errors(system, systems[system], seeds, gold), end="")
    _missed(check, check_targets(report))


@app.command()
def synthetic(
    docs: Annotated[int, typer.Option("--docs", min=1, help="Documents per damage type.")] = 10,
    seed: Annotated[int, typer.Option("--seed", help="Random seed of the damage.")] = 0,
    seeds: SeedsOpt = SEEDS_DIR,
    gold: GoldOpt = SEEDS_GOLD,
    check: CheckOpt = False,
    no_baselines: NoBaselinesOpt = False,
    embeddings: EmbeddingsOpt = False,
    embedding_cache: EmbeddingCacheOpt = DEFAULT_EMBEDDING_CACHE,
) -> None:
    """Score damaged documents built from the seed files."""
    report = run_synthetic(docs, seed, seeds, gold, _systems(no_baselines, embeddings, embedding_cache), _progress)
    print(format_report(report), end="")
    _missed(check, check_targets(report))


@app.command()
def real(
    ctx: typer.Context,
    corpus: Annotated[Path, typer.Option(
        "--corpus", help="Folder of the corpus, with its gold.tsv and works.tsv.")] = REAL_DIR,
    works: Annotated[str, typer.Option(
        "--works", help="Comma-separated works to score (default: all); language tags and grouping are then "
                        "measured on those works' files.", show_default=False)] = "",
    files_per_work: Annotated[int | None, typer.Option(
        "--files-per-work", min=1, help="Score only the first N files of each work (a quick run).")] = None,
    no_grouping: Annotated[bool, typer.Option("--no-grouping", help="Do not measure the default grouping.")] = False,
    jobs: Annotated[int, typer.Option(
        "--jobs", min=1, help="Processes that align pairs (1 with --embeddings).")] = min(2, os.cpu_count() or 1),
    check: CheckOpt = False,
    no_baselines: NoBaselinesOpt = False,
    embeddings: EmbeddingsOpt = False,
    embedding_cache: EmbeddingCacheOpt = DEFAULT_EMBEDDING_CACHE,
) -> None:
    """Score every pair of each work of the development corpus of real translations, language tags and grouping.

    The corpus is eval/real unless --corpus names another with its gold.tsv and works.tsv."""
    options = "".join(f" {flag}" for flag, on in (("--embeddings", embeddings), ("--no-baselines", no_baselines),
                                                 ("--no-grouping", no_grouping)) if on)
    if works:
        options += f" --works {works}"
    if files_per_work:
        options += f" --files-per-work {files_per_work}"
    report = run_real(corpus, _systems(no_baselines, embeddings, embedding_cache), [w for w in works.split(",") if w],
                      files_per_work, not no_grouping, command=f"{ctx.command_path}{options}",
                      jobs=1 if embeddings else jobs)
    print(format_real_report(report), end="")
    if not check:
        return
    failed = [r for r in check_real_targets(report) if not r.ok]
    for result in failed:
        print(f"target missed: {result.name}: {result.value:.3f} < {result.threshold:.2f}", file=sys.stderr)
    _missed(check, failed)


@app.command()
def output(
    out_dir: Annotated[Path, typer.Argument(help="The output folder of a build.", show_default=False)],
    gold: GoldOpt = SEEDS_GOLD,
    check: CheckOpt = False,
) -> None:
    """Score the alignments of a built output folder."""
    report = evaluate_output(out_dir, load_gold(gold))
    print(format_report(report), end="")
    _missed(check, check_targets(report))


def main(argv: Sequence[str] | None = None, prog: str = "python -m eval") -> int:
    """Run the command line; returns the exit status (1 if --check and a target is missed, 2 on bad input)."""
    try:
        app(args=None if argv is None else list(argv), prog_name=prog)
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else int(exit_.code is not None)
    return 0
