"""Progress of a running build, for whoever shows it (the CLI's progress bars); silent by default."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

ProgressReporter = Callable[[str, int, int], None]  # stage, works done, works in total

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
