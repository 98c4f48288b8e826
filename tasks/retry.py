"""Transient OS errors: a step that touches the file system is tried again, whoever runs it.

The Prefect tasks (flows/tasks.py) retry with these figures through Prefect; a build run without Prefect
uses :func:`io_retried`. A retried step writes content-addressed files, so it never duplicates rows.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

IO_RETRIES = 2
IO_RETRY_DELAY_SECONDS = 0.5


def io_retried(fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """``fn(*args, **kwargs)``, tried again up to IO_RETRIES times when it raises an OSError."""
    for _ in range(IO_RETRIES):
        try:
            return fn(*args, **kwargs)
        except OSError:
            time.sleep(IO_RETRY_DELAY_SECONDS)
    return fn(*args, **kwargs)
