"""dicomtools render: every content item DCMTK's dsrdump lists appears in render, in order,
with the same relationship, value type, concept code and value; the HTML opens in headless
Chromium and draws something (screenshot kept under the test's tmp dir)."""

from __future__ import annotations

import re
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pydicom
import pytest

from dicomtools.sr.render import Node, render_file, walk
from tests.conftest import require_tool

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
import foreign_corpus  # noqa: E402

DSRDUMP_FLAGS = ["-Ph", "+Pn", "+Pc", "+Pl", "+Pu", "-Ee", "-Er", "-Ev", "-Ec", "+U8"]
# "1.2.3  <has concept mod CODE:(121049,DCM,"Language")=(en,RFC5646,"English")> {datetime}"
_LINE = re.compile(r"^(?P<pos>\d+(?:\.\d+)*)  <(?P<rel>[a-z][a-z ]*? )?(?P<vt>[A-Z0-9]+):"
                   r"(?:\((?P<cv>[^,]*),(?P<cs>[^,]*),\"(?P<cm>.*?)\"\))?=(?P<value>.*)>(?: \{[^}]*\})?$",
                   re.DOTALL)
_BYREF = re.compile(r"^(?P<pos>\d+(?:\.\d+)*)  <(?P<rel>[a-z][a-z ]*) (?P<target>\d+(?:\.\d+)*)>$")
_CODE = re.compile(r"^\((?P<cv>[^,]*),(?P<cs>[^,]*),\"(?P<cm>.*)\"\)")
_NUM = re.compile(r"^\"(?P<number>[^\"]*)\" \((?P<cv>[^,]*),(?P<cs>[^,]*),\"(?P<cm>.*)\"\)")


@pytest.fixture(scope="session")
def seed_folder(tmp_path_factory) -> Path:
    """The 12 seed SRs as `dicomtools demo --quick --no-validate` writes them."""
    out = tmp_path_factory.mktemp("render_seeds")
    proc = subprocess.run([sys.executable, "-m", "dicomtools", "demo", "--quick", "--no-validate",
                           "--out", str(out)], capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    return out


@pytest.fixture(scope="session")
def foreign(tmp_path_factory) -> list[Path]:
    corpus = foreign_corpus.build_corpus(tmp_path_factory.mktemp("render_foreign"))
    return [entry.path for entry in corpus]


def dsrdump(path: Path) -> list[str]:
    """dsrdump's content lines (one per item; a line break inside a value joins the next)."""
    tool = require_tool("dsrdump")
    proc = subprocess.run([tool, *DSRDUMP_FLAGS, str(path)], capture_output=True, timeout=120)
    if b"Unknown Document Type" in proc.stderr:
        # a retired class dsrdump does not know (Detail SR): dump the same content under
        # the Comprehensive SR class, the content tree is what is compared
        ds = pydicom.dcmread(path)
        ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.88.33"
        copy = path.with_name(path.stem + ".as-comprehensive.dcm")
        ds.save_as(copy)
        proc = subprocess.run([tool, *DSRDUMP_FLAGS, str(copy)], capture_output=True, timeout=120)
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    lines: list[str] = []
    for raw in proc.stdout.decode("utf-8", errors="replace").splitlines():
        if re.match(r"^\d+(?:\.\d+)*  <", raw) or not lines:
            lines.append(raw)
        else:
            lines[-1] += "\n" + raw
    return [line for line in lines if line.strip()]


def _same_text(dcmtk: str, ours: str) -> bool:
    """dsrdump escapes control characters in its own way; compare the printable rest."""
    keep = lambda s: re.sub(r"\\[rnt]|\\[0-9]{3}|[^\x21-\x7e]", "", s)
    return keep(dcmtk) == keep(ours)


def check_same_items(path: Path) -> int:
    """Assert render's items equal dsrdump's, one by one; returns the number of items."""
    nodes = walk(pydicom.dcmread(path))
    lines = dsrdump(path)
    assert len(nodes) == len(lines), (path.name, len(nodes), len(lines))
    for node, line in zip(nodes, lines, strict=True):
        where = f"{path.name} {node.position}: {line!r}"
        byref = _BYREF.match(line)
        if byref:
            assert node.reference == byref["target"] and node.position == byref["pos"], where
            assert node.relationship and node.relationship.lower() == byref["rel"], where
            continue
        m = _LINE.match(line)
        assert m, where
        assert node.position == m["pos"] and node.value_type == m["vt"], where
        assert (node.relationship or "").lower() == (m["rel"] or "").strip(), where
        if m["cv"] is None:
            assert node.concept is None, where
        else:
            assert node.concept is not None and (node.concept.value, node.concept.scheme) == (m["cv"], m["cs"]), where
        _check_value(node, m["value"], where)
    return len(nodes)


def _check_value(node: Node, value: str, where: str) -> None:
    vt = node.value_type
    if vt == "CONTAINER":
        assert value in node.value, where
    elif vt == "CODE":
        code = _CODE.match(value)
        assert code and node.code and (node.code.value, node.code.scheme) == (code["cv"], code["cs"]), where
    elif vt == "NUM":
        num = _NUM.match(value)
        if num is None:  # no measured value: dsrdump prints the qualifier or "empty"
            assert node.number is None, where
        else:
            assert node.number == num["number"], where
            assert node.code and (node.code.value, node.code.scheme) == (num["cv"], num["cs"]), where
    elif vt in ("TEXT", "UIDREF", "PNAME", "DATE", "TIME", "DATETIME"):
        assert value.startswith('"') and value.endswith('"'), where
        assert _same_text(value[1:-1], node.text or ""), where
    elif vt in ("IMAGE", "COMPOSITE", "WAVEFORM"):
        # the instance UIDs follow a comma (a class dsrdump does not know is quoted too)
        assert re.findall(r',"([0-9.]*)"', value) == list(node.uids), where
    elif vt in ("SCOORD", "SCOORD3D", "TCOORD"):
        assert value.startswith(f"({node.graphic},"), where
    else:
        pytest.fail(f"value type not checked: {where}")


def test_render_lists_every_item_dsrdump_lists_on_the_seed_srs(seed_folder):
    files = sorted(seed_folder.glob("case*/*.dcm"))
    assert len(files) == 12
    counts = {f"{p.parent.name}/{p.name}": check_same_items(p) for p in files}
    assert all(n > 10 for n in counts.values()), counts
    print(f"seed SRs: {sum(counts.values())} items in {len(counts)} files, identical to dsrdump")


def test_render_lists_every_item_dsrdump_lists_on_the_foreign_corpus(foreign):
    assert len(foreign) == 38
    total = sum(check_same_items(p) for p in foreign)
    print(f"foreign corpus: {total} items in {len(foreign)} files, identical to dsrdump")


def test_text_render_one_line_per_item_and_no_patient(seed_folder):
    path = seed_folder / "case1" / "wbmri.dcm"
    out = subprocess.run([sys.executable, "-m", "dicomtools", "render", str(path)], capture_output=True,
                         text=True, timeout=120, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    header, tree = out.stdout.split("\n\n", 1)
    assert "Comprehensive SR Storage" in header and "Imaging Measurement Report (126000, DCM)" in header
    assert "Completion: COMPLETE" in header and "Verification: UNVERIFIED" in header
    nodes = walk(pydicom.dcmread(path))
    lines = tree.rstrip("\n").split("\n")
    assert len(lines) == len(nodes)
    for node, line in zip(nodes, lines, strict=True):
        assert line.startswith("  " * node.depth + node.position + " "), line
    assert "      1.7.1.5 CONTAINS NUM Diameter (81827009, SCT) = 26 mm (mm, UCUM)" in lines
    assert "OMS-CASE-1" not in out.stdout and "Case1^OMS" not in out.stdout
    shown = render_file(path, show_patient=True)
    assert "OMS-CASE-1" in shown and "Case1^OMS" in shown


def test_render_of_other_classes_names_each_value_kind():
    text = render_file(foreign_corpus.PYDICOM_TEST_FILES / "test-SR.dcm")
    for part in ("SCOORD SCoord Code (1234, 99_OFFIS_DCMTK) = CIRCLE, 2 points",
                 "TCOORD TCoord Code (1234, 99_OFFIS_DCMTK) = SEGMENT, 2 time offsets",
                 "1.3.3.1 SELECTED FROM -> 1.3.2",
                 "COMPOSITE (no concept name) = Basic Text SR Storage 9.8.7.6",
                 "CT Image Storage 1.2.3.4.5.0, frames 5,2, with Grayscale Softcopy Presentation State",
                 "DATE Date (1234.1, 99_OFFIS_DCMTK) = 20001206",
                 '"Sample Text\\rA\\nB\\r\\nC\\n\\r"'):
        assert part in text, part


def test_render_bad_input_is_an_sr_read_error(tmp_path):
    (tmp_path / "x.dcm").write_bytes(b"not dicom")
    proc = subprocess.run([sys.executable, "-m", "dicomtools", "render", str(tmp_path / "x.dcm")],
                          capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert proc.returncode == 4 and "not a DICOM file" in proc.stderr and "Traceback" not in proc.stderr
    ct = foreign_corpus.PYDICOM_TEST_FILES / "CT_small.dcm"
    proc = subprocess.run([sys.executable, "-m", "dicomtools", "render", str(ct), "-o", str(tmp_path / "o.html")],
                          capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert proc.returncode == 4 and "not a DICOM SR" in proc.stderr
    assert not (tmp_path / "o.html").exists()


def test_html_escapes_everything(tmp_path, seed_folder):
    ds = pydicom.dcmread(seed_folder / "case1" / "wbmri.dcm")
    group = ds.ContentSequence[6].ContentSequence[0]
    group.ContentSequence[0].TextValue = '<script>alert("x")</script> & "q"'
    path = tmp_path / "evil.dcm"
    ds.save_as(path)
    page = render_file(path, "html")
    assert "<script>" not in page and "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp;" in page
    assert page.count("<li ") == len(walk(ds)) and page.count("<ul") == page.count("</ul>")
    other = render_file(foreign_corpus.PYDICOM_TEST_FILES / "test-SR.dcm", "html")
    assert '<a href="#item-1.3.2">-&gt; 1.3.2</a>' in other and 'id="item-1.3.2"' in other


def test_render_output_file_errors(tmp_path, seed_folder):
    sr = seed_folder / "case1" / "mibg.dcm"
    for target, message in ((tmp_path / "x.json", "cannot tell the output format from '.json'"),
                            (tmp_path / "file" / "x.txt", "x.txt: cannot write")):
        if "file" in target.parts:
            (tmp_path / "file").write_text("a file, not a folder")
        proc = subprocess.run([sys.executable, "-m", "dicomtools", "render", str(sr), "-o", str(target)],
                              capture_output=True, text=True, timeout=60, cwd=ROOT)
        assert proc.returncode == 2 and message in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
        assert not target.exists()
    proc = subprocess.run([sys.executable, "-m", "dicomtools", "render", str(sr), "-o", str(tmp_path / "x.txt")],
                          capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert proc.returncode == 0 and (tmp_path / "x.txt").read_text().startswith("SOP class: Comprehensive SR")


# -- headless Chromium -------------------------------------------------------------------
def _png_pixels(data: bytes) -> tuple[int, int, list[int]]:
    """Width, height and the grey value of each pixel of an 8-bit RGB/RGBA PNG (no filters
    beyond PNG's five; enough for Chromium's screenshots)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width = 8, b"", 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", chunk[:10])
            assert depth == 8 and colour in (2, 6), (depth, colour)
            channels = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    raw, stride = zlib.decompress(idat), width * channels
    rows, prev = [], bytearray(stride)
    for y in range(height):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - channels] if i >= channels else 0
            b, c = prev[i], prev[i - channels] if i >= channels else 0
            pred = {0: 0, 1: a, 2: b, 3: (a + b) // 2}.get(f)
            if pred is None:  # Paeth
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
            line[i] = (line[i] + pred) & 0xFF
        rows.append(line)
        prev = line
    grey = [sum(row[x * channels:x * channels + 3]) // 3 for row in rows for x in range(width)]
    return width, height, grey


def test_html_renders_in_headless_chromium(tmp_path, seed_folder):
    chromium = require_tool("chromium", "/usr/bin/chromium")
    page = tmp_path / "wbmri.html"
    proc = subprocess.run([sys.executable, "-m", "dicomtools", "render", str(seed_folder / "case1" / "wbmri.dcm"),
                           "-o", str(page)], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert proc.returncode == 0 and "(html)" in proc.stdout, proc.stderr
    shot = tmp_path / "render_wbmri.png"
    subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", f"--screenshot={shot}",
                    "--window-size=1200,900", "--hide-scrollbars", page.as_uri()],
                   capture_output=True, timeout=120, check=False, cwd=tmp_path)
    assert shot.is_file(), "chromium wrote no screenshot"
    print(f"render screenshot: {shot}")
    width, height, grey = _png_pixels(shot.read_bytes())
    assert (width, height) == (1200, 900)
    mean = sum(grey) / len(grey)
    variance = sum((g - mean) ** 2 for g in grey) / len(grey)
    dark = sum(g < 128 for g in grey) / len(grey)
    # a white page has variance 0; text and badges make it vary, but the page stays mostly light
    assert variance > 200 and 0.005 < dark < 0.5, (variance, dark)


# -- encodings and damage ----------------------------------------------------------------
def _un_content(source: Path, target: Path) -> None:
    """The Content Sequence written as UN holding implicit VR (as a tool that did not know it)."""
    from pydicom.dataset import Dataset
    from pydicom.filebase import DicomBytesIO
    from pydicom.filewriter import write_dataset
    ds = pydicom.dcmread(source)
    assert max(ds.keys()) == 0x0040A730  # the content comes last: appended below
    buf = DicomBytesIO()
    buf.is_little_endian, buf.is_implicit_VR = True, True
    sub = Dataset()
    sub.ContentSequence = ds.ContentSequence
    write_dataset(buf, sub)
    raw = buf.getvalue()[8:]  # without the implicit element header (tag, length)
    del ds.ContentSequence
    ds.save_as(target)
    with open(target, "ab") as handle:
        handle.write(struct.pack("<HH", 0x0040, 0xA730) + b"UN\0\0" + struct.pack("<I", len(raw)) + raw)


def test_same_tree_in_every_encoding(tmp_path, seed_folder):
    source = seed_folder / "case1" / "wbmri.dcm"
    expected = walk(pydicom.dcmread(source))
    dcmconv = require_tool("dcmconv")
    variants = {}
    for flag, name in (("+tb", "big_endian"), ("+ti", "implicit")):
        variants[name] = tmp_path / f"{name}.dcm"
        subprocess.run([dcmconv, flag, str(source), str(variants[name])], check=True, timeout=60)
    variants["un_content"] = tmp_path / "un.dcm"
    _un_content(source, variants["un_content"])
    for name, path in variants.items():
        assert walk(pydicom.dcmread(path)) == expected, name
        assert render_file(path).split("\n\n", 1)[1] == render_file(source).split("\n\n", 1)[1], name


def test_too_deep_is_exit_4_and_a_damaged_value_is_shown_as_stored(tmp_path, seed_folder):
    from pydicom.dataelem import RawDataElement
    from pydicom.dataset import Dataset
    from pydicom.sequence import Sequence
    ds = pydicom.dcmread(seed_folder / "case1" / "wbmri.dcm")
    node = ds
    for _ in range(80):
        child = Dataset()
        child.RelationshipType, child.ValueType, child.ContinuityOfContent = "CONTAINS", "CONTAINER", "SEPARATE"
        node.ContentSequence = Sequence([child])
        node = child
    ds.save_as(tmp_path / "deep.dcm")
    proc = subprocess.run([sys.executable, "-m", "dicomtools", "render", str(tmp_path / "deep.dcm")],
                          capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert proc.returncode == 4 and "nested deeper than" in proc.stderr and not proc.stdout

    ds = pydicom.dcmread(seed_folder / "case1" / "wbmri.dcm")
    group = ds.ContentSequence[6].ContentSequence[0]
    value = next(item for item in group.ContentSequence if item.ValueType == "NUM").MeasuredValueSequence[0]
    del value.FloatingPointValue
    value._dict[0x0040A30A] = RawDataElement(0x0040A30A, "DS", 4, b"abc ", 0, False, True)
    ds.save_as(tmp_path / "bad.dcm")
    assert "1.7.1.5 CONTAINS NUM Diameter (81827009, SCT) = abc mm (mm, UCUM)" in render_file(tmp_path / "bad.dcm")
