"""dcmqi TID 1500 JSON both ways, against dcmqi's real binaries (tid1500writer, tid1500reader).

* export: every seed SR (and case 1's SEG-based TID 1411 SR) -> JSON that validates against
  dcmqi's own schema -> tid1500writer -> our read_sr gives the same findings (what dcmqi's
  JSON cannot hold is asserted as exactly that, nothing more);
* import: dcmqi's own examples (tests/data/dcmqi, see NOTICE there), with source images, SEG
  and RWVM generated here under the UIDs the examples name -> import_json -> write_sr ->
  tid1500reader gives the measurements of the example, and of dcmqi's own writer;
* the full circle: our SR -> export -> tid1500writer -> tid1500reader -> import_json;
* bad input: InputError naming file, JSON path and value; no file written.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pydicom
import pytest
from pydicom.uid import RealWorldValueMappingStorage, generate_uid

from dicomtools.errors import InputError
from dicomtools.sr.read import read_sr
from dicomtools.sr.validate import validate
from dicomtools.sr.write import write_sr
from tests.conftest import SAMPLES, require_tool

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data" / "dcmqi"
sys.path.insert(0, str(ROOT / "tests"))
import foreign_corpus  # noqa: E402

dcmqi = importlib.import_module("dicomtools.interop.dcmqi")
EXAMPLES = ("sr-tid1500-example", "sr-tid1500-example-nan", "sr-tid1500-qualitative",
            "sr-tid1500-ct-liver-example")


def _run(args: list[str]) -> subprocess.CompletedProcess:
    proc = subprocess.run(args, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"{args[0]} failed: {proc.stdout[-1500:]} {proc.stderr[-1500:]}"
    return proc


def tid1500writer(meta: Path, out: Path, images: Path | None, context: Path | None) -> Path:
    args = [require_tool("tid1500writer"), "--inputMetadata", str(meta), "--outputDICOM", str(out)]
    if images is not None:
        args += ["--inputImageLibraryDirectory", str(images)]
    if context is not None:
        args += ["--inputCompositeContextDirectory", str(context)]
    _run(args)
    assert out.is_file()
    return out


def tid1500reader(sr: Path, out: Path) -> dict:
    _run([require_tool("tid1500reader"), "--inputDICOM", str(sr), "--outputMetadata", str(out)])
    return json.loads(out.read_text())


def schema_validator():
    """dcmqi's schema with its two referenced schemas resolved from tests/data/dcmqi."""
    jsonschema = pytest.importorskip("jsonschema")
    referencing = pytest.importorskip("referencing")
    resources = []
    for path in sorted((DATA / "schemas").glob("*.json")):
        schema = json.loads(path.read_text())
        resources.append((schema["id"].rstrip("#"), referencing.Resource.from_contents(
            schema, default_specification=referencing.jsonschema.DRAFT4)))
    registry = referencing.Registry().with_resources(resources)
    main = json.loads((DATA / "schemas" / "sr-tid1500-schema.json").read_text())
    return jsonschema.Draft4Validator(main, registry=registry)


# ---- seed SRs -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    """The 12 seed SRs and case 1's SEG + TID 1411 SR, as `dicomtools demo --quick` writes them."""
    out = tmp_path_factory.mktemp("dcmqi_demo")
    proc = subprocess.run([sys.executable, "-m", "dicomtools", "demo", "--quick", "--no-validate",
                           "--out", str(out)], capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return out


SEEDS = [f"case{c}/{e}" for c, exams in ((1, ("wbmri", "mibg", "us", "pathology")),
                                         (2, ("wbmri", "mibg", "us", "pathology")),
                                         (3, ("wbmri", "mibg", "antigd2", "pathology")))
         for e in exams] + ["masks/sr"]


def _source_dirs(demo: Path, key: str) -> tuple[Path | None, Path | None]:
    """(image folder, composite context folder) of a seed SR."""
    if key == "masks/sr":
        return SAMPLES / "case1" / "wbmri", demo / "masks"
    folder = SAMPLES / key
    return (folder, folder) if folder.is_dir() else (None, None)  # pathology: no images


# What dcmqi's JSON cannot hold, per finding (docs/dcmqi.md): the placeholder segmentation
# comes back as a Referenced Segment, the centre of mass (SCOORD3D) is lost.
def _comparable(finding, placeholder: bool) -> dict:
    out = finding.to_json()
    for key in ("modality", "procedure"):
        out.pop(key)
    if placeholder:
        assert out["roi"] is None or out["roi"]["seg_instance_uid"].startswith(dcmqi.PLACEHOLDER_ROOT)
        out.pop("roi")
    elif out["roi"] is not None:
        out["roi"] = {k: out["roi"][k] for k in ("seg_instance_uid", "segment_number",
                                                  "source_series_uid")}
    return out


@pytest.mark.parametrize("key", SEEDS)
def test_seed_sr_exports_and_dcmqi_writes_it_back(demo: Path, tmp_path: Path, key: str) -> None:
    sr = demo / f"{key}.dcm"
    images, context = _source_dirs(demo, key)
    original = read_sr(sr)
    meta, notes = dcmqi.export_report(original, source_dir=images, context_dir=context,
                                      placeholder_segments=True)
    assert meta == dcmqi.export_json(sr, images, context, placeholder_segments=True)
    errors = sorted(schema_validator().iter_errors(meta), key=str)
    assert not errors, [e.message for e in errors]
    meta_path = tmp_path / "meta.json"
    meta_path.write_text(json.dumps(meta))
    back = read_sr(tid1500writer(meta_path, tmp_path / "dcmqi.dcm", images, context))

    assert len(back.findings) == len(original.findings) >= 1
    placeholder = original.findings[0].roi is None
    assert any("placeholder" in n for n in notes) == placeholder
    for a, b in zip(original.findings, back.findings, strict=True):
        assert _comparable(b, placeholder) == _comparable(a, placeholder)
    if original.findings[0].roi and original.findings[0].roi.centroid_lps_mm:
        assert back.findings[0].roi.centroid_lps_mm is None  # SCOORD3D: not in dcmqi's JSON
        assert any("SCOORD3D" in n for n in notes)
    assert back.observer == original.observer
    if images is None:  # no composite context: dcmqi writes a new study and no patient
        assert back.study.instance_uid != original.study.instance_uid
        assert (back.patient.id, back.patient.name) == (None, None)
        assert any("no patient or study" in n for n in notes)
    else:
        assert back.study.instance_uid == original.study.instance_uid
        assert back.patient == original.patient
    # images (and the SEG) are evidence again; dcmqi adds the composite context image once more
    assert {r.sop_instance_uid for r in back.source_images} == \
        {r.sop_instance_uid for r in original.source_images}
    if original.impression is not None:
        assert back.impression is None and any("Impression" in n for n in notes)
    if images == context:  # our own JSON imports straight back (placeholder segment dropped)
        imported = dcmqi.import_json(meta_path, images or tmp_path)
        assert [_comparable(f, placeholder) for f in imported.findings] == [
            _comparable(f, placeholder) for f in original.findings]
        assert placeholder == (imported.findings[0].roi is None)
    # Procedure: dcmqi writes no Performed Procedure Code, so the NM procedures (which share
    # "NM unspecified body region") come back as that code; the others by name.
    if original.modality == "NM":
        from dicomtools.sr.write import _procedure_codes
        reported = _procedure_codes(original.procedure)[0]
        assert back.procedure == reported and str(reported) == "NM unspecified body region"
    elif original.modality == "SM":
        assert back.procedure is None  # no images: "Imaging procedure" names none
    else:
        assert back.procedure == original.procedure


def test_acquisition_context_is_named_in_the_notes(demo: Path) -> None:
    meta, notes = dcmqi.export_report(read_sr(demo / "case1" / "mibg.dcm"),
                                      source_dir=SAMPLES / "case1" / "mibg", placeholder_segments=True)
    group = meta["Measurements"][0]
    assert [i["quantity"]["CodeMeaning"] for i in group["measurementItems"]] == ["Administered activity"]
    assert any("Radiopharmaceutical" in n and "acquisition context" in n for n in notes)
    assert any("Administered activity" in n and "measurement item" in n for n in notes)


def test_several_vertebrae_become_site_vertebra_with_levels(tmp_path: Path) -> None:
    from dicomtools import Finding, Report
    report = Report(modality="MR", procedure="whole-body MRI", findings=(Finding(
        present=True, finding="mass", site="vertebra", laterality="right",
        vertebral_levels="T11-L1", dimensions_mm=(12,)),))
    written = read_sr(write_sr(report, tmp_path / "v.dcm"))
    meta, _ = dcmqi.export_report(written, placeholder_segments=True)
    group = meta["Measurements"][0]
    assert group["FindingSite"]["CodeMeaning"] == "Vertebra"
    assert [e["conceptValue"]["CodeMeaning"] for e in group["qualitativeEvaluations"]
            if e["conceptCode"]["CodeMeaning"] == "Vertebral level"] == [
        "T11 vertebra", "T12 vertebra", "L1 vertebra"]
    (tmp_path / "m.json").write_text(json.dumps(meta))
    back = read_sr(tid1500writer(tmp_path / "m.json", tmp_path / "d.dcm", None, None))
    assert (back.findings[0].site, back.findings[0].laterality, back.findings[0].vertebral_levels) \
        == ("vertebra", "right", ("T11", "T12", "L1"))


# ---- dcmqi's own examples -----------------------------------------------------------------
def example_inputs(name: str, folder: Path) -> dict:
    """Files the example names, under the UIDs it names: the MR slices of sample case 1 as
    the source series, a SEG (highdicom, via foreign_corpus) and a Real World Value Map."""
    meta = json.loads((DATA / f"{name}.json").read_text())
    group = meta["Measurements"][0]
    folder.mkdir(parents=True, exist_ok=True)
    images = []
    for file_name, ds in zip(meta["imageLibrary"], foreign_corpus._mr(), strict=False):
        ds.SeriesInstanceUID = group["SourceSeriesForImageSegmentation"]
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
        ds.save_as(folder / file_name)
        images.append(ds)
    assert len(images) == len(meta["imageLibrary"])
    for file_name in meta["compositeContext"]:
        if "rwvm" in file_name:
            rwvm = pydicom.Dataset()
            for keyword in ("PatientID", "PatientName", "StudyInstanceUID", "StudyDate", "StudyTime"):
                setattr(rwvm, keyword, images[0].get(keyword))
            rwvm.SOPClassUID = RealWorldValueMappingStorage
            rwvm.SOPInstanceUID = group["rwvmMapUsedForMeasurement"]
            rwvm.SeriesInstanceUID, rwvm.Modality = generate_uid(), "RWV"
            rwvm.file_meta = pydicom.dataset.FileMetaDataset()
            rwvm.file_meta.MediaStorageSOPClassUID = rwvm.SOPClassUID
            rwvm.file_meta.MediaStorageSOPInstanceUID = rwvm.SOPInstanceUID
            rwvm.file_meta.TransferSyntaxUID = pydicom.uid.ExplicitVRLittleEndian
            rwvm.save_as(folder / file_name, enforce_file_format=True)
        else:
            seg = foreign_corpus._seg(images, ["lesion"], folder / file_name)
            seg.SOPInstanceUID = seg.file_meta.MediaStorageSOPInstanceUID = \
                group["segmentationSOPInstanceUID"]
            seg.save_as(folder / file_name)
    return meta


def _key(code: dict | None) -> tuple[str, str] | None:
    return (code["CodingSchemeDesignator"], code["CodeValue"]) if code else None


def _groups(meta: dict) -> list[dict]:
    """The measurements of a dcmqi JSON, compared by code (scheme, value), number and unit:
    what a TID 1500 SR holds, not how a tool spells meanings or orders rows."""
    from dicomtools import terms
    out = []
    for group in meta.get("Measurements", []):
        items = []
        for item in group.get("measurementItems", []):
            if item["value"].strip().lower() == "nan":
                continue  # tid1500writer skips it (and says so)
            items.append((
                _key(item["quantity"]), _key(item.get("derivationModifier")),
                item["units"]["CodeValue"], float(item["value"]),
                tuple(sorted((_key(m["modifier"]), _key(m["modifierValue"]))
                             for m in item.get("measurementModifiers", []))),
                tuple(sorted((_key(p["derivationParameter"]), float(p["derivationParameterValue"]),
                              _key(p["derivationParameterUnits"]))
                             for p in item.get("measurementDerivationParameters", []))),
                tuple(sorted((_key(p["numProperty"]), float(p["numPropertyValue"]),
                              _key(p["numPropertyUnits"]))
                             for p in item.get("measurementNumProperties", []))),
                item.get("measurementPopulationDescription"),
                json.dumps(item.get("measurementAlgorithmIdentification"), sort_keys=True)))
        # one unit per quantity: a volume in mm3 and in cm3 are one quantity twice (our model
        # holds a volume in cm3, so that row comes back in cm3)
        for i, (quantity, derivation, unit, value, *rest) in enumerate(items):
            for other_unit in ("cm3",):
                converted = terms.convert(value, unit, other_unit)
                if converted is not None:
                    items[i] = (quantity, derivation, other_unit, round(converted, 9), *rest)
            items[i] = (*items[i][:3], float(f"{items[i][3]:.6g}"), *items[i][4:])
        out.append({
            "TrackingIdentifier": group["TrackingIdentifier"],
            "Finding": _key(group.get("Finding")), "FindingSite": _key(group.get("FindingSite")),
            "Laterality": _key(group.get("Laterality")),
            "segment": (group.get("segmentationSOPInstanceUID"), group.get("ReferencedSegment"),
                        group.get("SourceSeriesForImageSegmentation")),
            "method": _key(group.get("MeasurementMethod") or group.get("measurementMethod")),
            "algorithm": json.dumps(group.get("measurementAlgorithmIdentification"), sort_keys=True),
            "measurementItems": sorted(items, key=repr),
            "qualitativeEvaluations": sorted((
                (_key(e["conceptCode"]), e["conceptValue"] if isinstance(e["conceptValue"], str)
                 else _key(e["conceptValue"])) for e in group.get("qualitativeEvaluations", [])),
                key=repr),
        })
    return out


@pytest.mark.parametrize("name", EXAMPLES)
def test_dcmqi_example_imports_and_reads_back_with_tid1500reader(tmp_path: Path, name: str) -> None:
    folder = tmp_path / "inputs"
    example = example_inputs(name, folder)
    # dcmqi's own path: its writer, then its reader
    theirs = tid1500reader(tid1500writer(DATA / f"{name}.json", tmp_path / "dcmqi.dcm", folder, folder),
                           tmp_path / "dcmqi.json")
    # ours: import, our writer, dcmqi's reader
    report = dcmqi.import_json(DATA / f"{name}.json", folder)
    ours_sr = write_sr(report, tmp_path / "ours.dcm")
    ours = tid1500reader(ours_sr, tmp_path / "ours.json")

    # our writer always states presence (TID 1501 row, "present" unless the JSON says
    # otherwise): the one evaluation ours adds; nothing else may differ
    presence = (("DCM", "121052"), ("SCT", "52101004"))
    for group in (ours_groups := _groups(ours)):
        assert presence in group["qualitativeEvaluations"]
        group["qualitativeEvaluations"].remove(presence)
    assert ours_groups == _groups(example)
    assert ours_groups == _groups(theirs)
    if example["observerContext"]["ObserverType"] == "PERSON":
        assert ours["observerContext"] == theirs["observerContext"]
    else:  # a device observer is not kept: the SR we write names dicomtools (docs/dcmqi.md)
        assert ours["observerContext"]["DeviceObserverName"] == "dicomtools"
        assert any("device observer is not kept" in w for w in report.warnings)
    assert len(report.findings) == len(example["Measurements"])
    finding = report.findings[0]
    assert (finding.roi.seg_instance_uid, finding.roi.segment_number) == (
        example["Measurements"][0]["segmentationSOPInstanceUID"], 1)
    assert finding.site is not None and finding.finding is not None
    if name == "sr-tid1500-example-nan":
        assert any("'nan' left out" in w for w in report.warnings)
    # the SR we write is valid for DCMTK and dicom3tools (a Real World Value Map reference is
    # left out, with a warning: it cannot be listed as evidence)
    require_tool("dciodvfy"), require_tool("dsrdump")
    result = validate(ours_sr, ("dciodvfy", "dsrdump"))
    assert sorted(result.ran) == ["dciodvfy", "dsrdump"] and not result.errors, result.errors
    assert ("rwvm.dcm" in example["compositeContext"]) == any(
        "rwvmMapUsedForMeasurement is not kept" in w for w in report.warnings)
    # our reader takes the SR we wrote back to the same report (our side of the round trip)
    back = read_sr(ours_sr)
    assert [f.to_json() for f in back.findings] == [
        replace(f, modality=back.modality, procedure=back.procedure).to_json() for f in report.findings]


def test_full_circle_our_sr_dcmqi_writer_reader_and_import(demo: Path, tmp_path: Path) -> None:
    """our SR -> export -> tid1500writer -> tid1500reader (UIDs for file names, method and
    time point inside groups) -> import_json: the findings we started from."""
    for key in ("case1/wbmri", "case1/mibg", "masks/sr"):
        images, context = _source_dirs(demo, key)
        original = read_sr(demo / f"{key}.dcm")
        meta = dcmqi.export_json(demo / f"{key}.dcm", images, context, placeholder_segments=True)
        (tmp_path / "m.json").write_text(json.dumps(meta))
        written = tid1500writer(tmp_path / "m.json", tmp_path / "d.dcm", images, context)
        tid1500reader(written, tmp_path / "r.json")
        source = tmp_path / key.replace("/", "_")
        source.mkdir()
        for folder in {images, context}:
            for file in folder.glob("*.dcm"):
                (source / file.name).write_bytes(file.read_bytes())
        report = dcmqi.import_json(tmp_path / "r.json", source)
        placeholder = original.findings[0].roi is None
        assert report.findings[0].roi is None if placeholder else report.findings[0].roi is not None
        assert [_comparable(f, placeholder) for f in report.findings] == [
            _comparable(f, placeholder) for f in original.findings]


# ---- bad input ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def example_folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("dcmqi_example")
    example_inputs("sr-tid1500-example", folder)
    return folder


def _broken(tmp_path: Path, change) -> Path:
    meta = json.loads((DATA / "sr-tid1500-example.json").read_text())
    change(meta)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(meta))
    return path


def _group0(meta: dict) -> dict:
    return meta["Measurements"][0]


BAD = {
    # name: (change, JSON path named, value named)
    "unknown top key": (lambda m: m.update(Measurement=[]), "(top level)", "'Measurement'"),
    "value not DS": (lambda m: _group0(m)["measurementItems"][0].update(value="1,96"),
                     "Measurements[0].measurementItems[0].value", "'1,96'"),
    "value a number": (lambda m: _group0(m)["measurementItems"][0].update(value=1.96),
                       "Measurements[0].measurementItems[0].value", "1.96"),
    "code without meaning": (lambda m: _group0(m)["Finding"].pop("CodeMeaning"),
                             "Measurements[0].Finding", "CodeMeaning"),
    "unit not UCUM": (lambda m: _group0(m)["measurementItems"][0]["units"].update(
        CodingSchemeDesignator="99TEST"), "Measurements[0].measurementItems[0].units", "'99TEST'"),
    "no Finding": (lambda m: _group0(m).pop("Finding"), "Measurements[0]", "'Finding'"),
    "laterality without site": (lambda m: _group0(m).pop("FindingSite"),
                                "Measurements[0].Laterality", "'Left'"),
    "segment 0": (lambda m: _group0(m).update(ReferencedSegment=0),
                  "Measurements[0].ReferencedSegment", "0"),
    "SEG not in composite context": (lambda m: _group0(m).update(segmentationSOPInstanceUID="1.2.3"),
                                     "Measurements[0].segmentationSOPInstanceUID", "'1.2.3'"),
    "bad UID": (lambda m: _group0(m).update(TrackingUniqueIdentifier="1.02.x"),
                "Measurements[0].TrackingUniqueIdentifier", "'1.02.x'"),
    "observer type": (lambda m: m["observerContext"].update(ObserverType="ROBOT"),
                      "observerContext.ObserverType", "'ROBOT'"),
    "missing image file": (lambda m: m["imageLibrary"].append("04.dcm"), "imageLibrary[3]", "'04.dcm'"),
    "empty Measurements": (lambda m: m.update(Measurements=[]), "Measurements", "[]"),
    "evaluation value a number": (lambda m: _group0(m).update(qualitativeEvaluations=[
        {"conceptCode": _group0(m)["Finding"], "conceptValue": 3}]),
        "Measurements[0].qualitativeEvaluations[0].conceptValue", "3"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_json_names_file_path_and_value(tmp_path: Path, example_folder: Path, case: str) -> None:
    change, path, value = BAD[case]
    meta = _broken(tmp_path, change)
    with pytest.raises(InputError) as caught:
        dcmqi.import_json(meta, example_folder)
    message = str(caught.value)
    assert message.startswith(str(meta)), message
    assert path in message and value in message, message
    assert "\n" not in message


@pytest.mark.parametrize("content, expected", [
    (b"{\"Measurements\": [", "not valid JSON"), (b"\xff\xfe{}", "not UTF-8"),
    (b"[1, 2]", "expected a JSON object"), (b'{"a": 1, "a": 2}', "given twice")])
def test_unreadable_json(tmp_path: Path, example_folder: Path, content: bytes, expected: str) -> None:
    path = tmp_path / "m.json"
    path.write_bytes(content)
    with pytest.raises(InputError, match=expected):
        dcmqi.import_json(path, example_folder)
    with pytest.raises(InputError, match="no such file"):
        dcmqi.import_json(tmp_path / "missing.json", example_folder)


def test_export_needs_every_referenced_image(demo: Path, tmp_path: Path) -> None:
    source = tmp_path / "partial"
    source.mkdir()
    first = sorted((SAMPLES / "case1" / "wbmri").glob("*.dcm"))[0]
    (source / first.name).write_bytes(first.read_bytes())
    with pytest.raises(InputError, match=r"2 source image\(s\) referenced by the SR not found"):
        dcmqi.export_json(demo / "case1" / "wbmri.dcm", source, placeholder_segments=True)


# ---- command line -------------------------------------------------------------------------
def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dicomtools", *args], capture_output=True,
                          text=True, timeout=300, cwd=ROOT)


def test_cli_import_then_export(tmp_path: Path, example_folder: Path) -> None:
    out = tmp_path / "sr.dcm"
    proc = _cli("import", "dcmqi", str(DATA / "sr-tid1500-qualitative.json"), "--source",
                str(example_folder), "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    assert out.is_file() and read_sr(out).findings[0].evaluations
    meta = tmp_path / "meta.json"
    proc = _cli("export", "dcmqi", str(out), "-o", str(meta), "--placeholder-segments")
    assert proc.returncode == 0, proc.stderr
    exported = json.loads(meta.read_text())
    assert not list(schema_validator().iter_errors(exported))
    # without --source the instances are listed by SOP Instance UID, as tid1500reader does
    assert set(exported["imageLibrary"]) == {str(pydicom.dcmread(p).SOPInstanceUID)
                                             for p in sorted(example_folder.glob("0*.dcm"))}
    texts = [e["conceptValue"] for e in exported["Measurements"][0]["qualitativeEvaluations"]]
    assert "Bad" in texts


def test_cli_bad_input_exit_2_and_no_file(tmp_path: Path, example_folder: Path) -> None:
    bad = _broken(tmp_path, lambda m: _group0(m)["measurementItems"][0].update(value="x1"))
    out = tmp_path / "sr.dcm"
    proc = _cli("import", "dcmqi", str(bad), "--source", str(example_folder), "-o", str(out))
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert "Measurements[0].measurementItems[0].value" in proc.stderr and "'x1'" in proc.stderr
    assert not out.exists() and not list(tmp_path.glob(".*tmp"))
    proc = _cli("export", "dcmqi", str(bad), "-o", str(tmp_path / "m.json"))
    assert proc.returncode == 4 and "Traceback" not in proc.stderr  # not an SR
    assert not (tmp_path / "m.json").exists()


# ---- SRs of other tools (tests/foreign_corpus.py) -----------------------------------------
_CANONICAL = ("mm", "mm2", "cm3", "um2/s", "MBq", "[hnsf'U]", "{SUVbw}g/ml", "ms")


def _numbers(report) -> list[list[tuple]]:
    """Per group, every NUM of the content tree our writer makes from the report (typed
    fields and open part alike): (concept, derivation, value in one unit per dimension)."""
    from dicomtools import terms
    from dicomtools.sr.write import content_tree
    from dicomtools.vocab import Concept
    groups = [g for top in content_tree(report) if top.name == Concept.IMAGING_MEASUREMENTS
              for g in top.children]
    out = []
    for group in groups:
        numbers = []
        for item in group.children:
            if item.value_type != "NUM":
                continue
            value, unit = item.value.value, item.value.unit.value
            for target in _CANONICAL:
                converted = terms.convert(value, unit, target)
                if converted is not None:
                    value, unit = converted, target
                    break
            derivation = next((c.value.key for c in item.children if c.name == Concept.DERIVATION), None)
            numbers.append((item.name.key, derivation, unit, float(f"{value:.9g}")))
        out.append(sorted(numbers, key=repr))
    return out


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> tuple[list, Path]:
    out = tmp_path_factory.mktemp("dcmqi_corpus")
    entries = foreign_corpus.build_corpus(out, strict=bool(__import__("os").environ.get("CI")))
    source = out / "all_sources"  # one folder with every image and SEG the corpus references
    source.mkdir()
    for path in [*foreign_corpus.MR_DIR.glob("*.dcm"), foreign_corpus._ct_path(),
                 *(out / "inputs").glob("*.dcm")]:
        (source / path.name).write_bytes(path.read_bytes())
    return entries, source


def test_foreign_srs_export_and_dcmqi_writes_their_numbers_back(corpus, tmp_path: Path) -> None:
    entries, source = corpus
    assert len(entries) >= 30
    exported = refused = 0
    for entry in entries:
        original = read_sr(entry.path)
        try:
            meta, _ = dcmqi.export_report(original, source_dir=source, placeholder_segments=True)
        except InputError as exc:
            # dcmqi's writer needs a Finding in every group: say which one has none
            assert "no Finding" in str(exc), (entry.name, str(exc))
            refused += 1
            continue
        assert not list(schema_validator().iter_errors(meta)), entry.name
        (tmp_path / "m.json").write_text(json.dumps(meta))
        back = read_sr(tid1500writer(tmp_path / "m.json", tmp_path / f"{entry.name}.dcm",
                                     source, source))
        assert len(back.findings) == len(original.findings), entry.name
        for a, b, numbers_a, numbers_b in zip(original.findings, back.findings, _numbers(original),
                                              _numbers(back), strict=True):
            assert (b.finding, b.tracking_id) == (a.finding, a.tracking_id), entry.name
            if a.site is not None:
                assert (b.site, b.laterality) == (a.site, a.laterality), entry.name
            assert numbers_b == numbers_a, entry.name
        exported += 1
    assert exported >= 25 and exported + refused == len(entries)


@pytest.mark.parametrize("key", ["case1/wbmri", "case2/mibg", "case3/wbmri"])
def test_export_import_export_gives_the_same_json(demo: Path, tmp_path: Path, key: str) -> None:
    images, _ = _source_dirs(demo, key)
    first = dcmqi.export_json(demo / f"{key}.dcm", images, placeholder_segments=True)
    (tmp_path / "m.json").write_text(json.dumps(first))
    again = write_sr(dcmqi.import_json(tmp_path / "m.json", images), tmp_path / "again.dcm")
    second = dcmqi.export_json(again, images, placeholder_segments=True)
    if key.endswith("mibg"):  # the NM procedure comes back as its reported code (see above)
        assert second["SeriesDescription"] == "NM unspecified body region measurements"
        second["SeriesDescription"] = first["SeriesDescription"]
    assert second == first


def test_a_finding_without_segmentation_is_refused_unless_a_placeholder_is_asked_for(demo):
    sr = demo / "case1" / "wbmri.dcm"
    with pytest.raises(InputError, match=r"no segmentation.*--placeholder-segments"):
        dcmqi.export_json(sr)
    meta = dcmqi.export_json(sr, placeholder_segments=True)
    assert all(g["segmentationSOPInstanceUID"].startswith(dcmqi.PLACEHOLDER_ROOT)
               for g in meta["Measurements"])
