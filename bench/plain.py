"""The build's stages called as plain Python functions, in the flow's order: the baseline of Prefect's cost.

The same functions as ``flows/pipeline.py`` with the default options (``--group detect``, one worker), in one
process and one batch, without Prefect: tasks, futures, the API server and the summary artifact.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from schemas.build import BuildParameters
from tasks.rebuild import rebuild_batch, work_jobs
from tasks.store.plan import plan_build, take_inventory
from tasks.store.snapshot import load_snapshot, publish_snapshot, reject_rows
from tasks.store.storage import collect_garbage, load_manifest
from tasks.works import assign_works


def plain_build(source: Path, out: Path) -> None:
    params = BuildParameters(source=source, out=out)
    now = datetime.now(UTC)
    manifest = load_manifest(out)
    collect_garbage(out, manifest)
    snapshot = load_snapshot(out, manifest)
    inventory = take_inventory(source, params.glob, params.max_bytes)
    fingerprints = assign_works(inventory.fingerprints, list(snapshot.documents.values()), out, params.max_bytes,
                                params.group, None)
    plan = plan_build(fingerprints, inventory.rejections, snapshot.stored_documents(),
                      snapshot.stored_rejects(), prune=False)
    results = rebuild_batch(work_jobs(snapshot, plan.works), out, params.max_bytes, now).works
    rejects = reject_rows([*plan.rejections, *(r for w in results for r in w.rejections)], plan.reused_rejects,
                          snapshot.rejects, now)
    publish_snapshot(out, snapshot, "plain", results, rejects)
