"""Report types are template files: CT (long/short axis, HU) and PET (SUVbw) exist as JSON only,
write SRs that pass the independent validators, and read back equal; a new file in templates/
is a new report type; a field the template has no row for is refused."""

from __future__ import annotations

import json
import subprocess
from dataclasses import replace

import pytest

from conftest import ROOT, require_tool
from dicomtools.errors import InputError
from dicomtools.model import Report
from dicomtools.sr import assign_tracking, read_sr, write_sr
from dicomtools.sr import templates as templates_module
from dicomtools.sr.validate import check_pixelmed, validate

CT = {"procedure": "CT", "impression": "abnormal", "findings": [{
    "present": True, "finding": "mass", "site": "adrenal gland", "laterality": "right",
    "measurements": [
        {"concept": {"code": "103339001", "scheme": "SCT", "meaning": "Long Axis"}, "value": 34, "unit": "mm"},
        {"concept": "short axis", "value": 2.1, "unit": "cm"},
        {"concept": "attenuation coefficient", "value": 38, "unit": "HU", "derivation": "mean"},
        {"concept": "attenuation coefficient", "value": 112, "unit": "[hnsf'U]", "derivation": "max"}],
    "evaluations": [{"concept": {"code": "121106", "scheme": "DCM", "meaning": "Comment"},
                     "value": "stippled calcification"}]}]}
PET = {"procedure": "68Ga-DOTATATE PET/CT", "impression": "abnormal", "findings": [{
    "present": True, "finding": "lesion", "site": "Adrenal-Gland", "laterality": "Left", "tracer": "68Ga-DOTATATE",
    "activity_mbq": 95,
    "measurements": [
        {"concept": "SUVbw", "value": 12.4, "unit": "{SUVbw}g/ml", "derivation": "maximum"},
        {"concept": "SUVbw", "value": 9.1, "unit": "{SUVbw}g/ml", "derivation": "peak"}]},
    {"present": False, "finding": "uptake", "site": "bone marrow", "tracer": "68Ga-DOTATATE"}]}


@pytest.fixture(scope="module", params=["ct", "pet"])
def written(request, tmp_path_factory):
    data = {"ct": CT, "pet": PET}[request.param]
    report = assign_tracking(Report.from_json(json.loads(json.dumps(data))))
    path = write_sr(report, tmp_path_factory.mktemp(request.param) / f"{request.param}.dcm")
    return request.param, report, path


def test_template_reports_read_back_equal(written):
    name, report, path = written
    back = read_sr(path)
    assert back.warnings == ()
    assert replace(back, sr=None, study=report.study) == replace(report.with_findings_in_context(),
                                                                 study=report.study)
    assert len(back.findings[0].measurements) == len(report.findings[0].measurements) > 0


def test_template_reports_pass_our_checks_dciodvfy_and_dsrdump(written):
    name, _, path = written
    require_tool("dciodvfy")
    require_tool("dsrdump")
    result = validate(path, tools=("dicomtools", "dciodvfy", "dsrdump"))
    assert set(result.ran) == {"dicomtools", "dciodvfy", "dsrdump"}
    assert result.ok, [p for p in result.problems if p.severity == "error"]
    proc = subprocess.run([require_tool("dsrdump"), str(path)], capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr


@pytest.mark.slow
def test_template_reports_pass_pixelmed(written):
    require_tool("java")
    _, _, path = written
    errors = [p for p in check_pixelmed(path) if p.severity == "error"]
    assert not errors, errors


def test_ct_and_pet_are_template_files():
    names = {t.name: t for t in templates_module.report_templates()}
    assert (ROOT / "templates" / "ct.json").is_file() and (ROOT / "templates" / "pet.json").is_file()
    assert names["ct"].modalities == ("CT",) and names["pet"].modalities == ("PT",)
    assert {str(m.concept) for m in names["pet"].measurements} >= {"suvbw"}


def test_a_field_the_template_has_no_row_for_is_refused(tmp_path):
    data = json.loads(json.dumps(CT))
    data["findings"][0]["t2_signal"] = "hyper"
    with pytest.raises(InputError, match="t2_signal.*no row in a ct report"):
        write_sr(Report.from_json(data), tmp_path / "ct_t2.dcm")
    assert list(tmp_path.iterdir()) == []


def test_a_wrong_unit_for_an_expected_measurement_is_a_validation_error(tmp_path):
    data = json.loads(json.dumps(CT))
    data["findings"][0]["measurements"][0]["unit"] = "mm2"  # an area unit for a length
    path = write_sr(Report.from_json(data), tmp_path / "ct_unit.dcm")
    result = validate(path, tools=("dicomtools",))
    assert any("long axis" in p.message and "expected mm or cm" in p.message for p in result.errors)


def test_a_new_template_file_is_a_new_report_type(monkeypatch, tmp_path):
    extra = {"description": "X-ray angiography lesion report (test)", "modalities": ["XA"],
             "title": {"code": "126000", "scheme": "DCM", "meaning": "Imaging Measurement Report"},
             "rows": ["tracking_id", "tracking_uid", "finding", "site", "present", "measurements"]}
    real = templates_module._folder_files()
    monkeypatch.setattr(templates_module, "_folder_files",
                        lambda: [*real, ("xa.json", json.dumps(extra))])
    templates_module.report_templates.cache_clear()
    try:
        assert templates_module.template_for("XA").name == "xa"
    finally:
        monkeypatch.undo()
        templates_module.report_templates.cache_clear()
    assert templates_module.template_for("XA").name == "generic"


@pytest.mark.parametrize("bad, phrase", [
    ({"rows": ["nosuchrow"]}, "unknown row"),
    ({"rows": ["present"], "required_fields": ["tracer"]}, "required_fields"),
    ({"rows": [], "title": "Imaging Measurement Report"}, "title"),
])
def test_a_broken_template_file_is_a_clear_error(bad, phrase):
    data = {"modalities": ["XA"], "rows": [],
            "title": {"code": "126000", "scheme": "DCM", "meaning": "Imaging Measurement Report"}, **bad}
    with pytest.raises(InputError, match=phrase):
        templates_module.parse_template("broken", data)


@pytest.mark.parametrize("finding, impression, phrase", [
    ({"present": True, "finding": "mass", "adc_value": 800, "adc_unit": "10-3.mm2/s"}, None, "wrong unit"),
    ({"present": True, "finding": "mass", "dimensions_mm": [2.6, 1.1, 2.2]}, None, "centimetres"),
    ({"present": True, "finding": "mass"}, "normal", "impression 'normal'"),
    ({"present": False, "finding": "mass"}, "abnormal", "impression 'abnormal'"),
])
def test_implausible_values_are_validation_warnings(tmp_path, finding, impression, phrase):
    report = Report.from_json({"procedure": "MRI", "impression": impression, "findings": [finding]})
    result = validate(write_sr(report, tmp_path / "p.dcm"), tools=("dicomtools",))
    assert any(phrase in p.message and p.severity == "warning" for p in result.problems), result.problems


def test_plausible_values_give_no_plausibility_warning(tmp_path):
    report = Report.from_json({"procedure": "MRI", "impression": "abnormal", "findings": [
        {"present": True, "finding": "mass", "adc_value": 0.8, "adc_unit": "10-3.mm2/s",
         "dimensions_mm": [26, 11, 22]}]})
    result = validate(write_sr(report, tmp_path / "ok.dcm"), tools=("dicomtools",))
    assert not [p for p in result.problems if "unit?" in p.message or "impression" in p.message]


def test_a_size_measured_on_a_segmentation_is_not_taken_for_centimetres(tmp_path):
    """measure writes computed diameters (8.04332 mm) with a segmentation reference: no
    'centimetres given as millimetres?' warning for those, as for the hand-typed 2.6."""
    from dicomtools.sr.checks import plausibility
    typed = Report.from_json({"procedure": "MRI", "findings": [
        {"present": True, "finding": "mass", "dimensions_mm": [8.04332, 6.5, 7.25]}]})
    assert any("centimetres" in w for w in plausibility(typed))
    measured = Report.from_json({"procedure": "MRI", "findings": [
        {"present": True, "finding": "mass", "dimensions_mm": [8.04332, 6.5, 7.25],
         "roi": {"seg_instance_uid": "1.2.3.4", "segment_number": 1, "source_series_uid": "1.2.3.5"}}]})
    assert not any("centimetres" in w for w in plausibility(measured))
