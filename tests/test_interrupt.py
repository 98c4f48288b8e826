"""Stopping a build on Ctrl-C or SIGTERM: the processes it started end at once (flows/interrupt.py)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from tests.helpers import SEEDS

# A process with two children, one of them ignoring SIGTERM as multiprocessing's resource tracker does (it ends by
# itself once the build's processes are gone). It ends its descendants with a long grace and says how long that
# took and whether the other child is gone. It runs in a process of its own so that only its own children are
# ended, never one of the test session's.
_SCRIPT = textwrap.dedent("""
    import subprocess, sys, time
    from flows.interrupt import alive, end_descendants
    def child(code):
        process = subprocess.Popen([sys.executable, "-c", f"import signal, time; {code}; print('ready', flush=True); "
                                    "time.sleep(60)"], stdout=subprocess.PIPE)
        assert process.stdout is not None and process.stdout.readline().strip() == b"ready"
        return process
    deaf = child("signal.signal(signal.SIGTERM, signal.SIG_IGN)")
    worker = child("pass")
    started = time.monotonic()
    end_descendants(grace_seconds=10.0)
    elapsed = time.monotonic() - started
    worker.wait(timeout=5)
    deaf.kill()
    print(f"{elapsed:.2f}", alive(worker.pid))
""")


def test_ending_the_build_processes_does_not_wait_for_one_that_ignores_sigterm() -> None:
    run = subprocess.run([sys.executable, "-c", _SCRIPT], capture_output=True, text=True, timeout=60,
                         cwd=SEEDS.parent)
    assert run.returncode == 0, run.stderr
    elapsed, worker_alive = run.stdout.split()
    assert worker_alive == "False"
    assert float(elapsed) < 3.0, "the grace is for processes that may end on SIGTERM, not for one that ignores it"
