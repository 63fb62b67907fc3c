"""How much of other tools' SRs our reader recovers, measured end to end.

    python benchmarks/foreign_recovery.py                 # build the corpus (tests/foreign_corpus.py)
    python benchmarks/foreign_recovery.py DIR [DIR ...]   # every *.dcm under the folders
    options: --json OUT.json  --keep DIR (keep corpus + re-writes)  --details (list every loss)

For every file: read it with ``dicomtools.sr.read.read_sr``; a refusal (SRReadError) is counted
with its message. A file that reads is written again with ``dicomtools.sr.write.write_sr``
(a failure is counted with its message). The independent walker ``tests/sr_walk.py`` (plain
pydicom) lists the measurement groups of the original and of the re-write, and each original
NUM (concept + value + unit, physical units converted: length, area, volume, activity,
diffusivity) and each qualitative evaluation (concept + value) is looked up in the paired
re-written group (by Tracking UID, else by order). Nothing here uses the model's fields, so
the figure holds whatever shape the model takes. Files that are not SR (SOP Class outside
1.2.840.10008.5.1.4.1.1.88.*) are listed as skipped when a folder is given. No PixelMed.

Given folders, the tool column is the first folder level under each DIR (or DIR's name).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import traceback
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pydicom

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
try:  # an installed or PYTHONPATH dicomtools wins (to measure another checkout); else this one
    import dicomtools
except ImportError:
    sys.path.insert(1, str(ROOT))
    import dicomtools

import sr_walk  # noqa: E402

from dicomtools.errors import SRReadError  # noqa: E402
from dicomtools.sr.read import read_sr  # noqa: E402
from dicomtools.sr.write import write_sr  # noqa: E402

SR_PREFIX = "1.2.840.10008.5.1.4.1.1.88."


@dataclass
class FileResult:
    path: str
    tool: str
    name: str
    status: str  # ok | refused | crashed | write-failed | not-sr
    message: str = ""
    groups: int = 0
    nums: tuple[int, int] = (0, 0)
    evaluations: tuple[int, int] = (0, 0)
    derivations: tuple[int, int] = (0, 0)
    lost_nums: list[str] = field(default_factory=list)
    lost_evaluations: list[str] = field(default_factory=list)
    warnings: int = 0


def _one_line(text: str, limit: int = 160) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def measure(path: Path, tool: str, name: str, rewrite_dir: Path) -> FileResult:
    try:
        original = sr_walk.walk_file(path)
    except Exception as exc:  # the yardstick cannot read it: not counted as ours
        return FileResult(str(path), tool, name, "not-sr", f"pydicom cannot read: {exc}")
    result = FileResult(str(path), tool, name, "ok", groups=len(original.groups))
    rewritten = None
    try:
        report = read_sr(path)
        result.warnings = len(report.warnings)
    except SRReadError as exc:
        result.status, result.message = "refused", _one_line(exc)
        report = None
    except Exception as exc:  # a reader bug, not a refusal
        result.status = "crashed"
        result.message = _one_line(f"{type(exc).__name__}: {exc} "
                                   f"@ {traceback.extract_tb(exc.__traceback__)[-1].name}")
        report = None
    if report is not None:
        out = rewrite_dir / f"{tool}__{name}.dcm"
        try:
            write_sr(report, out)
            rewritten = sr_walk.walk_file(out)
        except Exception as exc:
            result.status, result.message = "write-failed", _one_line(f"{type(exc).__name__}: {exc}")
    comparison = sr_walk.compare(original, rewritten)
    result.nums = comparison.nums
    result.evaluations = comparison.evaluations
    result.derivations = comparison.derivations_kept
    for g in comparison.groups:
        result.lost_nums += [n.label() for n in g.nums_missing]
        result.lost_evaluations += [e.label() for e in g.evaluations_missing]
    return result


def _files_in(folders: list[Path]) -> list[tuple[Path, str, str]]:
    found = []
    for folder in folders:
        folder = folder.resolve()
        paths = [folder] if folder.is_file() else sorted(folder.rglob("*.dcm"))
        for path in paths:
            rel = path.relative_to(folder) if folder.is_dir() else Path(path.name)
            if "inputs" in rel.parts[:-1]:
                continue  # a built corpus' images, SEGs and tool inputs
            tool = rel.parts[0] if len(rel.parts) > 1 else folder.name if folder.is_dir() else folder.parent.name
            try:
                sop = str(pydicom.dcmread(path, stop_before_pixels=True,
                                          specific_tags=["SOPClassUID"]).get("SOPClassUID", ""))
            except Exception:
                sop = ""
            if not sop.startswith(SR_PREFIX):
                found.append((path, tool, "NOT-SR:" + (sop or "unreadable")))
                continue
            found.append((path, tool, path.stem))
    return found


def run(folders: list[Path], keep: Path | None) -> tuple[list[FileResult], list[tuple[str, str]], dict]:
    work = keep or Path(tempfile.mkdtemp(prefix="foreign_recovery_"))
    rewrite_dir = work / "rewritten"
    rewrite_dir.mkdir(parents=True, exist_ok=True)
    skipped: list[tuple[str, str]] = []
    provenance: dict[str, str] = {}
    if folders:
        files = _files_in(folders)
    else:
        import foreign_corpus
        corpus = foreign_corpus.build_corpus(work / "corpus")
        skipped = corpus.skipped
        files = [(e.path, e.tool, e.name) for e in corpus]
        provenance = {e.tool: e.provenance for e in corpus}
    results = []
    for path, tool, name in files:
        if name.startswith("NOT-SR:"):
            results.append(FileResult(str(path), tool, path.stem, "not-sr", name[7:]))
            continue
        results.append(measure(path, tool, name, rewrite_dir))
    return results, skipped, provenance


def _ratio(a: int, b: int) -> str:
    return f"{a}/{b}" if b else "-"


def summarise(results: list[FileResult]) -> dict:
    per_tool: dict[str, dict] = defaultdict(lambda: defaultdict(int))
    for r in results:
        t = per_tool[r.tool]
        if r.status == "not-sr":
            t["not_sr"] += 1
            continue
        t["files"] += 1
        t["read"] += r.status in ("ok", "write-failed")
        t["refused"] += r.status == "refused"
        t["crashed"] += r.status == "crashed"
        t["rewritten"] += r.status == "ok"
        t["write_failed"] += r.status == "write-failed"
        t["groups"] += r.groups
        t["num_found"] += r.nums[0]
        t["num_total"] += r.nums[1]
        t["eval_found"] += r.evaluations[0]
        t["eval_total"] += r.evaluations[1]
        t["deriv_kept"] += r.derivations[0]
        t["deriv_total"] += r.derivations[1]
    totals: dict[str, int] = defaultdict(int)
    for t in per_tool.values():
        for k, v in t.items():
            totals[k] += v
    return {"per_tool": {k: dict(v) for k, v in sorted(per_tool.items())}, "totals": dict(totals)}


def print_report(results: list[FileResult], summary: dict, skipped, details: bool) -> None:
    print(f"dicomtools from {Path(dicomtools.__file__).resolve().parent}")
    header = (f"{'tool':10} {'files':>5} {'read':>5} {'refused':>7} {'crashed':>7} {'rewrite':>7} "
              f"{'wfail':>5} {'groups':>6} {'NUM':>9} {'eval':>7} {'deriv':>7}")
    print(header)
    print("-" * len(header))
    rows = [*summary["per_tool"].items(), ("TOTAL", summary["totals"])]
    for tool, t in rows:
        def g(key: str, t: dict = t) -> int:
            return t.get(key, 0)
        print(f"{tool:10} {g('files'):5} {g('read'):5} {g('refused'):7} {g('crashed'):7} "
              f"{g('rewritten'):7} {g('write_failed'):5} {g('groups'):6} "
              f"{_ratio(g('num_found'), g('num_total')):>9} {_ratio(g('eval_found'), g('eval_total')):>7} "
              f"{_ratio(g('deriv_kept'), g('deriv_total')):>7}")
    print()
    for r in results:
        if r.status == "not-sr":
            continue
        flag = "" if r.status == "ok" else f" [{r.status}: {r.message}]"
        print(f"  {r.tool:9} {r.name:34} groups {r.groups:2}  NUM {_ratio(*r.nums):>6}  "
              f"eval {_ratio(*r.evaluations):>5}{flag}")
        if details:
            for label in r.lost_nums:
                print(f"      lost NUM  {label}")
            for label in r.lost_evaluations:
                print(f"      lost eval {label}")
    not_sr = [r for r in results if r.status == "not-sr"]
    if not_sr:
        print(f"\n  {len(not_sr)} file(s) skipped as not SR")
    for tool, why in skipped:
        print(f"  corpus: {tool} skipped ({why})")
    t = summary["totals"]
    print(f"\nNUM recovered {t.get('num_found', 0)}/{t.get('num_total', 0)}, "
          f"evaluations recovered {t.get('eval_found', 0)}/{t.get('eval_total', 0)}, "
          f"files refused {t.get('refused', 0)}/{t.get('files', 0)}"
          f" (crashed {t.get('crashed', 0)}, re-write failed {t.get('write_failed', 0)})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folders", nargs="*", type=Path)
    parser.add_argument("--json", type=Path, help="write every per-file result here")
    parser.add_argument("--keep", type=Path, help="build the corpus and re-writes here (kept)")
    parser.add_argument("--details", action="store_true", help="list every lost NUM and evaluation")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    results, skipped, provenance = run(args.folders, args.keep)
    summary = summarise(results)
    print_report(results, summary, skipped, args.details)
    print(f"({len(results)} files in {time.perf_counter() - started:.1f} s)")
    if args.json:
        args.json.write_text(json.dumps({
            "dicomtools": str(Path(dicomtools.__file__).resolve().parent),
            "summary": summary, "provenance": provenance, "skipped": skipped,
            "files": [r.__dict__ for r in results]}, indent=1, default=list))
    return 0


if __name__ == "__main__":
    sys.exit(main())
