"""`dicomtools extract` / `text2sr` through the real command line, and bad input."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dicomtools.errors import InputError
from dicomtools.source import load_studies
from dicomtools.text import MAX_TEXT, extract_findings
from dicomtools.text.reports import pick_study, read_report_text, text_to_sr

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "text_corpus"
SAMPLES = ROOT / "sample_data" / "cases"


def run(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dicomtools", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout)


def test_extract_prints_findings_with_provenance():
    result = run("extract", str(CORPUS / "001_seed_case1.txt"))
    assert result.returncode == 0, result.stderr
    assert "POSITIVE mass, left paravertebral T9/10, 26 x 11 x 22 mm" in result.stdout
    assert "negative uptake, whole body, I-123 mIBG 60 MBq" in result.stdout
    assert "from [" in result.stdout


def test_extract_json_has_findings_and_evidence():
    path = CORPUS / "002_seed_case2.txt"
    result = run("extract", str(path), "--json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    text = path.read_text(encoding="utf-8")
    assert {f["procedure"] for f in doc["findings"]} == {
        "ultrasound", "I-123 mIBG scintigraphy", "whole-body MRI"}
    assert "procedure" not in doc  # several studies: one document per procedure on request
    assert len(doc["evidence"]) == len(doc["findings"])
    for finding, evidence in zip(doc["findings"], doc["evidence"], strict=True):
        assert set(finding) >= {"present", "site", "tracking_uid"}
        for ev in evidence:
            assert text[ev["start"]:ev["end"]] == ev["sentence"]


def test_extract_json_is_what_build_reads(tmp_path):
    """One findings document: extract --json --procedure X | build -> an SR of X's findings."""
    path = CORPUS / "001_seed_case1.txt"
    result = run("extract", str(path), "--json", "--procedure", "whole-body MRI")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["procedure"] == "whole-body MRI" and doc["impression"] == "abnormal"
    findings = tmp_path / "wbmri.json"
    findings.write_text(result.stdout, encoding="utf-8")
    out = tmp_path / "wbmri.dcm"
    built = run("build", str(findings), "--source", str(SAMPLES / "case1" / "wbmri"), "-o", str(out))
    assert built.returncode == 0, built.stderr
    back = run("read", str(out))
    assert back.returncode == 0 and "paravertebral" in back.stdout
    # all procedures in one document: build names them and says how to split
    both = tmp_path / "all.json"
    both.write_text(run("extract", str(path), "--json").stdout, encoding="utf-8")
    refused = run("build", str(both), "--source", str(SAMPLES / "case1" / "wbmri"), "-o",
                  str(tmp_path / "x.dcm"))
    assert refused.returncode == 2 and "--procedure" in refused.stderr


def test_text2sr_writes_one_sr_per_procedure(tmp_path):
    result = run("text2sr", str(CORPUS / "003_seed_case3.txt"), "--source",
                 str(SAMPLES / "case3"), "-o", str(tmp_path))
    assert result.returncode == 0, result.stderr
    written = sorted(p.name for p in tmp_path.glob("*.dcm"))
    assert len(written) == 3, written
    back = run("read", str(tmp_path / written[0]))
    assert back.returncode == 0 and "anti-GD2" in back.stdout


def test_text2sr_names_the_procedure_without_source_study(tmp_path):
    report = tmp_path / "r.txt"
    report.write_text("68Ga-DOTATATE PET/CT showed an avid left adrenal mass.", encoding="utf-8")
    result = run("text2sr", str(report), "--source", str(SAMPLES / "case1"), "-o", str(tmp_path / "o"))
    assert result.returncode == 2
    assert "68Ga-DOTATATE PET/CT" in result.stderr and "PT" in result.stderr
    skipped = run("text2sr", str(report), "--source", str(SAMPLES / "case1"), "-o",
                  str(tmp_path / "o"), "--skip-missing")
    assert skipped.returncode == 0 and "skipped 68Ga-DOTATATE PET/CT" in skipped.stdout


def test_pick_study_tells_two_nm_studies_apart_by_description():
    studies = load_studies(SAMPLES / "case3")
    assert "GD2" in pick_study("99mTc anti-GD2 immunoscintigraphy", studies).study.description
    assert "mIBG" in pick_study("I-123 mIBG scintigraphy", studies).study.description
    with pytest.raises(InputError, match="bone scintigraphy"):
        pick_study("bone scintigraphy", studies)


def test_text2sr_without_procedure_needs_one(tmp_path):
    text = "There is a 2 cm mass in the left adrenal gland with low ADC."
    with pytest.raises(InputError, match="--procedure"):
        text_to_sr(text, SAMPLES / "case2", tmp_path)
    written, _ = text_to_sr(text, SAMPLES / "case2", tmp_path, default_procedure="whole-body MRI")
    assert written[0].report.findings[0].site == "adrenal gland"


# ---- bad input ----------------------------------------------------------------------------------
def test_empty_file_gives_no_findings(tmp_path):
    path = tmp_path / "empty.txt"
    path.write_bytes(b"")
    result = run("extract", str(path), "--json")
    assert result.returncode == 0 and json.loads(result.stdout) == {"findings": [], "evidence": []}
    result = run("text2sr", str(path), "--source", str(SAMPLES / "case1"), "-o", str(tmp_path / "o"))
    assert result.returncode == 2 and "no imaging finding" in result.stderr


@pytest.mark.parametrize("content, message", [
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "binary"),
    ("Die Läsion misst 2 × 3 cm.".encode("latin-1"), "not utf-8 text"),
])
def test_binary_and_non_utf8_are_refused(tmp_path, content, message):
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    result = run("extract", str(path))
    assert result.returncode == 2
    assert message in result.stderr.lower()


def test_other_encoding_on_request(tmp_path):
    path = tmp_path / "latin1.txt"
    path.write_bytes("MRI showed a 2 × 3 cm left adrenal mass.".encode("latin-1"))
    result = run("extract", str(path), "--encoding", "latin-1", "--json")
    assert result.returncode == 0
    assert json.loads(result.stdout)["findings"][0]["dimensions_mm"] == [20.0, 30.0]


def test_ten_megabytes_is_refused_quickly(tmp_path):
    path = tmp_path / "big.txt"
    path.write_bytes(b"WB-MRI revealed a mass. " * (10 * 1024 * 1024 // 24))
    start = time.perf_counter()
    result = run("extract", str(path))
    assert time.perf_counter() - start < 10
    assert result.returncode == 2 and "limit" in result.stderr
    with pytest.raises(InputError, match="limit"):
        extract_findings("x" * (10 * 1024 * 1024))
    with pytest.raises(InputError, match="larger than"):
        read_report_text(path)


def test_missing_and_directory(tmp_path):
    assert run("extract", str(tmp_path / "nope.txt")).returncode == 2
    assert run("extract", str(tmp_path)).returncode == 2


@pytest.mark.parametrize("unit", [
    "1.1 x ",                   # sizes: many partial matches
    "no mass ",                 # a finding noun per two words, each negated
    "T 9/",                     # level-like fragments
    "hyperintense in T",        # signal pattern with a bounded gap
    "did not reveal any ",      # negation cues
    "scin-\n",                  # line-end hyphens
    "(",                        # brackets
    "Mass. ",                   # a finding per sentence
])
def test_backtracking_prone_input_at_the_size_limit_is_bounded(unit):
    text = (unit * (MAX_TEXT // len(unit) + 1))[:MAX_TEXT]
    start = time.process_time()  # CPU time of this process: the shared machine's load is not ours
    extract_findings(text)
    assert time.process_time() - start < 10, unit


def test_extract_no_evidence_keeps_report_text_off_the_screen(tmp_path):
    path = tmp_path / "report.txt"
    path.write_text("I-123 MIBG scintigraphy of Anna Mueller: focal uptake in the right adrenal "
                    "gland.\n", encoding="utf-8")
    plain = run("extract", str(path))
    assert "Anna Mueller" in plain.stdout  # default: the source sentence is quoted
    result = run("extract", str(path), "--no-evidence")
    assert result.returncode == 0, result.stderr
    assert "POSITIVE uptake, right adrenal gland" in result.stdout
    assert "Anna" not in result.stdout and "from [" not in result.stdout
    result = run("extract", str(path), "--no-evidence", "--json")
    doc = json.loads(result.stdout)
    assert "Anna" not in result.stdout
    assert doc["evidence"][0] == [{"start": 0, "end": len(path.read_text().strip())}]
    assert "--no-evidence" in run("extract", "--help").stdout


def test_extract_says_why_a_text_gives_no_finding(tmp_path):
    import subprocess
    import sys
    path = tmp_path / "template.txt"
    path.write_text("Size: [# x # cm]\nCalcification: [none* | benign pattern]\nThoracic spine: [Normal*]\n",
                    encoding="utf-8")
    out = subprocess.run([sys.executable, "-m", "dicomtools", "extract", str(path)],
                         capture_output=True, text=True, check=True).stdout
    assert "no imaging finding found (the text reads as a reporting template)" in out
