"""The extractor over the two whole seed documents, not snippets of them.

The case-series article (abstract, background, three cases, a flattened table, figure
captions, discussion) must give exactly its three cases' findings, with the abstract's
restatements merged into them; the NCI PDQ page (guideline and patient information) must
give nothing. These are the texts the non-report-prose rules (dicomtools/text/prose.py and
the section/table tracking in extract.py) were written for.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dicomtools.text import extract_findings

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"
PAPER = SEEDS / "000_59716edc0fda0d1d.txt"
PDQ = SEEDS / "004_bf53318f21e4dcc0.txt"

# (procedure, present, site, laterality, vertebral levels) of the three cases; the three
# negative I-123 mIBG scans and the two negative abdominal ultrasounds are one tuple each.
EXPECTED = {
    ("whole-body MRI", True, "paravertebral", "left", ("T9", "T10")),      # case 1
    ("I-123 mIBG scintigraphy", False, "whole body", None, None),         # cases 1-3
    ("ultrasound", False, "abdomen", None, None),                         # cases 1-2
    ("whole-body MRI", True, "adrenal gland", "left", None),              # case 2
    ("99mTc anti-GD2 immunoscintigraphy", False, "whole body", None, None),  # case 3
    ("whole-body MRI", True, "paravertebral", "right", ("T11", "T12", "L1")),  # case 3
}


def _read(path: Path) -> str:
    if not path.exists():
        pytest.skip(f"seed document {path} not available")
    return path.read_text(encoding="utf-8")


def _key(f):
    return (f.procedure, f.present, f.site, f.laterality, f.vertebral_levels)


def test_pdq_page_gives_no_finding():
    assert extract_findings(_read(PDQ)) == []


def test_case_series_gives_exactly_the_case_findings():
    found = extract_findings(_read(PAPER))
    keys = [_key(e.finding) for e in found]
    assert set(keys) == EXPECTED
    assert len(keys) == len(set(keys)), "a finding is told twice (abstract or caption not merged)"
    assert not [k for k in keys if k[0] in (None, "CT")]


def test_case_series_merges_abstract_into_case_text():
    text = _read(PAPER)
    found = extract_findings(text)
    body_start = text.index("Case presentations")
    # the abstract's "immunoscintigraphy ... was inconclusive" is case 3's negative scan told
    # again: one finding, the case text's state, with both sentences as evidence
    gd2 = [e for e in found if e.finding.procedure == "99mTc anti-GD2 immunoscintigraphy"]
    assert len(gd2) == 1 and gd2[0].finding.present is False
    assert gd2[0].start > body_start
    assert any(ev.start < body_start for ev in gd2[0].evidence)
    # every finding is anchored in the case text, not in the abstract, table or discussion
    discussion = text.index("Discussion and conclusions")
    assert all(body_start < e.start < discussion for e in found)
    case1 = next(e.finding for e in found if e.finding.vertebral_levels == ("T9", "T10"))
    assert case1.dimensions_mm == (26.0, 11.0, 22.0) and case1.certainty == "definite"
