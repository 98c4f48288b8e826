"""Who runs the pipeline's stages: Prefect (task runs in a flow run) or this process (plain calls).

The pipeline (:mod:`flows.pipeline`) is one piece of code that asks an :class:`Orchestrator` to call a stage, to
submit a batch of works to a worker, and to record the run's summary. Two implement it:

- ``prefect`` (:class:`flows.build.PrefectOrchestrator`): the build is the ``build-corpus`` flow run; each stage
  is a task run, a batch's stages are task runs of their own, the summary is the ``corpus-build-summary``
  artifact. Scheduled runs and deployments always go this way, and so does ``corpus build`` when a Prefect API is
  configured (PREFECT_API_URL in the environment, a ``.env``, ``prefect.toml``, ``pyproject.toml`` or the active
  profile).
- ``local`` (:class:`LocalOrchestrator`, this module): the same calls without Prefect, batches in a pool of
  worker processes. Without a configured API, a flow run would first start Prefect's temporary server (~15 s on
  2 cores) for a record that is thrown away when the command ends; importing Prefect alone takes ~2 s.

This module imports nothing of Prefect, so that choosing costs nothing.
"""

from __future__ import annotations

import logging
import os
import tomllib
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from contextlib import AbstractContextManager, contextmanager
from multiprocessing import get_context
from pathlib import Path
from typing import Any, ParamSpec, Protocol, TypeVar, cast

from flows.runners import OrchestratorKind, exit_with_parent
from tasks.rebuild import StageRunner, run_stage
from tasks.retry import io_retried

P = ParamSpec("P")
T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


class Pending(Protocol[T_co]):
    """A submitted batch: a concurrent.futures Future or a PrefectFuture."""

    def result(self) -> T_co: ...


class Orchestrator(Protocol):
    """What the pipeline needs from whoever runs it."""

    @property
    def logger(self) -> logging.Logger | logging.LoggerAdapter[logging.Logger]: ...

    @property
    def stage(self) -> StageRunner:
        """How a batch runs each of its stages (a picklable function: it travels to worker processes)."""
        ...

    def build_id(self) -> str: ...

    def call(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """A stage, here and now."""
        ...

    def workers(self, count: int) -> AbstractContextManager[None]:
        """``count`` workers ready to take submitted batches while the context lasts."""
        ...

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Pending[T]: ...

    def first_done(self, pending: Sequence[Pending[T]]) -> Pending[T]: ...

    def record_summary(self, markdown: str, description: str) -> None: ...


class LocalOrchestrator:
    """The stages as plain calls in this process; submitted batches go to a pool of worker processes. Each call
    is tried again on a transient OS error, as the Prefect tasks are."""

    stage: StageRunner = staticmethod(run_stage)

    def __init__(self) -> None:
        self.logger = logging.getLogger("corpus.build")
        self._pool: ProcessPoolExecutor | None = None

    def build_id(self) -> str:
        return uuid.uuid4().hex

    def call(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        return io_retried(fn, *args, **kwargs)

    @contextmanager
    def workers(self, count: int) -> Iterator[None]:
        # spawn, not fork: the pipeline runs in a thread of its own next to the progress bar's, and a forked child
        # could inherit a lock that one of them holds.
        # A worker ends with the build: killed with SIGKILL, a build cannot end its pool, and an idle worker waits
        # for work forever (about 300 MB each).
        self._pool = ProcessPoolExecutor(max_workers=count, mp_context=get_context("spawn"),
                                         initializer=exit_with_parent, initargs=(os.getpid(),))
        try:
            yield
        finally:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Pending[T]:
        assert self._pool is not None, "submit() outside workers()"
        return self._pool.submit(io_retried, fn, *args, **kwargs)

    def first_done(self, pending: Sequence[Pending[T]]) -> Pending[T]:
        done, _ = wait(cast(Sequence[Future[T]], pending), return_when=FIRST_COMPLETED)
        return next(iter(done))

    def record_summary(self, markdown: str, description: str) -> None:
        """Nothing records a local run: its summary is what the command prints (and ``--json``)."""


def _toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return {}


def _dotenv(path: Path) -> dict[str, str]:
    values = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return {}
    for line in lines:
        key, sep, value = line.removeprefix("export ").partition("=")
        if sep and not key.lstrip().startswith("#"):
            values[key.strip()] = value.strip().strip("'\"")
    return values


def configured_api_url(cwd: Path | None = None) -> str | None:
    """The Prefect API URL that Prefect itself would use, or None: read where Prefect 3 reads its settings (the
    environment, then ``.env``, ``prefect.toml`` and ``pyproject.toml`` of the working folder, then the active
    profile), without importing Prefect (~2 s)."""
    folder = cwd or Path.cwd()
    dotenv = _dotenv(folder / ".env")
    if url := os.environ.get("PREFECT_API_URL") or dotenv.get("PREFECT_API_URL"):
        return url
    prefect_toml, pyproject = _toml(folder / "prefect.toml"), _toml(folder / "pyproject.toml").get("tool", {})
    for settings in (prefect_toml, pyproject.get("prefect", {})):
        if isinstance(url := settings.get("api", {}).get("url"), str) and url:
            return url
    home = Path(os.environ.get("PREFECT_HOME") or dotenv.get("PREFECT_HOME") or Path.home() / ".prefect")
    profiles_path = (os.environ.get("PREFECT_PROFILES_PATH") or dotenv.get("PREFECT_PROFILES_PATH")
                     or prefect_toml.get("profiles_path") or pyproject.get("prefect", {}).get("profiles_path")
                     or str(home / "profiles.toml"))
    profiles = _toml(Path(str(profiles_path).replace("$PREFECT_HOME", str(home))).expanduser())
    active = os.environ.get("PREFECT_PROFILE") or profiles.get("active") or "ephemeral"
    url = profiles.get("profiles", {}).get(active, {}).get("PREFECT_API_URL")
    return url if isinstance(url, str) and url else None


def chosen(kind: OrchestratorKind, prefect_runner: bool) -> OrchestratorKind:
    """The orchestrator ``auto`` stands for: Prefect when an API is configured or a Prefect task runner asked for."""
    if kind is not OrchestratorKind.auto:
        return kind
    return OrchestratorKind.prefect if prefect_runner or configured_api_url() else OrchestratorKind.local
