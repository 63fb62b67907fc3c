"""Folder-fuzz campaign for ``dicomtools concordance``: archive-like folder trees, judged.

Each tree mixes valid SRs (the seed cases, a small synthetic cohort, and valid SRs with odd
values: bad dates and ages, Patient Name / ID invalid for their VR holding planted strings)
with what real archive folders hold: copies, hard and symbolic links to files and folders,
truncated and byte-flipped copies, copies without Patient ID under the same SOP Instance UID,
non-SR DICOM, text / HTML / JSON / empty files, bad and duplicated labs files, file names that
are not UTF-8 or hold newlines and escapes, deep folder chains (beyond MAX_DEPTH and beyond
PATH_MAX), symbolic link loops, FIFOs, sockets, links to devices, unreadable files, sparse
files larger than an SR may be; the same folder given twice or nested.

``dicomtools concordance`` is run on each tree in a forked child (in process: ``cli.main``),
with a strict UTF-8 stdout, under a per-tree timeout. Each tree is judged:

- **undocumented**: an exception escaped ``main``, or exit code 1;
- **documented**: a one-line error with a documented exit code;
- **hang**: no answer within the timeout (the child is killed);
- **silent loss**: a valid SR missing from the work-ups, replaced by a different copy without a
  warning, or a table that differs from the table built from the valid SRs alone (plus any
  damaged copy that still read as an SR of its own, which is what the reader is for);
- **flagged**: a copy with the same SOP Instance UID but different content was used and the
  warning said so (documented, counted apart);
- **PHI leak**: a planted name or ID in the output; **unsafe output**: control characters.

Used by tests/test_concordance_folders.py (a bounded campaign) and benchmarks/fuzz_folders.py.
Only long-standing APIs are used (cli.main, collect_reports, concordance, read_sr, write_sr),
so the same campaign measures older versions of the code.
"""

from __future__ import annotations

import io
import json
import multiprocessing
import os
import subprocess
import sys
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # only for annotations: at run time the campaign may measure older code
    pass

from .fuzz_trees import (
    PLANTED,
    Pool,
    Tree,
    _uid,
    build_pool,
    make_tree,
)


# ---- judging ------------------------------------------------------------------------------
def canonical(report) -> dict:
    """The table and statistics of a ConcordanceReport, without file names (warnings)."""
    data = json.loads(report.to_json())
    data.pop("warnings", None)
    for row, patient in zip(data["rows"], report.patients, strict=True):
        row["notes"] = sorted(n for n in row["notes"] if n not in patient.warnings)
    return data


def judge(tree: Tree, captured, warnings_text: list[str]) -> tuple[list[str], int]:
    """(silent losses, flagged replacements) of one run."""
    from . import collect_reports, concordance
    used = [e.report for record in captured.cohort.patients for e in record.exams]
    by_uid: dict[str, list] = {}
    for report in used:
        by_uid.setdefault(_uid(report), []).append(report)
    losses, flagged, expected = [], 0, []
    clean_uids = set()
    for clean in tree.clean:
        uid = _uid(clean)
        clean_uids.add(uid)
        got = by_uid.get(uid, [])
        if any(g == clean for g in got):
            expected.append(clean)
        elif got:
            if any("different content" in w and "SOP Instance UID" in w for w in warnings_text):
                flagged += 1
                expected.extend(got)
            else:
                losses.append(f"exam {uid} replaced by a different copy without a warning")
        else:
            losses.append(f"valid SR {uid} ({clean.procedure}) missing from the table")
    for uid, got in by_uid.items():
        if uid not in clean_uids:
            expected.extend(got)  # a damaged copy that still reads as an SR of its own
    reference = concordance(collect_reports(expected, labs=tree.labs), window_days=tree.window_days)
    if not losses and canonical(reference) != canonical(captured):
        ref, run = canonical(reference), canonical(captured)
        where = next((k for k in ref if ref[k] != run.get(k)), "?")
        losses.append(f"table differs from the valid SRs' table ({where})")
    return losses, flagged


def _unsafe(text: str) -> str:
    """The first output line holding a control or invisible character, '' if none."""
    for line in text.split("\n"):
        line = line[:-1] if line.endswith("\r") else line  # CSV rows end in CR LF
        if any((ord(c) < 0x20 and c != "\t") or c == "\x7f" or 0xD800 <= ord(c) <= 0xDFFF
               or c in "\u202e\u2028\u2029" for c in line):
            return repr(line)[:200]
    return ""


def run_tree(pool: Pool, seed: int, base: Path) -> dict:
    """Make one tree under ``base`` and run the CLI on it, in this process."""
    import dicomtools.concordance as package
    from dicomtools import cli
    started = time.perf_counter()
    tree = make_tree(pool, seed, base)
    captured = []
    original = package.concordance

    def spy(*args, **kwargs):
        result = original(*args, **kwargs)
        captured.append(result)
        return result
    package.concordance = spy
    out_buffer, err_buffer = io.BytesIO(), io.BytesIO()
    out = io.TextIOWrapper(out_buffer, encoding="utf-8", errors="strict", write_through=True)
    err = io.TextIOWrapper(err_buffer, encoding="utf-8", errors="backslashreplace",
                           write_through=True)
    argv = ["concordance", *[os.fsdecode(p) for p in tree.paths], *tree.options]
    result = {"seed": seed, "kinds": tree.kinds, "outcome": "ok", "detail": "", "losses": [],
              "flagged": 0, "phi": [], "unsafe": False}
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = out, err
    try:
        code = cli.main(argv)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 2
    except BaseException as exc:  # this is what the campaign counts
        code = None
        frame = traceback.extract_tb(exc.__traceback__)[-1]
        result["outcome"] = "undocumented"
        result["detail"] = (f"{type(exc).__name__} at {Path(frame.filename).name}:{frame.lineno}: "
                            f"{str(exc)[:160]!r}")
    finally:
        sys.stdout, sys.stderr = saved
        package.concordance = original
    stdout = out_buffer.getvalue().decode("utf-8", "replace")
    stderr = err_buffer.getvalue().decode("utf-8", "replace")
    if code is not None:
        lines = stderr.strip().splitlines()
        if code == 0:
            pass
        elif code in (2, 3, 4, 5, 6) and len(lines) == 1 and lines[0].startswith("dicomtools: error:"):
            result["outcome"] = "documented"
            result["detail"] = lines[0][:200]
        else:
            result["outcome"] = "undocumented"
            result["detail"] = f"exit {code}: {' | '.join(lines)[-300:]}"
    text = stdout + stderr
    result["phi"] = [p for p in PLANTED if p.lower() in text.lower()]
    result["unsafe"] = _unsafe(text)
    result["stderr_noise"] = next((line[:200] for line in stderr.splitlines()
                                   if not line.startswith("dicomtools: error:")), "")
    if captured and result["outcome"] != "undocumented":
        warnings_text = list(captured[-1].cohort.warnings) + [
            w for p in captured[-1].patients for w in p.warnings]
        try:
            result["losses"], result["flagged"] = judge(tree, captured[-1], warnings_text)
        except Exception as exc:  # a judge's defect is a finding of the campaign too
            result["losses"] = [f"judging failed: {type(exc).__name__}: {exc}"]
    result["seconds"] = round(time.perf_counter() - started, 3)
    return result


def _child(pool: Pool, seed: int, base: Path, out: Path) -> None:
    try:
        result = run_tree(pool, seed, base)
    except BaseException as exc:  # the tree itself could not be made
        frame = traceback.extract_tb(exc.__traceback__)[-1]
        result = {"seed": seed, "outcome": "error", "detail": f"campaign: {type(exc).__name__} "
                  f"at {Path(frame.filename).name}:{frame.lineno}: {exc}",
                  "kinds": [], "losses": [], "flagged": 0, "phi": [], "unsafe": False}
    out.write_text(json.dumps(result))


def _remove(path: Path) -> None:
    subprocess.run(["chmod", "-R", "u+rwx", str(path)], capture_output=True)
    subprocess.run(["rm", "-rf", str(path)], capture_output=True)


@dataclass
class Summary:
    results: list[dict]
    seconds: float

    def count(self, outcome: str) -> int:
        return sum(r["outcome"] == outcome for r in self.results)

    @property
    def silent(self) -> list[dict]:
        return [r for r in self.results if r["losses"]]

    @property
    def phi(self) -> list[dict]:
        return [r for r in self.results if r["phi"]]

    @property
    def unsafe(self) -> list[dict]:
        return [r for r in self.results if r["unsafe"]]

    @property
    def stderr_noise(self) -> list[dict]:
        return [r for r in self.results if r.get("stderr_noise")]

    def lines(self) -> list[str]:
        out = [f"cases: {len(self.results)} trees in {self.seconds:.0f} s",
               f"ok: {self.count('ok')}",
               f"documented errors: {self.count('documented')}",
               f"undocumented errors: {self.count('undocumented')}",
               f"hangs: {self.count('hang')}",
               f"silent losses: {len(self.silent)}",
               f"flagged (same UID, different content; warned): "
               f"{sum(r['flagged'] > 0 for r in self.results)}",
               f"PHI leaks: {len(self.phi)}",
               f"unsafe output (control characters): {len(self.unsafe)}",
               f"stderr beyond our one-line error (library warnings): {len(self.stderr_noise)}",
               f"campaign errors (tree not made): {self.count('error')}"]
        groups: dict[str, list[int]] = {}
        for r in self.results:
            if r["outcome"] in ("undocumented", "hang", "error", "documented"):
                key = f"{r['outcome']}: {_shape(r['detail'])}"
                groups.setdefault(key, []).append(r["seed"])
            for loss in r["losses"]:
                groups.setdefault(f"silent: {_shape(loss)}", []).append(r["seed"])
        for key, seeds in sorted(groups.items(), key=lambda kv: -len(kv[1])):
            out.append(f"  {len(seeds):5d}  {key}  (e.g. seed {seeds[0]})")
        return out


def _shape(detail: str) -> str:
    """A message without its variable parts, to group like with like."""
    import re
    detail = re.sub(r"'[^']*'|\"[^\"]*\"", "'…'", detail)
    detail = re.sub(r"/tmp/\S*|\b[\d.]{8,}\b", "…", detail)
    return detail[:150]


def run_campaign(trees: int, seed: int = 0, workers: int | None = None, timeout: float = 30.0,
                 work: Path | None = None, pool: Pool | None = None, progress=None,
                 deadline: float | None = None) -> Summary:
    """Run ``trees`` trees, each in a forked child with a timeout; ``deadline`` (seconds) stops
    starting new trees once passed."""
    import tempfile
    started = time.perf_counter()
    work = Path(work or tempfile.mkdtemp(prefix="fuzz_folders_"))
    work.mkdir(parents=True, exist_ok=True)
    pool = pool or build_pool(work / "pool")
    context = multiprocessing.get_context("fork")
    workers = workers or os.cpu_count() or 1
    running: dict[int, tuple] = {}
    results: list[dict] = []
    next_index = 0
    while next_index < trees or running:
        while (len(running) < workers and next_index < trees
               and (deadline is None or time.perf_counter() - started < deadline)):
            index = next_index
            next_index += 1
            base = work / f"t{index}"
            base.mkdir()
            out = work / f"r{index}.json"
            process = context.Process(target=_child, args=(pool, seed * 1_000_003 + index, base, out))
            process.start()
            running[index] = (process, time.perf_counter(), base, out)
        if deadline is not None and time.perf_counter() - started >= deadline and next_index < trees:
            trees = next_index  # stop starting trees
        time.sleep(0.005)
        for index, (process, begun, base, out) in list(running.items()):
            if process.is_alive() and time.perf_counter() - begun < timeout:
                continue
            if process.is_alive():
                process.kill()
                process.join()
                result = {"seed": seed * 1_000_003 + index, "outcome": "hang",
                          "detail": f"no answer within {timeout:g} s", "kinds": [], "losses": [],
                          "flagged": 0, "phi": [], "unsafe": False}
            else:
                process.join()
                try:
                    result = json.loads(out.read_text())
                except (OSError, ValueError):
                    result = {"seed": seed * 1_000_003 + index, "outcome": "undocumented",
                              "detail": f"child died (exit {process.exitcode})", "kinds": [],
                              "losses": [], "flagged": 0, "phi": [], "unsafe": False}
            result["index"] = index
            results.append(result)
            del running[index]
            _remove(base)
            out.unlink(missing_ok=True)
            if progress:
                progress(len(results), result)
    results.sort(key=lambda r: r["index"])
    return Summary(results, time.perf_counter() - started)
