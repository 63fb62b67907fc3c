"""The query examples of docs/archive.md, run exactly as written, and their answers checked
against what the seed cases say (sample_data/cases/*/*.json, the sample mask's labels)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from archive_fixtures import build_demo, run_cli
from conftest import ROOT, SAMPLES

from dicomtools.levels import expand_levels

DOC = ROOT / "docs" / "archive.md"
_QUERY = re.compile(r'^### (?P<title>.+?)\n\n```sh\ndicomtools query idx "\n(?P<sql>.*?)"\n```',
                    re.S | re.M)


def _doc_queries() -> dict[str, str]:
    return {m["title"]: m["sql"] for m in _QUERY.finditer(DOC.read_text("utf-8"))}


def _case(name: str) -> dict[str, dict]:
    """A seed case's findings files: {'wbmri': {...}, 'mibg': {...}, ...}."""
    return {p.stem: json.loads(p.read_text("utf-8")) for p in (SAMPLES / name).glob("*.json")
            if p.stem != "labs"}


def _rows(index: Path, sql: str) -> list[dict]:
    code, out, err = run_cli("query", index, sql, "--format", "json")
    assert code == 0, err
    return json.loads(out)


@pytest.fixture(scope="module")
def index(tmp_path_factory) -> Path:
    seeds = build_demo(tmp_path_factory.mktemp("docs") / "seeds")
    out = seeds.parent / "idx"
    assert run_cli("index", seeds, "-o", out, "--workers", "1")[0] == 0
    return out


def test_the_doc_has_the_four_questions():
    assert set(_doc_queries()) == {
        "Every lesion WB-MRI saw and mIBG scintigraphy did not",
        "Every paravertebral finding at T9–T12",
        "Every ADC below 1.0e-3 mm2/s",
        "Every negative scan, with its tracer and the activity given"}


def _levels(finding: dict) -> list[str] | None:
    levels = finding.get("vertebral_levels")
    if levels is None:
        return None
    return list(expand_levels(levels)) if isinstance(levels, str) else list(levels)


def test_lesions_mri_saw_and_mibg_did_not(index):
    rows = _rows(index, _doc_queries()["Every lesion WB-MRI saw and mIBG scintigraphy did not"])
    expected = []
    for case in ("case1", "case2", "case3"):
        files = _case(case)
        mibg_positive = {(f["site"], f.get("laterality")) for f in files["mibg"]["findings"]
                         if f["present"]}
        expected += [(f["site"], f.get("laterality"), _levels(f)) for f in files["wbmri"]["findings"]
                     if f["present"] and (f["site"], f.get("laterality")) not in mibg_positive]
    assert sorted(expected, key=str) == sorted(
        ((r["site"], r["laterality"], r["vertebral_levels"]) for r in rows), key=str)
    # what the case series says: one such lesion per patient, three patients
    assert len({r["patient_key"] for r in rows}) == 3
    assert ("paravertebral", "left", ["T9", "T10"]) in [(r["site"], r["laterality"],
                                                        r["vertebral_levels"]) for r in rows]


def test_paravertebral_findings_at_t9_to_t12(index):
    rows = _rows(index, _doc_queries()["Every paravertebral finding at T9–T12"])
    wanted = {"T9", "T10", "T11", "T12"}
    expected = []
    for case in ("case1", "case2", "case3"):
        for doc in _case(case).values():
            for f in doc["findings"]:
                if f.get("site") == "paravertebral" and wanted & set(_levels(f) or ()):
                    expected.append((doc["procedure"], f.get("laterality"), _levels(f),
                                     f.get("dimensions_mm")))
    labels = json.loads((ROOT / "sample_data" / "masks" / "case1_wbmri_labels.json").read_text())
    mask = labels["1"]
    assert mask["site"] == "paravertebral"
    got = [(r["procedure"], r["laterality"], r["vertebral_levels"], r["dimensions_mm"]) for r in rows]
    from_mask = [g for g in got if g[3] is not None and len(g[3]) == 1]
    assert [(g[1], g[2]) for g in from_mask] == [(mask["laterality"],
                                                  list(expand_levels(mask["vertebral_levels"])))]
    assert sorted((g for g in got if g not in from_mask), key=str) == sorted(expected, key=str)
    assert len(expected) == 2  # case 1 at T9/10, case 3 at T11-L1


def test_adc_below_threshold(index):
    rows = _rows(index, _doc_queries()["Every ADC below 1.0e-3 mm2/s"])
    # no seed findings file gives an ADC value: the only one is measured on the sample mask,
    # whose lesion voxels hold 650-770 x 10^-6 mm2/s (sample_data/make_masks.py)
    assert not any(f.get("adc_value") for case in ("case1", "case2", "case3")
                   for doc in _case(case).values() for f in doc["findings"])
    (row,) = rows
    assert (row["site"], row["laterality"], row["vertebral_levels"]) == (
        "paravertebral", "left", ["T9", "T10"])
    assert 0.65e-3 <= row["adc_mm2_s"] <= 0.77e-3
    assert row["adc_min"] == 650.0 and row["adc_unit"] == "10-6.mm2/s"


def test_negative_scans_with_activity(index):
    rows = _rows(index, _doc_queries()["Every negative scan, with its tracer and the activity given"])
    expected = sorted(((f["tracer"], f.get("activity_mbq")) for case in ("case1", "case2", "case3")
                       for doc in _case(case).values() for f in doc["findings"]
                       if f["present"] is False and f.get("tracer")), key=str)
    assert sorted(((r["tracer"], r["activity_mbq"]) for r in rows), key=str) == expected
    assert [r["activity_mbq"] for r in rows] == [40.0, 60.0, 108.0, None]
