"""Who runs a build (the orchestrator, see flows/orchestration.py) and which Prefect task runner executes its
per-work tasks when Prefect does."""

from __future__ import annotations

import os
import threading
import time
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

        return ProcessPoolTaskRunner(max_workers=workers, initializer=exit_with_parent, initargs=(os.getpid(),))
    try:
        from prefect_dask.task_runners import DaskTaskRunner
    except ImportError as error:
        raise RuntimeError("--runner dask needs prefect-dask: pip install 'parallel-corpus[dask]'") from error
    if dask_address:
        return DaskTaskRunner(address=dask_address)
    return DaskTaskRunner(cluster_kwargs={"n_workers": workers, "threads_per_worker": 1, "processes": True})


def exit_with_parent(parent: int) -> None:
    """In a worker process of a pool: end it as soon as the build process that started it is gone.

    A build killed with SIGKILL cannot end its pool, and an idle worker (about 300 MB) would wait for work forever:
    its call queue's pipe never reports the end, since the worker holds a writing end of it too. A worker whose
    parent died while it was starting sees another parent at once and ends here.
    """
    if os.getppid() != parent:
        os._exit(1)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()
