"""Cold start of the dicomtools command (issue 12), beside ``import pydicom`` and DCMTK.

    python benchmarks/bench_start.py [--runs 11] [--json]

Each command runs ``--runs`` times in a fresh process, the commands interleaved run by run,
and the median wall time is shown, with its ratio to ``python -c "import pydicom"`` measured
in the same run (the figures move with the load of a shared machine; the ratios much less):

- ``python -c pass``: the interpreter alone (this Python, with its site-packages);
- ``python -c "import pydicom"``;
- ``dicomtools --help``: the installed console script (``python -m dicomtools`` if none);
- ``dicomtools read small.dcm``: a seed SR (the fast path: no pydicom);
- ``dicomtools read --json small.dcm``;
- ``dsrdump small.dcm``: DCMTK, when installed.

Issue 12's targets: ``--help`` <= 0.15 s and ``read small.dcm`` <= 0.25 s, where
``import pydicom`` takes 0.22 s.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]


def _dicomtools() -> list[str]:
    script = Path(sys.executable).parent / "dicomtools"
    return [str(script)] if script.is_file() else [sys.executable, "-m", "dicomtools"]


def small_sr(out: Path) -> Path:
    subprocess.run([sys.executable, "-m", "dicomtools", "demo", "--quick", "--no-validate",
                    "--out", str(out)], check=True, capture_output=True, cwd=HERE)
    return out / "case1" / "wbmri.dcm"


def commands(sr: Path) -> dict[str, list[str]]:
    tool = _dicomtools()
    out = {"python -c pass": [sys.executable, "-c", "pass"],
           "import pydicom": [sys.executable, "-c", "import pydicom"],
           "dicomtools --help": [*tool, "--help"],
           "dicomtools read small.dcm": [*tool, "read", str(sr)],
           "dicomtools read --json small.dcm": [*tool, "read", "--json", str(sr)]}
    dsrdump = shutil.which("dsrdump")
    if dsrdump:
        out["dsrdump small.dcm"] = [dsrdump, str(sr)]
    return out


def run_once(argv: list[str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          env={**os.environ, "PYTHONDONTWRITEBYTECODE": "0"})
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed: {done.stderr.decode(errors='replace')[-500:]}")
    return seconds


def measure(cmds: dict[str, list[str]], runs: int) -> dict[str, float]:
    for argv in cmds.values():  # warm: .pyc files and the OS file cache
        run_once(argv)
    times: dict[str, list[float]] = {name: [] for name in cmds}
    for _ in range(runs):
        for name, argv in cmds.items():
            times[name].append(run_once(argv))
    return {name: statistics.median(values) for name, values in times.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=11)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        sr = small_sr(Path(tmp) / "demo")
        figures = measure(commands(sr), args.runs)
        size = sr.stat().st_size
    base = figures["import pydicom"]
    if args.json:
        print(json.dumps({"median_seconds": figures, "ratio_to_import_pydicom":
                          {k: v / base for k, v in figures.items()}, "sr_bytes": size}, indent=2))
        return 0
    import platform
    print(f"{platform.node()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; median of {args.runs} cold "
          f"runs; small.dcm = a seed SR of {size:,} bytes")
    for name, seconds in figures.items():
        print(f"  {name:34} {seconds * 1000:7.0f} ms   {seconds / base:5.2f}x import pydicom")
    return 0


if __name__ == "__main__":
    sys.exit(main())
