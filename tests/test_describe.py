"""describe_finding: one line that shows every field of a finding, and a light import."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace

from dicomtools.describe import describe_finding
from dicomtools.model import Finding, Roi
from dicomtools.observations import Evaluation, Measurement
from dicomtools.values import ContentNode
from dicomtools.vocab import Code

UID = "1.2.826.0.1.3680043.8.498.1"


def test_short_form_is_kept_at_the_start():
    f = Finding(present=True, finding="mass", certainty="definite", site="paravertebral",
                laterality="left", vertebral_levels=("T9", "T10"), dimensions_mm=(26, 11, 22))
    assert describe_finding(f).startswith("POSITIVE mass, left paravertebral T9/10, 26 x 11 x 22 mm, definite")
    negative = Finding(present=False, finding="uptake", site="whole body", tracer="I-123 mIBG",
                       activity_mbq=60)
    assert describe_finding(negative) == ("negative uptake, whole body, I-123 mIBG 60 MBq, "
                                          "certainty not stated")


def test_every_typed_field_is_shown():
    f = Finding(present=None, certainty="possible", finding="mass", site="adrenal gland",
                laterality="right", dimensions_mm=(10.5,), volume_ml=3.25, t1_signal="hypo",
                t2_signal="hyper", diffusion_restricted=False, adc_value=1100, adc_unit="um2/s",
                adc_min=900, adc_median=1050, enhancement="mild", enhancement_pattern="focal",
                contrast_agent="gadobutrol", extent_mm=(10, 20, 30),
                roi=Roi(UID, 2, UID + ".2", (1.0, 2.0, 3.0), UID + ".3"))
    text = describe_finding(f)
    for part in ("equivocal mass", "right adrenal gland", "10.5 mm", "3.25 mL", "possible",
                 "T1 hypo", "T2 hyper", "diffusion not restricted",
                 "ADC 1100 um2/s (min 900, median 1050)", "enhancement mild focal (gadobutrol)",
                 "segment 2 with centroid", "extent 10 x 20 x 30 mm"):
        assert part in text, (part, text)
    assert "\n" not in text


def test_numbers_keep_four_significant_digits_without_exponent():
    from dicomtools.describe import number
    assert [number(v) for v in (0.8, 709.842243, 0.000812, 12345.6, 26.0)] == \
        ["0.8", "709.8", "0.000812", "12346", "26"]


def test_open_part_is_shown():
    mm = Code("mm", "UCUM", "millimeter")
    f = Finding(finding="mass",
                measurements=(Measurement(Code("103339001", "SCT", "Long axis"), 26, mm),),
                evaluations=(Evaluation(Code("112141", "DCM", "Margin"),
                                        Code("112137", "DCM", "Spiculated")),
                             Evaluation(Code("121106", "DCM", "Comment"), "firm")),
                regions=(ContentNode("SCOORD", "INFERRED FROM", None, None),),
                other=(ContentNode("DATE", "HAS PROPERTIES", Code("111536", "DCM", "Date"), "20240101"),))
    text = describe_finding(f)
    assert "measurements: long axis 26 mm" in text  # a known code reads as its term
    assert "evaluations: Margin = Spiculated, Comment = 'firm'" in text
    assert "regions: SCOORD" in text and "other content: Date = '20240101'" in text
    many = replace(f, other=tuple(ContentNode("CODE", "HAS CONCEPT MOD", Code(str(n), "99X", f"Item {n}"),
                                              Code("1", "99X", "Yes")) for n in range(6)))
    assert "other content: Item 0 = Yes, Item 1 = Yes, Item 2 = Yes, Item 3 = Yes and 2 more" \
        in describe_finding(many)


def test_import_is_light_and_demo_reexports():
    code = ("import sys, dicomtools.describe, dicomtools.demo as d; "
            "assert d.describe_finding is dicomtools.describe.describe_finding")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True).returncode == 0
    code = ("import sys, dicomtools.describe; "
            "print(sorted(m for m in ('pydicom', 'numpy', 'highdicom') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_plain_read_shows_every_field_of_the_finding(tmp_path):
    """`dicomtools read` prints describe_finding for each finding: certainty, signal,
    diffusion, enhancement, levels and diameters of the seed WB-MRI report, no patient."""
    from pathlib import Path
    case = Path(__file__).resolve().parents[1] / "sample_data" / "cases" / "case1"
    out = tmp_path / "wbmri.dcm"
    build = subprocess.run([sys.executable, "-m", "dicomtools", "build", str(case / "wbmri.json"),
                            "--source", str(case / "wbmri"), "-o", str(out)], capture_output=True, text=True)
    assert build.returncode == 0, build.stderr
    proc = subprocess.run([sys.executable, "-m", "dicomtools", "read", str(out)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert ("Case 1 paravertebral mass: POSITIVE mass, left paravertebral T9/10, 26 x 11 x 22 mm, "
            "definite, T1 hyper, T2 hyper, diffusion restricted, enhancement strong diffuse "
            "(gadolinium)") in proc.stdout
    assert "OMS-CASE-1" not in proc.stdout and "Case1^OMS" not in proc.stdout
