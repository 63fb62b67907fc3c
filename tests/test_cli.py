"""The command line, run as a user runs it: a real subprocess, real files."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import SAMPLES

CASE1 = SAMPLES / "case1"


def run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "dicomtools", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd, timeout=300)


def test_build_read_validate(tmp_path):
    out = tmp_path / "case1_wbmri.dcm"
    proc = run("build", CASE1 / "wbmri.json", "--source", CASE1 / "wbmri", "-o", out)
    assert proc.returncode == 0, proc.stderr
    proc = run("read", out, "--json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    (finding,) = report["findings"]
    assert finding["vertebral_levels"] == ["T9", "T10"] and finding["dimensions_mm"] == [26, 11, 22]
    assert report["patient"]["id"] == "OMS-CASE-1"  # asked for with --json: the full record
    proc = run("validate", out, "--skip", "pixelmed", "--json")
    result = json.loads(proc.stdout)
    assert result["ok"] is True and "dicomtools" in result["ran"]


def test_plain_read_does_not_print_patient_identifiers(tmp_path):
    out = tmp_path / "sr.dcm"
    run("build", CASE1 / "mibg.json", "--source", CASE1 / "mibg", "-o", out)
    proc = run("read", out)
    assert proc.returncode == 0 and "negative uptake" in proc.stdout
    assert "OMS-CASE-1" not in proc.stdout and "Case1^OMS" not in proc.stdout


def _bad_inputs(tmp_path):
    sr = tmp_path / "good.dcm"
    run("build", CASE1 / "wbmri.json", "--source", CASE1 / "wbmri", "-o", sr)
    data = sr.read_bytes()
    (tmp_path / "truncated.dcm").write_bytes(data[:len(data) // 2])
    (tmp_path / "renamed.dcm").write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n%%EOF")
    findings = json.loads((CASE1 / "wbmri.json").read_text())
    findings["findings"][0]["dimensions_cm"] = findings["findings"][0].pop("dimensions_mm")
    (tmp_path / "wrong_unit.json").write_text(json.dumps(findings))
    findings = json.loads((CASE1 / "mibg.json").read_text())
    findings["findings"][0]["adc_unit"] = "mCi"
    (tmp_path / "bad_unit_value.json").write_text(json.dumps(findings))
    (tmp_path / "broken.json").write_text("{\"procedure\": ")


@pytest.mark.parametrize("args, code, phrase", [
    (["read", "{t}/truncated.dcm"], 4, "truncated"),
    (["read", CASE1 / "wbmri" / "MR001.dcm"], 4, "not a DICOM SR"),
    (["read", "{t}/renamed.dcm"], 4, "not a DICOM file"),
    (["validate", "{t}/renamed.dcm"], 4, "not a DICOM file"),
    (["build", "{t}/wrong_unit.json", "--source", CASE1 / "wbmri", "-o", "{t}/x.dcm"], 2, "dimensions_cm"),
    (["build", "{t}/bad_unit_value.json", "--source", CASE1 / "mibg", "-o", "{t}/x.dcm"], 2, "'adc_unit'"),
    (["build", "{t}/broken.json", "--source", CASE1 / "wbmri", "-o", "{t}/x.dcm"], 2, "not valid JSON"),
    (["build", CASE1 / "wbmri.json", "--source", "{t}/nowhere", "-o", "{t}/x.dcm"], 3, "no such file"),
    (["build", CASE1 / "wbmri.json", "--source", CASE1 / "mibg", "-o", "{t}/x.dcm"], 2, "source images are NM"),
    (["build", CASE1 / "wbmri.json", "--source", SAMPLES, "-o", "{t}/x.dcm"], 3, "more than one"),
])
def test_bad_input_gives_one_clear_line_and_nonzero_exit(tmp_path, args, code, phrase):
    _bad_inputs(tmp_path)
    proc = run(*[str(a).replace("{t}", str(tmp_path)) for a in args])
    assert proc.returncode == code, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("dicomtools: error:"), proc.stderr
    assert phrase in lines[0] and "Traceback" not in proc.stderr
    assert not (tmp_path / "x.dcm").exists()  # never a half-written file
    assert "OMS-CASE" not in proc.stderr  # errors name files and fields, not patients


def test_help_documents_exit_codes():
    proc = run("--help")
    assert proc.returncode == 0 and "exit codes:" in proc.stdout and "not a readable DICOM SR" in proc.stdout


def test_demo_main_job(tmp_path):
    proc = run("demo", "--quick", "--out", tmp_path / "out")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "12/12 SRs built, valid and read back unchanged" in proc.stdout
    assert len(list((tmp_path / "out").glob("case*/*.dcm"))) == 12
    assert "mask -> seg.dcm + sr.dcm" in proc.stdout and "SR and SEG valid" in proc.stdout
    assert "read back unchanged" in proc.stdout
    assert "| Case 3 | 13 years 11 months | male |" in proc.stdout  # the concordance table
    assert "OMS-CASE" not in proc.stdout
