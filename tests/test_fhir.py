"""FHIR R5 export/import (HL7 DICOM SR IG): every seed SR and every foreign-corpus SR exports,
every resource validates with the fhir.resources R5 models, SR -> FHIR -> Report gives the
findings read_sr gives, and FHIR -> Report -> FHIR gives the same bundle."""

from __future__ import annotations

import json
from pathlib import Path

import foreign_corpus
import pytest
from conftest import require_tool
from fhir.resources import get_fhir_model_class
from fhir.resources.bundle import Bundle

from dicomtools.interop.fhir import bundle_json, bundle_to_reports, export_fhir, import_fhir, reports_to_bundle
from dicomtools.interop.fhir_codes import IG, LOCAL_PREFIX, SYSTEMS
from dicomtools.model import Finding, ImageRef, Patient, Report, Roi, SRIdentity, Study
from dicomtools.observations import Evaluation, Measurement
from dicomtools.sr.read import read_sr
from dicomtools.values import ContentNode, Graphic, ImageValue
from dicomtools.vocab import Code

SEEDS = [f"case{c}/{n}" for c, names in ((1, ("wbmri", "mibg", "us", "pathology")),
                                          (2, ("wbmri", "mibg", "us", "pathology")),
                                          (3, ("wbmri", "mibg", "antigd2", "pathology")))
         for n in names] + ["masks/sr"]
PLANNED = foreign_corpus.planned_names()
CORPUS = [name for _, name in PLANNED]
TOOL_OF = {name: tool for tool, name in PLANNED}
_TOOLS = {"dcmqi": "tid1500writer", "dcmtk": "xml2dsr"}


@pytest.fixture(scope="session")
def seeds(tmp_path_factory) -> dict[str, Path]:
    """The demo's SRs (12 seed-case SRs and the mask SR), built once."""
    from dicomtools.cli import main
    out = tmp_path_factory.mktemp("fhir_seeds")
    assert main(["demo", "--quick", "--no-validate", "--out", str(out)]) == 0
    found = {f"{p.parent.name}/{p.stem}": p for p in out.glob("*/*.dcm") if p.stem != "seg"}
    assert sorted(found) == sorted(SEEDS)
    return found


@pytest.fixture(scope="session")
def corpus(tmp_path_factory):
    built = foreign_corpus.build_corpus(tmp_path_factory.mktemp("fhir_corpus"))
    return {entry.name: entry.path for entry in built}


def _corpus_path(corpus, name: str) -> Path:
    if TOOL_OF[name] in _TOOLS:
        require_tool(_TOOLS[TOOL_OF[name]])
    if name not in corpus:
        pytest.fail(f"{name} was not built")
    return corpus[name]


def check_written(path: Path) -> dict:
    """Parse the written file back with fhir.resources: the Bundle, and every resource with
    its own R5 model class."""
    text = path.read_text(encoding="utf-8")
    Bundle.model_validate_json(text)
    data = json.loads(text)
    assert data["resourceType"] == "Bundle" and data["type"] == "transaction"
    for entry in data["entry"]:
        resource = entry["resource"]
        get_fhir_model_class(resource["resourceType"]).model_validate(resource)
        assert entry["fullUrl"].startswith("urn:uuid:")
        assert entry["request"] == {"method": "POST", "url": resource["resourceType"]}
    return data


def _resources(bundle: dict, kind: str, profile: str | None = None) -> list[dict]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind and (
        profile is None or IG + profile in e["resource"].get("meta", {}).get("profile", []))]


def ig_problems(bundle: dict) -> list[str]:
    """The IG profiles' fixed codes and cardinalities our resources claim (meta.profile),
    checked here because fhir.resources checks the base R5 resources only. Not checked:
    issued and device (1..1 in the IG, left out: docs/fhir.md)."""
    problems = []
    by_url = {e["fullUrl"]: e["resource"] for e in bundle["entry"]}

    def code(cc):
        return (cc["coding"][0]["system"], cc["coding"][0]["code"])
    for url, r in by_url.items():
        profiles = [p[len(IG):] for p in r.get("meta", {}).get("profile", [])]
        where = f"{r['resourceType']} {url}"
        if r["resourceType"] == "Observation":
            assert len(profiles) == 1, where
            if "subject" in r and "identifier" not in r["subject"]:
                problems.append(f"{where}: subject not by identifier")
            for ref in r.get("partOf", []):
                if ref["identifier"]["type"]["coding"][0]["code"] != "110180":
                    problems.append(f"{where}: partOf is not a Study Instance UID")
            sources = [by_url.get(d["reference"], {}) for d in r["derivedFrom"]]
            if not any(IG + "source-sr-content-item" in s.get("meta", {}).get("profile", [])
                       for s in sources):
                problems.append(f"{where}: not derivedFrom its source SR")
            refs = [*r.get("hasMember", []), *([r["bodyStructure"]] if "bodyStructure" in r else [])]
            for ref in refs:
                if ref["reference"] not in by_url:
                    problems.append(f"{where}: dangling reference")
        if profiles == ["imaging-measurement-group"]:
            if code(r["code"]) != (SYSTEMS["DCM"], "125007") or "category" in r:
                problems.append(f"{where}: group code/category")  # invariant measurement-group-category
            for m in r.get("hasMember", []):
                member = by_url[m["reference"]]
                if member.get("meta", {}).get("profile", [None])[0] not in (
                        IG + "imaging-measurement", IG + "imaging-qualitative-evaluation"):
                    problems.append(f"{where}: member of another profile")
        if profiles == ["imaging-measurement"] and r.get("valueQuantity", {}).get("system") != SYSTEMS["UCUM"]:
            problems.append(f"{where}: valueQuantity 1..1 (UCUM)")
        if profiles == ["imaging-qualitative-evaluation"] and (
                [code(c) for c in r.get("category", [])] != [(SYSTEMS["UMLS"], "C0034375")]
                or "valueCodeableConcept" not in r):
            problems.append(f"{where}: category C0034375 / valueCodeableConcept 1..1")
        if profiles == ["referenced-segment"]:
            inst = r["instance"][0]
            if code(r["code"]) != (SYSTEMS["DCM"], "121191") or inst["sopClass"]["code"] != _SEG \
                    or len(inst.get("subset", [])) != 1:
                problems.append(f"{where}: referenced segment code / SEG instance / subset 1..1")
        if profiles == ["image-region-2d"] and not all(i.get("imageRegion2D") for i in r["instance"]):
            problems.append(f"{where}: imageRegion2D 1..1")
        if profiles == ["image-region-3d"] and not r.get("frameOfReferenceUid"):
            problems.append(f"{where}: frameOfReferenceUid 1..1")
        if profiles == ["source-sr-content-item"] and (
                code(r["code"]) != (SYSTEMS["DCM"], "111040") or len(r.get("instance", [])) > 1):
            problems.append(f"{where}: source SR code 111040 / instance 1..1")
        if profiles == ["dicom-sr-finding-site"]:
            types = [code(i["type"]) for i in r.get("identifier", [])]
            if not r["includedStructure"] or len(types) != len(set(types)):
                problems.append(f"{where}: includedStructure / identifier slices 0..1")
    return problems


def comparable(report: Report) -> dict:
    """A report's JSON without what the bundle leaves out on purpose: the patient's name,
    birth date and sex (Patient is referenced by identifier) and the reader's warnings."""
    data = report.to_json()
    data["patient"] = {**data["patient"], "name": None, "birth_date": None, "sex": None}
    data["warnings"] = []
    return data


def assert_round_trip(path: Path, out: Path) -> dict:
    """SR -> FHIR (file, validated) -> Reports equal to read_sr's; and -> FHIR again equal."""
    original = read_sr(path)
    export_fhir([path], out, diagnostic_report=True)
    bundle = check_written(out)
    assert ig_problems(bundle) == []
    reports = import_fhir(out)
    assert len(reports) == 1
    back = reports[0]
    assert [f.to_json() for f in back.findings] == [f.to_json() for f in original.findings]
    assert comparable(back) == comparable(original)
    again = reports_to_bundle(reports, diagnostic_report=True)
    assert again == bundle
    groups = _resources(bundle, "Observation", "imaging-measurement-group")
    assert len(groups) == len(original.findings)
    return bundle


@pytest.mark.parametrize("name", SEEDS)
def test_seed_sr_exports_validates_and_round_trips(seeds, tmp_path, name):
    assert_round_trip(seeds[name], tmp_path / "bundle.json")


@pytest.mark.parametrize("name", CORPUS)
def test_foreign_sr_exports_validates_and_round_trips(corpus, tmp_path, name):
    assert_round_trip(_corpus_path(corpus, name), tmp_path / "bundle.json")


def test_all_seeds_in_one_bundle(seeds, tmp_path):
    paths = [seeds[n] for n in SEEDS]
    done = export_fhir(paths, tmp_path / "all.json")
    bundle = check_written(done.path)
    reports = import_fhir(done.path)
    assert [r.sr.sop_instance_uid for r in reports] == [read_sr(p).sr.sop_instance_uid for p in paths]
    for path, report in zip(paths, reports, strict=True):
        assert comparable(report) == comparable(read_sr(path))
    urls = [e["fullUrl"] for e in bundle["entry"]]
    assert len(urls) == len(set(urls))
    assert done.reports == 13 and sum(done.resources.values()) == len(urls)


def test_export_is_reproducible(seeds, tmp_path):
    export_fhir([seeds["case1/wbmri"]], tmp_path / "a.json")
    export_fhir([seeds["case1/wbmri"]], tmp_path / "b.json")
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()
    export_fhir([seeds["case2/wbmri"]], tmp_path / "c.json")
    a = {e["fullUrl"] for e in json.loads((tmp_path / "a.json").read_text())["entry"]}
    c = {e["fullUrl"] for e in json.loads((tmp_path / "c.json").read_text())["entry"]}
    assert not a & c


def test_negative_mibg_finding_survives(seeds, tmp_path):
    bundle = assert_round_trip(seeds["case1/mibg"], tmp_path / "b.json")
    group, = _resources(bundle, "Observation", "imaging-measurement-group")
    evaluations = {e["fullUrl"]: e["resource"] for e in bundle["entry"]}
    members = [evaluations[m["reference"]] for m in group["hasMember"]]
    presence = [m for m in members if m["code"]["coding"][0]["code"] == "121052"]
    assert presence[0]["valueCodeableConcept"]["coding"][0] == {
        "system": SYSTEMS["SCT"], "code": "272519000", "display": "Absent"}
    assert presence[0]["category"][0]["coding"][0]["code"] == "C0034375"
    assert group["valueCodeableConcept"]["coding"][0]["display"] == "Tracer uptake"
    tracer = {c["code"]["coding"][0]["code"]: c for c in group["component"]}
    assert tracer["349358000"]["valueCodeableConcept"]["coding"][0]["code"] == "395787009"
    assert tracer["113507"]["valueQuantity"] == {"value": 60.0, "unit": "megabecquerel",
                                                  "system": SYSTEMS["UCUM"], "code": "MBq"}
    assert group["bodySite"]["coding"][0]["code"] == "38266002"  # whole body: no laterality
    back, = import_fhir(tmp_path / "b.json")
    assert back.findings[0].present is False and back.impression == "normal"


def test_lateralised_site_with_levels_is_a_body_structure(seeds, tmp_path):
    bundle = assert_round_trip(seeds["case1/wbmri"], tmp_path / "b.json")
    body, = _resources(bundle, "BodyStructure", "dicom-sr-finding-site")
    part, = body["includedStructure"]
    assert part["structure"]["coding"][0]["system"] == LOCAL_PREFIX + "99DCMTLS"  # paravertebral
    assert part["laterality"]["coding"][0] == {"system": SYSTEMS["SCT"], "code": "7771000",
                                               "display": "Left"}
    levels = [c["coding"][0]["code"] for c in part["bodyLandmarkOrientation"][0]["landmarkDescription"]]
    assert levels == ["82687006", "7610001"]  # T9, T10 vertebrae
    types = {i["type"]["coding"][0]["code"] for i in body["identifier"]}
    assert types == {"112039", "112040"}
    group, = _resources(bundle, "Observation", "imaging-measurement-group")
    assert "bodySite" not in group and group["bodyStructure"]["reference"].startswith("urn:uuid:")
    by_url = {e["fullUrl"]: e["resource"] for e in bundle["entry"]}
    dims = [by_url[m["reference"]]["valueQuantity"] for m in group["hasMember"]
            if by_url[m["reference"]]["code"]["coding"][0]["code"] == "81827009"]
    assert [(q["value"], q["code"], q["system"]) for q in dims] == [
        (26.0, "mm", SYSTEMS["UCUM"]), (11.0, "mm", SYSTEMS["UCUM"]), (22.0, "mm", SYSTEMS["UCUM"])]


def test_segment_and_centre_of_mass_are_imaging_selections(seeds, tmp_path):
    bundle = assert_round_trip(seeds["masks/sr"], tmp_path / "b.json")
    segment, = _resources(bundle, "ImagingSelection", "referenced-segment")
    assert segment["code"]["coding"][0]["code"] == "121191"
    assert segment["instance"][0]["subset"] == ["1"]
    centre, = _resources(bundle, "ImagingSelection", "image-region-3d")
    assert centre["instance"][0]["imageRegion3D"][0]["regionType"] == "point"
    assert len(centre["instance"][0]["imageRegion3D"][0]["coordinate"]) == 3
    source, = _resources(bundle, "ImagingSelection", "source-sr-content-item")
    assert source["code"]["coding"][0]["code"] == "111040"
    group, = _resources(bundle, "Observation", "imaging-measurement-group")
    refs = {r.get("reference") for r in group["derivedFrom"]}
    urls = {e["resource"]["code"]["coding"][0]["code"]: e["fullUrl"] for e in bundle["entry"]
            if e["resource"]["resourceType"] == "ImagingSelection" and "code" in e["resource"]}
    assert {urls["121191"], urls["128138"], urls["111040"]} <= refs


def test_patient_and_study_referenced_by_identifier_without_names(seeds, tmp_path):
    original = read_sr(seeds["case1/wbmri"])
    export_fhir([seeds["case1/wbmri"]], tmp_path / "b.json", diagnostic_report=True)
    text = (tmp_path / "b.json").read_text()
    bundle = json.loads(text)
    assert not _resources(bundle, "Patient") and not _resources(bundle, "ImagingStudy")
    assert original.patient.name and original.patient.name not in text
    assert original.patient.name.replace("^", " ") not in text
    assert original.patient.birth_date not in text
    group = _resources(bundle, "Observation", "imaging-measurement-group")[0]
    assert group["subject"]["identifier"]["value"] == original.patient.id
    assert group["partOf"][0]["identifier"] == {
        "type": {"coding": [{"system": SYSTEMS["DCM"], "code": "110180",
                             "display": "Study Instance UID"}]},
        "system": "urn:dicom:uid", "value": "urn:oid:" + original.study.instance_uid}


def test_diagnostic_report_only_on_request(seeds, tmp_path):
    export_fhir([seeds["case3/wbmri"]], tmp_path / "plain.json")
    assert not _resources(check_written(tmp_path / "plain.json"), "DiagnosticReport")
    export_fhir([seeds["case3/wbmri"]], tmp_path / "dr.json", diagnostic_report=True)
    bundle = check_written(tmp_path / "dr.json")
    report, = _resources(bundle, "DiagnosticReport")
    urls = {e["fullUrl"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Observation"}
    assert {r["reference"] for r in report["result"]} <= urls and report["result"]
    assert report["conclusionCode"][0]["coding"][0]["code"] == "408574004"  # abnormal
    assert [f.to_json() for f in import_fhir(tmp_path / "dr.json")[0].findings] == \
        [f.to_json() for f in import_fhir(tmp_path / "plain.json")[0].findings]


# ---- every field of the model, in memory -------------------------------------------
_SEG = "1.2.840.10008.5.1.4.1.1.66.4"
_MR = "1.2.840.10008.5.1.4.1.1.4"


def _rich_report() -> Report:
    image = ContentNode("IMAGE", "CONTAINS", Code("121233", "DCM", "Source image for segmentation"),
                        ImageValue(_MR, "1.2.3.4.5", frames=(2, 3)))
    scoord = ContentNode("SCOORD", "CONTAINS", Code("111030", "DCM", "Image Region"),
                         Graphic("POLYLINE", (1.5, 2.5, 3.5, 4.5, 1.5, 2.5)),
                         (ContentNode("IMAGE", "SELECTED FROM", None, ImageValue(_MR, "1.2.3.4.6")),))
    scoord3d = ContentNode("SCOORD3D", "CONTAINS", Code("111030", "DCM", "Image Region"),
                           Graphic("POINT", (10.0, -20.25, 30.5), "1.2.3.9"))
    note = ContentNode("TEXT", "HAS PROPERTIES", Code("121106", "DCM", "Comment"), "kept as it is")
    rich = Finding(
        present=None, certainty="possible", finding="mass", site="adrenal gland", laterality="right",
        dimensions_mm=(30.5, 12.0), volume_ml=4.5, t1_signal="hypo", t2_signal="hyper",
        diffusion_restricted=False, adc_value=900.0, adc_unit="um2/s", adc_min=700.0,
        adc_median=880.0, enhancement="moderate", enhancement_pattern="heterogeneous",
        contrast_agent="gadobutrol", tracking_id="lesion A", tracking_uid="1.2.3.100",
        roi=Roi("1.2.3.200", 2, "1.2.3.201", (1.0, 2.0, 3.0), "1.2.3.9"),
        extent_mm=(10.0, 11.0, 12.5),
        measurements=(Measurement("long axis", 31.0, "mm", derivation="maximum",
                                  method=Code("M1", "99LOCAL", "My method"), site="liver",
                                  children=(note,)),
                      Measurement(Code("X9", "SRT", "Old SNOMED concept"), 1.25, "{SUVbw}g/ml")),
        evaluations=(Evaluation(Code("RID36042", "RADLEX", "Malignancy"),
                                Code("Z1", "99LOCAL", "Likely")),
                     Evaluation(Code("121106", "DCM", "Comment"), "free\ttext, kept", (note,))),
        regions=(image, scoord, scoord3d), other=(note,))
    vertebral = Finding(present=True, finding="lesion", site="vertebra", vertebral_levels="T11-L1",
                        laterality="left")
    bare = Finding(present=False, laterality="bilateral", vertebral_levels=("C4",),
                   tracer="I-131 mIBG", activity_mbq=150.0)
    return Report(
        modality="MR", procedure="whole-body MRI", impression="equivocal", observer="Doe^Jane",
        indication="ataxia\nand opsoclonus", findings=(rich, vertebral, bare),
        patient=Patient(id="PID-7", issuer="Hospital X", name="Name^Not^Exported"),
        study=Study(instance_uid="1.2.3.1", date="20240102", time="101500", id="S1",
                    accession_number="ACC9", description="WB MRI", patient_age="004Y"),
        source_images=(ImageRef(_MR, "1.2.3.4.5", "1.2.3.4", "1.2.3.1"),
                       ImageRef(_MR, "1.2.3.4.6", "1.2.3.4", "1.2.3.1")),
        sr=SRIdentity("1.2.3.50", "1.2.3.51", "1.2.840.10008.5.1.4.1.1.88.33", "20240103"),
        evaluations=(Evaluation(Code("C1", "99LOCAL", "Overall"), "report-level text"),),
        other=(ContentNode("TEXT", "CONTAINS", Code("121106", "DCM", "Comment"), "top"),))


def test_every_field_crosses_both_ways():
    report = _rich_report().with_findings_in_context()
    bundle = reports_to_bundle([report], diagnostic_report=True)
    Bundle.model_validate(bundle)
    assert ig_problems(bundle) == []
    back, = bundle_to_reports(json.loads(bundle_json(bundle)))
    expected = report.to_json()
    expected["patient"] = {**expected["patient"], "name": None}  # referenced by identifier only
    assert back.to_json() == expected
    assert reports_to_bundle([back], diagnostic_report=True) == bundle
    text = bundle_json(bundle)
    assert "Name^Not^Exported" not in text
    assert f'"system": "{LOCAL_PREFIX}99LOCAL"' in text
    assert '"valueString": "SRT"' in text  # a retired designator is kept beside the SNOMED system


def test_rich_resources_follow_the_ig():
    bundle = reports_to_bundle([_rich_report()])
    by_url = {e["fullUrl"]: e["resource"] for e in bundle["entry"]}
    rich, vertebral, bare = _resources(bundle, "Observation", "imaging-measurement-group")
    members = [by_url[m["reference"]] for m in rich["hasMember"]]
    measurement = next(m for m in members if m["code"]["coding"][0]["display"] == "Long axis")
    assert measurement["meta"]["profile"] == [IG + "imaging-measurement"]
    assert measurement["method"]["coding"][0]["code"] == "M1"
    assert measurement["bodySite"]["coding"][0]["code"] == "10200004"
    assert measurement["component"][0]["valueCodeableConcept"]["coding"][0]["display"] == "Maximum"
    text_eval = next(m for m in members
                     if m.get("valueCodeableConcept", {}).get("text") == "free\ttext, kept")
    assert text_eval["meta"]["profile"] == [IG + "imaging-qualitative-evaluation"]
    region2d = _resources(bundle, "ImagingSelection", "image-region-2d")
    assert region2d[0]["instance"][0]["imageRegion2D"][0]["regionType"] == "polyline"
    body = by_url[vertebral["bodyStructure"]["reference"]]
    assert [p["structure"]["coding"][0]["display"] for p in body["includedStructure"]] == [
        "T11 vertebra", "T12 vertebra", "L1 vertebra"]
    assert all(p["laterality"]["coding"][0]["code"] == "7771000" for p in body["includedStructure"])
    assert "bodySite" not in bare and "bodyStructure" not in bare  # no site: modifiers as evaluations
    assert all(m["meta"]["profile"][0].startswith(IG) for m in by_url.values() if "meta" in m)


def test_another_tools_ig_bundle_reads_as_open_content():
    """A group without dicomtools' extensions: members become open measurements/evaluations."""
    quantity = {"value": 12.0, "unit": "mm", "system": SYSTEMS["UCUM"], "code": "mm"}
    diameter = {"coding": [{"system": SYSTEMS["SCT"], "code": "81827009", "display": "Diameter"}]}
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [
        {"fullUrl": "urn:uuid:1", "resource": {
            "resourceType": "Observation", "status": "final",
            "code": {"coding": [{"system": SYSTEMS["DCM"], "code": "125007"}]},
            "hasMember": [{"reference": "urn:uuid:2"}]}},
        {"fullUrl": "urn:uuid:2", "resource": {
            "resourceType": "Observation", "status": "final", "code": diameter,
            "valueQuantity": quantity}}]}
    report, = bundle_to_reports(bundle)
    finding, = report.findings
    assert finding.present is True and finding.dimensions_mm is None
    assert [m.to_json()["value"] for m in finding.measurements] == [12.0]


def test_another_tools_regions_read_from_ig_elements():
    """An ImagingSelection without dicomtools' sr-content: instance -> IMAGE item, a 2D
    region -> SCOORD selected from that image."""
    sop = {"system": "urn:ietf:rfc:3986", "code": "urn:oid:" + _MR}
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [
        {"fullUrl": "urn:uuid:1", "resource": {
            "resourceType": "Observation", "status": "final",
            "code": {"coding": [{"system": SYSTEMS["DCM"], "code": "125007"}]},
            "derivedFrom": [{"reference": "urn:uuid:2"}]}},
        {"fullUrl": "urn:uuid:2", "resource": {
            "resourceType": "ImagingSelection", "status": "available",
            "code": {"coding": [{"system": SYSTEMS["DCM"], "code": "111030", "display": "Image Region"}]},
            "instance": [{"uid": "1.2.3.4.7", "sopClass": sop, "imageRegion2D": [
                {"regionType": "point", "coordinate": [10.5, 20.25]}]},
                {"uid": "1.2.3.4.8", "sopClass": sop, "subset": ["4"]}]}}]}
    report, = bundle_to_reports(bundle)
    scoord, image = report.findings[0].regions
    assert (scoord.value_type, scoord.value.graphic_type, scoord.value.data) == ("SCOORD", "POINT", (10.5, 20.25))
    assert scoord.children[0].relationship == "SELECTED FROM"
    assert scoord.children[0].value.sop_instance_uid == "1.2.3.4.7"
    assert (image.value_type, image.value.frames, image.concept.value) == ("IMAGE", (4,), "111030")


def test_damaged_bundles_import_or_fail_cleanly(seeds):
    """Random deletions and wrong-typed values in a real bundle: each either reads or raises
    one InputError on one line that does not quote the patient ID."""
    import copy
    import random

    from dicomtools.errors import InputError
    paths = [seeds["case1/wbmri"], seeds["case1/mibg"], seeds["masks/sr"]]
    base = json.loads(bundle_json(reports_to_bundle([read_sr(p) for p in paths])))
    patient_id = read_sr(paths[0]).patient.id

    def slots(obj):
        items = obj.items() if isinstance(obj, dict) else enumerate(obj) if isinstance(obj, list) else ()
        for key, value in items:
            yield obj, key
            yield from slots(value)

    rng = random.Random(13)
    outcomes = {"read": 0, "refused": 0}
    for _ in range(150):
        bundle = copy.deepcopy(base)
        targets = list(slots(bundle))
        for parent, key in rng.sample(targets, rng.randint(1, 3)):
            try:
                if rng.random() < 0.5:
                    del parent[key]
                else:
                    parent[key] = rng.choice([None, 7, "x", [], {}, 2.5, True, "urn:uuid:0"])
            except (KeyError, IndexError, TypeError):
                pass  # already deleted with its parent
        try:
            bundle_to_reports(bundle)
            outcomes["read"] += 1
        except InputError as exc:
            message = str(exc)
            assert "\n" not in message and patient_id not in message, message
            outcomes["refused"] += 1
    assert outcomes["read"] and outcomes["refused"], outcomes


def test_ig_checks_catch_broken_resources():
    bundle = reports_to_bundle([_rich_report()])
    assert ig_problems(bundle) == []
    for entry in bundle["entry"]:
        r = entry["resource"]
        if IG + "imaging-qualitative-evaluation" in r.get("meta", {}).get("profile", []):
            r.pop("category")
        if IG + "imaging-measurement-group" in r.get("meta", {}).get("profile", []):
            r["category"] = [r["code"]]
    found = ig_problems(bundle)
    assert any("C0034375" in p for p in found) and any("group code/category" in p for p in found)


def test_observations_carry_issued_and_device_from_the_sr_header(tmp_path):
    """The IG's Observation.issued (content date + time + UTC offset) and .device (the SR's
    equipment); an SR whose header has no UTC offset gets no issued (none is guessed)."""
    import datetime as dt

    from dicomtools.interop.fhir import bundle_to_reports, reports_to_bundle, validate_bundle
    from dicomtools.model import Finding, Report
    from dicomtools.sr.read import read_sr
    from dicomtools.sr.write import write_sr
    report = Report(modality="MR", procedure="whole-body MRI", impression="abnormal",
                    findings=(Finding(present=True, finding="mass", site="adrenal gland",
                                      laterality="left"),))
    when = dt.datetime(2024, 1, 3, 14, 5, 9, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    back = read_sr(write_sr(report, tmp_path / "a.dcm", now=when))
    bundle = reports_to_bundle([back])
    validate_bundle(bundle)
    resources = [e["resource"] for e in bundle["entry"]]
    devices = [r for r in resources if r["resourceType"] == "Device"]
    assert len(devices) == 1 and devices[0]["manufacturer"] == "dicomtools"
    device_url = next(e["fullUrl"] for e in bundle["entry"] if e["resource"] is devices[0])
    observations = [r for r in resources if r["resourceType"] == "Observation"]
    assert observations and all(o["issued"] == "2024-01-03T14:05:09+01:00" for o in observations)
    assert all(o["device"] == {"reference": device_url} for o in observations)
    assert bundle_to_reports(bundle)[0].sr == back.sr
    naive = read_sr(write_sr(report, tmp_path / "b.dcm", now=when.replace(tzinfo=None)))
    assert naive.sr is not None and naive.sr.timezone_offset is None
    assert all("issued" not in e["resource"] for e in reports_to_bundle([naive])["entry"])
