"""Every seed-case SR passes the independent validators and readers, run for real."""

from __future__ import annotations

import json
import subprocess

import pytest

from conftest import require_tool
from dicomtools.sr.read import read_sr
from dicomtools.sr.validate import PIXELMED_JARS, check_pixelmed

SEED_KEYS = ["case1/wbmri", "case1/mibg", "case1/us", "case1/pathology",
             "case2/wbmri", "case2/mibg", "case2/us", "case2/pathology",
             "case3/wbmri", "case3/mibg", "case3/antigd2", "case3/pathology"]


@pytest.mark.parametrize("key", SEED_KEYS)
def test_dciodvfy_reports_no_error(seed_srs, key):
    tool = require_tool("dciodvfy")
    proc = subprocess.run([tool, str(seed_srs[key])], capture_output=True, text=True)
    lines = (proc.stderr + proc.stdout).splitlines()
    assert "ComprehensiveSR" in lines, lines  # it did check the IOD we claim
    assert not [ln for ln in lines if ln.startswith("Error")], lines
    assert proc.returncode == 0


@pytest.mark.parametrize("key", SEED_KEYS)
def test_dsrdump_parses_without_any_message(seed_srs, key):
    tool = require_tool("dsrdump")
    proc = subprocess.run([tool, "+Pt", str(seed_srs[key])], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == "", proc.stderr  # no W:, E: or F: lines at all
    assert "Imaging Measurement Report" in proc.stdout and "TID 1500" in proc.stdout


@pytest.mark.slow
@pytest.mark.parametrize("key", SEED_KEYS)
def test_pixelmed_template_validation_has_no_error(seed_srs, key):
    require_tool("java")
    require_tool("pixelmed.jar", PIXELMED_JARS[0])
    problems = check_pixelmed(seed_srs[key])
    assert not [p for p in problems if p.severity == "error"], problems


def _measurement_count(report) -> int:
    count = 0
    for f in report.findings:
        count += len(f.dimensions_mm or ()) + (f.volume_ml is not None) + (f.adc_value is not None)
        count += f.activity_mbq is not None  # dcmqi lists the HAS ACQ CONTEXT NUM too
    return count


@pytest.mark.parametrize("key", SEED_KEYS)
def test_dcmqi_tid1500reader_reads_every_group_and_measurement(seed_srs, key, tmp_path):
    tool = require_tool("tid1500reader")
    out = tmp_path / "out.json"
    proc = subprocess.run([tool, "--inputDICOM", str(seed_srs[key]), "--outputMetadata", str(out)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(out.read_text())
    ours = read_sr(seed_srs[key])
    assert [g["TrackingIdentifier"] for g in data["Measurements"]] == \
        [f.tracking_id for f in ours.findings]
    items = [m for g in data["Measurements"] for m in g.get("measurementItems", [])]
    assert len(items) == _measurement_count(ours)
    dims = [float(m["value"]) for m in items if m["quantity"]["CodeMeaning"] == "Diameter"]
    assert dims == [d for f in ours.findings for d in f.dimensions_mm or ()]
    activity = [float(m["value"]) for m in items if m["quantity"]["CodeValue"] == "113507"]
    assert activity == [f.activity_mbq for f in ours.findings if f.activity_mbq is not None]
    for group, finding in zip(data["Measurements"], ours.findings):
        assert group["FindingSite"]["CodeMeaning"].lower().startswith(
            {"whole body": "entire body"}.get(finding.site, finding.site.split()[0]))


@pytest.mark.parametrize("key", SEED_KEYS)
def test_highdicom_reads_every_group(seed_srs, key):
    import highdicom as hd
    from pydicom.sr.codedict import codes

    sr = hd.sr.srread(seed_srs[key])
    groups = sr.content.get_image_measurement_groups()
    ours = read_sr(seed_srs[key])
    assert [g.tracking_identifier for g in groups] == [f.tracking_id for f in ours.findings]
    assert [g.tracking_uid for g in groups] == [f.tracking_uid for f in ours.findings]
    for group, finding in zip(groups, ours.findings):
        diameters = [m.value for m in group.get_measurements(name=codes.SCT.Diameter)]
        assert diameters == list(finding.dimensions_mm or ())
        evaluations = {q.name.value: q.value.value for q in group.get_qualitative_evaluations()}
        assert evaluations["121052"] == {True: "52101004", False: "272519000"}[finding.present]


def test_validate_api_merges_tools(seed_srs):
    from dicomtools.sr.validate import validate
    require_tool("dciodvfy")
    require_tool("dsrdump")
    result = validate(seed_srs["case1/mibg"], ("dicomtools", "dciodvfy", "dsrdump"))
    assert result.ran == ["dicomtools", "dciodvfy", "dsrdump"] and result.ok
    # the declared private scheme is the one expected dciodvfy warning
    assert {p.tool for p in result.problems} <= {"dciodvfy"}


def test_validate_api_catches_a_broken_sr(seed_srs, tmp_path):
    """The merged validator is not a rubber stamp: break the file, see errors from each tool."""
    import pydicom
    from dicomtools.sr.validate import validate
    require_tool("dciodvfy")
    require_tool("dsrdump")
    ds = pydicom.dcmread(seed_srs["case1/wbmri"])
    del ds.CompletionFlag                                   # dciodvfy: Type 1 missing
    ds.ContentSequence[3].RelationshipType = "HAS PROPERTIES"  # dsrdump: constraint error
    ds.ContentTemplateSequence[0].TemplateIdentifier = "2000"  # ours: not TID 1500
    broken = tmp_path / "broken.dcm"
    ds.save_as(broken)
    result = validate(broken, ("dicomtools", "dciodvfy", "dsrdump"))
    assert {p.tool for p in result.errors} == {"dicomtools", "dciodvfy", "dsrdump"}, result.problems


@pytest.mark.slow
def test_pixelmed_check_can_fail(seed_srs, tmp_path):
    """LN 46358-8 'MRI whole body' is not in CID 100: PixelMed must report an Error."""
    import pydicom
    require_tool("java")
    require_tool("pixelmed.jar", PIXELMED_JARS[0])
    ds = pydicom.dcmread(seed_srs["case1/wbmri"])
    procedure = next(item for item in ds.ContentSequence
                     if item.ConceptNameCodeSequence[0].CodeValue == "121058")
    code = procedure.ConceptCodeSequence[0]
    code.CodeValue, code.CodingSchemeDesignator, code.CodeMeaning = "46358-8", "LN", "MRI whole body"
    broken = tmp_path / "ln_procedure.dcm"
    ds.save_as(broken)
    errors = [p for p in check_pixelmed(broken) if p.severity == "error"]
    assert errors and any("46358-8" in p.message or "Procedure" in p.message for p in errors), errors
