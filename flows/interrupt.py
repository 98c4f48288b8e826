"""Stopping a build at once on Ctrl-C or SIGTERM, the way the storage is built to survive.

Prefect catches KeyboardInterrupt inside a flow run and goes on, and its shutdown (temporary server, event
workers) takes a minute and prints tracebacks. A build needs none of that to stop safely: every file is
written atomically and named in the journal first, and the manifest is replaced last, so stopping at any
instant leaves the previous snapshot whole and the next build removes the leftovers (as after kill -9, which
tests/test_crash.py exercises). So on the signal the command line says so in one line, ends the processes it
started (worker processes, Prefect's temporary server) and exits: 130 for Ctrl-C, 143 for SIGTERM.

The flow runs in a thread of its own (:func:`run_interruptible`): Prefect installs its SIGTERM handler only in the
main thread, which then keeps this module's handlers and only waits.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from types import FrameType
from typing import TypeVar

T = TypeVar("T")


def _children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (Linux /proc; none where it is absent)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _descendants(pid: int) -> list[int]:
    out: list[int] = []
    for child in _children(pid):
        out += [child, *_descendants(child)]
    return out


def alive(pid: int) -> bool:
    """Whether a process runs (a zombie, dead but not yet reaped, does not)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def end_descendants(grace_seconds: float = 2.0) -> None:
    """SIGTERM to every process this one started, and theirs; SIGKILL to those still there after the grace."""
    pids = _descendants(os.getpid())
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in pids:
            with suppress(OSError):
                os.kill(pid, sig)
        deadline = time.monotonic() + grace_seconds
        while (pids := [pid for pid in pids if alive(pid)]) and time.monotonic() < deadline:
            time.sleep(0.05)
        if not pids:
            return


@contextmanager
def stop_at_once_on_signals(say: Callable[[str], None], out: Path) -> Iterator[None]:
    """While the block runs, Ctrl-C or SIGTERM ends the command at once, cleanly, with one line."""
    def stop(signum: int, _frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        say(f"interrupted ({name}): the build stopped; {out} keeps its previous snapshot, and the next build "
            "removes what this one had written and does the work")
        end_descendants()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(130 if signum == signal.SIGINT else 143)

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def run_interruptible(call: Callable[[], T]) -> T:
    """``call()`` in a thread of its own while the main thread waits, so that the main thread's signal handlers
    stay in force (and run at once: the wait wakes up often)."""
    outcome: dict[str, object] = {}

    def target() -> None:
        try:
            outcome["value"] = call()
        except BaseException as error:  # handed to the caller as it is
            outcome["error"] = error

    worker = threading.Thread(target=target, name="corpus-build", daemon=True)
    worker.start()
    while worker.is_alive():
        worker.join(0.2)
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["value"]  # type: ignore[return-value]
