"""dicomtools diff: a mutated SR differs in exactly the field changed; a re-write of the same
Report (new SOP, series and content date/time) is the same; folder pairs."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pydicom
import pytest

from dicomtools.model import Finding, Report, Roi
from dicomtools.observations import Evaluation, Measurement
from dicomtools.sr.diff import DIFFER, diff_files, diff_folders, diff_reports
from dicomtools.sr.read import read_sr
from dicomtools.sr.write import write_sr
from dicomtools.values import ContentNode, Graphic
from dicomtools.vocab import Code

ROOT = Path(__file__).resolve().parents[1]
MM = Code("mm", "UCUM", "mm")


def run(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dicomtools", *map(str, args)], capture_output=True,
                          text=True, timeout=300, cwd=ROOT)


@pytest.fixture(scope="module")
def seeds(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("diff_seeds")
    proc = run("demo", "--quick", "--no-validate", "--out", out)
    assert proc.returncode == 0, proc.stderr
    return out


@pytest.fixture(scope="module")
def base(seeds, tmp_path_factory) -> tuple[Path, Report]:
    """Case 1's WB-MRI finding with every typed field set (the mask SR's volume, ADC, ROI and
    extent added), written and read back: the A side of every mutation."""
    wbmri = read_sr(seeds / "case1" / "wbmri.dcm")
    masked = read_sr(seeds / "masks" / "sr.dcm").findings[0]
    finding = replace(wbmri.findings[0], volume_ml=3.25, adc_value=masked.adc_value, adc_unit=masked.adc_unit,
                      adc_min=masked.adc_min, adc_median=masked.adc_median, roi=masked.roi,
                      extent_mm=masked.extent_mm,
                      measurements=(Measurement("long axis", 26.0, MM),),
                      evaluations=(Evaluation(Code("112141", "DCM", "Margin"), Code("112137", "DCM", "Spiculated")),))
    path = write_sr(replace(wbmri, findings=(finding,)), tmp_path_factory.mktemp("diff_base") / "a.dcm")
    return path, read_sr(path)


def _region() -> ContentNode:
    return ContentNode("SCOORD3D", "CONTAINS", Code("111030", "DCM", "Image Region"),
                       Graphic("POINT", (1.0, 2.0, 3.0), "2.25.255591275389444595725077402882126848344"))


# Each mutation: the field path diff must name, and the new value (one field at a time).
FINDING_MUTATIONS = {
    "present": False,
    "certainty": "possible",
    "finding": "lesion",
    "site": "adrenal gland",
    "laterality": "right",
    "vertebral_levels": ("T9", "T10", "T11"),
    "dimensions_mm[0]": (27.0, 11.0, 22.0),
    "volume_ml": 4.5,
    "t1_signal": "hypo",
    "t2_signal": "iso",
    "diffusion_restricted": False,
    "adc_value": 800.0,
    "adc_min": 600.0,
    "adc_median": 720.0,
    "enhancement": "mild",
    "enhancement_pattern": "focal",
    "contrast_agent": "gadobutrol",
    "tracking_id": "renamed lesion",
    "roi.segment_number": "segment 2",
    "roi.centroid_lps_mm[2]": "moved centroid",
    "extent_mm[1]": "extent",
    "measurements[0]": "measurement",
    "evaluations": "evaluation added",
    "regions": "region added",
}


def _mutated(finding: Finding, path: str) -> Finding:
    name = path.split("[")[0].split(".")[0]
    value = FINDING_MUTATIONS[path]
    if path == "roi.segment_number":
        return replace(finding, roi=replace(finding.roi, segment_number=2))
    if path == "roi.centroid_lps_mm[2]":
        x, y, z = finding.roi.centroid_lps_mm
        return replace(finding, roi=replace(finding.roi, centroid_lps_mm=(x, y, z + 5)))
    if path == "extent_mm[1]":
        return replace(finding, extent_mm=(finding.extent_mm[0], 9.0, finding.extent_mm[2]))
    if path == "measurements[0]":
        return replace(finding, measurements=(Measurement("long axis", 30.0, MM),))
    if path == "evaluations":
        comment = Evaluation(Code("121106", "DCM", "Comment"), "firm")
        return replace(finding, evaluations=(*finding.evaluations, comment))
    if path == "regions":
        return replace(finding, regions=(*finding.regions, _region()))
    return replace(finding, **{name: value})


@pytest.mark.parametrize("path", list(FINDING_MUTATIONS))
def test_a_changed_finding_field_is_found_exactly(base, tmp_path, path):
    a_path, a = base
    (finding,) = a.findings
    b_path = write_sr(replace(a, findings=(_mutated(finding, path),)), tmp_path / "b.dcm")
    result = diff_files(a_path, b_path)
    assert [c.field for c in result.changed] == [path], [str(c) for c in result.changed]
    assert not (result.report or result.added or result.removed)
    assert result.changed[0].finding == finding.tracking_id


REPORT_MUTATIONS = {
    "impression": "normal",
    "indication": "ataxia",
    "observer": "Dr Other",
    "study.description": "another description",
    "evaluations": (Evaluation(Code("121106", "DCM", "Comment"), "report-level remark"),),
}


@pytest.mark.parametrize("path", list(REPORT_MUTATIONS))
def test_a_changed_report_field_is_found_exactly(base, tmp_path, path):
    a_path, a = base
    if path.startswith("study."):
        b = replace(a, study=replace(a.study, description=REPORT_MUTATIONS[path]))
    else:
        b = replace(a, **{path: REPORT_MUTATIONS[path]})
    result = diff_files(a_path, write_sr(b, tmp_path / "b.dcm"))
    assert [c.field for c in result.report] == [path] and not result.changed
    assert not (result.added or result.removed)


def test_procedure_and_tracer_changes(seeds, tmp_path):
    a_path = seeds / "case1" / "mibg.dcm"
    a = read_sr(a_path)
    (finding,) = a.findings
    other = replace(a, findings=(replace(finding, tracer="99mTc-anti-GD2"),))
    result = diff_files(a_path, write_sr(other, tmp_path / "tracer.dcm"))
    assert [c.field for c in result.changed] == ["tracer"] and not result.report
    assert "tracer: I-123 mIBG -> 99mTc-anti-GD2" in "\n".join(result.lines())
    moved = replace(a, procedure="99mTc anti-GD2 immunoscintigraphy",
                    findings=(replace(finding, procedure=None),))
    result = diff_reports(a, read_sr(write_sr(moved, tmp_path / "proc.dcm")))
    assert [c.field for c in result.report] == ["procedure"] and not result.changed


def test_a_value_changed_in_the_dataset_itself(seeds, tmp_path):
    """Edited with pydicom, not through the model: the first diameter 26 -> 27 mm."""
    a_path = seeds / "case1" / "wbmri.dcm"
    ds = pydicom.dcmread(a_path)
    group = ds.ContentSequence[6].ContentSequence[0]
    (num,) = [item for item in group.ContentSequence if item.ValueType == "NUM"][:1]
    value = num.MeasuredValueSequence[0]
    assert value.NumericValue == 26 and value.FloatingPointValue == 26.0
    value.NumericValue, value.FloatingPointValue = "27", 27.0  # both, as an editor must
    ds.save_as(tmp_path / "b.dcm")
    result = diff_files(a_path, tmp_path / "b.dcm")
    assert [(c.field, c.before, c.after) for c in result.changed] == [("dimensions_mm[0]", 26.0, 27.0)]
    proc = run("diff", a_path, tmp_path / "b.dcm")
    assert proc.returncode == DIFFER == 7
    assert "changed 'Case 1 paravertebral mass': dimensions_mm[0]: 26 -> 27 mm" in proc.stdout
    proc = run("diff", a_path, tmp_path / "b.dcm", "--json")
    data = json.loads(proc.stdout)
    assert proc.returncode == 7 and data["same"] is False
    assert data["changed"] == [{"finding": "Case 1 paravertebral mass", "field": "dimensions_mm[0]",
                                "before": 26.0, "after": 27.0}]


def test_a_rewrite_with_new_uids_is_the_same(seeds, tmp_path):
    for a_path in [*sorted(seeds.glob("case*/*.dcm")), seeds / "masks" / "sr.dcm"]:
        b_path = write_sr(read_sr(a_path), tmp_path / a_path.parent.name / a_path.name)
        a_ds, b_ds = pydicom.dcmread(a_path), pydicom.dcmread(b_path)
        assert a_ds.SOPInstanceUID != b_ds.SOPInstanceUID and a_ds.SeriesInstanceUID != b_ds.SeriesInstanceUID
        proc = run("diff", a_path, b_path)
        assert proc.returncode == 0 and proc.stdout.strip().endswith("same findings"), proc.stdout


def test_built_twice_is_the_same(tmp_path):
    case = ROOT / "sample_data" / "cases" / "case1"
    for name in ("one", "two"):
        proc = run("build", case / "wbmri.json", "--source", case / "wbmri", "-o", tmp_path / f"{name}.dcm")
        assert proc.returncode == 0, proc.stderr
    proc = run("diff", tmp_path / "one.dcm", tmp_path / "two.dcm")
    assert proc.returncode == 0 and "same findings" in proc.stdout, proc.stdout


def test_findings_without_tracking_uid_pair_by_place(base, tmp_path):
    _, a = base
    (finding,) = a.findings
    second = replace(finding, site="adrenal gland", laterality="right", vertebral_levels=None,
                     tracking_id="second", tracking_uid=None, roi=None)
    one = replace(a, findings=(replace(finding, tracking_uid=None), second))
    # the same findings, new tracking UIDs (built again), in the other order, one diameter changed
    two = replace(a, findings=(replace(second, dimensions_mm=(5.0,)), replace(finding, tracking_uid=None)))
    result = diff_reports(read_sr(write_sr(one, tmp_path / "1.dcm")), read_sr(write_sr(two, tmp_path / "2.dcm")))
    assert [(c.finding, c.field) for c in result.changed] == [("second", "dimensions_mm")]
    removed = replace(a, findings=(replace(finding, tracking_uid=None),))
    result = diff_reports(read_sr(write_sr(one, tmp_path / "1.dcm")), removed)
    assert [f.tracking_id for f in result.removed] == ["second"] and not result.changed and not result.added


def test_patient_changes_are_named_not_shown(base, tmp_path):
    a_path, a = base
    b = replace(a, patient=replace(a.patient, name="Other^Person"))
    proc = run("diff", a_path, write_sr(b, tmp_path / "b.dcm"))
    assert proc.returncode == 7 and "patient.name: changed" in proc.stdout
    assert "Other^Person" not in proc.stdout and str(a.patient.name) not in proc.stdout


def test_folder_pair(seeds, tmp_path):
    a_dir, b_dir = tmp_path / "a", tmp_path / "b"
    shutil.copytree(seeds, a_dir, ignore=shutil.ignore_patterns("concordance.*"))
    for path in sorted(a_dir.glob("case*/*.dcm")):  # a re-run: new UIDs, same names
        write_sr(read_sr(path), b_dir / path.relative_to(a_dir))
    (b_dir / "masks").mkdir()
    shutil.copy(a_dir / "masks" / "sr.dcm", b_dir / "masks" / "renamed.dcm")  # same SOP UID
    (b_dir / "notes.txt").write_text("not DICOM")
    result = diff_folders(a_dir, b_dir)
    assert result.same, result.lines()
    assert len(result.pairs) == 13 and result.skipped == 2  # B's notes.txt and A's SEG
    proc = run("diff", a_dir, b_dir)
    assert proc.returncode == 0 and "13 file pair(s): 13 same, 0 differ" in proc.stdout

    report = read_sr(b_dir / "case2" / "wbmri.dcm")
    write_sr(replace(report, impression="normal"), b_dir / "case2" / "wbmri.dcm")
    (b_dir / "case3" / "mibg.dcm").unlink()
    data = (a_dir / "case1" / "us.dcm").read_bytes()
    (b_dir / "case1" / "us.dcm").write_bytes(data[:len(data) // 2])  # cut short
    proc = run("diff", a_dir, b_dir, "--json")
    data = json.loads(proc.stdout)
    assert proc.returncode == 7 and data["same"] is False
    differ = [p for p in data["pairs"] if not p["same"]]
    assert len(differ) == 1 and differ[0]["b"].endswith("case2/wbmri.dcm")
    assert [c["field"] for c in differ[0]["report"]] == ["impression"]
    # case3/mibg is only in A, and so is case1/us: B's copy is cut short, unreadable
    assert sorted(Path(p).name for p in data["only_a"]) == ["mibg.dcm", "us.dcm"] and data["only_b"] == []
    assert len(data["unreadable"]) == 1 and "us.dcm" in data["unreadable"][0]
    assert data["skipped_not_sr"] == 2
    assert "only in" in run("diff", a_dir, b_dir).stdout


def test_a_file_and_a_folder_is_bad_input(seeds):
    proc = run("diff", seeds / "case1" / "wbmri.dcm", seeds)
    assert proc.returncode == 2 and "two SR files or two folders" in proc.stderr
    proc = run("diff", seeds / "case1" / "wbmri.dcm", seeds / "nothing.dcm")
    assert proc.returncode == 4 and "no such file" in proc.stderr and "Traceback" not in proc.stderr


def test_roi_uids_are_ignored(base, tmp_path):
    a_path, a = base
    (finding,) = a.findings
    roi = Roi("1.2.826.0.1.3680043.8.498.99", finding.roi.segment_number, finding.roi.source_series_uid,
              finding.roi.centroid_lps_mm, finding.roi.frame_of_reference_uid)
    result = diff_files(a_path, write_sr(replace(a, findings=(replace(finding, roi=roi),)), tmp_path / "b.dcm"))
    assert result.same, result.lines()


def test_a_rewrite_of_every_foreign_sr_is_the_same(tmp_path):
    """What another tool wrote, read and written again by dicomtools: the same findings."""
    sys.path.insert(0, str(ROOT / "tests"))
    import foreign_corpus
    corpus = foreign_corpus.build_corpus(tmp_path / "corpus")
    assert len(corpus) == 38
    for entry in corpus:
        again = write_sr(read_sr(entry.path), tmp_path / "again" / f"{entry.name}.dcm")
        result = diff_files(entry.path, again)
        assert result.same, result.lines()
    # and the check can fail: two different foreign SRs differ
    assert not diff_files(corpus[0].path, corpus[1].path).same


def test_folder_pairing_by_study_and_procedure_only_when_unique(seeds, tmp_path):
    a_dir, b_dir = tmp_path / "a", tmp_path / "b"
    source = seeds / "case2" / "wbmri.dcm"
    (a_dir / "x").mkdir(parents=True)
    shutil.copy(source, a_dir / "x" / "one.dcm")
    write_sr(read_sr(source), b_dir / "elsewhere" / "renamed.dcm")  # new UIDs, another name
    result = diff_folders(a_dir, b_dir)
    assert len(result.pairs) == 1 and result.same
    # two candidates with the same study and procedure on B: no guess, both unpaired
    write_sr(read_sr(source), b_dir / "elsewhere" / "twice.dcm")
    result = diff_folders(a_dir, b_dir)
    assert not result.pairs and len(result.only_a) == 1 and len(result.only_b) == 2 and not result.same


def test_a_missing_side_is_named(tmp_path, capsys):
    from dicomtools.cli import main
    (tmp_path / "there").mkdir()
    assert main(["diff", str(tmp_path / "nope"), str(tmp_path / "there")]) == 4
    assert "nope: no such file or folder" in capsys.readouterr().err
