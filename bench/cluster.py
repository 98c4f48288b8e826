"""An S3-compatible server and a real Dask cluster on loopback, for the object-store tests and benchmark.

``s3_server`` starts moto's ``moto_server`` (the server s3fs's own tests use) on a free port and gives the
environment that points every process at it, with credentials for it only. ``dask_cluster`` starts
``dask scheduler`` and N ``dask worker`` processes (one single-threaded worker each), in that environment and
with this project importable, and gives the scheduler's address for ``corpus build --runner dask --dask-address``.
Every process is in a group of its own, stopped for sure on exit.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from pathlib import Path

from bench.server import BIN, free_port, stop

ROOT = Path(__file__).resolve().parent.parent


def _wait_for_port(port: int, process: subprocess.Popen[bytes], seconds: float = 60.0) -> None:
    import socket

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args!r} exited with {process.returncode}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on port {port} after {seconds:.0f} s")


def _start(command: list[str], env: Mapping[str, str], log: Path | None) -> subprocess.Popen[bytes]:
    out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115 - handed to the child, closed with it
    return subprocess.Popen(command, env=dict(env), cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                            start_new_session=True)


@contextmanager
def s3_server(log: Path | None = None) -> Iterator[dict[str, str]]:
    """moto's S3 server on a free loopback port; the environment for it (endpoint, region, test-only keys)."""
    port = free_port()
    server = _start([str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)], os.environ, log)
    try:
        _wait_for_port(port, server)
        yield {"AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}", "AWS_ACCESS_KEY_ID": "test-only",
               "AWS_SECRET_ACCESS_KEY": "test-only", "AWS_DEFAULT_REGION": "us-east-1"}
    finally:
        stop(server, signal.SIGTERM)


@contextmanager
def dask_cluster(workers: int, env: Mapping[str, str], logs: Path | None = None) -> Iterator[str]:
    """``dask scheduler`` and ``workers`` ``dask worker`` processes on loopback; the scheduler's address. With
    ``logs``, each process writes its log there (``scheduler.log``, ``worker-<n>.log``)."""
    from distributed import Client

    if logs:
        logs.mkdir(parents=True, exist_ok=True)
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    environment = {**os.environ, **env, "PYTHONPATH": str(ROOT)}
    with ExitStack() as processes:
        scheduler = _start([str(BIN / "dask"), "scheduler", "--host", "127.0.0.1", "--port", str(port),
                            "--no-dashboard"], environment, logs / "scheduler.log" if logs else None)
        processes.callback(stop, scheduler, signal.SIGTERM)
        _wait_for_port(port, scheduler)
        for n in range(workers):
            worker = _start([str(BIN / "dask"), "worker", address, "--nworkers", "1", "--nthreads", "1",
                             "--no-dashboard", "--memory-limit", "0", "--host", "127.0.0.1"], environment,
                            logs / f"worker-{n}.log" if logs else None)
            processes.callback(stop, worker, signal.SIGTERM)
        with Client(address, timeout=60) as client:  # type: ignore[no-untyped-call]
            client.wait_for_workers(workers, timeout=120)
        yield address
