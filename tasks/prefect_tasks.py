"""Thin Prefect task wrappers around the pure stage functions (no logic lives here).

Each task takes a batch (all inputs, or a batch of works), never a single line or segment, so
Prefect's few milliseconds per task stay a small fraction of the work. Steps that touch the file
system retry on transient OS errors; a retried step writes content-addressed files, so it can
never duplicate rows.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE

from schemas import BoilerplateRules, DocumentRow
from schemas.build import Grouping
from tasks.embeddings import embedder_for
from tasks.export import BatchResult, WorkBatch, rebuild_batch
from tasks.ingest import Fingerprint
from tasks.plan import Inventory, take_inventory
from tasks.works import assign_works


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
    **_plain, "retries": 2, "retry_delay_seconds": 0.5, "retry_condition_fn": _transient_os_error,
}


@task(name="ingest: inventory", **_io_retries)
def inventory_task(source: Path, glob: str, max_bytes: int) -> Inventory:
    return take_inventory(source, glob, max_bytes)


@task(name="ingest: assign works", **_io_retries)
def assign_works_task(
    fingerprints: tuple[Fingerprint, ...], stored: list[DocumentRow], out_dir: Path, max_bytes: int, grouping: Grouping,
    works_file: Path | None,
) -> list[Fingerprint]:
    return assign_works(fingerprints, stored, out_dir, max_bytes, grouping, works_file)


@task(name="ingest+langtag+segment -> align -> export", **_io_retries)
def rebuild_batch_task(batch: WorkBatch, out_dir: Path, max_bytes: int, now: datetime, embeddings: bool,
                       rules: BoilerplateRules | None = None) -> BatchResult:
    return rebuild_batch(batch.jobs, out_dir, max_bytes, now, embedder_for(out_dir) if embeddings else None, rules)
