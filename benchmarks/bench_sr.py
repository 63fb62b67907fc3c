"""Benchmark: write and read a TID 1500 SR with N lesion groups, three implementations in one run.

What is measured (median ms of ``--repeat`` runs; GC on, gc.collect() before each timing, one process,
after one untimed N=1 warm-up of every implementation so lazy imports and table loads are excluded):

* ours       write = build N ``Finding`` + ``Report`` and ``write_sr`` (encode + atomic file write);
             read  = ``read_sr`` (returns a Report; the 4N numbers are checked afterwards).
* highdicom  write = build N TID 1501 ``MeasurementsAndQualitativeEvaluations`` + ``MeasurementReport``
             + ``ComprehensiveSR`` + ``save_as``; read = ``srread`` + ``get_image_measurement_groups``
             + extract tracking IDs, finding types, sites, measurement values and evaluations.
* pydicom    the floor: the same content tree hand-built as nested Datasets/Sequences (no validation, no
             Image Library) + ``save_as``; read = ``dcmread`` + one recursive walk collecting NUM/CODE values.

Per group: Tracking Identifier + UID, Finding (Lesion), Finding Site (+ Laterality left), 3 diameters (mm),
ADC (um2/s), 2 CODE evaluations (T2 signal, degree of enhancement); MR_small.dcm is the referenced image.
Tracking UIDs are generated before timing and shared by the three implementations.
Every read is verified (group count and the 4N numbers); a mismatch raises.

Known anchors (../shared/reference/ecosystem.md §11 relative to the repo root; 2-core Debian 12, N=1000, similar workload):
highdicom ~21 s write / ~25 s read (~21/25 ms per group); dcmqi C++ tid1500writer/reader ~0.56 s / ~0.47 s;
pydicom hand-built floor 6.7 s write / 3.5 s read.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import highdicom as hd
import pydicom
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sr.codedict import codes
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

# Measure the checkout this script sits in, not whatever dicomtools is installed.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from dicomtools import Finding, Report, __version__ as dicomtools_version
from dicomtools.model import ImageRef
from dicomtools.sr import read_sr, write_sr

COMPREHENSIVE_SR = "1.2.840.10008.5.1.4.1.1.88.33"
MR = pydicom.dcmread(get_testdata_file("MR_small.dcm"))

# The codes ours writes for these fields, so the three trees carry the same concepts.
T2_NAME = ("110805", "DCM", "T2 Weighted MR Signal Intensity")
T2_HYPER = ("RID35805", "RADLEX", "Hyperintense")
ENH_NAME = ("DT002", "99DCMTLS", "Degree of contrast enhancement")
ENH_MILD = ("255604002", "SCT", "Mild")


def lesion_specs(n: int) -> list[dict]:
    """Input values of the N groups (UIDs generated here, outside every timing)."""
    return [{"id": f"Lesion {i}", "uid": generate_uid(),
             "dims": (10.0 + i % 50, 8.0 + i % 7, 5.5), "adc": 800.0 + i} for i in range(n)]


# --- ours -------------------------------------------------------------------------------------------
def ours_write(specs: list[dict], path: Path) -> None:
    ref = ImageRef(MR.SOPClassUID, MR.SOPInstanceUID, MR.SeriesInstanceUID, MR.StudyInstanceUID)
    findings = tuple(
        Finding(present=True, finding="lesion", site="paravertebral", laterality="left",
                dimensions_mm=s["dims"], adc_value=s["adc"], adc_unit="um2/s", t2_signal="hyper",
                enhancement="mild", tracking_id=s["id"], tracking_uid=s["uid"]) for s in specs)
    report = Report(modality="MR", procedure="whole-body MRI", findings=findings, source_images=(ref,))
    write_sr(report, path)


def ours_read(path: Path) -> tuple[int, list[float]]:
    report = read_sr(path)
    numbers = [v for f in report.findings for v in (*(f.dimensions_mm or ()), f.adc_value)
               if v is not None]
    return len(report.findings), numbers


# --- highdicom --------------------------------------------------------------------------------------
def highdicom_write(specs: list[dict], path: Path) -> None:
    um2s = hd.sr.CodedConcept("um2/s", "UCUM", "um2/s")
    groups = []
    for s in specs:
        measurements = [hd.sr.Measurement(name=codes.SCT.Diameter, value=d, unit=codes.UCUM.Millimeter)
                        for d in s["dims"]]
        measurements.append(hd.sr.Measurement(name=codes.DCM.ApparentDiffusionCoefficient,
                                              value=s["adc"], unit=um2s))
        groups.append(hd.sr.MeasurementsAndQualitativeEvaluations(
            tracking_identifier=hd.sr.TrackingIdentifier(uid=s["uid"], identifier=s["id"]),
            finding_type=codes.SCT.Lesion,
            finding_sites=[hd.sr.FindingSite(codes.SCT.SympatheticTrunk, laterality=codes.SCT.Left)],
            measurements=measurements,
            qualitative_evaluations=[
                hd.sr.QualitativeEvaluation(hd.sr.CodedConcept(*T2_NAME), hd.sr.CodedConcept(*T2_HYPER)),
                hd.sr.QualitativeEvaluation(hd.sr.CodedConcept(*ENH_NAME), hd.sr.CodedConcept(*ENH_MILD)),
            ]))
    report = hd.sr.MeasurementReport(
        observation_context=hd.sr.ObservationContext(),
        procedure_reported=codes.cid100.MultiparametricMRIOfWholeBody,
        imaging_measurements=groups, referenced_images=[MR])
    sr = hd.sr.ComprehensiveSR(
        evidence=[MR], content=report[0], series_instance_uid=hd.UID(), series_number=1,
        sop_instance_uid=hd.UID(), instance_number=1, manufacturer="bench")
    sr.save_as(path)


def highdicom_read(path: Path) -> tuple[int, list[float]]:
    sr = hd.sr.srread(path)
    groups = sr.content.get_image_measurement_groups()
    numbers, evaluations = [], 0
    for group in groups:
        _ = (group.tracking_identifier, group.tracking_uid, group.finding_type)
        for site in group.finding_sites:
            _ = (site.value, site.laterality)
        numbers.extend(m.value for m in group.get_measurements())
        evaluations += sum(1 for q in group.get_qualitative_evaluations() if q.value is not None)
    if evaluations != 2 * len(groups):
        raise AssertionError(f"highdicom read: {evaluations} evaluations, expected {2 * len(groups)}")
    return len(groups), numbers


# --- plain pydicom floor ----------------------------------------------------------------------------
def _code(value: str, scheme: str, meaning: str) -> Dataset:
    ds = Dataset()
    ds.CodeValue, ds.CodingSchemeDesignator, ds.CodeMeaning = value, scheme, meaning
    return ds


def _item(relationship: str, value_type: str, name: tuple) -> Dataset:
    ds = Dataset()
    ds.RelationshipType, ds.ValueType, ds.ConceptNameCodeSequence = relationship, value_type, [_code(*name)]
    return ds


def _code_item(relationship: str, name: tuple, value: tuple) -> Dataset:
    ds = _item(relationship, "CODE", name)
    ds.ConceptCodeSequence = [_code(*value)]
    return ds


def _num_item(name: tuple, value: float, unit: tuple) -> Dataset:
    ds = _item("CONTAINS", "NUM", name)
    measured = Dataset()
    measured.MeasurementUnitsCodeSequence = [_code(*unit)]
    measured.NumericValue = f"{value:g}"
    measured.FloatingPointValue = value
    ds.MeasuredValueSequence = [measured]
    return ds


def _container(relationship: str, name: tuple, children: list[Dataset]) -> Dataset:
    ds = _item(relationship, "CONTAINER", name)
    ds.ContinuityOfContent, ds.ContentSequence = "SEPARATE", children
    return ds


def pydicom_write(specs: list[dict], path: Path) -> None:
    diameter, mm = ("81827009", "SCT", "Diameter"), ("mm", "UCUM", "mm")
    groups = []
    for s in specs:
        tracking_id = _item("HAS OBS CONTEXT", "TEXT", ("112039", "DCM", "Tracking Identifier"))
        tracking_id.TextValue = s["id"]
        tracking_uid = _item("HAS OBS CONTEXT", "UIDREF", ("112040", "DCM", "Tracking Unique Identifier"))
        tracking_uid.UID = s["uid"]
        site = _code_item("HAS CONCEPT MOD", ("363698007", "SCT", "Finding Site"),
                          ("44909008", "SCT", "Sympathetic trunk"))
        site.ContentSequence = [_code_item("HAS CONCEPT MOD", ("272741003", "SCT", "Laterality"),
                                           ("7771000", "SCT", "Left"))]
        groups.append(_container("CONTAINS", ("125007", "DCM", "Measurement Group"), [
            tracking_id, tracking_uid,
            _code_item("CONTAINS", ("121071", "DCM", "Finding"), ("52988006", "SCT", "Lesion")), site,
            *(_num_item(diameter, d, mm) for d in s["dims"]),
            _num_item(("113041", "DCM", "Apparent Diffusion Coefficient"), s["adc"],
                      ("um2/s", "UCUM", "um2/s")),
            _code_item("CONTAINS", T2_NAME, T2_HYPER), _code_item("CONTAINS", ENH_NAME, ENH_MILD)]))
    ds = Dataset()
    ds.SOPClassUID, ds.SOPInstanceUID = COMPREHENSIVE_SR, generate_uid()
    ds.StudyInstanceUID, ds.SeriesInstanceUID = MR.StudyInstanceUID, generate_uid()
    ds.Modality, ds.PatientID, ds.PatientName, ds.SeriesNumber, ds.InstanceNumber = "SR", "", "", 1, 1
    ds.ValueType, ds.ContinuityOfContent = "CONTAINER", "SEPARATE"
    ds.ConceptNameCodeSequence = [_code("126000", "DCM", "Imaging Measurement Report")]
    ds.ContentTemplateSequence = [Dataset()]
    ds.ContentTemplateSequence[0].MappingResource = "DCMR"
    ds.ContentTemplateSequence[0].TemplateIdentifier = "1500"
    ds.CompletionFlag, ds.VerificationFlag = "COMPLETE", "UNVERIFIED"
    ds.ContentSequence = [
        _code_item("HAS CONCEPT MOD", ("121049", "DCM", "Language of Content Item and Descendants"),
                   ("en-US", "RFC5646", "English (United States)")),
        _code_item("HAS CONCEPT MOD", ("121058", "DCM", "Procedure reported"),
                   ("126022", "DCM", "Multiparametric MRI of whole body")),
        _container("CONTAINS", ("126010", "DCM", "Imaging Measurements"), groups)]
    meta = ds.file_meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID = COMPREHENSIVE_SR, ds.SOPInstanceUID
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.save_as(path, enforce_file_format=True)


def _walk(sequence, numbers: list[float], code_values: list[str]) -> None:
    for item in sequence:
        value_type = item.ValueType
        if value_type == "NUM":
            numbers.append(float(item.MeasuredValueSequence[0].NumericValue))
        elif value_type == "CODE":
            code_values.append(item.ConceptCodeSequence[0].CodeValue)
        if "ContentSequence" in item:
            _walk(item.ContentSequence, numbers, code_values)


def pydicom_read(path: Path) -> tuple[int, list[float]]:
    ds = pydicom.dcmread(path)
    numbers, code_values = [], []
    _walk(ds.ContentSequence, numbers, code_values)
    groups = code_values.count("52988006")  # one Finding = Lesion per group
    if len(code_values) != 5 * groups + 2:
        raise AssertionError(f"pydicom read: {len(code_values)} CODE values for {groups} groups")
    return groups, numbers


IMPLEMENTATIONS = {"ours": (ours_write, ours_read), "highdicom": (highdicom_write, highdicom_read),
                   "pydicom": (pydicom_write, pydicom_read)}


# --- harness ----------------------------------------------------------------------------------------
def timed(fn, *args):
    gc.collect()
    start = time.perf_counter()
    result = fn(*args)
    return (time.perf_counter() - start) * 1000.0, result


def measure(name: str, n: int, repeat: int, out_dir: Path) -> dict:
    write, read = IMPLEMENTATIONS[name]
    specs, path = lesion_specs(n), out_dir / f"{name}_{n}.dcm"
    want = sorted(round(v, 6) for s in specs for v in (*s["dims"], s["adc"]))
    write_ms, read_ms = [], []
    for _ in range(repeat):
        write_ms.append(timed(write, specs, path)[0])
        ms, (groups, numbers) = timed(read, path)
        read_ms.append(ms)
        if groups != n or [round(v, 6) for v in sorted(numbers)] != want:
            raise AssertionError(f"{name} N={n}: read {groups} groups and {len(numbers)} numbers, "
                                 f"expected {n} groups and the {len(want)} numbers written")
    return {"write_ms": statistics.median(write_ms), "read_ms": statistics.median(read_ms),
            "write_runs_ms": write_ms, "read_runs_ms": read_ms, "bytes": path.stat().st_size}


def fmt(value, digits=1) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def print_table(title: str, head: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(r[c]) for r in [head, *rows]) for c in range(len(head))]
    print(f"\n{title}")
    for i, row in enumerate([head, *rows]):
        print(" | ".join(c.rjust(w) for c, w in zip(row, widths)))
        if i == 0:
            print("-+-".join("-" * w for w in widths))


def print_results(results: dict) -> None:
    def get(n, impl, key):
        return results[n].get(impl, {}).get(key)

    def ratio(n, impl, key):
        return None if get(n, impl, key) is None else get(n, impl, key) / get(n, "ours", key)

    keys = ("write_ms", "read_ms")
    print_table("Times: median ms (W = write, R = read); file sizes in bytes (B)",
                ["N", "ours W", "ours R", "highdicom W", "highdicom R", "pydicom W", "pydicom R",
                 "ours B", "highdicom B", "pydicom B"],
                [[str(n), *(fmt(get(n, i, k)) for i in IMPLEMENTATIONS for k in keys),
                  *(fmt(get(n, i, "bytes"), 0) for i in IMPLEMENTATIONS)] for n in results])
    print_table("Ratios (time / ours time; > 1 means ours is faster)",
                ["N", "highdicom/ours W", "highdicom/ours R", "pydicom/ours W", "pydicom/ours R"],
                [[str(n), *(fmt(ratio(n, i, k)) for i in ("highdicom", "pydicom") for k in keys)]
                 for n in results])
    print("\nours per group (µs): " + "; ".join(
        f"N={n} W {1000 * get(n, 'ours', 'write_ms') / n:,.0f} R {1000 * get(n, 'ours', 'read_ms') / n:,.0f}"
        for n in results))
    largest = max(results)
    print(f"ours at largest N={largest}: {1000 * get(largest, 'ours', 'write_ms') / largest:,.0f} µs/group "
          f"write, {1000 * get(largest, 'ours', 'read_ms') / largest:,.0f} µs/group read")


def machine_info() -> dict:
    return {"python": platform.python_version(), "platform": platform.platform(),
            "pydicom": pydicom.__version__, "highdicom": hd.__version__, "dicomtools": dicomtools_version,
            "cpu_count": os.cpu_count()}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1,10,100,1000", help="comma-separated group counts")
    parser.add_argument("--repeat", type=int, default=3, help="runs per N for ours and pydicom")
    parser.add_argument("--highdicom-repeat", type=int, default=1, help="runs per N for highdicom")
    parser.add_argument("--skip-highdicom", action="store_true")
    parser.add_argument("--out", type=Path, help="directory for the SR files (temporary by default)")
    parser.add_argument("--json", type=Path, help="save the results to this JSON file")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    names = [n for n in IMPLEMENTATIONS if not (args.skip_highdicom and n == "highdicom")]
    repeats = {"ours": args.repeat, "pydicom": args.repeat, "highdicom": args.highdicom_repeat}
    info = machine_info()
    print("machine: " + ", ".join(f"{k} {v}" for k, v in info.items()))
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench_sr_") as tmp:
        out_dir = args.out or Path(tmp)
        out_dir.mkdir(parents=True, exist_ok=True)
        for name in names:  # untimed warm-up: imports, lazy tables, first-call caches
            measure(name, 1, 1, out_dir)
        results: dict[int, dict] = {}
        for n in sizes:
            results[n] = {}
            for name in names:
                results[n][name] = measure(name, n, repeats[name], out_dir)
                r = results[n][name]
                print(f"  N={n:<5} {name:<9} write {r['write_ms']:>10,.1f} ms  read {r['read_ms']:>10,.1f} ms"
                      f"  {r['bytes']:>10,} B", flush=True)
    print_results(results)
    total = time.perf_counter() - started
    print(f"\ntotal wall time: {total:,.1f} s (repeat {args.repeat}, highdicom repeat "
          f"{'skipped' if args.skip_highdicom else args.highdicom_repeat})")
    if args.json:
        args.json.write_text(json.dumps({"machine": info, "argv": sys.argv[1:], "total_s": total,
                                         "results": {str(n): r for n, r in results.items()}}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
