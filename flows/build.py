"""The build as a Prefect flow: the pipeline of flows/pipeline.py with every stage a task run.

    build-corpus (flow run)
      ingest: inventory -> [ingest: assign works] -> per batch: rebuild batch (ingest+langtag+segment, align,
      export: task runs of their own) -> publish_snapshot -> artifact corpus-build-summary

Deployments and schedules (``corpus serve``) run this flow; so does ``corpus build`` when a Prefect API is
configured or ``--orchestrator prefect`` asks for it (see flows/orchestration.py).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import ParamSpec, TypeVar, cast

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact
from prefect.client.orchestration import get_client
from prefect.context import get_run_context
from prefect.futures import as_completed
from prefect.settings import PREFECT_API_URL

from flows.orchestration import Pending
from flows.pipeline import run_build
from flows.tasks import TASKS, stage_task_run
from schemas.build import BuildParameters, BuildSummary, Grouping, embeddings_setting
from tasks.rebuild import StageRunner

P = ParamSpec("P")
T = TypeVar("T")


@contextmanager
def _workers_report_here() -> Iterator[None]:
    """Point worker processes started meanwhile at this run's Prefect API.

    Without a configured server (PREFECT_API_URL) the flow runs on a temporary one, which worker processes do
    not know about: each would start a temporary server of its own (~10 s) and report its task runs there.
    """
    if PREFECT_API_URL.value() or "PREFECT_API_URL" in os.environ:
        yield
        return
    with get_client(sync_client=True) as client:
        os.environ["PREFECT_API_URL"] = str(client.api_url)
    try:
        yield
    finally:
        os.environ.pop("PREFECT_API_URL", None)


class PrefectOrchestrator:
    """The stages as task runs of the current flow run, batches submitted to the flow's task runner."""

    stage: StageRunner = staticmethod(stage_task_run)

    @property
    def logger(self) -> logging.Logger | logging.LoggerAdapter[logging.Logger]:
        return get_run_logger()

    def build_id(self) -> str:
        return str(get_run_context().flow_run.id)  # type: ignore[union-attr]

    def call(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        return cast(T, TASKS[fn](*args, **kwargs))

    def workers(self, count: int) -> AbstractContextManager[None]:
        return _workers_report_here()

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Pending[T]:
        return cast(Pending[T], TASKS[fn].submit(*args, **kwargs))

    def first_done(self, pending: Sequence[Pending[T]]) -> Pending[T]:
        return cast(Pending[T], next(as_completed(list(pending))))  # type: ignore[arg-type]

    def record_summary(self, markdown: str, description: str) -> None:
        create_markdown_artifact(markdown, key="corpus-build-summary", description=description)


@flow(name="build-corpus", description="Build or update an aligned multilingual Parquet corpus.")
def build_corpus(
    source: str = "seeds",
    out: str = "output",
    glob: str = "**/*.txt",
    prune: bool = False,
    max_file_mb: float = 50.0,
    workers: int = 1,
    lock_wait_seconds: float = 0.0,
    group: str = "detect",
    works_file: str | None = None,
    embeddings: bool | None = None,
    yes: bool = False,
    dry_run: bool = False,
    rules_file: str | None = None,
    corrections_file: str | None = None,
) -> BuildSummary:
    params = BuildParameters(
        source=Path(source), out=Path(out), glob=glob, prune=prune, max_file_mb=max_file_mb, workers=workers,
        lock_wait_seconds=lock_wait_seconds, group=Grouping(group), works_file=Path(works_file) if works_file else None,
        embeddings=embeddings_setting(embeddings), yes=yes, dry_run=dry_run,
        rules_file=Path(rules_file) if rules_file else None,
        corrections_file=Path(corrections_file) if corrections_file else None,
    )
    return run_build(params, PrefectOrchestrator())
