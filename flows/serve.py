"""Serving the build flow as a Prefect deployment: on a schedule, and runnable by hand."""

from __future__ import annotations

from pathlib import Path

from flows.build import build_corpus
from tasks.errors import ServerUnavailableError

DEPLOYMENT_NAME = "corpus"


def require_server() -> str:
    """The API URL of a reachable Prefect server, or a clear error saying how to get one."""
    from prefect.settings import PREFECT_API_URL

    api_url = PREFECT_API_URL.value()
    how = (
        "start one with `prefect server start` (it listens on 127.0.0.1:4200) and "
        "`export PREFECT_API_URL=http://127.0.0.1:4200/api`"
    )
    if not api_url:
        raise ServerUnavailableError(f"serving on a schedule needs a Prefect server: {how}")
    require_answer(str(api_url), how)
    return str(api_url)


def require_answer(api_url: str, how: str) -> None:
    """Nothing if the Prefect server at ``api_url`` (the configured one) answers; else a clear error, ending
    with ``how`` to go on."""
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        problem = client.api_healthcheck()
    if problem is not None:
        raise ServerUnavailableError(f"the Prefect server at {api_url} does not answer ({problem}); {how}")


def serve_build(
    source: Path, out: Path, *, name: str = DEPLOYMENT_NAME, cron: str | None = None,
    interval: float | None = None, lock_wait_seconds: float = 3600.0,
) -> None:
    """Register the ``build-corpus/<name>`` deployment with its schedule and run its flow runs until stopped.

    Runs of the deployment never overlap (a concurrency limit of one, queued); a manual ``corpus build`` of the
    same output folder meanwhile is queued behind by the output folder's lock.
    """
    build_corpus.serve(
        name=name,
        cron=cron,
        interval=interval,
        parameters={"source": str(source.resolve()), "out": str(out.resolve()),
                    "lock_wait_seconds": lock_wait_seconds},
        global_limit=1,
        description=f"Build {source} into {out}",
        tags=["parallel-corpus"],
    )
