"""Small-SR read throughput (issue 12): sr.fast.read_report beside read_sr and pydicom.

    python benchmarks/bench_read_fast.py [--rounds 5] [--seconds 1.0] [--foreign] [--json]

Over the same files in one run, interleaved round by round (the median round is shown),
in SRs per second of CPU time of this process (one core; CPU time, not wall time, so that
other load on a shared machine changes the figures less):

- ``read_report``: the fast path (fast.STATS says how many files fell back to read_sr);
- ``read_sr``: the full reader (pydicom);
- ``dcmread+walk``: ``pydicom.dcmread`` and every element's value (the floor of any reader
  that reads the header and the content tree through pydicom: ~550/s in issue 12);
- ``dcmread (lazy)``: ``pydicom.dcmread`` alone, no value converted (reads nothing a
  Report needs; shown for scale);
- ``header: fast_parse`` / ``header: pydicom``: the header part alone, the attributes the
  mapping reads (what fast_parse.py does instead of pydicom).

The files: the 12 seed SRs (``dicomtools demo --quick --no-validate``) and, with
``--foreign``, the foreign corpus (tests/foreign_corpus.py).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(HERE))


def seed_files(out: Path) -> list[Path]:
    import io

    from dicomtools.demo import run
    run(HERE / "sample_data" / "cases", out, (), io.StringIO())
    files = sorted(p for p in out.glob("case*/*.dcm"))
    assert len(files) == 12, files
    return files


def foreign_files(out: Path) -> list[Path]:
    sys.path.insert(0, str(HERE / "tests"))
    import foreign_corpus
    return [entry.path for entry in foreign_corpus.build_corpus(out)]


def _walk(ds) -> None:
    for elem in ds:
        if elem.VR == "SQ":
            for item in elem.value:
                _walk(item)
        else:
            elem.value  # noqa: B018  (converts the raw value, as any reader of it does)


def readers() -> dict[str, Callable[[Path], object]]:
    import pydicom

    from dicomtools.sr.fast import read_report
    from dicomtools.sr.read import read_sr

    def walk(path: Path) -> None:
        _walk(pydicom.dcmread(path))

    return {"read_report": read_report, "read_sr": read_sr, "dcmread+walk": walk,
            "dcmread (lazy)": pydicom.dcmread, "header: fast_parse": _fast_header,
            "header: pydicom": _pydicom_header}


# The header part alone (what fast_parse.py replaces): the attributes the mapping reads.
_HEADER = ("SpecificCharacterSet", "SOPClassUID", "SOPInstanceUID", "StudyInstanceUID",
           "SeriesInstanceUID", "PatientName", "PatientID", "IssuerOfPatientID",
           "PatientBirthDate", "PatientSex", "PatientAge", "StudyDate", "StudyTime", "StudyID",
           "AccessionNumber", "StudyDescription", "ContentDate", "ReasonForVisit")


def _fast_header(path: Path) -> None:
    from dicomtools.sr.fast_parse import NotFast, parse
    try:
        parse(path.read_bytes())
    except NotFast:  # a file read_report leaves to read_sr: the time to find out
        pass


def _pydicom_header(path: Path) -> None:
    import pydicom
    ds = pydicom.dcmread(path)
    for keyword in _HEADER:
        ds.get(keyword)
    for keyword in ("ContentTemplateSequence", "ConceptNameCodeSequence",
                    "PerformedProcedureCodeSequence"):
        for item in ds.get(keyword) or ():
            item.get("CodeMeaning"), item.get("CodeValue"), item.get("TemplateIdentifier")
    for keyword in ("CurrentRequestedProcedureEvidenceSequence", "PertinentOtherEvidenceSequence"):
        for study in ds.get(keyword) or ():
            study.get("StudyInstanceUID")
            for series in study.get("ReferencedSeriesSequence") or ():
                series.get("SeriesInstanceUID")
                for sop in series.get("ReferencedSOPSequence") or ():
                    sop.get("ReferencedSOPClassUID"), sop.get("ReferencedSOPInstanceUID")
    ds.get_item(0x0040A730)  # the content, raw


def rate(read: Callable[[Path], object], files: list[Path], seconds: float) -> float:
    """SRs per CPU second, reading the files over and over for ``seconds`` of CPU time."""
    count, start = 0, time.process_time()
    while time.process_time() - start < seconds:
        for path in files:
            read(path)
        count += len(files)
    return count / (time.process_time() - start)


def measure(files: list[Path], rounds: int, seconds: float) -> dict[str, float]:
    from dicomtools.sr import fast
    funcs = readers()
    for read in funcs.values():  # warm: imports, caches, the OS file cache
        for path in files:
            read(path)
    fast.STATS.reset()
    results: dict[str, list[float]] = {name: [] for name in funcs}
    for _ in range(rounds):
        for name, read in funcs.items():
            results[name].append(rate(read, files, seconds))
    return {name: statistics.median(values) for name, values in results.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=1.0, help="CPU seconds per reader per round")
    parser.add_argument("--foreign", action="store_true", help="also the foreign corpus")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    from dicomtools.sr import fast
    with tempfile.TemporaryDirectory() as tmp:
        sets = {"seed SRs": seed_files(Path(tmp) / "seed")}
        if args.foreign:
            sets["foreign SRs"] = foreign_files(Path(tmp) / "foreign")
        out = {}
        for label, files in sets.items():
            figures = measure(files, args.rounds, args.seconds)
            reads = fast.STATS.fast + fast.STATS.fallback
            out[label] = {"files": len(files), "mean_bytes": sum(p.stat().st_size for p in files) // len(files),
                          "srs_per_cpu_second": figures,
                          "fast_share": fast.STATS.fast / reads if reads else 0.0,
                          "fallback_reasons": dict(fast.STATS.reasons)}
    if args.json:
        print(json.dumps(out, indent=2))
        return 0
    import platform
    print(f"{platform.node()} {platform.processor() or platform.machine()}, Python "
          f"{platform.python_version()}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    for label, result in out.items():
        figures = result["srs_per_cpu_second"]
        print(f"\n{label}: {result['files']} files, {result['mean_bytes']:,} bytes on average; "
              f"fast path taken for {result['fast_share']:.0%} of reads "
              f"{result['fallback_reasons'] or ''}")
        for name, value in figures.items():
            print(f"  {name:16} {value:8,.0f} SRs/s   {1000 / value:6.3f} ms/SR")
        fast_rate = figures["read_report"]
        print(f"  read_report / read_sr        {fast_rate / figures['read_sr']:.2f}x")
        print(f"  read_report / dcmread+walk   {fast_rate / figures['dcmread+walk']:.2f}x")
        print(f"  read_report / dcmread (lazy) {fast_rate / figures['dcmread (lazy)']:.2f}x")
        print(f"  header: fast_parse / pydicom {figures['header: fast_parse'] / figures['header: pydicom']:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
