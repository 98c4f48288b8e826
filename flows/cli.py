"""``corpus``: the command line face of the pipeline."""

from __future__ import annotations

import errno
import json
import logging
import os
import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ClassVar

import typer
from pydantic import ValidationError
from rich.console import Console
from typer.core import TyperGroup

from flows.cli_consumers import VersionOpt
from flows.cli_consumers import register as register_consumer_commands
from flows.runners import OrchestratorKind, RunnerKind, make_task_runner
from schemas.build import Grouping

if TYPE_CHECKING:
    from schemas.build import BuildParameters, BuildSummary

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
# A one-off build starts a temporary Prefect server; on a busy machine it needs longer than Prefect's 20 s.
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")

console = Console(soft_wrap=True)
errors = Console(stderr=True, soft_wrap=True)

OutArg = Annotated[Path, typer.Argument(help="Output folder of the corpus (or its object-store URL, s3://...).")]


def _fail(message: str, code: int = 2) -> typer.Exit:
    from rich.text import Text

    from flows.views import safe_text

    errors.print(Text.assemble(("error:", "bold red"), " ", safe_text(message)), highlight=False)
    return typer.Exit(code)


class _Commands(TyperGroup):
    """The ``corpus`` commands: a ``CorpusError`` from any of them is one line on stderr and exit code 2.

    The one place errors a person can cause are caught; a command raises them and does not catch them.
    ``corpus eval`` is the typer app of ``eval.cli``, imported only when it runs or help lists it."""

    _SUB_APPS: ClassVar[dict[str, str]] = {"eval": "eval.cli"}

    def list_commands(self, ctx: Any) -> list[str]:
        return [*super().list_commands(ctx), *self._SUB_APPS]

    def get_command(self, ctx: Any, name: str) -> Any:
        if name in self._SUB_APPS:
            import importlib

            return typer.main.get_command(importlib.import_module(self._SUB_APPS[name]).app)
        return super().get_command(ctx, name)

    def invoke(self, ctx: Any) -> Any:  # a click Context: typer >= 0.25 vendors its own click
        from tasks.errors import CorpusError

        try:
            return super().invoke(ctx)
        except CorpusError as error:
            raise _fail(str(error)) from None
        except OSError as error:
            line = _place_error(error)
            if line is None:
                raise
            raise _fail(line) from None


def _place_error(error: OSError) -> str | None:
    """The one line for an error that a place given on the command line causes (a folder this user may not write,
    a read-only or full disk, a file where a folder is needed); None for any other error."""
    if error.errno == errno.ENOSPC:  # a write to an open file names none
        where = Path(os.fsdecode(error.filename)).parent if error.filename else "the disk written to"
        return f"no space left on {where}; free some space or choose another place, and run the command again"
    if not error.filename or error.errno not in (errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOTDIR,
                                                 errno.EEXIST):
        return None
    path = Path(os.fsdecode(error.filename))
    if error.errno in (errno.ENOTDIR, errno.EEXIST):
        file = next((p for p in (path, *path.parents) if p.exists() and not p.is_dir()), None)
        return None if file is None else f"{file} is a file where a folder is needed; choose another place"
    where = path if path.exists() else path.parent  # a file it was about to create: its folder is the problem
    return f"{where}: {error.strerror}; choose a folder this user may write to, or change its permissions"


app = typer.Typer(
    cls=_Commands,
    help="Turn loose translations of the same text into an aligned multilingual Parquet corpus.",
    no_args_is_help=True,
    add_completion=False,
)


def _error_names(cls: type[BaseException]) -> set[str]:
    return {cls.__name__}.union(*(_error_names(sub) for sub in cls.__subclasses__()))


def _not_a_corpus_error(record: logging.LogRecord) -> bool:
    """False for Prefect's report of a CorpusError: its traceback, or the failed state that names it."""
    from tasks.errors import CorpusError

    if isinstance(record.exc_info[1] if record.exc_info else None, CorpusError):
        return False
    message = record.getMessage()
    return not (record.levelno >= logging.ERROR and any(f"{name}:" in message for name in _error_names(CorpusError)))


def _quiet_expected_failures() -> None:
    """Keep Prefect from printing a traceback for an error the command line reports in one line itself.

    The flow run still fails, with the error as its state message, in the Prefect API and UI."""
    for name in ("prefect.flow_runs", "prefect.task_runs"):
        logger = logging.getLogger(name)
        if _not_a_corpus_error not in logger.filters:
            logger.addFilter(_not_a_corpus_error)
    # At exit, Prefect's event sender says how many events it still has to send: nothing for a person to act on.
    logging.getLogger("EventsWorker").setLevel(logging.ERROR)


def _log_to_stderr(level: str) -> None:
    """The local build's log lines on stderr from ``level`` up, shaped as Prefect's (time | level | message)."""
    logger = logging.getLogger("corpus.build")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s.%(msecs)03d | %(levelname)-7s | %(message)s", "%H:%M:%S"))
        logger.addHandler(handler)
        logger.propagate = False
    logger.setLevel(logging.getLevelName(level) if isinstance(logging.getLevelName(level), int) else logging.WARNING)


def _prefect_flow_run(params: BuildParameters, runner: RunnerKind | None, dask_address: str | None
                      ) -> Callable[[], BuildSummary]:
    """The build as a run of the ``build-corpus`` flow, with the task runner its options ask for."""
    from flows.build import build_corpus

    _quiet_expected_failures()
    flow = build_corpus
    if runner is not None or params.workers > 1:
        try:
            task_runner = make_task_runner(runner or RunnerKind.process, params.workers, dask_address)
        except RuntimeError as error:
            raise _fail(str(error)) from None
        flow = build_corpus.with_options(task_runner=task_runner)
    return lambda: flow(
        source=str(params.source), out=str(params.out), glob=params.glob, prune=params.prune,
        max_file_mb=params.max_file_mb, workers=params.workers, lock_wait_seconds=params.lock_wait_seconds,
        group=params.group.value, works_file=str(params.works_file) if params.works_file else None,
        embeddings=params.embeddings, yes=params.yes, dry_run=params.dry_run,
        rules_file=str(params.rules_file) if params.rules_file else None,
        corrections_file=str(params.corrections_file) if params.corrections_file else None)


_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
# The build parameters a number is given for on the command line, by their option: pydantic names the field only.
_OPTIONS = {"workers": "--workers", "max_file_mb": "--max-file-mb", "lock_wait_seconds": "--wait"}


def _validation_message(error: ValidationError) -> str:
    return "; ".join(
        (f"{_OPTIONS[str(e['loc'][0])]}: " if e["loc"] and str(e["loc"][0]) in _OPTIONS else "")
        + str(e["msg"]).removeprefix("Value error, ")
        for e in error.errors())


@app.command()
def build(
    source: Annotated[Path, typer.Argument(help="Input folder of plain-text files (one folder per work).")] = Path(
        "seeds"
    ),
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")] = Path("output"),
    glob: Annotated[str, typer.Option(help="Which files are inputs (relative to SOURCE).")] = "**/*.txt",
    prune: Annotated[bool, typer.Option(
        help="Remove documents whose source file is gone. A prune of more than 10% of the corpus (or all of it) "
             "is refused unless --yes confirms it.")] = False,
    yes: Annotated[bool, typer.Option("--yes", help="Confirm a large --prune.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Say what the build would do; write nothing.")] = False,
    strict: Annotated[bool, typer.Option(help="Exit 1 when any file was rejected.")] = False,
    max_file_mb: Annotated[float, typer.Option(help="Reject files larger than this (MB).")] = 50.0,
    workers: Annotated[str, typer.Option(
        help="Parallel worker processes for the per-work stages: a number, or auto (the cores available). "
             "A build with up to 10 documents to ingest runs in-process either way.")] = "auto",
    orchestrator: Annotated[OrchestratorKind, typer.Option(
        envvar="CORPUS_ORCHESTRATOR",
        help="Who runs the stages: prefect (a flow run with task runs, recorded by the Prefect API; without one "
             "configured, Prefect starts a temporary server, ~15 s), local (plain calls, nothing recorded), or "
             "auto: prefect when a Prefect API is configured (PREFECT_API_URL, a profile) or --runner is given, "
             "local otherwise. The rows are the same.")] = OrchestratorKind.auto,
    runner: Annotated[
        RunnerKind | None,
        typer.Option(help="Prefect task runner (implies --orchestrator prefect): thread, process (the default with "
                          "several workers) or dask."),
    ] = None,
    dask_address: Annotated[
        str | None, typer.Option(help="With --runner dask: address of an existing Dask scheduler (tcp://host:8786).")
    ] = None,
    wait: Annotated[float, typer.Option(help="Seconds to wait for another build holding the lock.")] = 0.0,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only errors and the final line.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the build summary as JSON.")] = False,
    log_level: Annotated[
        str, typer.Option(help="Prefect's log level on the console: INFO says what each stage did, DEBUG why.")
    ] = "WARNING",
    group: Annotated[
        Grouping, typer.Option(help="Work of a file: detect (its folder, unless the folder holds several works side "
                                    "by side: then by content), folder, or auto (always by content).")
    ] = Grouping.detect,
    embeddings: Annotated[
        bool | None,
        typer.Option("--embeddings/--no-embeddings", show_default="on if installed",
                     help="Sentence embeddings in the alignment cost: the embeddings extra, slower (see README, "
                          "Alignment). Set CORPUS_EMBEDDINGS to off to change the default."),
    ] = None,
    works: Annotated[
        Path | None, typer.Option(help="CSV naming works by hand, columns source_path and work_id (wins over --group).")
    ] = None,
    rules: Annotated[
        Path | None, typer.Option(help="TOML of boilerplate rules (\\[boilerplate] drop / keep regular expressions); "
                                       "they stay in force until another rules file is given (see README).")
    ] = None,
    corrections: Annotated[
        Path | None, typer.Option(help="TOML of beads set by hand (\\[\\[correction]] src, tgt, src_lines, tgt_lines); "
                                       "they stay in force until another corrections file is given (see README).")
    ] = None,
) -> None:
    """Build or update the corpus in OUT from the text files in SOURCE (incremental: only new work is done)."""
    from flows.orchestration import chosen
    from schemas.build import BuildParameters, embeddings_setting
    from tasks.machine import available_cores

    if workers != "auto" and not workers.isdigit():
        raise _fail(f"--workers takes a number or auto, not {workers!r}")
    if log_level.upper() not in _LOG_LEVELS:  # Prefect's settings fail with a traceback on any other
        raise _fail(f"--log-level takes {', '.join(_LOG_LEVELS)}, not {log_level!r}")
    try:
        params = BuildParameters(source=source, out=out, glob=glob, prune=prune, max_file_mb=max_file_mb,
                                 workers=min(available_cores(), 64) if workers == "auto" else int(workers),
                                 lock_wait_seconds=wait, group=group, works_file=works,
                                 embeddings=embeddings_setting(embeddings), yes=yes, dry_run=dry_run,
                                 rules_file=rules, corrections_file=corrections)
    except ValidationError as error:
        raise _fail(_validation_message(error)) from None
    except ValueError as error:  # the embeddings setting
        raise _fail(str(error)) from None
    os.environ["PREFECT_LOGGING_LEVEL"] = level = "WARNING" if quiet or as_json else log_level.upper()
    kind = chosen(orchestrator, prefect_runner=runner is not None)
    if kind is OrchestratorKind.local and runner is not None:
        raise _fail("--runner chooses a Prefect task runner: it needs --orchestrator prefect (or auto)")

    from tasks.corrections import load_corrections
    from tasks.rules import load_rules
    from tasks.store.lock import corpus_lock
    from tasks.works import read_works_file

    # Checked here too, before Prefect starts, so that the common mistakes get a message, not a failed run.
    if params.works_file:
        read_works_file(params.works_file)
    if params.rules_file:
        load_rules(params.rules_file)
    if params.corrections_file:
        load_corrections(params.corrections_file)
    if not params.lock_wait_seconds:
        with corpus_lock(params.out, "check", create=not params.dry_run):
            pass
    if kind is OrchestratorKind.local:
        from flows.orchestration import LocalOrchestrator
        from flows.pipeline import run_build

        _log_to_stderr(level)
        run: Callable[[], BuildSummary] = partial(run_build, params, LocalOrchestrator())
    else:
        from flows.orchestration import configured_api_url
        from flows.serve import require_answer

        if api_url := configured_api_url():  # else the run starts a temporary server of its own
            require_answer(api_url, "start it, or build without it: --orchestrator local")
        run = _prefect_flow_run(params, runner, dask_address)
    from flows.interrupt import run_interruptible, stop_at_once_on_signals
    from flows.views import stage_progress

    if params.embeddings and not (quiet or as_json):
        errors.print("sentence embeddings: on (where the plain alignment is unsure; new text is embedded, about 5 s "
                     "of CPU per 60-segment document; --no-embeddings turns them off)", highlight=False)
    with stop_at_once_on_signals(lambda line: errors.print(f"error: {line}", highlight=False), params.out), \
            stage_progress(errors, enabled=not (quiet or as_json)):
        summary = run_interruptible(run)
    if as_json:
        sys.stdout.write(summary.model_dump_json(indent=2) + "\n")
    else:
        from flows.views import print_build_summary

        print_build_summary(console, summary, quiet=quiet)
    if strict and summary.rejects:
        raise typer.Exit(1)


@app.command()
def fix(
    source: Annotated[Path, typer.Argument(help="Input folder the corpus is built from.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder of the corpus.")] = Path("output"),
    src: Annotated[str, typer.Option(help="One document of the pair: its path relative to SOURCE, or its doc_id.")
                   ] = "",
    tgt: Annotated[str, typer.Option(help="The other document of the pair.")] = "",
    src_lines: Annotated[str | None, typer.Option(
        help="Lines of SRC in the bead, as an editor numbers them: 12 or 12-14. Leave out when TGT_LINES are text "
             "that SRC omits.")] = None,
    tgt_lines: Annotated[str | None, typer.Option(help="Lines of TGT in the bead (leave out for an omission).")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only errors and the final line.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the build summary as JSON.")] = False,
) -> None:
    """Set one bead by hand and rebuild: the corpus' corrections with this one more (a stored correction of the
    pair that shares a line with it gives way); only this pair is aligned again.

    Example: corpus fix seeds --out output --src en.txt --tgt fr.txt --src-lines 12-14 --tgt-lines 15
    """
    import tempfile

    from schemas import Correction
    from tasks.corrections import corrections_toml, parse_lines, with_fix
    from tasks.errors import CorpusError
    from tasks.io.reader import Corpus

    if not (src and tgt):
        raise CorpusError("corpus fix needs --src and --tgt: the two documents of the pair")
    lines = parse_lines(src_lines, "--src-lines"), parse_lines(tgt_lines, "--tgt-lines")
    if lines == (None, None):
        raise CorpusError("corpus fix needs --src-lines, --tgt-lines or both")
    corpus = Corpus.open(out)
    paths = {doc_id: d.source_path for doc_id, d in corpus.documents.items()}
    correction = Correction(src=paths.get(src, src), tgt=paths.get(tgt, tgt), src_lines=lines[0], tgt_lines=lines[1])
    with tempfile.TemporaryDirectory(prefix="corpus-fix-") as folder:
        path = Path(folder) / "corrections.toml"
        path.write_text(corrections_toml(with_fix(corpus.manifest.corrections, correction)), encoding="utf-8")
        build(source, out=out, corrections=path, quiet=quiet, as_json=as_json)


@app.command()
def corrections(out: OutArg = Path("output")) -> None:
    """Print the corpus' corrections (beads set by hand) as a corrections file, to edit and give back with
    `corpus build SOURCE --out OUT --corrections FILE`."""
    from tasks.corrections import corrections_toml
    from tasks.store.storage import load_manifest

    manifest = load_manifest(out)
    if manifest is None:
        raise _fail(f"{out} holds no corpus (no manifest.json)")
    sys.stdout.write(corrections_toml(manifest.corrections) or "# no corrections: every bead is the aligner's\n")


@app.command()
def stats(
    out: OutArg = Path("output"),
    as_json: Annotated[bool, typer.Option("--json", help="Print the statistics as JSON.")] = False,
    version: VersionOpt = None,
) -> None:
    """Documents per language, segments by kind, and alignment coverage per language pair."""
    from flows.views import print_stats
    from tasks.io.stats import corpus_stats
    from tasks.store.storage import reading_the_current_snapshot

    result = (corpus_stats(out, version) if version is not None
              else reading_the_current_snapshot(out, lambda: corpus_stats(out)))
    if as_json:
        sys.stdout.write(json.dumps(result.model_dump(mode="json"), indent=2, ensure_ascii=False) + "\n")
    else:
        print_stats(console, result)


@app.command()
def verify(out: OutArg = Path("output")) -> None:
    """Check every file the manifest names: it exists, and its size, SHA-256, rows and columns are as written.

    Exit 0 when all is well, 1 when something is damaged (listed; `corpus build` repairs it from the source files).
    """
    from rich.text import Text

    from flows.views import safe_text
    from tasks.store.storage import check_files, load_manifest

    manifest = load_manifest(out)
    if manifest is None:
        raise _fail(f"{out} holds no corpus (no manifest.json)")
    damaged = check_files(out, manifest, deep=True)
    for damage in damaged:
        console.print(Text.assemble(("damaged: ", "bold red"), safe_text(f"{damage.path}: {damage.problem}")),
                      highlight=False)
    files = len(manifest.files())
    if damaged:
        console.print(f"{len(damaged)} of {files} files damaged; `corpus build SOURCE --out {out}` rebuilds their "
                      "works from the source files", highlight=False)
        raise typer.Exit(1)
    console.print(f"ok: {files} files, {sum(t.rows for t in manifest.tables.values())} rows, as the manifest says",
                  highlight=False)


@app.command()
def compact(
    out: OutArg = Path("output"),
    max_rows: Annotated[int, typer.Option(min=1, help="Rows per merged file at most.")] = 1_000_000,
    wait: Annotated[float, typer.Option(help="Seconds to wait for a build holding the lock.")] = 0.0,
) -> None:
    """Merge the corpus' small Parquet files (one per work or document) into few large ones, for readers.

    The rows stay the same; later builds keep working incrementally (a changed work leaves its merged file).
    """
    import uuid

    from tasks.fs import is_remote
    from tasks.store.compact import compact_corpus
    from tasks.store.lock import corpus_lock

    if not is_remote(out) and not (out / "manifest.json").is_file():
        raise _fail(f"{out} holds no corpus (no manifest.json): build one first")
    build_id = f"compact-{uuid.uuid4().hex}"
    with corpus_lock(out, build_id, wait):
        result = compact_corpus(out, build_id, max_rows)
    for name, before in result.files_before.items():
        console.print(f"{name}: {before} -> {result.files_after[name]} files", highlight=False)
    if not result.changed:
        console.print("nothing to merge", highlight=False)


@app.command()
def status(
    out: OutArg = Path("output"),
    source: Annotated[Path | None, typer.Option(help="Input folder: also list what a build would do.")] = None,
    glob: Annotated[str, typer.Option(help="Which files are inputs (with --source).")] = "**/*.txt",
    as_json: Annotated[bool, typer.Option("--json", help="Print the status as JSON.")] = False,
    show_all: Annotated[bool, typer.Option("--all", help="List every work and document, however many.")] = False,
) -> None:
    """Which works and documents are in the corpus, which pairs are aligned, what is pending or rejected.

    A corpus of more than 20 works is summarised (counts, and the works whose pairs are not all aligned); --all
    lists every document, --json gives everything.
    """
    from flows.views import print_status
    from tasks.io.status import corpus_status
    from tasks.store.storage import reading_the_current_snapshot

    if source is not None and not source.is_dir():
        raise _fail(f"input folder {source} does not exist")
    result = reading_the_current_snapshot(out, lambda: corpus_status(out, source, glob))
    if as_json:
        sys.stdout.write(result.model_dump_json(indent=2) + "\n")
    else:
        print_status(console, result, show_all)


@app.command()
def serve(
    source: Annotated[Path, typer.Argument(help="Input folder of plain-text files.")] = Path("seeds"),
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")] = Path("output"),
    cron: Annotated[str | None, typer.Option(help='Cron schedule, e.g. "0 * * * *" (hourly).')] = None,
    interval: Annotated[float | None, typer.Option(help="Run every SECONDS instead of a cron schedule.")] = None,
    name: Annotated[str, typer.Option(help="Deployment name: trigger it as 'build-corpus/NAME'.")] = "corpus",
) -> None:
    """Serve the build as a Prefect deployment on a schedule until Ctrl-C (needs a Prefect server).

    Trigger a run by hand with `prefect deployment run 'build-corpus/NAME' --param source=... --param out=...`
    or the Run button of the Prefect UI.
    """
    from schemas.build import BuildParameters

    if (cron is None) == (interval is None):
        raise _fail("give exactly one schedule: --cron EXPRESSION or --interval SECONDS")
    try:
        BuildParameters(source=source, out=out)
    except ValidationError as error:
        raise _fail(_validation_message(error)) from None
    except ValueError as error:  # the embeddings setting of the environment
        raise _fail(str(error)) from None
    from flows.serve import require_server, serve_build

    api_url = require_server()
    console.print(f"serving build-corpus/{name} on {api_url} (Ctrl-C to stop)", highlight=False)
    try:
        serve_build(source, out, name=name, cron=cron, interval=interval)
    except KeyboardInterrupt:
        console.print("stopped")


@app.command("schema-docs")
def schema_docs(
    path: Annotated[
        Path | None, typer.Argument(help="Where to write the markdown (default: docs/schema.md of the project, "
                                         "wherever the command runs).", show_default=False)
    ] = None,
    check: Annotated[
        bool, typer.Option(help="Exit 1 if the file is missing or differs from the schemas instead of writing.")
    ] = False,
) -> None:
    """Render the documented schema of every output table (from schemas/) into markdown."""
    from schemas.docs import project_schema_docs, render_schema_markdown

    path = path or project_schema_docs()
    if path is None:
        raise _fail("no project folder to write docs/schema.md into (an installed copy); give the file: "
                    "corpus schema-docs PATH")
    rendered = render_schema_markdown()
    if check:
        if not path.is_file():
            raise _fail(f"{path} is missing; run `corpus schema-docs {path}` to write it", code=1)
        if path.read_text(encoding="utf-8") != rendered:
            raise _fail(f"{path} is out of date; run `corpus schema-docs {path}`", code=1)
        console.print(f"{path} is up to date", highlight=False)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(rendered, encoding="utf-8")
    console.print(f"wrote {path}", highlight=False)


register_consumer_commands(app)

if __name__ == "__main__":
    app()
