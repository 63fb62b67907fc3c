"""`dicomtools export fhir` / `import fhir` (and the dcmqi slots) through the command line:
output, exit codes and one-line errors for bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from fhir.resources.bundle import Bundle

from dicomtools.cli import main
from dicomtools.sr.read import read_sr

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def srs(tmp_path_factory) -> dict[str, Path]:
    """Three seed SRs (WB-MRI, negative mIBG, pathology) built from the sample data."""
    from dicomtools.build import build_from_files
    from dicomtools.demo import sample_inputs
    from dicomtools.sr import write_sr
    out = tmp_path_factory.mktemp("fhir_cli")
    built = {}
    for findings, source, patient_only in sample_inputs(ROOT / "sample_data" / "cases"):
        key = f"{findings.parent.name}/{findings.stem}"
        if key in ("case1/wbmri", "case1/mibg", "case2/pathology"):
            report = build_from_files(findings, source, patient_only=patient_only)
            built[key] = Path(write_sr(report, out / f"{findings.parent.name}_{findings.stem}.dcm"))
    assert len(built) == 3
    return built


def one_error(capsys, code: int, expected: int = 2) -> str:
    out = capsys.readouterr()
    assert code == expected, out
    lines = out.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("dicomtools: error: "), out.err
    assert "Traceback" not in out.err
    return lines[0]


def test_export_then_import(srs, tmp_path, capsys):
    bundle = tmp_path / "out" / "bundle.json"
    code = main(["export", "fhir", str(srs["case1/wbmri"]), str(srs["case1/mibg"]), "-o", str(bundle)])
    out = capsys.readouterr()
    assert code == 0, out.err
    assert out.out.startswith(f"wrote {bundle} (2 SRs: ") and "Observation" in out.out
    report = read_sr(srs["case1/wbmri"])
    assert report.patient.id not in out.out and report.patient.name not in out.out
    Bundle.model_validate_json(bundle.read_text())
    assert main(["import", "fhir", str(bundle)]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert isinstance(printed, list) and len(printed) == 2
    assert printed[0]["findings"] == [f.to_json() for f in report.findings]
    assert printed[1]["findings"][0]["present"] is False
    target = tmp_path / "report.json"
    assert main(["import", "fhir", str(bundle), "-o", str(target)]) == 0
    assert capsys.readouterr().out == f"wrote {target} (2 reports, 2 findings)\n"
    assert json.loads(target.read_text()) == printed


def test_import_of_one_report_prints_one_object(srs, tmp_path, capsys):
    bundle = tmp_path / "b.json"
    assert main(["export", "fhir", str(srs["case2/pathology"]), "-o", str(bundle)]) == 0
    capsys.readouterr()
    assert main(["import", "fhir", str(bundle)]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["procedure"] == "histopathology"
    assert printed["findings"] == [f.to_json() for f in read_sr(srs["case2/pathology"]).findings]


def test_diagnostic_report_flag_and_help_say_it_is_outside_the_ig(srs, tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["export", "fhir", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--diagnostic-report" in text and "outside the HL7 DICOM SR IG" in text
    bundle = tmp_path / "b.json"
    assert main(["export", "fhir", str(srs["case1/mibg"]), "-o", str(bundle),
                 "--diagnostic-report"]) == 0
    assert "1 DiagnosticReport" in capsys.readouterr().out
    kinds = [e["resource"]["resourceType"] for e in json.loads(bundle.read_text())["entry"]]
    assert kinds.count("DiagnosticReport") == 1


def test_export_of_a_missing_or_bad_sr_writes_nothing(srs, tmp_path, capsys):
    bundle = tmp_path / "b.json"
    code = main(["export", "fhir", str(srs["case1/mibg"]), str(tmp_path / "nope.dcm"), "-o", str(bundle)])
    assert "nope.dcm" in one_error(capsys, code, expected=4)
    not_sr = tmp_path / "text.dcm"
    not_sr.write_text("hello")
    code = main(["export", "fhir", str(not_sr), "-o", str(bundle)])
    one_error(capsys, code, expected=4)
    code = main(["export", "fhir", str(srs["case1/mibg"]), str(srs["case1/mibg"]), "-o", str(bundle)])
    assert "twice" in one_error(capsys, code)
    assert not bundle.exists() and list(tmp_path.iterdir()) == [not_sr]


def _bundle_with(srs, tmp_path, change) -> Path:
    path = tmp_path / "good.json"
    assert main(["export", "fhir", str(srs["case1/wbmri"]), "-o", str(path)]) == 0
    data = json.loads(path.read_text())
    change(data)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data))
    return bad


def test_import_bad_input_is_one_line_exit_2(srs, tmp_path, capsys):
    not_json = tmp_path / "not.json"
    not_json.write_text("{ this is not json")
    assert "not JSON (line 1" in one_error(capsys, main(["import", "fhir", str(not_json)]))
    binary = tmp_path / "bin.json"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    assert "not UTF-8" in one_error(capsys, main(["import", "fhir", str(binary)]))
    patient = tmp_path / "patient.json"
    patient.write_text(json.dumps({"resourceType": "Patient", "id": "p1"}))
    assert "not a FHIR Bundle (resourceType 'Patient')" in one_error(
        capsys, main(["import", "fhir", str(patient)]))
    listed = tmp_path / "list.json"
    listed.write_text("[]")
    assert "not a FHIR Bundle" in one_error(capsys, main(["import", "fhir", str(listed)]))
    missing = tmp_path / "missing.json"
    assert "missing.json: no such file" in one_error(capsys, main(["import", "fhir", str(missing)]))


def test_import_refuses_a_resource_the_ig_does_not_define(srs, tmp_path, capsys):
    def add_medication(data):
        data["entry"].append({"fullUrl": "urn:uuid:0f0e0d0c-0000-4000-8000-000000000000",
                              "resource": {"resourceType": "MedicationRequest", "status": "active",
                                           "intent": "order"}})
    bad = _bundle_with(srs, tmp_path, add_medication)
    line = one_error(capsys, main(["import", "fhir", str(bad)]))
    assert "MedicationRequest resource, which the DICOM SR IG does not define" in line
    assert str(bad) in line


def test_import_refuses_invalid_fhir_and_broken_references(srs, tmp_path, capsys):
    def bad_status(data):
        data["entry"][1]["resource"]["status"] = 42
    line = one_error(capsys, main(["import", "fhir", str(_bundle_with(srs, tmp_path, bad_status))]))
    assert "not a valid FHIR R5 Bundle: entry.1.resource" in line

    def dangling(data):
        group = next(e["resource"] for e in data["entry"] if "hasMember" in e["resource"])
        group["hasMember"][0]["reference"] = "urn:uuid:00000000-0000-4000-8000-000000000000"
    line = one_error(capsys, main(["import", "fhir", str(_bundle_with(srs, tmp_path, dangling))]))
    assert "is not an entry of the bundle" in line

    def wrong_presence(data):
        for e in data["entry"]:
            r = e["resource"]
            if r.get("code", {}).get("coding", [{}])[0].get("code") == "121052":
                r["valueCodeableConcept"]["coding"][0]["code"] = "999999"
    line = one_error(capsys, main(["import", "fhir", str(_bundle_with(srs, tmp_path, wrong_presence))]))
    assert "present has value" in line and "Present, Absent, Undetermined" in line

    def no_quantity(data):
        for e in data["entry"]:
            e["resource"].pop("valueQuantity", None)
    line = one_error(capsys, main(["import", "fhir", str(_bundle_with(srs, tmp_path, no_quantity))]))
    assert "needs valueQuantity" in line


def test_dcmqi_slots_report_a_missing_module(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, "dicomtools.interop.dcmqi", None)
    code = main(["export", "dcmqi", str(tmp_path / "x.dcm"), "-o", str(tmp_path / "m.json")])
    assert "dicomtools.interop.dcmqi is missing" in one_error(capsys, code)
    code = main(["import", "dcmqi", str(tmp_path / "m.json"), "--source", str(tmp_path),
                 "-o", str(tmp_path / "x.dcm")])
    assert "dicomtools.interop.dcmqi is missing" in one_error(capsys, code)


def test_dcmqi_slots_call_the_dcmqi_module(monkeypatch, tmp_path):
    import types
    calls = []
    fake = types.SimpleNamespace(export_command=lambda a: calls.append(("export", a.sr, a.output)) or 0,
                                 import_command=lambda a: calls.append(
                                     ("import", a.meta, a.source, a.output)) or 3)
    monkeypatch.setitem(sys.modules, "dicomtools.interop.dcmqi", fake)
    assert main(["export", "dcmqi", "in.dcm", "-o", "meta.json"]) == 0
    assert main(["import", "dcmqi", "meta.json", "--source", "DIR", "-o", "sr.dcm"]) == 3
    assert calls == [("export", "in.dcm", "meta.json"), ("import", "meta.json", "DIR", "sr.dcm")]


def test_cli_module_loads_nothing_heavy():
    code = ("import sys, dicomtools.interop.cli; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('fhir', 'pydantic', 'pydicom', 'highdicom', 'numpy')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                         cwd=ROOT)
    assert out.returncode == 0 and out.stdout.strip() == "[]", out.stdout + out.stderr


def test_real_command_line_error_has_no_traceback(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"resourceType": "Bundle", "type": "transaction", "entry": [{"resource": '
                   '{"resourceType": "Claim"}}]}')
    out = subprocess.run([sys.executable, "-m", "dicomtools", "import", "fhir", str(bad)],
                         capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert out.returncode == 2
    assert out.stderr.count("\n") == 1 and "Claim resource" in out.stderr
    assert "Traceback" not in out.stderr and out.stdout == ""


# -- what import refuses or notes instead of dropping (tests/test_fuzz_interop.py found them) --
def _tagged(data: dict, field: str) -> dict:
    return next(e["resource"] for e in data["entry"] if any(
        x.get("valueCode") == field for x in e["resource"].get("extension", ())))


def _import_json(capsys, path: Path) -> list[dict]:
    capsys.readouterr()
    assert main(["import", "fhir", str(path)]) == 0
    printed = json.loads(capsys.readouterr().out)
    return printed if isinstance(printed, list) else [printed]


def test_import_converts_a_quantity_to_the_unit_of_its_field(srs, tmp_path, capsys):
    def in_metres(data):
        q = _tagged(data, "dimensions_mm")["valueQuantity"]
        q.update(value=q["value"] / 1000, code="m", unit="m")
    first = read_sr(srs["case1/wbmri"]).findings[0].dimensions_mm
    report = _import_json(capsys, _bundle_with(srs, tmp_path, in_metres))[0]
    assert report["findings"][0]["dimensions_mm"] == list(first)

    def in_millilitres(data):
        _tagged(data, "dimensions_mm")["valueQuantity"].update(code="mL", unit="mL")
    line = one_error(capsys, main(["import", "fhir", str(_bundle_with(srs, tmp_path, in_millilitres))]))
    assert "unit 'mL' is not a unit of dimensions_mm" in line and "bad.json: entry[" in line


def test_import_refuses_what_it_would_drop(srs, tmp_path, capsys):
    def no_members(data):
        _tagged(data, "finding").pop("hasMember")
    line = one_error(capsys, main(["import", "fhir", str(_bundle_with(srs, tmp_path, no_members))]))
    assert "no measurement group lists in hasMember" in line

    def no_presence(data):
        group = _tagged(data, "finding")
        present = next(e for e in data["entry"] if e["resource"] is _tagged(data, "present"))
        group["hasMember"] = [m for m in group["hasMember"] if m["reference"] != present["fullUrl"]]
        data["entry"].remove(present)
    line = one_error(capsys, main(["import", "fhir", str(_bundle_with(srs, tmp_path, no_presence))]))
    assert "without its 'present' member" in line

    def same_sr_twice(data):
        data["entry"].append({**data["entry"][0], "fullUrl": "urn:uuid:0f0e0d0c-0000-4000-8000-000000000001"})
    line = one_error(capsys, main(["import", "fhir", str(_bundle_with(srs, tmp_path, same_sr_twice))]))
    assert "the source SR of entry[0] again" in line

    def dangling_focus(data):
        _tagged(data, "source_images")["focus"] = [{"reference": "urn:uuid:0f0e0d0c-0000-4000-8000-0000000000ff"}]
    line = one_error(capsys, main(["import", "fhir", str(_bundle_with(srs, tmp_path, dangling_focus))]))
    assert "focus[0]: reference 'urn:uuid:0f0e0d0c-" in line and "is not an entry" in line


def test_import_follows_server_references_it_does_not_read_and_notes_loose_parts(srs, tmp_path,
                                                                                 capsys):
    def server_and_loose(data):
        _tagged(data, "finding")["derivedFrom"] += [{"reference": "ImagingStudy/abc.1"},
                                                    {"reference": "https://pacs.invalid/fhir/ImagingStudy/7"}]
        data["entry"].append({"fullUrl": "urn:uuid:0f0e0d0c-0000-4000-8000-000000000002", "resource": {
            "resourceType": "BodyStructure", "includedStructure": [{"structure": {"coding": [
                {"system": "http://snomed.info/sct", "code": "23451007", "display": "Adrenal gland"}]}}],
            "patient": {"display": "x"}}})
    report = _import_json(capsys, _bundle_with(srs, tmp_path, server_and_loose))[0]
    assert report["findings"] == [f.to_json() for f in read_sr(srs["case1/wbmri"]).findings]
    assert any("a BodyStructure that no Observation references is not read" in w
               for w in report["warnings"])


def test_import_error_never_quotes_an_object_resource_type(tmp_path, capsys):
    bad = tmp_path / "b.json"
    bad.write_text(json.dumps({"resourceType": "Bundle", "type": "transaction", "entry": [
        {"resource": {"resourceType": {"id": "SECRET-ID"}}}]}))
    line = one_error(capsys, main(["import", "fhir", str(bad)]))
    assert "entry[0].resource.resourceType is an object" in line and "SECRET" not in line
    bad.write_text(json.dumps({"resourceType": ["SECRET-ID"]}))
    line = one_error(capsys, main(["import", "fhir", str(bad)]))
    assert "not a FHIR Bundle (resourceType a list)" in line and "SECRET" not in line
