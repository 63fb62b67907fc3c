"""Benchmark: verified batch send and fetch of small SRs against a private, real Orthanc.

Starts its own Orthanc (tests/pacs_server.py: free 127.0.0.1 ports, temporary storage, stopped
by PID at the end), writes N one-finding SRs per run (each run a new study), and times:

* send   ``dicomtools.pacs.send`` = presence query, C-STORE / STOW-RS, verification query, for
         every instance (chunked queries, see dicomtools/pacs/batch.py), at each concurrency;
* again  the same files sent again without a manifest: every one found "already present";
* fetch  ``fetch_reports`` of the first 100 by C-GET, C-MOVE and WADO-RS (per instance).

    python benchmarks/bench_pacs.py                        # N=1000, concurrency 1 and 4
    python benchmarks/bench_pacs.py -n 300 --concurrency 4 --json pacs.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))            # measure this checkout
sys.path.insert(0, str(ROOT / "tests"))  # the Orthanc helper the tests use

from dicomtools import pacs  # noqa: E402
from pacs_server import Orthanc, make_batch  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=1000, help="SRs per run (default 1000)")
    parser.add_argument("--concurrency", default="1,4", help="comma-separated (default 1,4)")
    parser.add_argument("--json", metavar="FILE", help="write the results as JSON")
    args = parser.parse_args()
    levels = [int(c) for c in args.concurrency.split(",")]

    with tempfile.TemporaryDirectory(prefix="bench-pacs-") as tmp:
        tmp = Path(tmp)
        server = Orthanc(tmp / "orthanc", "/usr/sbin/Orthanc")
        (tmp / "orthanc").mkdir()
        server.start()
        rows = []
        try:
            for protocol, address in (("DIMSE", server.pacs), ("STOW-RS", server.dicomweb)):
                for concurrency in levels:
                    folder = tmp / f"{protocol}-{concurrency}"
                    started = time.monotonic()
                    study, _ = make_batch(folder, args.n)
                    made = time.monotonic() - started
                    sent = pacs.send(address, [folder], concurrency=concurrency)
                    assert sent.count("stored") == args.n, sent.counts()
                    again = pacs.send(address, [folder], concurrency=concurrency)
                    assert again.count("already present") == args.n, again.counts()
                    rows.append({"protocol": protocol, "concurrency": concurrency, "n": args.n,
                                 "generate_s": round(made, 2), "send_s": round(sent.seconds, 2),
                                 "send_per_s": round(sent.rate, 1),
                                 "again_per_s": round(again.rate, 1)})
                    print(f"{protocol:8} concurrency {concurrency}: {args.n} SRs sent and verified in "
                          f"{sent.seconds:.1f} s = {sent.rate:.0f}/s; re-send (all present) "
                          f"{again.rate:.0f}/s", flush=True)
            fetched = []
            uids = [r["SOPInstanceUID"] for r in pacs.find(server.pacs, "instance", StudyInstanceUID=study)][:100]
            for name, address, extra in (("C-GET", server.pacs, {}),
                                         ("C-MOVE", server.pacs, {"move_port": server.move_port}),
                                         ("WADO-RS", server.dicomweb, {})):
                started = time.monotonic()
                reports = pacs.fetch_reports(address, SOPInstanceUID=uids, **extra)
                seconds = time.monotonic() - started
                assert len(reports) == len(uids)
                fetched.append({"method": name, "n": len(uids), "per_s": round(len(uids) / seconds, 1)})
                print(f"fetch_reports by {name:7}: {len(uids)} in {seconds:.2f} s = {len(uids) / seconds:.0f}/s")
        finally:
            server.stop()
    if args.json:
        Path(args.json).write_text(json.dumps({
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                        "load_avg": os.getloadavg()},
            "send": rows, "fetch": fetched}, indent=2))


if __name__ == "__main__":
    main()
