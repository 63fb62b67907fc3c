"""Benchmark: concordance time against cohort size (is it linear?).

For N patients a synthetic cohort (WB-MRI + I-123 mIBG + histopathology per patient with a
tumour, real SR files) is written, then read and analysed end to end. Prints seconds and
milliseconds per patient for each N; a flat ms/patient column means linear growth.

    python benchmarks/bench_concordance.py [--sizes 100,300,1000,3000]
"""

from __future__ import annotations

import argparse
import gc
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # measure this checkout
from dicomtools.concordance import concordance_of_files  # noqa: E402
from dicomtools.concordance.synthetic import write_cohort  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,300,1000,3000")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"{'patients':>8} {'SR files':>8} {'write s':>8} {'concordance s':>14} {'ms/patient':>11}")
    for n in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            gc.collect()
            t0 = time.perf_counter()
            truth = write_cohort(n, Path(tmp))
            t1 = time.perf_counter()
            report = concordance_of_files([tmp])
            t2 = time.perf_counter()
            if len(report.rows) != n:
                raise SystemExit(f"expected {n} patients, got {len(report.rows)}")
            print(f"{n:>8} {truth['files']:>8} {t1 - t0:>8.2f} {t2 - t1:>14.2f} "
                  f"{1000 * (t2 - t1) / n:>11.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
