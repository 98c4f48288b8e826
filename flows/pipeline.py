"""The build pipeline: the architecture in one page, run by an orchestrator (Prefect's flow run or this process).

    inventory (find + hash files) -> [assign works by content] -> plan (compare hashes with the stored snapshot)
      -> per batch of changed works, in parallel: ingest+langtag+segment -> align new pairs -> write work tables
      -> publish the snapshot (manifest.json, atomically) -> the run's summary (a Prefect artifact when recorded)

Every stage is a plain function of tasks/; the orchestrator (flows/orchestration.py) only decides where it runs
and what records it, so the rows are the same whoever runs the build.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from flows.orchestration import Orchestrator, Pending
from flows.progress import embedding_progress, report_progress
from schemas import BoilerplateRules
from schemas.build import BuildParameters, BuildSummary
from tasks.corrections import changed_pairs, corpus_documents, corrections_in_force, plan_realignment
from tasks.errors import BuildRefusedError
from tasks.io.summary import render_markdown, stage_log_lines, summarise
from tasks.rebuild import BatchResult, WorkBatch, WorkJob, rebuild_work_batch, work_jobs
from tasks.rules import rules_in_force
from tasks.store.lock import corpus_lock
from tasks.store.plan import BuildPlan, Inventory, plan_build, prune_refusal, take_inventory
from tasks.store.snapshot import WorkResult, load_snapshot, publish_snapshot, reject_rows
from tasks.store.storage import collect_garbage, load_manifest
from tasks.works import assign_works, assignment_needed, read_works_file, works_file_warnings


@contextmanager
def _timed(timings: dict[str, float], stage: str) -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    finally:
        timings[stage] = timings.get(stage, 0.0) + time.perf_counter() - started


def _batches(jobs: Sequence[WorkJob], workers: int) -> list[list[WorkJob]]:
    """Batches of works: big enough to amortise a task's cost, enough to keep workers busy."""
    size = max(1, min(25, len(jobs) // (workers * 4) or 1))
    return [list(jobs[i:i + size]) for i in range(0, len(jobs), size)]


def _planned(plan: BuildPlan) -> list[str]:
    """What a dry run reports: the plan's decision on every file that is not unchanged."""
    return [decision for decision in plan.decisions if not decision.startswith("unchanged:")]


# Up to this many documents to ingest are rebuilt in the build's own process, in one batch: starting worker
# processes (each imports the pipeline) takes longer than the work, e.g. when one translation is added.
_INLINE_DOCUMENTS = 10


def rebuild_works(
    orchestrator: Orchestrator, jobs: Sequence[WorkJob], params: BuildParameters, now: datetime,
    timings: dict[str, float], rules: BoilerplateRules | None = None,
) -> list[WorkResult]:
    """Rebuild the changed works, a batch per task, at most two batches per worker in flight so memory stays
    bounded; a finished batch is replaced at once, so no worker waits for the slowest of a wave.

    A batch travels as an opaque WorkBatch: Prefect (and Dask) would otherwise walk, and Dask even rebuild, every
    job and document of it. With embeddings, the texts embedded are reported as their own stage while the works
    are rebuilt (the first batches of a build with embeddings spend most of their time there).
    """
    if not params.embeddings or not jobs:
        return _rebuild_works(orchestrator, jobs, params, now, timings, rules, None)
    with embedding_progress() as progress:
        return _rebuild_works(orchestrator, jobs, params, now, timings, rules, progress)


def _rebuild_works(
    orchestrator: Orchestrator, jobs: Sequence[WorkJob], params: BuildParameters, now: datetime,
    timings: dict[str, float], rules: BoilerplateRules | None, progress: Path | None,
) -> list[WorkResult]:
    def collect(index: int, batch: BatchResult) -> None:
        done[index] = batch.works
        for stage, seconds in batch.seconds.items():
            timings[stage] = timings.get(stage, 0.0) + seconds
        report_progress("rebuild works", sum(len(works) for works in done.values()), len(jobs))

    done: dict[int, list[WorkResult]] = {}
    if not jobs:
        return []
    small = sum(len(job.plan.to_ingest) for job in jobs) <= _INLINE_DOCUMENTS
    # The embedding model's threads are the worker's share of the cores (tasks.embeddings.embed_threads).
    args = (params.out, params.max_bytes, now, params.embeddings, rules, orchestrator.stage,
            1 if small else params.workers, progress)
    if small or params.workers == 1:
        # In this process, one batch after the other: starting worker processes would take longer than a small
        # rebuild, and CPU-bound batches in threads would only contend.
        for index, batch in enumerate([list(jobs)] if small else _batches(jobs, 1)):
            collect(index, orchestrator.call(rebuild_work_batch, WorkBatch(batch), *args))
        return [work for index in sorted(done) for work in done[index]]
    waiting = list(enumerate(_batches(jobs, params.workers)))[::-1]
    in_flight: dict[Pending[BatchResult], int] = {}
    with orchestrator.workers(params.workers):
        while waiting or in_flight:
            while waiting and len(in_flight) < 2 * params.workers:
                index, batch = waiting.pop()
                in_flight[orchestrator.submit(rebuild_work_batch, WorkBatch(batch), *args)] = index
            finished = orchestrator.first_done(list(in_flight))
            collect(in_flight.pop(finished), finished.result())
    return [work for index in sorted(done) for work in done[index]]


def _refuse_data_loss(params: BuildParameters, inventory: Inventory, plan: BuildPlan, n_stored: int) -> None:
    """Refuse a build that looks like a mistake that would lose data: no input at all, or a prune of most of the
    corpus that was not confirmed."""
    if not inventory.fingerprints and not inventory.rejections:
        raise BuildRefusedError(f"{params.source} holds no input files matching {params.glob!r}",
                                hint="check the input folder and --glob; nothing was changed")
    refusal = prune_refusal(plan, n_stored) if params.prune and not (params.yes or params.dry_run) else None
    if refusal is not None:
        raise refusal


def run_build(params: BuildParameters, orchestrator: Orchestrator) -> BuildSummary:
    """Build or update the corpus of ``params``, each stage run by ``orchestrator``."""
    logger = orchestrator.logger
    build_id, now = orchestrator.build_id(), datetime.now(UTC)
    timings: dict[str, float] = {}
    with corpus_lock(params.out, build_id, params.lock_wait_seconds, create=not params.dry_run):
        with _timed(timings, "inventory"):
            manifest = load_manifest(params.out)
            if not params.dry_run:
                collect_garbage(params.out, manifest)
            snapshot = load_snapshot(params.out, manifest)
            inventory = orchestrator.call(take_inventory, params.source, params.glob, params.max_bytes)
        logger.info("inventory: %d input files, %d rejected on sight", len(inventory.fingerprints),
                    len(inventory.rejections))
        repaired = snapshot.repairs({fp.file.source_path for fp in inventory.fingerprints})
        for line in repaired:
            logger.info("repair: %s", line)
        fingerprints = inventory.fingerprints
        stored = list(snapshot.documents.values())
        warnings = works_file_warnings(read_works_file(params.works_file), fingerprints) if params.works_file else []
        if assignment_needed(fingerprints, stored, params.group, params.works_file):
            with _timed(timings, "assign works"):
                fingerprints = tuple(orchestrator.call(assign_works, fingerprints, stored, params.out,
                                                       params.max_bytes, params.group, params.works_file))
        rules = rules_in_force(params.rules_file, manifest)
        corrections, dropped_corrections = corrections_in_force(
            params.corrections_file, manifest, corpus_documents(stored, fingerprints, params.prune))
        warnings += dropped_corrections
        with _timed(timings, "plan"):
            plan = plan_build(fingerprints, inventory.rejections, snapshot.stored_documents(),
                              snapshot.stored_rejects(), prune=params.prune,
                              reanalyse=manifest is not None and rules != manifest.rules)
            plan, realign = plan_realignment(plan, snapshot.stored_documents(),
                                             changed_pairs(manifest.corrections if manifest else (), corrections))
        logger.info("plan: %s; %d work(s) to rebuild", plan.summary(), len(plan.works))
        for decision in plan.decisions:
            logger.debug("plan: %s", decision)
        _refuse_data_loss(params, inventory, plan, len(snapshot.documents) + len(snapshot.lost_documents))
        if params.dry_run:
            return summarise(build_id, params, plan, [], [], manifest, timings, plan.nothing_to_do, repaired,
                             warnings, dry_run=True).model_copy(update={"planned": _planned(plan)})
        try:
            with _timed(timings, "rebuild (wall)"):
                results = rebuild_works(orchestrator, work_jobs(snapshot, plan.works, corrections, realign), params,
                                        now, timings, rules)
            for line in stage_log_lines(results):
                logger.info("%s", line)
            for d in (d for r in results for d in r.new_documents):
                logger.debug("langtag: %s is %s (script %s, confidence %.2f); segment: %d segments, %d sections",
                             d.source_path, d.lang, d.script, d.lang_confidence, d.n_segments, d.n_sections)
            rejects = reject_rows([*plan.rejections, *(r for w in results for r in w.rejections)],
                                  plan.reused_rejects, snapshot.rejects, now)
            nothing_to_do = (plan.nothing_to_do and rejects == list(snapshot.rejects) and manifest is not None
                             and not snapshot.damaged and rules == manifest.rules
                             and corrections == manifest.corrections)
            if not nothing_to_do:
                with _timed(timings, "publish"):
                    manifest = orchestrator.call(publish_snapshot, params.out, snapshot, build_id, results, rejects,
                                                 rules, corrections)
                logger.info("publish: manifest.json now names %s rows",
                            {name: table.rows for name, table in manifest.tables.items()})
        except BaseException:
            # Whatever stopped the build (a full disk, Ctrl-C, a bug): the files it wrote go, the snapshot stays.
            collect_garbage(params.out, load_manifest(params.out))
            raise
    summary = summarise(build_id, params, plan, results, rejects, manifest, timings, nothing_to_do, repaired,
                        warnings)
    logger.info("%s", "nothing to do: the corpus is up to date" if nothing_to_do else summary.counts)
    orchestrator.record_summary(render_markdown(summary), f"Build of {params.source} into {params.out}")
    return summary
