"""Who runs a build (the orchestrator, see flows/orchestration.py) and which Prefect task runner executes its
per-work tasks when Prefect does."""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class OrchestratorKind(StrEnum):
    auto = "auto"  # prefect when a Prefect API is configured, local otherwise
    prefect = "prefect"
    local = "local"


class RunnerKind(StrEnum):
    thread = "thread"
    process = "process"
    dask = "dask"


def make_task_runner(kind: RunnerKind, workers: int, dask_address: str | None = None) -> Any:
    """A task runner for ``workers`` parallel workers.

    ``process`` (the default when workers > 1) runs batches of works in worker processes, which the
    CPU-bound stages need to use several cores; ``thread`` suits I/O-bound runs; ``dask`` uses
    prefect-dask, on a local cluster of ``workers`` processes or on the scheduler at ``dask_address``.
    """
    if kind is RunnerKind.thread:
        from prefect.task_runners import ThreadPoolTaskRunner

        return ThreadPoolTaskRunner(max_workers=workers)
    if kind is RunnerKind.process:
        from prefect.task_runners import ProcessPoolTaskRunner

        return ProcessPoolTaskRunner(max_workers=workers)
    try:
        from prefect_dask.task_runners import DaskTaskRunner
    except ImportError as error:
        raise RuntimeError("--runner dask needs prefect-dask: pip install 'parallel-corpus[dask]'") from error
    if dask_address:
        return DaskTaskRunner(address=dask_address)
    return DaskTaskRunner(cluster_kwargs={"n_workers": workers, "threads_per_worker": 1, "processes": True})
