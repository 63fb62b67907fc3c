"""dicomtools.text on the development corpus, and the seed cases text -> SR -> findings."""

from __future__ import annotations

import importlib.util
import json
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from dicomtools.build import load_findings
from dicomtools.sr.read import read_sr
from dicomtools.text.reports import text_to_sr

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "text_corpus"
SAMPLES = ROOT / "sample_data" / "cases"


def _scorer():
    spec = importlib.util.spec_from_file_location("score_text", ROOT / "benchmarks" / "score_text.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("score_text", module)  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_corpus_is_big_enough_and_well_formed():
    corpus = _scorer().load_corpus(CORPUS)  # validates every gold finding against the model
    assert len(corpus) >= 60
    assert sum(1 for s in corpus if not s.gold) >= 10  # decoys
    assert {"001_seed_case1", "002_seed_case2", "003_seed_case3"} <= {s.name for s in corpus}


def test_corpus_scores_meet_the_targets():
    scorer = _scorer()
    scores = scorer.score(scorer.load_corpus(CORPUS))
    print(scorer.table(scores))
    assert scores.overall()[2] >= scorer.TARGET_F1, "\n".join(scores.errors)
    assert scores.present_accuracy() >= scorer.TARGET_PRESENT, "\n".join(scores.errors)
    assert scores.decoy_fp == 0, "\n".join(scores.errors)


def test_seed_texts_are_verbatim_from_the_case_series():
    seed = (ROOT.parent / "shared" / "seeds" / "000_59716edc0fda0d1d.txt")
    if not seed.exists():
        pytest.skip("shared/seeds not beside the checkout")
    text = seed.read_text(encoding="utf-8")
    for n in (1, 2, 3):
        case_text, caption = (CORPUS / f"00{n}_seed_case{n}.txt").read_text(
            encoding="utf-8").rstrip("\n").split("\n\nFig. ")
        assert case_text in text and ("Fig. " + caption) in text


# Fields a reader of the SR must get back; tracking_id/uid are generated.
_IGNORED = ("tracking_id", "tracking_uid")


def _clinical(finding) -> dict:
    return {k: v for k, v in finding.to_json().items() if k not in _IGNORED}


@pytest.mark.parametrize("case", ["case1", "case2", "case3"])
def test_seed_case_text_to_sr_reads_back_as_the_gold(case, tmp_path):
    n = case[-1]
    text = (CORPUS / f"00{n}_seed_{case}.txt").read_text(encoding="utf-8")
    written, skipped = text_to_sr(text, SAMPLES / case, tmp_path)
    assert skipped == []
    got = {w.procedure: read_sr(w.path) for w in written}
    gold = {}
    for path in sorted((SAMPLES / case).glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        if "findings" not in data or data.get("procedure") == "histopathology":
            continue  # labs and pathology are not imaging reports
        _, report = load_findings(path)
        gold[report.procedure] = report
    assert set(got) == set(gold)
    for procedure, report in gold.items():
        back = got[procedure]
        assert not back.warnings, back.warnings
        assert back.impression == report.impression, procedure
        expected = [_clinical(f) for f in report.with_findings_in_context().findings]
        assert [_clinical(f) for f in back.findings] == expected, procedure
        assert back.study.instance_uid is not None and back.patient.id is not None


def test_text_to_sr_takes_patient_and_study_from_the_matching_images(tmp_path):
    text = (CORPUS / "003_seed_case3.txt").read_text(encoding="utf-8")
    written, _ = text_to_sr(text, SAMPLES / "case3", tmp_path)
    descriptions = {w.procedure: w.report.study.description for w in written}
    assert "GD2" in descriptions["99mTc anti-GD2 immunoscintigraphy"]
    assert "mIBG" in descriptions["I-123 mIBG scintigraphy"]
    assert {w.report.patient.id for w in written} == {"OMS-CASE-3"} or len(
        {w.report.patient.id for w in written}) == 1
    assert len({w.report.study.instance_uid for w in written}) == 3


def test_equal_modulo_tracking(tmp_path):
    """The round trip keeps what the writer was given (sanity of the comparison above)."""
    text = (CORPUS / "001_seed_case1.txt").read_text(encoding="utf-8")
    written, _ = text_to_sr(text, SAMPLES / "case1", tmp_path)
    for w in written:
        back = read_sr(w.path)
        assert replace(back, sr=None).findings == w.report.with_findings_in_context().findings
