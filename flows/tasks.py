"""Thin Prefect task wrappers around the pure stage functions (no logic lives here).

Each task wraps the very function the build calls without Prefect (``task.fn`` is it), and takes a batch (all
inputs, or a batch of works), never a single line or segment, so Prefect's few milliseconds per task stay a
small fraction of the work. Steps that touch the file system retry on transient OS errors; a retried step writes
content-addressed files, so it can never duplicate rows.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

from prefect import Task, task
from prefect.cache_policies import NO_CACHE

from tasks.rebuild import STAGES, rebuild_work_batch
from tasks.retry import IO_RETRIES, IO_RETRY_DELAY_SECONDS
from tasks.store.plan import take_inventory
from tasks.store.snapshot import publish_snapshot
from tasks.works import assign_works

T = TypeVar("T")


def _transient_os_error(_task: Any, _task_run: Any, state: Any) -> bool:
    try:
        state.result()
    except OSError:
        return True
    except BaseException:
        return False
    return False


# Prefect's default cache policy hashes every task's inputs (whole batches of documents here) for a cache
# that is never used: the output folder is this pipeline's state. Results stay in memory.
_plain: dict[str, Any] = {"cache_policy": NO_CACHE, "persist_result": False}
_io_retries: dict[str, Any] = {
    **_plain, "retries": IO_RETRIES, "retry_delay_seconds": IO_RETRY_DELAY_SECONDS,
    "retry_condition_fn": _transient_os_error,
}

inventory_task = task(name="ingest: inventory", **_io_retries)(take_inventory)
assign_works_task = task(name="ingest: assign works", **_io_retries)(assign_works)
rebuild_batch_task = task(name="rebuild batch", **_io_retries)(rebuild_work_batch)
publish_task = task(name="publish_snapshot", **_io_retries)(publish_snapshot)

# The task of each plain function, for the orchestrator that runs the build as a Prefect flow.
TASKS: dict[Callable[..., Any], Task[Any, Any]] = {
    t.fn: t for t in (inventory_task, assign_works_task, rebuild_batch_task, publish_task)
}


def _call(call: Callable[[], T]) -> T:
    return call()


# One task per stage of a batch: a batch's task run shows its stages as task runs of their own. Retries stay
# with the batch (a retried batch redoes its stages; what they write is content-addressed).
_STAGE_TASKS: dict[str, Task[Any, Any]] = {name: task(name=name, **_plain)(_call) for name in STAGES}


def stage_task_run(stage: str, call: Callable[[], T]) -> T:
    """A stage of a batch as a task run of its own (a StageRunner for :func:`tasks.rebuild.rebuild_batch`)."""
    return cast(T, _STAGE_TASKS[stage](call))
