"""The fast small-SR path (issue 12): ``fast.read_report`` gives what ``read_sr`` gives.

Over every seed SR, every SR of the foreign corpus, their benign re-encodings, and a few
hundred files of the fuzz campaign's reader mutators (benchmarks/fuzz.py, as tests/test_fuzz.py
uses them): the same Report JSON and warnings, or the same error class and message. And the
fast path is really taken (``strict=True`` raises NotFast instead of falling back) for the
seed SRs and most foreign ones.
"""

from __future__ import annotations

import importlib.util
import random
import sys
from pathlib import Path

import pytest

from dicomtools.sr import fast
from dicomtools.sr.fast import NotFast, read_report
from dicomtools.sr.read import read_sr

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("dicomtools_fuzz", ROOT / "benchmarks" / "fuzz.py")
fuzz = importlib.util.module_from_spec(_spec)
sys.modules.setdefault("dicomtools_fuzz", fuzz)
_spec.loader.exec_module(fuzz)


def _outcome(read, path: Path):
    try:
        report = read(path)
    except Exception as exc:  # compared: the same class and message from both readers
        return ("error", type(exc).__name__, str(exc))
    return ("report", report.to_json(), report.warnings)


def _same(path: Path) -> bool:
    return _outcome(read_report, path) == _outcome(read_sr, path)


@pytest.fixture(scope="module")
def seeds(seed_srs) -> dict[str, bytes]:
    return {name: path.read_bytes() for name, path in seed_srs.items()}


@pytest.fixture(scope="module")
def foreign(tmp_path_factory) -> list[Path]:
    import foreign_corpus
    corpus = foreign_corpus.build_corpus(tmp_path_factory.mktemp("fast_foreign"))
    return [entry.path for entry in corpus]


def test_seed_srs_read_equal_and_fast(seed_srs):
    for name, path in seed_srs.items():
        assert _same(path), name
        strict = read_report(path, strict=True)  # raises NotFast if it fell back
        assert strict.to_json() == read_sr(path).to_json(), name


def test_foreign_srs_read_equal_and_mostly_fast(foreign):
    assert len(foreign) >= 30, len(foreign)
    taken = []
    for path in foreign:
        assert _same(path), path.name
        try:
            read_report(path, strict=True)
            taken.append(path.name)
        except NotFast:
            pass
    assert len(taken) >= len(foreign) - 2, sorted({p.name for p in foreign} - set(taken))


@pytest.mark.parametrize("how", fuzz.BENIGN)
def test_benign_reencodings_read_equal(tmp_path, seeds, how):
    fast_before = fast.STATS.fast
    for name, data in seeds.items():
        path = tmp_path / f"{name.replace('/', '_')}.dcm"
        path.write_bytes(fuzz.benign(data, how, random.Random(name)))
        assert _same(path), (name, how)
    if not how.startswith(("big", "deflate")):
        assert fast.STATS.fast - fast_before == len(seeds), how  # taken, not fallen back


@pytest.fixture(scope="module")
def undefined_seeds(seeds) -> dict[str, bytes]:
    """The seed SRs with every sequence and item of undefined length (as dcmqi writes)."""
    return {name: fuzz.benign(data, "undefined") for name, data in seeds.items()}


@pytest.mark.parametrize("block", range(6))
def test_fuzz_mutations_read_equal(tmp_path, seeds, undefined_seeds, block):
    """75 mutated files per block (flips, cuts, garbage, wrong VRs and tags, deep and wide
    content, bad UIDs, charsets and header values, re-encodings), the campaign's mutators;
    blocks 4 and 5 mutate the seeds re-encoded with undefined lengths."""
    path = tmp_path / "case.dcm"
    kinds = {}
    pool = seeds if block < 4 else undefined_seeds
    for index in range(block * 75, block * 75 + 75):
        case = fuzz.reader_case(pool, random.Random(index))
        path.write_bytes(case.data)
        before = fast.STATS.fast
        assert _same(path), (index, case.kind)
        kinds[case.kind.split()[0]] = kinds.get(case.kind.split()[0], 0) + (fast.STATS.fast - before)
    assert sum(kinds.values()) > 0, kinds  # some mutated files do take the fast path


def test_missing_unreadable_and_cut_files_give_read_srs_error(tmp_path, seeds):
    data = seeds["case1/wbmri"]
    cases = {"missing": None, "empty": b"", "not-dicom": b"hello" * 50, "cut": data[:len(data) // 2],
             "cut-meta": data[:150], "no-content": data[:data.rindex(b"\x40\x00\x30\xa7")]}
    for name, raw in cases.items():
        path = tmp_path / f"{name}.dcm"
        if raw is not None:
            path.write_bytes(raw)
        result = _outcome(read_report, path)
        assert result[0] == "error" and result == _outcome(read_sr, path), name
    assert _outcome(read_report, tmp_path) == _outcome(read_sr, tmp_path)  # a folder


def test_strict_names_the_reason(tmp_path, seeds):
    path = tmp_path / "deflated.dcm"
    path.write_bytes(fuzz.benign(seeds["case2/mibg"], "deflate"))
    with pytest.raises(NotFast, match="transfer syntax"):
        read_report(path, strict=True)
    assert read_report(path).to_json() == read_sr(path).to_json()


def test_tables_match_pydicom():
    """The fast path's copies of pydicom's dictionaries (so that it need not import it)."""
    from pydicom.datadict import dictionary_VR, keyword_for_tag
    from pydicom.uid import UID_dictionary

    from dicomtools.sr import fast_parse, fast_tables, read, read_map
    assert fast_tables.SR_CLASSES == read.SR_STORAGE
    prefixes = tuple(prefix for prefix, _ in read_map.MODALITY_BY_CLASS)
    from_pydicom = {uid: info[4] for uid, info in UID_dictionary.items()
                    if info[4].startswith(prefixes)}
    assert from_pydicom == fast_tables.MODALITY_CLASS_KEYWORDS
    for tag, (keyword, vr) in fast_parse._TABLE.items():
        assert keyword_for_tag(tag) == keyword
        assert vr == b"?" or dictionary_VR(tag) == vr.decode(), keyword
        if vr == b"?":
            assert fast_parse._PRESENCE_VR[tag].decode() == dictionary_VR(tag)


def _implicit_splice(data: bytes, tag: int, element: bytes) -> bytes:
    """An implicit VR file (defined lengths) with top-level element ``tag`` replaced."""
    import struct
    at = 132
    while data[at:at + 2] == b"\x02\x00":  # the file meta, explicit VR
        long = data[at + 4:at + 6] in (b"OB", b"UN", b"UT", b"SQ")
        at += (12 + struct.unpack_from("<I", data, at + 8)[0]) if long \
            else (8 + struct.unpack_from("<H", data, at + 6)[0])
    while True:
        group, elem, length = struct.unpack_from("<HHI", data, at)
        if group << 16 | elem == tag:
            return data[:at] + element + data[at + 8 + length:]
        at += 8 + length


def _saved(ds) -> bytes:
    import io
    import warnings
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds.save_as(buf)
    return buf.getvalue()


def test_crafted_edge_cases_read_equal(tmp_path, seeds):
    """Values pydicom reads in its own way (a warning, a sequence where a string belongs,
    name component groups, a character set), crafted one by one: the same outcome."""
    import io
    import warnings

    import pydicom
    data = seeds["case1/wbmri"]
    implicit = fuzz.benign(data, "implicit")
    undefined = b"\xff\xff\xff\xff" + b"\xfe\xff\x00\xe0\xff\xff\xff\xff\xfe\xff\x0d\xe0\0\0\0\0" \
        + b"\xfe\xff\xdd\xe0\0\0\0\0"
    cases = {"name as a sequence": _implicit_splice(implicit, 0x00100010, b"\x10\x00\x10\x00" + undefined),
             "flag as a sequence": _implicit_splice(implicit, 0x0040A491, b"\x40\x00\x91\xa4" + undefined)}

    def edited(**values) -> bytes:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds = pydicom.dcmread(io.BytesIO(data))
            for keyword, value in values.items():
                setattr(ds, keyword, value)
        return _saved(ds)
    cases["name groups"] = edited(PatientName="Doe^John=ドウ^ジョン")
    cases["latin-1 name"] = edited(SpecificCharacterSet="ISO_IR 100", PatientName="Doé^Zoë")
    cases["leading zero UID"] = edited(StudyInstanceUID="1.02.3")
    cases["long description"] = edited(StudyDescription="x" * 70)
    cases["bad date"] = edited(StudyDate="20241399")
    cases["two values"] = edited(AccessionNumber="A1\\A2")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = pydicom.dcmread(io.BytesIO(data))
        ds.ConceptNameCodeSequence[0].CodeMeaning = "m" * 70
    cases["long root meaning"] = _saved(ds)
    for charset in ("ISO_IR 192", None):  # a byte not valid in UTF-8; in the default repertoire
        raw = bytearray(edited(SpecificCharacterSet=charset, StudyDescription="abcdef"))
        raw[raw.index(b"abcdef")] = 0xC3
        cases[f"byte C3 in {charset or 'default'}"] = bytes(raw)
    for name, raw in cases.items():
        path = tmp_path / f"{name.replace(' ', '_')}.dcm"
        path.write_bytes(raw)
        assert _same(path), name
    path = tmp_path / "latin-1_name.dcm"
    assert read_report(path, strict=True).patient.name == "Doé^Zoë"  # taken, decoded


def _code_item(meaning: bytes, text: bytes = b"x") -> bytes:
    """A TEXT content item whose concept name has ``meaning`` (explicit VR LE)."""
    import struct
    if len(meaning) & 1:
        meaning += b" "
    code = (struct.pack("<HH2sH", 0x0008, 0x0100, b"SH", 6) + b"121106"
            + struct.pack("<HH2sH", 0x0008, 0x0102, b"SH", 4) + b"DCM "
            + struct.pack("<HH2sH", 0x0008, 0x0104, b"LO", len(meaning)) + meaning)
    name = struct.pack("<HH2sHI", 0x0040, 0xA043, b"SQ", 0, 8 + len(code)) + b"\xfe\xff\x00\xe0" \
        + struct.pack("<I", len(code)) + code
    body = (struct.pack("<HH2sH", 0x0040, 0xA010, b"CS", 8) + b"CONTAINS"
            + struct.pack("<HH2sH", 0x0040, 0xA040, b"CS", 4) + b"TEXT" + name
            + struct.pack("<HH2sHI", 0x0040, 0xA160, b"UT", 0, len(text)) + text)
    return b"\xfe\xff\x00\xe0" + struct.pack("<I", len(body)) + body


def test_codes_and_items_shared_across_files_read_as_a_fresh_decode(tmp_path, seeds):
    """The codec shares decoded codes and parsed items between files: a file read after
    others gives what it gives read first, warning counts included (a code holding a
    character shown as U+FFFD counts once per file, however often it recurs)."""
    from dicomtools.sr import codec
    base = seeds["case1/wbmri"]
    dirty, clean = _code_item(b"Com\x01ment"), _code_item(b"Comment")
    files = {"twice": fuzz._append_content(base, dirty + dirty + clean),
             "once": fuzz._append_content(base, clean + dirty),
             "other": fuzz._append_content(seeds["case2/wbmri"], dirty + clean + clean)}
    paths = {}
    for name, raw in files.items():
        paths[name] = tmp_path / f"{name}.dcm"
        paths[name].write_bytes(raw)
    cold = {}
    for name, path in paths.items():
        codec._SHARED_CODES.clear()
        codec._SHARED_ITEMS.clear()
        cold[name] = _outcome(read_report, path)
        assert any("1 character(s)" in w for w in cold[name][2]), (name, cold[name][2])
    for order in (["twice", "once", "other"], ["other", "once", "twice"], ["once", "twice", "other"]):
        for name in order:
            assert _outcome(read_report, paths[name]) == cold[name], (order, name)
            assert _outcome(read_sr, paths[name]) == cold[name], (order, name)
    assert codec._SHARED_ITEMS and codec._SHARED_CODES  # the caches were used
