"""The build's stages called as plain Python functions, in the flow's order: the baseline of Prefect's cost."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from schemas.build import BuildParameters
from tasks.export import align_work, analyse_work, load_snapshot, publish_snapshot, reject_rows, work_jobs, write_work
from tasks.plan import plan_build, take_inventory
from tasks.storage import collect_garbage, load_manifest


def plain_build(source: Path, out: Path) -> None:
    params = BuildParameters(source=source, out=out)
    now = datetime.now(UTC)
    manifest = load_manifest(out)
    collect_garbage(out, manifest)
    snapshot = load_snapshot(out, manifest)
    inventory = take_inventory(source, params.glob, params.max_bytes)
    plan = plan_build(inventory.fingerprints, inventory.rejections, snapshot.stored_documents(),
                      snapshot.stored_rejects(), prune=False)
    results = []
    for job in work_jobs(snapshot, plan.works):
        analysis = analyse_work(job, out, params.max_bytes, now)
        results.append(write_work(analysis, align_work(job, analysis, out), out))
    rejects = reject_rows([*plan.rejections, *(r for w in results for r in w.rejections)], plan.reused_rejects,
                          snapshot.rejects, now)
    publish_snapshot(out, snapshot, "plain", results, rejects)
