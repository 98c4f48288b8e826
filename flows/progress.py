"""Progress of a running build, for whoever shows it (the CLI's progress bars); silent by default."""

from __future__ import annotations

import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

ProgressReporter = Callable[[str, int, int], None]  # stage, works done, works in total

EMBED_STAGE = "embed texts"

_reporters: list[ProgressReporter] = []


def report_progress(stage: str, done: int, total: int) -> None:
    for reporter in _reporters:
        reporter(stage, done, total)


@contextmanager
def progress_reporting(reporter: ProgressReporter) -> Iterator[None]:
    _reporters.append(reporter)
    try:
        yield
    finally:
        _reporters.remove(reporter)


def embedding_counts(folder: Path) -> tuple[int, int]:
    """Texts embedded and texts asked for, summed over the progress files of ``folder`` (one per worker
    process, "computed asked", see tasks.embeddings); files being replaced or malformed count as 0."""
    done = asked = 0
    for path in folder.glob("*"):
        if path.name.startswith("."):
            continue
        try:
            computed, wanted = (int(x) for x in path.read_text().split())
        except (OSError, ValueError):
            continue
        done, asked = done + computed, asked + wanted
    return done, asked


@contextmanager
def embedding_progress(interval: float = 0.5) -> Iterator[Path]:
    """A folder for the build's workers to write their embedding counts to, reported as the ``embed texts``
    stage (texts embedded of texts to embed, the total growing as pairs ask for more) every ``interval``
    seconds while the context lasts, and once at its end; the folder is removed afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="corpus-embed-progress-"))
    stop = threading.Event()
    last = (0, 0)

    def poll() -> None:
        nonlocal last
        counts = embedding_counts(folder)
        if counts != last and counts[1] > 0:
            last = counts
            report_progress(EMBED_STAGE, *counts)

    def watch() -> None:
        while not stop.wait(interval):
            poll()

    watcher = threading.Thread(target=watch, name="embedding-progress", daemon=True)
    watcher.start()
    try:
        yield folder
    finally:
        stop.set()
        watcher.join()
        poll()
        shutil.rmtree(folder, ignore_errors=True)
