"""Folder-fuzz campaign: `dicomtools concordance` on generated archive-like folder trees.

Each tree mixes valid SRs with copies, links, truncated and byte-flipped copies, non-SR
DICOM, text files, bad labs files, odd file names, deep trees, link loops, FIFOs, sockets,
devices, unreadable and oversized files (see dicomtools/concordance/fuzz.py). The CLI runs in
process in a forked child per tree, under a timeout. Prints cases, documented errors,
undocumented errors, hangs, silent losses (the table against the table of the valid SRs
alone), PHI leaks and unsafe output, with the kinds of failure grouped.

    python benchmarks/fuzz_folders.py --trees 10000 [--seed 0] [--workers N] [--timeout 30]
                                      [--minutes 15] [--code DIR] [--json results.json]

--code DIR measures another checkout (e.g. an older commit exported with git archive) with
the same campaign; --minutes stops starting trees after that long.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]


def _load(code: Path):
    """dicomtools from ``code`` (default: this checkout), and this checkout's fuzz module."""
    sys.meta_path[:] = [f for f in sys.meta_path if "editable" not in repr(f).lower()]
    sys.path.insert(0, str(code))
    import dicomtools  # noqa: F401
    import dicomtools.concordance  # noqa: F401
    module = None
    for part in ("fuzz_trees", "fuzz"):  # the trees first: the campaign imports them
        name = f"dicomtools.concordance.{part}"
        spec = importlib.util.spec_from_file_location(name, HERE / f"dicomtools/concordance/{part}.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return module


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trees", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds per tree")
    parser.add_argument("--minutes", type=float, default=None,
                        help="stop starting new trees after this many minutes")
    parser.add_argument("--code", type=Path, default=HERE, help="checkout to measure")
    parser.add_argument("--work", type=Path, default=None, help="scratch folder")
    parser.add_argument("--json", type=Path, default=None, help="write every tree's result here")
    parser.add_argument("--only", type=int, default=None,
                        help="run one tree (its seed) in this process and print its result")
    args = parser.parse_args()
    fuzz = _load(args.code.resolve())
    import dicomtools
    print(f"measuring {Path(dicomtools.__file__).parent}", flush=True)
    if args.only is not None:
        import tempfile
        work = Path(tempfile.mkdtemp(prefix="fuzz_one_"))
        pool = fuzz.build_pool(work / "pool")
        (work / "t").mkdir()
        print(json.dumps(fuzz.run_tree(pool, args.only, work / "t"), indent=2))
        print(f"tree kept in {work / 't'}")
        return 0
    started = time.perf_counter()

    def progress(done: int, result: dict) -> None:
        if done % 250 == 0 or result["outcome"] in ("undocumented", "hang") or result["losses"]:
            print(f"  {done} trees, {time.perf_counter() - started:.0f} s; last: seed "
                  f"{result['seed']} {result['outcome']} {result['detail'][:100]} "
                  f"{'; '.join(result['losses'])[:100]}", flush=True)
    summary = fuzz.run_campaign(args.trees, seed=args.seed, workers=args.workers,
                                timeout=args.timeout, work=args.work, progress=progress,
                                deadline=args.minutes * 60 if args.minutes else None)
    print("\n".join(summary.lines()))
    if args.json:
        args.json.write_text(json.dumps(summary.results, indent=1))
    bad = (summary.count("undocumented") + summary.count("hang") + len(summary.silent)
           + len(summary.phi) + len(summary.unsafe) + len(summary.stderr_noise))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
