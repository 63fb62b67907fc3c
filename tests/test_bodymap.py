"""Body map of the work-up: the seed cases' lesions at the right side and level, checked from
the SVG's own coordinates and in a headless-Chromium screenshot; escaping; no identifiers."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from dicomtools.concordance import collect_reports, concordance, concordance_of_files
from dicomtools.concordance.bodymap import MID, SCALE, body_map, level_centre
from dicomtools.model import Finding, Patient, Report, Study
from dicomtools.vocab import Code

SVG = "{http://www.w3.org/2000/svg}"
CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="module")
def seed_report(seed_srs, tmp_path_factory):
    folder = tmp_path_factory.mktemp("bodymap_seed")
    for path in seed_srs.values():
        shutil.copy(path, folder / path.name)
    return concordance_of_files([folder])


def _svg(report, index: int) -> ET.Element:
    return ET.fromstring(body_map(report.patients[index], report.rows[index].label))


def _lesions(svg: ET.Element) -> list[dict]:
    out = []
    for rect in svg.iter(f"{SVG}rect"):
        if rect.get("class") != "lesion":
            continue
        x, y, w, h = (float(rect.get(k)) for k in ("x", "y", "width", "height"))
        out.append({**rect.attrib, "cx": x + w / 2, "cy": y + h / 2, "top": y, "bottom": y + h,
                    "title": rect.find(f"{SVG}title").text})
    return out


def _vertebra_centres(svg: ET.Element) -> dict[str, float]:
    return {r.get("data-level"): float(r.get("y")) + float(r.get("height")) / 2
            for r in svg.iter(f"{SVG}rect") if r.get("class") == "vertebra"}


def test_seed_case_1_lesion_is_left_paravertebral_t9_10(seed_report):
    svg = _svg(seed_report, 0)
    (lesion,) = _lesions(svg)
    centres = _vertebra_centres(svg)
    assert len(centres) == 29 and list(centres)[:2] == ["C1", "C2"] and list(centres)[-1] == "S5"
    assert float(svg.get("data-midline")) == MID
    assert lesion["cx"] > MID  # the patient's left is on the viewer's right
    assert centres["T9"] < lesion["cy"] < centres["T10"]
    assert lesion["data-site"] == "paravertebral" and lesion["data-side"] == "left"
    assert lesion["data-levels"] == "T9 T10"
    assert lesion["data-seen-by"] == "whole-body MRI"
    assert "mIBG" in lesion["data-not-seen-by"]
    assert lesion["data-confirmed"] == "true"  # thoracic ganglioneuroblastoma
    assert "left-sided paravertebral T9/10" in lesion["title"]


def test_seed_case_2_lesion_is_in_the_left_adrenal(seed_report):
    svg = _svg(seed_report, 1)
    (lesion,) = _lesions(svg)
    assert lesion["cx"] > MID and lesion["data-site"] == "adrenal gland"
    (gland,) = [e for e in svg.iter(f"{SVG}ellipse")
                if e.get("data-region") == "adrenal gland" and e.get("data-side") == "left"]
    ex, ey, rx, ry = (float(gland.get(k)) for k in ("cx", "cy", "rx", "ry"))
    assert ((lesion["cx"] - ex) / rx) ** 2 + ((lesion["cy"] - ey) / ry) ** 2 <= 1
    assert ex > MID
    # the adrenals lie at the thoracolumbar junction, between T11 and L1
    centres = _vertebra_centres(svg)
    assert centres["T11"] < lesion["cy"] < centres["L1"]
    assert lesion["data-confirmed"] == "true"
    assert "ultrasound" in lesion["data-not-seen-by"]


def test_seed_case_3_lesion_is_right_paravertebral_t11_to_l1(seed_report):
    svg = _svg(seed_report, 2)
    (lesion,) = _lesions(svg)
    centres = _vertebra_centres(svg)
    assert lesion["cx"] < MID
    assert centres["T11"] < lesion["cy"] < centres["L1"]
    assert lesion["data-levels"] == "T11 T12 L1" and lesion["data-side"] == "right"
    # the marker spans the levels: from the top of T11 to the bottom of L1
    boxes = {r.get("data-level"): r for r in svg.iter(f"{SVG}rect") if r.get("class") == "vertebra"}
    assert lesion["top"] == pytest.approx(float(boxes["T11"].get("y")))
    assert lesion["bottom"] == pytest.approx(float(boxes["L1"].get("y")) + float(boxes["L1"].get("height")))


def test_map_states_its_convention_and_holds_no_identifiers(seed_report):
    for i, patient in enumerate(seed_report.patients):
        text = body_map(patient, seed_report.rows[i].label)
        assert "patient's right on the left of the picture" in text
        assert ">R<" in text and ">L<" in text
        assert patient.record.patient.id not in text
        name = patient.record.patient.name
        assert name and name not in text and name.split("^")[0] not in text


def test_concordance_html_embeds_one_map_per_patient(seed_report):
    page = seed_report.render("html")
    assert page.count("class='bodymap' role='img'") == 3
    assert page.count("id='dicomtools-bodymap-base'") == 1  # the silhouette once
    assert page.count("<use href='#dicomtools-bodymap-base'/>") == 3
    assert page.count("<tr>") == 4  # the maps add no table rows
    for row in seed_report.rows:
        assert f"aria-label='{row.label}: body map'" in page


def _png(path):
    image = pytest.importorskip("PIL.Image")
    np = pytest.importorskip("numpy")
    return np.asarray(image.open(path).convert("RGB")).astype(int)


def _shoot(html_path, png_path, width, height):
    if not shutil.which(CHROMIUM):
        pytest.skip("chromium is not installed")
    proc = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                           "--hide-scrollbars", "--force-device-scale-factor=1",
                           f"--screenshot={png_path}", f"--window-size={width},{height}",
                           html_path.as_uri()], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and png_path.exists(), proc.stderr[-2000:]


def _hex(colour: str) -> tuple[int, int, int]:
    return tuple(int(colour[i:i + 2], 16) for i in (1, 3, 5))


def test_screenshot_shows_each_lesion_at_its_place(seed_report, tmp_path):
    """Each seed map alone on a page at (0, 0): a pixel of the map is (coordinate x SCALE).
    The lesion's colour must be at the marker's centre and absent on the mirrored side."""
    for i, patient in enumerate(seed_report.patients):
        svg_text = body_map(patient, seed_report.rows[i].label)
        (lesion,) = _lesions(ET.fromstring(svg_text))
        page = tmp_path / f"case{i + 1}.html"
        page.write_text(f"<!DOCTYPE html><html><body style='margin:0'>{svg_text}</body></html>",
                        encoding="utf-8")
        png = tmp_path / f"case{i + 1}.png"
        _shoot(page, png, 560, 1000)
        pixels = _png(png)
        assert pixels.std() > 20  # not blank
        colour = _hex(lesion["fill"])
        px, py = round(lesion["cx"] * SCALE), round(lesion["cy"] * SCALE)
        patch = pixels[py - 2:py + 3, px - 2:px + 3]
        # fill-opacity 0.9 over white: each channel within 30 of the fill colour
        assert (abs(patch - colour).max(axis=2) < 30).sum() >= 20, (i, patch[2, 2], colour)
        mx = round((2 * MID - lesion["cx"]) * SCALE)
        mirror = pixels[py - 2:py + 3, mx - 2:mx + 3]
        assert (abs(mirror - colour).max(axis=2) < 30).sum() == 0


def test_screenshot_of_the_concordance_page_is_not_blank(seed_report, tmp_path):
    page = tmp_path / "concordance.html"
    page.write_text(seed_report.render("html"), encoding="utf-8")
    png = tmp_path / "concordance.png"
    _shoot(page, png, 1400, 3200)
    pixels = _png(png)
    assert pixels.std() > 20
    svg = _svg(seed_report, 0)
    colour = _hex(_lesions(svg)[0]["fill"])
    near = (abs(pixels - colour).max(axis=2) < 30).sum()
    assert near >= 50  # the lesion colour is drawn on the page (markers and legend)


def _report(procedure, modality, findings, pid="P1", date="20150101"):
    return Report(modality=modality, procedure=procedure, study=Study(date=date),
                  patient=Patient(id=pid, issuer="X", name="Doe^Jane"), findings=tuple(findings))


def test_text_is_escaped_and_unplaceable_sites_are_listed(tmp_path):
    odd = Code("X1", "99LOCAL", "<script>alert('x')</script> & \"site\"")
    report = concordance(collect_reports([
        _report("whole-body MRI", "MR", [Finding(finding="mass", site=odd, laterality="left")]),
        _report("I-123 mIBG scintigraphy", "NM",
                [Finding(present=False, finding="uptake", site="whole body")]),
    ]), label="<b>Case</b>")
    text = body_map(report.patients[0], report.rows[0].label)
    svg = ET.fromstring(text)  # well-formed XML
    assert "<script>" not in text and "<b>" not in text
    assert not _lesions(svg)  # a code from another tool has no place on the map
    words = " ".join(t.text or "" for t in svg.iter(f"{SVG}text"))
    assert "not placed on the map" in words and "<script>" in words  # shown, as text
    assert "P1" not in text and "Doe" not in text


def test_bilateral_hedged_and_level_only_findings(tmp_path):
    report = concordance(collect_reports([
        _report("whole-body MRI", "MR", [
            Finding(finding="mass", site="adrenal gland", laterality="bilateral", certainty="possible"),
            Finding(finding="mass", site="vertebra", vertebral_levels=("L3",)),
        ]),
    ]))
    svg = ET.fromstring(body_map(report.patients[0], report.rows[0].label))
    lesions = _lesions(svg)
    adrenal = [m for m in lesions if m["data-site"] == "adrenal gland"]
    assert sorted(m["data-side"] for m in adrenal) == ["left", "right"]
    assert {m["cx"] > MID for m in adrenal} == {True, False}
    assert all(m["data-certainty"] == "possible" and m.get("stroke-dasharray") for m in adrenal)
    assert all("certainty: possible" in m["title"] for m in adrenal)
    (bone,) = [m for m in lesions if m["data-site"] == "vertebra"]
    assert bone["cy"] == pytest.approx(level_centre("L3"))
    assert bone["data-confirmed"] == "false" and bone["data-certainty"] == "definite"


def test_a_patient_without_lesions_gets_an_empty_map():
    report = concordance(collect_reports([
        _report("whole-body MRI", "MR", [Finding(present=False, finding="mass", site="whole body")]),
    ]))
    svg = ET.fromstring(body_map(report.patients[0], report.rows[0].label))
    assert not _lesions(svg)
    assert any("no lesion reported" in (t.text or "") for t in svg.iter(f"{SVG}text"))


def test_open_vocabulary_sites_find_their_region():
    report = concordance(collect_reports([
        _report("whole-body MRI", "MR", [
            Finding(finding="mass", site="shaft of femur", laterality="right"),
            Finding(finding="mass", site="spleen"),
        ]),
    ]))
    lesions = {m["data-site"]: m for m in _lesions(ET.fromstring(
        body_map(report.patients[0], report.rows[0].label)))}
    femur = lesions["shaft of femur"]
    assert femur["cx"] < MID and femur["cy"] > level_centre("S5")  # below the pelvis
    assert femur["data-placed-by"] == "site name"
    assert lesions["spleen"]["cx"] > MID  # the spleen lies on the patient's left


def test_demo_page_shows_the_seed_lesions(tmp_path):
    """`dicomtools demo` writes concordance.html: its maps (drawn with the shared silhouette)
    put each seed lesion at its side and level."""
    proc = subprocess.run([sys.executable, "-m", "dicomtools", "demo", "--quick", "--no-validate",
                           "--out", str(tmp_path)], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    page = (tmp_path / "concordance.html").read_text(encoding="utf-8")
    maps = re.findall(r"<svg xmlns='http://www.w3.org/2000/svg' class='bodymap'.*?</svg>", page, re.S)
    assert len(maps) == 3
    expected = [("left", "T9", "T10"), ("left", None, None), ("right", "T11", "L1")]
    for svg_text, (side, upper, lower) in zip(maps, expected, strict=True):
        svg = ET.fromstring(svg_text)
        assert svg.find(f"{SVG}use") is not None
        lesions = [m for m in _lesions(svg) if m["data-site"] in ("paravertebral", "adrenal gland")]
        assert lesions and all(m["data-side"] == side for m in lesions)
        for m in lesions:
            assert (m["cx"] > MID) == (side == "left")
            if upper:
                assert level_centre(upper) < m["cy"] < level_centre(lower)
            else:
                assert m["data-site"] == "adrenal gland"
