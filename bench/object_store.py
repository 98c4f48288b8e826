"""The corpus on an object store, built by a real Dask cluster, against the local build (issue 20).

    python -m bench.object_store --works 100

Generates ``--works`` works x 5 languages, then times, each as a user types it:

- ``corpus build IN --out OUT --workers 2``: local folders, the local orchestrator, a process pool of 2;
- ``corpus build s3://.../in --out s3://.../corpus --runner dask --dask-address ... --workers 2``: inputs and output
  on moto's S3 server on loopback, through ``dask scheduler`` + two ``dask worker`` processes on loopback that read
  the inputs and write the table files themselves (and a Prefect server, which ``--runner`` implies);
- one translation added, both ways.

Wall seconds and CPU seconds (the command's processes, and for the cluster its scheduler and workers too, not the
S3 and Prefect servers), objects and bytes written to the store, per work. Prints a markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.cluster import ROOT, dask_cluster, s3_server
from bench.generate import SEEDS, generate_corpus
from bench.server import prefect_server

TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_of_tree(root_pids: list[int]) -> float:
    """CPU seconds (user + system) of the running processes whose session is one of ``root_pids``'."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) in root_pids:  # the session id: each started process leads its own
            total += (int(fields[11]) + int(fields[12])) / TICKS
    return total


def _run(args: list[str], env: dict[str, str]) -> tuple[float, float, dict[str, object]]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "flows.cli", *args, "--json"], env=env, cwd=ROOT,
                          capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    if done.returncode:
        raise SystemExit(f"corpus {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    summary: dict[str, object] = json.loads(done.stdout)
    return wall, cpu, summary


def _sessions() -> list[int]:
    return [int(p.name) for p in Path("/proc").glob("[0-9]*") if _is_session_leader(p)]


def _is_session_leader(proc: Path) -> bool:
    try:
        fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return False
    return int(fields[3]) == int(proc.name) and int(fields[1]) == os.getpid()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--works", type=int, default=100)
    parser.add_argument("--keep", type=Path, help="keep the generated input and logs here")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="bench-object-store-"))
    work.mkdir(parents=True, exist_ok=True)
    source = work / "in"
    if not source.exists():
        generate_corpus(source, args.works, languages=4)
    fifth = sorted(SEEDS.glob("*.txt"))[4].name
    generate_corpus(work / "five", 1, languages=5)
    extra = (work / "five" / "work-00000" / fifth).read_bytes()
    env = {**os.environ, "CORPUS_EMBEDDINGS": "off", "PYTHONPATH": str(ROOT)}
    env = {k: v for k, v in env.items() if not k.startswith("PREFECT_API")}
    rows: list[tuple[str, float, float, str]] = []
    loads = [os.getloadavg()[0]]

    shutil.rmtree(work / "local", ignore_errors=True)
    wall, cpu, summary = _run(["build", str(source), "--out", str(work / "local"), "--workers", "2"], env)
    rows.append(("local folders, `--workers 2`: full build", wall, cpu, f"{summary['timings']}"))
    (source / "work-00000" / fifth).write_bytes(extra)
    wall, cpu, summary = _run(["build", str(source), "--out", str(work / "local"), "--workers", "2"], env)
    rows.append(("local folders: one translation added", wall, cpu, f"{summary['timings']}"))
    (source / "work-00000" / fifth).unlink()
    loads.append(os.getloadavg()[0])

    with s3_server(work / "moto.log") as s3, prefect_server(work / "prefect-home", work / "prefect.log") as (_, penv):
        env = {**env, **penv, **s3}
        os.environ.update(s3)
        import fsspec

        from tasks.fs import open_store

        fsspec.filesystem("s3", skip_instance_cache=True).mkdir("bench")
        store = open_store("s3://bench/in")
        for path in sorted(source.rglob("*.txt")):
            store.write_bytes(path.relative_to(source).as_posix(), path.read_bytes())
        services = set(_sessions())  # moto's and Prefect's servers: not counted
        with dask_cluster(2, env, work / "dask-logs") as address:
            sessions = [pid for pid in _sessions() if pid not in services]  # the scheduler and the workers
            cluster_cpu = _cpu_of_tree(sessions)
            cluster = ["--runner", "dask", "--dask-address", address, "--workers", "2"]
            wall, cpu, summary = _run(["build", "s3://bench/in", "--out", "s3://bench/corpus", *cluster], env)
            spent = _cpu_of_tree(sessions) - cluster_cpu
            out = open_store("s3://bench/corpus")
            listing = out.listing()
            objects = len(listing)
            size = sum(info.size for info in listing.values())
            rows.append(("S3 -> S3, Dask cluster of 2 workers: full build", wall, cpu + spent,
                         f"{summary['timings']}; {objects} objects, {size / 1e6:.1f} MB written"))
            store.write_bytes(f"work-00000/{fifth}", extra)
            cluster_cpu = _cpu_of_tree(sessions)
            wall, cpu, summary = _run(["build", "s3://bench/in", "--out", "s3://bench/corpus", *cluster], env)
            spent = _cpu_of_tree(sessions) - cluster_cpu
            added = len(out.listing()) - objects
            rows.append(("S3 -> S3, Dask cluster: one translation added", wall, cpu + spent,
                         f"{summary['timings']}; {added} new objects"))
    loads.append(os.getloadavg()[0])

    print(f"{args.works} works x 4 languages ({4 * args.works} documents), then a fifth language for one work; "
          f"1-minute load average {min(loads):.1f}-{max(loads):.1f}\n")
    print("| run | wall s | CPU s | per work: wall / CPU ms | stages (s) and objects |")
    print("|---|---|---|---|---|")
    for name, wall, cpu, note in rows:
        per = f"{1000 * wall / args.works:.0f} / {1000 * cpu / args.works:.0f}" if "full" in name else "-"
        print(f"| {name} | {wall:.1f} | {cpu:.1f} | {per} | {note} |")


if __name__ == "__main__":
    main()
