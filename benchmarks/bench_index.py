"""Archive index at scale: a synthetic archive (copies of the seed and foreign SRs with new
UIDs and patients), indexed on local cores and on a Dask LocalCluster; peak memory, re-run
time, and a kill -9 mid-run followed by a re-run. Every figure is measured in this run.

    nice python benchmarks/bench_index.py --work /tmp/bench --sizes 10000,100000

Per size it prints (and appends to WORK/results.jsonl): archive generation time; index time
on --workers processes; rows per table; peak RSS of the whole process tree (coordinator and
workers) and of its largest process, sampled every 0.1 s from /proc; the same on a Dask
LocalCluster of --workers processes; re-run time over the unchanged archive as a share of
the first run; kill -9 (the whole process group) once half the files are committed, then a
re-run: row counts against the clean run's, and duplicate checks.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
TABLES = ("reports", "findings", "measurements", "evaluations", "problems")


def _templates(work: Path) -> list[Path]:
    """The seed-case SRs (dicomtools demo) and the foreign corpus (tests/foreign_corpus.py),
    SR files only."""
    from pydicom.filereader import read_file_meta_info

    from dicomtools.sr.read import SR_STORAGE
    seeds, foreign = work / "templates" / "seeds", work / "templates" / "foreign"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    if not seeds.is_dir():
        subprocess.run([sys.executable, "-m", "dicomtools", "demo", "--quick", "--no-validate",
                        "--out", str(seeds)], check=True, stdout=subprocess.DEVNULL, env=env)
    if not foreign.is_dir():
        subprocess.run([sys.executable, str(ROOT / "tests" / "foreign_corpus.py"), str(foreign)],
                       check=True, stdout=subprocess.DEVNULL, env=env)
    out = []
    for path in sorted([*seeds.rglob("*.dcm"), *foreign.rglob("*.dcm")]):
        try:
            if str(read_file_meta_info(path).MediaStorageSOPClassUID) in SR_STORAGE:
                out.append(path)
        except Exception:
            continue
    return out


def _tree_rss(root: int) -> tuple[int, int]:
    """(sum, largest) resident set size in bytes of ``root`` and all its descendants."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                fields = handle.read().rsplit(b")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(entry))
        except (OSError, IndexError, ValueError):
            continue
    total = largest = 0
    stack = [root]
    while stack:
        pid = stack.pop()
        stack.extend(children.get(pid, ()))
        try:
            with open(f"/proc/{pid}/statm") as handle:
                rss = int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            continue
        total += rss
        largest = max(largest, rss)
    return total, largest


def _index(archive: Path, index: Path, *extra: str, kill_at: int | None = None,
           batch: int = 256) -> dict:
    """One `dicomtools index` run as a subprocess (nice 10) with its process tree's memory
    sampled; ``kill_at``: SIGKILL the group once that many files are committed."""
    cmd = ["nice", "-n", "10", sys.executable, "-m", "dicomtools", "index", str(archive), "-o",
           str(index), "--batch", str(batch), *extra]
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)}, start_new_session=True)
    peak_total = peak_one = 0
    killed = False
    while proc.poll() is None:
        total, one = _tree_rss(proc.pid)
        peak_total, peak_one = max(peak_total, total), max(peak_one, one)
        if kill_at is not None and (index / "shards").is_dir() \
                and len(os.listdir(index / "shards")) * batch >= kill_at:
            os.killpg(proc.pid, signal.SIGKILL)
            killed = True
            break
        time.sleep(0.1)
    out, err = proc.communicate()
    seconds = time.perf_counter() - started
    if not killed and proc.returncode != 0:
        raise SystemExit(f"index failed ({proc.returncode}): {err.strip()[-500:]}")
    return {"seconds": round(seconds, 2), "peak_rss_mb": round(peak_total / 2**20, 1),
            "peak_process_rss_mb": round(peak_one / 2**20, 1), "killed": killed,
            "summary": out.strip().splitlines()[0] if out.strip() else ""}


def _counts(index: Path) -> dict[str, int]:
    from dicomtools.archive import connect
    con = connect(index)
    try:
        return {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}
    finally:
        con.close()


def _duplicates(index: Path) -> dict[str, int]:
    from dicomtools.archive import connect
    con = connect(index)
    try:
        one = lambda sql: con.execute(sql).fetchone()[0]
        return {"paths": one("SELECT count(*) - count(DISTINCT source_path) FROM reports_all"),
                "sop_uids": one("SELECT count(*) - count(DISTINCT sop_instance_uid) FROM reports"),
                "findings": one("SELECT count(*) - count(DISTINCT (report_id, finding_index)) "
                                "FROM findings")}
    finally:
        con.close()


def bench(size: int, work: Path, templates: list[Path], workers: int, dask: bool) -> dict:
    from dicomtools.archive.synthetic import make_archive
    archive = work / f"archive-{size}"
    result: dict = {"size": size, "workers": workers}
    marker = archive / ".complete"
    if not marker.exists():
        shutil.rmtree(archive, ignore_errors=True)
        started = time.perf_counter()
        make_archive(templates, archive, size)
        marker.write_text(str(size))
        result["generate_seconds"] = round(time.perf_counter() - started, 1)
    for name in ("idx-local", "idx-dask", "idx-killed"):
        shutil.rmtree(work / f"{name}-{size}", ignore_errors=True)
    local = work / f"idx-local-{size}"
    first = _index(archive, local, "--workers", str(workers))
    result["local"] = {**first, "files_per_second": round(size / first["seconds"], 1)}
    result["rows"] = _counts(local)
    again = _index(archive, local, "--workers", str(workers))
    result["rerun"] = {**again, "share_of_first_run": round(again["seconds"] / first["seconds"], 4)}
    print(json.dumps({"size": size, "local": result["local"], "rows": result["rows"],
                      "rerun": result["rerun"]}), flush=True)
    if dask:
        d = work / f"idx-dask-{size}"
        run = _index(archive, d, "--dask", "local", "--workers", str(workers))
        result["dask"] = {**run, "files_per_second": round(size / run["seconds"], 1),
                          "rows_equal_local": _counts(d) == result["rows"]}
        print(json.dumps({"size": size, "dask": result["dask"]}), flush=True)
    killed = work / f"idx-killed-{size}"
    cut = _index(archive, killed, "--workers", str(workers), kill_at=size // 2)
    partial = _counts(killed)
    resumed = _index(archive, killed, "--workers", str(workers))
    result["kill9"] = {"killed": cut["killed"], "seconds_before_kill": cut["seconds"],
                       "reports_committed_before_kill": partial["reports"],
                       "resume_seconds": resumed["seconds"], "rows_after_resume": _counts(killed),
                       "equal_to_clean_run": _counts(killed) == result["rows"],
                       "duplicates": _duplicates(killed)}
    print(json.dumps({"size": size, "kill9": result["kill9"]}), flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", required=True, help="folder for archives and indexes")
    parser.add_argument("--sizes", default="10000,100000", help="archive sizes (comma-separated)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--no-dask", action="store_true")
    args = parser.parse_args()
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    templates = _templates(work)
    machine = {"date": dt.datetime.now(dt.UTC).isoformat(timespec="minutes"),
               "cpus": os.cpu_count(), "python": platform.python_version(),
               "platform": platform.platform(), "load_avg_at_start": os.getloadavg(),
               "templates": len(templates)}
    print(json.dumps(machine), flush=True)
    for size in (int(s) for s in args.sizes.split(",")):
        result = {**bench(size, work, templates, args.workers, not args.no_dask), "machine": machine}
        with open(work / "results.jsonl", "a") as handle:
            handle.write(json.dumps(result) + "\n")
        print(json.dumps(result, indent=2), flush=True)


if __name__ == "__main__":
    main()
