"""One build at a time per output folder.

The lock is an advisory ``flock`` on ``<out>/.lock``: the kernel releases it when its holder exits for
any reason (kill -9 included), so a lock left by a killed build is never stale; the file's content
only tells the next build who holds it, for the message.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from tasks.errors import CorpusLockedError
from tasks.fs import check_store, is_remote

__all__ = ["LOCK_NAME", "CorpusLockedError", "corpus_lock"]

LOCK_NAME = ".lock"


def _holder_description(lock_path: Path) -> str:
    try:
        holder = json.loads(lock_path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        holder = {}
    if not holder:
        return "another build"
    return (
        f"build {holder.get('build_id', '?')} (pid {holder.get('pid', '?')} on {holder.get('host', '?')}, "
        f"started {holder.get('started_at', '?')})"
    )


def _describe_holder(handle: IO[str], build_id: str) -> None:
    """Say who holds the lock, for the message of the next build. Best effort: on a full disk the lock is
    still held (flock needs no space), so a build can start and clean up."""
    with suppress(OSError):
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps({
            "build_id": build_id,
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }))
        handle.flush()


@contextmanager
def corpus_lock(out_dir: Path, build_id: str, wait_seconds: float = 0.0, *, create: bool = True) -> Iterator[None]:
    """Hold the output folder's lock; wait up to ``wait_seconds`` for it, then refuse clearly. Without ``create``
    (a dry run, which writes nothing), a folder that does not exist is left so and nothing is locked.

    An object store has no lock: there, the conditional create of the next manifest version decides which of two
    concurrent builds publishes (``tasks.store.remote``), and the other stops with the same error."""
    if is_remote(out_dir):
        check_store(out_dir)  # credentials, endpoint, bucket: one line now, not a traceback
        yield
        return
    if not create and not out_dir.exists():
        yield
        return
    out_dir.mkdir(parents=True, exist_ok=True)
    lock_path = out_dir / LOCK_NAME
    handle = open(lock_path, "a+", encoding="utf-8")  # noqa: SIM115 - held for the whole build
    try:
        deadline = time.monotonic() + wait_seconds
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise CorpusLockedError(
                        f"{out_dir} is locked by {_holder_description(lock_path)}",
                        hint="wait for it to finish, or pass --wait SECONDS to queue behind it",
                    ) from None
                time.sleep(0.2)
        _describe_holder(handle, build_id)
        try:
            yield
        finally:
            with suppress(OSError):
                handle.seek(0)
                handle.truncate()
                handle.flush()
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
    finally:
        handle.close()
