"""Fuzz campaigns over the SR reader, the build step and the free-text extractor.

    python benchmarks/fuzz.py --cases 10000 [--campaigns reader,build,text] [--seed 0]
                              [--workers N] [--timeout 20] [--minutes M] [--cli 100]
                              [--code DIR] [--json results.json] [--only reader:123]

Every case is made from (seed, campaign, index) alone, so ``--only CAMPAIGN:INDEX`` replays one
in this process and prints its outcome (with the traceback of an undocumented error). Cases
run in forked worker processes; one that takes longer than ``--timeout`` seconds is a *hang*
(the worker is killed and replaced). ``--cli N`` also runs N cases per campaign through
``python -m dicomtools`` and checks the exit code and that stderr is one ``dicomtools: error:``
line without a traceback. ``--code DIR`` measures another checkout (e.g. an older commit
exported with ``git archive``) with the same cases.

Outcomes, per campaign:

- **documented**: a DicomToolsError (InputError exit 2, SourceError 3, SRReadError 4);
  *bad message* counts those whose message is not one line, or names no file.
- **undocumented**: any other exception (a traceback for the user).
- **hang**: the case did not finish within the timeout.
- **silent loss**:
  - reader: a truncated file read with exit 0 and no warning the intact file did not give;
    a benign re-encoding (implicit VR, big endian, deflate, undefined lengths, trailing
    padding) read back different from the original.
  - build: a written SR whose read-back differs from the Report built from the input
    (any field; the differing ones are named), or a free-text field (indication, observer,
    tracking_id, study, TEXT evaluations) whose model value is not the input text.
  - text: none defined (the extractor writes nothing); the worst seconds per MB are printed.
- **truncated read as OK**: a truncated file read with exit 0 (with or without a warning).
- **benign refused**: a benign re-encoding that raised.

The mutators (``reader_case``, ``build_case``, ``text_case``) are shared with tests/test_fuzz.py.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import random
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import traceback
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parents[1]
SAMPLES = HERE / "sample_data" / "cases"
TEXT_CORPUS = HERE / "tests" / "text_corpus"
CAMPAIGNS = ("reader", "build", "text")


# ---------------------------------------------------------------------------------------
# Seeds
# ---------------------------------------------------------------------------------------
def seed_findings() -> list[tuple[str, dict, Path, bool]]:
    """(name, findings JSON, source folder, patient_only) of every sample case, and two
    richer findings files that exercise the open part (measurements, evaluations, regions,
    other, roi) and many findings."""
    from dicomtools.demo import sample_inputs
    seeds = []
    for findings, source, patient_only in sample_inputs(SAMPLES):
        data = json.loads(findings.read_text(encoding="utf-8"))
        seeds.append((f"{findings.parent.name}/{findings.stem}", data, source, patient_only))
    base = json.loads((SAMPLES / "case1" / "wbmri.json").read_text(encoding="utf-8"))
    rich = json.loads(json.dumps(base))
    rich["observer"] = "Müller^Jane"  # non-ASCII: the SR is written in UTF-8 (ISO_IR 192)
    rich["findings"][0].update({
        "measurements": [{"concept": "long axis", "value": 26.0, "unit": "mm", "derivation": "maximum",
                          "children": [{"value_type": "TEXT", "relationship": "HAS PROPERTIES",
                                        "concept": {"code": "121106", "scheme": "DCM", "meaning": "Comment"},
                                        "value": "measured on axial T2"}]}],
        "evaluations": [{"concept": {"code": "121106", "scheme": "DCM", "meaning": "Comment"},
                         "value": "lobulated margin, naïve façade"},
                        {"concept": "t2 weighted mr signal intensity",
                         "value": {"code": "RID35805", "scheme": "RADLEX", "meaning": "Hyperintense"}}],
        "regions": [{"value_type": "SCOORD", "relationship": "CONTAINS",
                     "concept": {"code": "111030", "scheme": "DCM", "meaning": "Image Region"},
                     "value": {"graphic_type": "POINT", "data": [10.0, 20.0]}}],
        "other": [{"value_type": "TEXT", "relationship": "HAS PROPERTIES",
                   "concept": {"code": "121106", "scheme": "DCM", "meaning": "Comment"},
                   "value": "kept as it is", "children": []}],
    })
    seeds.append(("rich/wbmri", rich, SAMPLES / "case1" / "wbmri", False))
    many = json.loads(json.dumps(base))
    many["findings"] = [dict(base["findings"][0], tracking_id=f"lesion {i}") for i in range(40)]
    seeds.append(("many/wbmri", many, SAMPLES / "case1" / "wbmri", False))
    return seeds


def seed_srs() -> dict[str, bytes]:
    """The bytes of every seed SR: the sample cases built and written (as the tests'
    seed_srs fixture does), the rich and many-finding files above, and pydicom's test SR."""
    from dicomtools.build import with_source
    from dicomtools.model import Report
    from dicomtools.sr.write import to_dataset
    out: dict[str, bytes] = {}
    for name, data, source, patient_only in seed_findings():
        report = Report.from_json(data, where=name)
        report = with_source(report, source, patient_only=patient_only, where=name)
        buf = io.BytesIO()
        to_dataset(report).save_as(buf, enforce_file_format=True)
        out[name] = buf.getvalue()
    try:
        from pydicom.data import get_testdata_file
        path = get_testdata_file("test-SR.dcm")
        if path:
            out["pydicom/test-SR"] = Path(path).read_bytes()
    except Exception:
        pass
    return out


# ---------------------------------------------------------------------------------------
# A small explicit-VR-little-endian walker (where the elements of a seed file are)
# ---------------------------------------------------------------------------------------
_LONG = {b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"UC", b"UN", b"UR", b"UT", b"SV", b"UV"}
VRS = [b"AE", b"AS", b"AT", b"CS", b"DA", b"DS", b"DT", b"FL", b"FD", b"IS", b"LO", b"LT", b"OB",
       b"OD", b"OF", b"OL", b"OV", b"OW", b"PN", b"SH", b"SL", b"SQ", b"SS", b"ST", b"SV", b"TM",
       b"UC", b"UI", b"UL", b"UN", b"UR", b"US", b"UT", b"UV"]


@dataclass
class Elem:
    offset: int  # of the tag
    tag: int
    vr: bytes | None  # None: an item or delimiter
    header: int  # header length
    length: int
    depth: int
    length_at: int  # offset of the length field
    length_size: int


def elements(buf: bytes) -> list[Elem]:
    """Every element, item and delimiter of an explicit VR little endian Part 10 file, in
    file order (meta included)."""
    out: list[Elem] = []
    pos = 132 if buf[128:132] == b"DICM" else 0

    def dataset(pos: int, end: int, depth: int) -> int:
        while pos + 8 <= end:
            group, elem = struct.unpack_from("<HH", buf, pos)
            tag = group << 16 | elem
            if tag in (0xFFFEE00D, 0xFFFEE0DD):
                out.append(Elem(pos, tag, None, 8, 0, depth, pos + 4, 4))
                return pos + 8
            vr = buf[pos + 4:pos + 6]
            if vr in _LONG:
                length = struct.unpack_from("<I", buf, pos + 8)[0]
                out.append(Elem(pos, tag, vr, 12, length, depth, pos + 8, 4))
                pos += 12
            else:
                length = struct.unpack_from("<H", buf, pos + 6)[0]
                out.append(Elem(pos, tag, vr, 8, length, depth, pos + 6, 2))
                pos += 8
            if vr == b"SQ":
                pos = sequence(pos, None if length == 0xFFFFFFFF else pos + length, depth + 1)
            elif length == 0xFFFFFFFF:
                return end
            else:
                pos += length
        return pos

    def sequence(pos: int, end: int | None, depth: int) -> int:
        limit = len(buf) if end is None else min(end, len(buf))
        while pos + 8 <= limit:
            group, elem = struct.unpack_from("<HH", buf, pos)
            tag = group << 16 | elem
            length = struct.unpack_from("<I", buf, pos + 4)[0]
            out.append(Elem(pos, tag, None, 8, length, depth, pos + 4, 4))
            pos += 8
            if tag == 0xFFFEE0DD:
                return pos
            if tag != 0xFFFEE000:
                return limit
            if length == 0xFFFFFFFF:
                pos = dataset(pos, limit, depth + 1)
            else:
                dataset(pos, min(pos + length, limit), depth + 1)
                pos += length
        return limit if end is None else end

    dataset(pos, len(buf), 0)
    return out


# ---------------------------------------------------------------------------------------
# Reader mutations
# ---------------------------------------------------------------------------------------
@dataclass
class ReaderCase:
    seed: str
    kind: str
    data: bytes
    truncated: bool = False
    benign: bool = False


def _dataset_of(data: bytes):
    import pydicom
    return pydicom.dcmread(io.BytesIO(data))


def _save(ds, *, implicit: bool = False, little: bool = True, ts: str | None = None) -> bytes:
    from pydicom.filewriter import dcmwrite
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if ts:
            ds.file_meta.TransferSyntaxUID = ts
        if not little:
            ds.preamble = b"\0" * 128
            dcmwrite(buf, ds, implicit_vr=implicit, little_endian=False, force_encoding=True,
                     write_like_original=True)
        else:
            ds.save_as(buf, enforce_file_format=True)
    return buf.getvalue()


def _decode_all(ds) -> None:
    for elem in ds:
        if elem.VR == "SQ":
            for item in elem.value:
                _decode_all(item)


def _undefined_lengths(ds, rng: random.Random | None = None) -> None:
    """Every (or, with rng, a random choice of) sequence and item of undefined length."""
    for elem in ds:
        if elem.VR == "SQ":
            if rng is None or rng.random() < 0.5:
                elem.value.is_undefined_length = True
            for item in elem.value:
                if rng is None or rng.random() < 0.5:
                    item.is_undefined_length_sequence_item = True
                _undefined_lengths(item, rng)


def benign(data: bytes, how: str, rng: random.Random | None = None) -> bytes:
    """The same SR in another valid encoding."""
    from pydicom.uid import (
        DeflatedExplicitVRLittleEndian,
        ExplicitVRBigEndian,
        ExplicitVRLittleEndian,
        ImplicitVRLittleEndian,
    )
    ds = _dataset_of(data)
    _decode_all(ds)  # every raw element decoded, so that pydicom re-encodes it
    if how == "latin1":  # the same text in another character set
        ds.SpecificCharacterSet = "ISO_IR 100"
        return _save(ds, ts=ExplicitVRLittleEndian)
    if "undefined" in how:
        _undefined_lengths(ds, rng if "some" in how else None)
    if how.startswith("implicit"):
        return _save(ds, ts=ImplicitVRLittleEndian)
    if how.startswith("big"):
        return _save(ds, little=False, ts=ExplicitVRBigEndian)
    if how.startswith("deflate"):
        return _save(ds, ts=DeflatedExplicitVRLittleEndian)
    if how == "un-content":
        return _content_as_un(data)
    if how == "padding":
        out = _save(ds, ts=ExplicitVRLittleEndian)
        return out + struct.pack("<HH2sHI", 0xFFFC, 0xFFFC, b"OB", 0, 64) + b"\0" * 64
    return _save(ds, ts=ExplicitVRLittleEndian)


BENIGN = ("undefined", "some-undefined", "implicit", "implicit-undefined", "big", "big-undefined",
          "deflate", "deflate-undefined", "padding", "explicit", "un-content", "latin1")


def _content_as_un(data: bytes) -> bytes:
    """The file with its ContentSequence as UN: the implicit VR encoding of the sequence in
    an explicit VR file (PS3.5 §6.2.2; what a tool that does not know the tag writes)."""
    implicit = benign(data, "implicit")
    tag = b"\x40\x00\x30\xa7"
    at = 132
    while implicit[at:at + 2] == b"\x02\x00":  # the file meta, explicit VR
        long = implicit[at + 4:at + 6] in _LONG
        at += (12 + struct.unpack_from("<I", implicit, at + 8)[0]) if long \
            else (8 + struct.unpack_from("<H", implicit, at + 6)[0])
    while implicit[at:at + 4] != tag:  # top-level elements, implicit VR, defined lengths
        at += 8 + struct.unpack_from("<I", implicit, at + 4)[0]
    length = struct.unpack_from("<I", implicit, at + 4)[0]
    assert at + 8 + length == len(implicit), "the content sequence is not the last element"
    e = _content_element(data)
    assert e is not None and e.offset + e.header + e.length == len(data)
    return data[:e.offset] + tag + b"UN\0\0" + struct.pack("<I", length) + implicit[at + 8:]


def _deep_item(depth: int, undefined: bool) -> bytes:
    """One CONTAINER content item nesting ``depth`` CONTAINERs below it (explicit VR LE)."""
    def el(tag: int, vr: bytes, value: bytes) -> bytes:
        if len(value) & 1:
            value += b" "
        if vr in _LONG:
            return struct.pack("<HH2sHI", tag >> 16, tag & 0xFFFF, vr, 0, len(value)) + value
        return struct.pack("<HH2sH", tag >> 16, tag & 0xFFFF, vr, len(value)) + value
    code = (el(0x00080100, b"SH", b"121106") + el(0x00080102, b"SH", b"DCM")
            + el(0x00080104, b"LO", b"Comment"))
    name = el(0x0040A043, b"SQ", b"\xfe\xff\x00\xe0" + struct.pack("<I", len(code)) + code)
    head = (el(0x0040A010, b"CS", b"CONTAINS") + el(0x0040A040, b"CS", b"CONTAINER") + name
            + el(0x0040A050, b"CS", b"SEPARATE"))
    if undefined:
        open_ = (b"\xfe\xff\x00\xe0\xff\xff\xff\xff" + head
                 + struct.pack("<HH2sHI", 0x0040, 0xA730, b"SQ", 0, 0xFFFFFFFF))
        close = b"\xfe\xff\xdd\xe0\0\0\0\0" + b"\xfe\xff\x0d\xe0\0\0\0\0"
        leaf = b"\xfe\xff\x00\xe0\xff\xff\xff\xff" + head + b"\xfe\xff\x0d\xe0\0\0\0\0"
        return open_ * depth + leaf + close * depth
    # defined lengths, computed from the inside out
    body_len = len(head)
    lengths = []
    for _ in range(depth):
        lengths.append(body_len)
        body_len = len(head) + 12 + 8 + body_len
    parts = []
    for inner in reversed(lengths):
        outer = len(head) + 12 + 8 + inner
        parts.append(b"\xfe\xff\x00\xe0" + struct.pack("<I", outer) + head
                     + struct.pack("<HH2sHI", 0x0040, 0xA730, b"SQ", 0, 8 + inner))
    return b"".join(parts) + b"\xfe\xff\x00\xe0" + struct.pack("<I", len(head)) + head


def _content_element(data: bytes) -> Elem | None:
    for e in elements(data):
        if e.tag == 0x0040A730 and e.depth == 0:
            return e
    return None


def _append_content(data: bytes, extra: bytes) -> bytes:
    """The file with ``extra`` (item bytes) appended to the root ContentSequence, which our
    writer puts last with a defined length."""
    e = _content_element(data)
    if e is None or e.length == 0xFFFFFFFF or e.offset + e.header + e.length != len(data):
        return data + b""
    out = bytearray(data)
    struct.pack_into("<I", out, e.length_at, e.length + len(extra))
    return bytes(out) + extra


def _text_item(text: bytes) -> bytes:
    code = (struct.pack("<HH2sH", 0x0008, 0x0100, b"SH", 6) + b"121106"
            + struct.pack("<HH2sH", 0x0008, 0x0102, b"SH", 4) + b"DCM "
            + struct.pack("<HH2sH", 0x0008, 0x0104, b"LO", 8) + b"Comment ")
    name = struct.pack("<HH2sHI", 0x0040, 0xA043, b"SQ", 0, 8 + len(code)) + b"\xfe\xff\x00\xe0" \
        + struct.pack("<I", len(code)) + code
    if len(text) & 1:
        text += b" "
    body = (struct.pack("<HH2sH", 0x0040, 0xA010, b"CS", 8) + b"CONTAINS"
            + struct.pack("<HH2sH", 0x0040, 0xA040, b"CS", 4) + b"TEXT" + name
            + struct.pack("<HH2sHI", 0x0040, 0xA160, b"UT", 0, len(text)) + text)
    return b"\xfe\xff\x00\xe0" + struct.pack("<I", len(body)) + body


_HEADER_KEYWORDS = ("PatientName", "PatientID", "StudyDescription", "StudyID", "AccessionNumber",
                    "ReasonForVisit", "StudyDate", "PatientSex", "StudyInstanceUID",
                    "SOPInstanceUID", "SeriesInstanceUID", "ContentDate")
_BAD_UIDS = ("", "abc", "1.2.3", "1.2.840.10008.5.1.4.1.1.2", "1" * 80, "1..2", "01.2", "1.2.\0",
             "1.2.840.10008.5.1.4.1.1.88.33\\1.2.3", "\xff\xfe", "1.2.840.10008.5.1.4.1.1.88.99")
_BAD_CHARSETS = ("ISO_IR 999", "ISO 2022 IR 87", "ISO_IR 192", "ISO_IR 100", "GB18030", "GBK",
                 "ISO 2022 IR 6\\ISO 2022 IR 87", "\\\\", "", "ISO_IR 13", "ISO_IR 166",
                 "ISO 2022 IR 149", "utf-8", "ISO_IR 126\\ISO_IR 144", "ISO_IR 100\\ISO_IR 192")


def reader_case(data: dict[str, bytes], rng: random.Random) -> ReaderCase:
    """One mutated SR file."""
    with warnings.catch_warnings():  # pydicom warns about the values we damage on purpose
        warnings.simplefilter("ignore")
        return _reader_case(data, rng)


def _reader_case(data: dict[str, bytes], rng: random.Random) -> ReaderCase:
    seed = rng.choice(sorted(data))
    raw = data[seed]
    kinds = ["flip", "flip", "flip-header", "truncate", "truncate", "truncate", "truncate-boundary",
             "truncate-boundary", "garbage-value", "garbage-resize", "wrong-vr", "wrong-vr",
             "retag", "deep", "wide", "bad-uid", "bad-charset", "header-value", "benign",
             "benign", "benign-mutated", "bad-meta", "text-bytes"]
    kind = rng.choice(kinds)
    elems = elements(raw)
    body = [e for e in elems if e.offset >= 132 and e.tag >> 16 != 2]
    if kind == "flip":
        out = bytearray(raw)
        for _ in range(rng.randint(1, 8)):
            out[rng.randrange(len(out))] ^= rng.randint(1, 255)
        return ReaderCase(seed, kind, bytes(out))
    if kind == "flip-header":
        out = bytearray(raw)
        for _ in range(rng.randint(1, 3)):
            e = rng.choice(elems)
            out[e.offset + rng.randrange(e.header)] ^= rng.randint(1, 255)
        return ReaderCase(seed, kind, bytes(out))
    if kind == "truncate":
        return ReaderCase(seed, kind, raw[:rng.randrange(len(raw))], truncated=True)
    if kind == "truncate-boundary":
        e = rng.choice(elems[1:])
        where = rng.choice((e.offset, e.offset + e.header)) if e.vr == b"SQ" or e.vr is None \
            else e.offset
        return ReaderCase(seed, kind, raw[:where], truncated=where < len(raw))
    if kind in ("garbage-value", "garbage-resize"):
        e = rng.choice([e for e in body if e.vr not in (None, b"SQ")] or body)
        start = e.offset + e.header
        if kind == "garbage-value":
            junk = bytes(rng.randrange(256) for _ in range(e.length))
            return ReaderCase(seed, kind, raw[:start] + junk + raw[start + e.length:])
        n = rng.choice((0, 1, 3, e.length * 2 + 2, rng.randrange(1, 300)))
        junk = bytes(rng.randrange(256) for _ in range(n))
        out = bytearray(raw[:start] + junk + raw[start + e.length:])
        if e.length_size == 2 and n < 65536:
            struct.pack_into("<H", out, e.length_at, n)
        elif e.length_size == 4:
            struct.pack_into("<I", out, e.length_at, n)
        return ReaderCase(seed, kind, bytes(out))
    if kind == "wrong-vr":
        e = rng.choice([e for e in body if e.vr is not None])
        out = bytearray(raw)
        new = rng.choice([*VRS, bytes([rng.randrange(256), rng.randrange(256)])])
        out[e.offset + 4:e.offset + 6] = new
        return ReaderCase(seed, f"wrong-vr {e.vr.decode('latin-1')}->{new.decode('latin-1')}", bytes(out))
    if kind == "retag":  # an element under the tag of another (a sequence where text belongs...)
        e = rng.choice([e for e in body if e.vr is not None])
        tag = rng.choice((0x0040A730, 0x0040A043, 0x0040A168, 0x00080100, 0x00080104, 0x0040A160,
                          0x0040A040, 0x0040A300, 0x004008EA, 0x0040A30A, 0x00081199, 0x0040A504,
                          0x00700022, 0x00080005, 0x00080016, 0x0040A124, 0x0062000B))
        out = bytearray(raw)
        struct.pack_into("<HH", out, e.offset, tag >> 16, tag & 0xFFFF)
        return ReaderCase(seed, "retag", bytes(out))
    if kind == "deep":
        depth = rng.choice((8, 30, 60, 63, 64, 65, 66, 100, 200, 1000, 10_000, 100_000))
        undefined = rng.random() < 0.5 or depth > 5000
        return ReaderCase(seed, f"deep {depth}", _append_content(raw, _deep_item(depth, undefined)))
    if kind == "wide":
        n = rng.choice((100, 1000, 20_000))
        return ReaderCase(seed, f"wide {n}", _append_content(raw, _text_item(b"x") * n))
    if kind == "text-bytes":  # a TEXT item holding bytes of every kind
        junk = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 64)))
        junk = rng.choice((junk, b"\0" * 5, b"abc\0def", b"\x1b$B", b"\xc3", b"\xed\xa0\x80",
                           "é".encode("latin-1"), b"a\\b", b"\r\n\t\x0c", b" lead", b"x" * 70000))
        return ReaderCase(seed, "text-bytes", _append_content(raw, _text_item(junk)))
    ds = _dataset_of(raw)
    if kind == "bad-uid":
        keyword = rng.choice(("SOPClassUID", "StudyInstanceUID", "SOPInstanceUID",
                              "SeriesInstanceUID", "TransferSyntaxUID", "MediaStorageSOPClassUID"))
        value = rng.choice(_BAD_UIDS)
        if keyword in ("TransferSyntaxUID", "MediaStorageSOPClassUID"):
            setattr(ds.file_meta, keyword, value)
        else:
            setattr(ds, keyword, value)
        try:
            return ReaderCase(seed, f"bad-uid {keyword}", _save_raw(ds))
        except Exception:
            return ReaderCase(seed, "bad-uid (unwritable)", raw)
    if kind == "bad-charset":
        ds.SpecificCharacterSet = rng.choice(_BAD_CHARSETS)
        if rng.random() < 0.5:
            ds.ReasonForVisit = rng.choice(("Frühling", "日本語", "\x1b$B", "ab\x00c"))
        try:
            return ReaderCase(seed, "bad-charset", _save_raw(ds))
        except Exception:
            return ReaderCase(seed, "bad-charset (unwritable)", raw)
    if kind == "header-value":
        keyword = rng.choice(_HEADER_KEYWORDS)
        value = rng.choice(("", "a\\b", "\0", "x" * 300, "Doe^John=ドウ^ジョン", "line\nbreak",
                            "20241399", "tab\there", " padded ", "\x7f", "ab\x00"))
        try:
            from pydicom.datadict import dictionary_VR
            from pydicom.dataelem import DataElement
            ds[keyword] = DataElement(keyword, dictionary_VR(keyword), value)
            return ReaderCase(seed, f"header-value {keyword}", _save_raw(ds))
        except Exception:
            return ReaderCase(seed, "header-value (unwritable)", raw)
    if kind == "bad-meta":
        out = bytearray(raw)
        choice = rng.randrange(4)
        if choice == 0:
            out[128:132] = b"DICX"
        elif choice == 1:
            return ReaderCase(seed, "bad-meta no preamble", raw[132:])
        elif choice == 2:  # meta group length wrong
            for e in elems:
                if e.tag == 0x00020000:
                    struct.pack_into("<I", out, e.offset + 8, rng.randrange(0, 1000))
        else:
            return ReaderCase(seed, "bad-meta empty", b"")
        return ReaderCase(seed, "bad-meta", bytes(out))
    if kind == "benign":
        how = rng.choice(BENIGN)
        try:
            return ReaderCase(seed, f"benign {how}", benign(raw, how, rng), benign=True)
        except Exception as exc:
            return ReaderCase(seed, f"benign {how} (unwritable: {type(exc).__name__})", raw)
    # benign-mutated: a re-encoded file, then truncated or flipped
    how = rng.choice(BENIGN)
    try:
        other = benign(raw, how, rng)
    except Exception:
        other = raw
    if rng.random() < 0.6:
        cut = rng.randrange(len(other))
        # pydicom pads an odd-length deflate stream with one NUL: without it the file is whole
        pad = how.startswith("deflate") and cut == len(other) - 1 and other[-1] == 0
        return ReaderCase(seed, f"truncate {how}" + (" pad" if pad else ""), other[:cut],
                          truncated=not pad)
    out = bytearray(other)
    for _ in range(rng.randint(1, 4)):
        out[rng.randrange(len(out))] ^= rng.randint(1, 255)
    return ReaderCase(seed, f"flip {how}", bytes(out))


def _save_raw(ds) -> bytes:
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds.save_as(buf)
    return buf.getvalue()


# ---------------------------------------------------------------------------------------
# Build mutations (findings JSON)
# ---------------------------------------------------------------------------------------
_CONTROL = [chr(c) for c in range(0x20)] + ["\x7f"] + [chr(c) for c in range(0x80, 0xA0)]
_ODD = ["\ud800", "\udfff", "\ud83d", "\ufffe", "\uffff", "\ufeff", "\u202e", "\u200b", "\u0301",
        "\U0001f600", "\u4e2d\u6587", "\\", "^", "=", "\"", "'", "\u00e9", "\u2028", "\u0085",
        "\U0010ffff", "\ue000"]
TEXT_FIELDS = ("indication", "observer")
FINDING_TEXT_FIELDS = ("tracking_id", "tracking_uid")
STUDY_FIELDS = ("description", "id", "accession_number", "date", "time", "patient_age",
                "instance_uid")


def rand_text(rng: random.Random) -> str:
    base = rng.choice(("lesion", "Doe^Jane", "opsoclonus, ataxia", "T9", "x", "", " ", "mass",
                       "left", "1.2.3", "20240101", "A" * 64, "A" * 65))
    roll = rng.random()
    if roll < 0.3:
        i = rng.randrange(len(base) + 1)
        return base[:i] + rng.choice(_CONTROL) + base[i:]
    if roll < 0.55:
        i = rng.randrange(len(base) + 1)
        return base[:i] + rng.choice(_ODD) + base[i:]
    if roll < 0.65:
        return rng.choice((" ", "  ", "\t", "\n")) + base + rng.choice(("", " ", "\n", "\t"))
    if roll < 0.72:
        return base * rng.choice((100, 2000, 50_000))
    if roll < 0.85:
        return "".join(chr(rng.choice((rng.randrange(0x20, 0x7f), rng.randrange(0xa0, 0x3000),
                                        rng.randrange(0x10000, 0x10ffff), rng.randrange(0xd800, 0xe000))))
                       for _ in range(rng.randrange(1, 20)))
    return base


def rand_json(rng: random.Random, depth: int = 0) -> Any:
    roll = rng.random()
    if depth > 3 or roll < 0.35:
        return rng.choice((None, True, False, 0, -1, 1, 2**31, 2**63, 2**64 + 1, 10**30, -(10**20),
                           0.0, -0.0, 1e-320, 1e308, float("nan"), float("inf"), float("-inf"),
                           3.5, 26.0, 1e15, 1e16))
    if roll < 0.7:
        return rand_text(rng)
    if roll < 0.85:
        return [rand_json(rng, depth + 1) for _ in range(rng.randrange(0, 4))]
    keys = ["code", "scheme", "meaning", "value", "unit", "concept", "value_type", "children",
            "relationship", rand_text(rng)]
    return {rng.choice(keys): rand_json(rng, depth + 1) for _ in range(rng.randrange(0, 4))}


def _paths(data: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(data, dict):
        for key, value in data.items():
            out += _paths(value, (*prefix, key))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            out += _paths(value, (*prefix, i))
    return out


def _set(data: Any, path: tuple, value: Any) -> Any:
    if not path:
        return value
    node = data
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return data


def _deep_json(kind: str, depth: int) -> str:
    if kind == "list":
        return "[" * depth + "]" * depth
    if kind == "dict":
        return '{"a":' * depth + "1" + "}" * depth
    # content nodes nested in "children"
    node = '{"value_type":"CONTAINER","relationship":"CONTAINS","concept":{"code":"121106",' \
           '"scheme":"DCM","meaning":"Comment"},"children":['
    return node * depth + "]}" * depth


@dataclass
class BuildCase:
    seed: str
    kind: str
    payload: bytes  # the findings file as it is written to disk
    source: Path
    patient_only: bool
    original: Any = None  # the JSON object before serialising (None: made as text)


def build_case(seeds: list[tuple[str, dict, Path, bool]], rng: random.Random) -> BuildCase:
    name, data, source, patient_only = rng.choice(seeds)
    data = json.loads(json.dumps(data))
    kinds = ["set", "set", "set", "text-field", "text-field", "text-field", "finding-text",
             "study-text", "evaluation-text", "code-text", "delete", "unknown-key", "type-swap",
             "numbers", "deep", "bytes", "duplicate-key", "huge-int", "many", "node"]
    kind = rng.choice(kinds)

    def dump(obj: Any) -> bytes:
        return json.dumps(obj, ensure_ascii=True, allow_nan=True).encode("ascii")

    def case(obj: Any, label: str = kind) -> BuildCase:
        payload = dump(obj)
        # the input as JSON reads it (an escaped surrogate pair is one character)
        return BuildCase(name, label, payload, source, patient_only, json.loads(payload))

    findings = data.get("findings") or []
    if kind == "set":
        path = rng.choice(_paths(data)[1:])
        return case(_set(data, path, rand_json(rng)), f"set {'.'.join(map(str, path))}")
    if kind == "text-field":
        key = rng.choice(TEXT_FIELDS)
        data[key] = rand_text(rng)
        return case(data, f"text {key}")
    if kind == "finding-text" and findings:
        f = rng.choice(findings)
        key = rng.choice((*FINDING_TEXT_FIELDS, "tracking_id"))
        f[key] = rand_text(rng)
        return case(data, f"text findings[].{key}")
    if kind == "study-text":
        key = rng.choice(STUDY_FIELDS)
        data.setdefault("study", {})[key] = rand_text(rng)
        return case(data, f"text study.{key}")
    if kind == "evaluation-text" and findings:
        f = rng.choice(findings)
        f.setdefault("evaluations", []).append(
            {"concept": {"code": "121106", "scheme": "DCM", "meaning": "Comment"}, "value": rand_text(rng)})
        return case(data, "text evaluation")
    if kind == "code-text" and findings:
        f = rng.choice(findings)
        key = rng.choice(("code", "scheme", "meaning"))
        code = {"code": "4147007", "scheme": "SCT", "meaning": "Mass"}
        code[key] = rand_text(rng)
        f["finding"] = code
        return case(data, f"text code.{key}")
    if kind == "node" and findings:
        f = rng.choice(findings)
        vt = rng.choice(("TEXT", "PNAME", "UIDREF", "DATE", "TIME", "DATETIME", "CODE", "NUM",
                         "IMAGE", "SCOORD", "SCOORD3D", "CONTAINER", "COMPOSITE"))
        f.setdefault("other", []).append(
            {"value_type": vt, "relationship": "CONTAINS",
             "concept": {"code": "121106", "scheme": "DCM", "meaning": "Comment"},
             "value": rand_text(rng) if rng.random() < 0.6 else rand_json(rng)})
        return case(data, f"node {vt}")
    if kind == "delete":
        path = rng.choice(_paths(data)[1:])
        parent = data
        for key in path[:-1]:
            parent = parent[key]
        del parent[path[-1]]
        return case(data, f"delete {'.'.join(map(str, path))}")
    if kind == "unknown-key":
        target = rng.choice([data, *findings]) if findings else data
        target[rand_text(rng) or "k"] = rand_json(rng)
        return case(data)
    if kind == "type-swap":
        path = rng.choice(_paths(data)[1:])
        parent = data
        for key in path[:-1]:
            parent = parent[key]
        value = parent[path[-1]]
        swaps = [[value], {"value": value}, str(value), None, 1, True]
        if isinstance(value, str):
            swaps += [value.encode("utf-8", "surrogatepass").hex(), list(value)]
        return case(_set(data, path, rng.choice(swaps)), f"type-swap {'.'.join(map(str, path))}")
    if kind == "numbers" and findings:
        f = rng.choice(findings)
        key = rng.choice(("dimensions_mm", "volume_ml", "adc_value", "activity_mbq", "extent_mm",
                          "vertebral_levels"))
        value = rng.choice((float("nan"), float("inf"), -1.0, 0.0, 1e308, 10**400, 2**1024,
                            [1e308, 1e308], [float("nan")], [], [1, 2, 3, 4], "1e3", 5e-324))
        f[key] = value
        if key == "adc_value":
            f["adc_unit"] = "um2/s"
        return case(data, f"numbers findings[].{key}")
    if kind == "deep":
        depth = rng.choice((50, 64, 65, 100, 1000, 10_000, 100_000))
        how = rng.choice(("list", "dict", "children"))
        text = dump(data).decode("ascii")
        marker = '"__DEEP__"'
        if how == "children" and findings:
            findings[0]["other"] = "__DEEP__"
            text = dump(data).decode("ascii").replace(marker, "[" + _deep_json("children", depth) + "]")
        else:
            key = rng.choice(("indication", "findings", "observer", "study", "patient"))
            data[key] = "__DEEP__"
            text = dump(data).decode("ascii").replace(marker, _deep_json(how, depth))
        return BuildCase(name, f"deep {how} {depth}", text.encode("ascii"), source, patient_only)
    if kind == "huge-int":
        text = dump(data).decode("ascii")
        digits = rng.choice((400, 4300, 4301, 10_000, 100_000))
        text = text.replace("26.0", "1" * digits, 1).replace("60", "9" * digits, 1)
        return BuildCase(name, f"huge-int {digits}", text.encode("ascii"), source, patient_only)
    if kind == "duplicate-key":
        text = dump(data).decode("ascii")
        text = text.replace('"procedure":', '"indication": "first", "indication": "second", "procedure":', 1)
        return BuildCase(name, "duplicate-key", text.encode("ascii"), source, patient_only)
    if kind == "many" and findings:
        n = rng.choice((200, 1000))
        data["findings"] = [dict(findings[0], tracking_id=None, tracking_uid=None) for _ in range(n)]
        return case(data, f"many {n}")
    # bytes: invalid UTF-8, other encodings, BOM, NUL, truncated JSON
    raw = json.dumps(data, ensure_ascii=False).encode("utf-8", "surrogatepass")
    how = rng.randrange(7)
    if how == 0:
        i = rng.randrange(len(raw))
        raw = raw[:i] + bytes([rng.choice((0x80, 0xC3, 0xFF, 0xED, 0xF4, 0x00))]) + raw[i:]
    elif how == 1:
        raw = json.dumps(data, ensure_ascii=False).encode("utf-16")
    elif how == 2:
        raw = b"\xef\xbb\xbf" + raw
    elif how == 3:
        raw = raw[:rng.randrange(len(raw))]
    elif how == 4:
        raw = raw.replace(b'"indication": "', b'"indication": "\xed\xa0\x80', 1)
    elif how == 5:
        raw = raw.replace(b'"indication": "', b'"indication": "a\x01\x00b', 1)
    else:
        raw = b"\0" * rng.randrange(1, 10) + raw
    return BuildCase(name, f"bytes {how}", raw, source, patient_only)


# ---------------------------------------------------------------------------------------
# Text mutations
# ---------------------------------------------------------------------------------------
def text_corpus() -> list[str]:
    return [p.read_text(encoding="utf-8") for p in sorted(TEXT_CORPUS.glob("*.txt"))]


@dataclass
class TextCase:
    kind: str
    payload: bytes


def text_case(corpus: list[str], rng: random.Random) -> TextCase:
    text = rng.choice(corpus)
    kind = rng.choice(("flip", "insert", "repeat", "pathological", "unicode", "bytes", "splice"))
    if kind == "flip":
        raw = bytearray(text.encode("utf-8"))
        for _ in range(rng.randint(1, 20)):
            raw[rng.randrange(len(raw))] = rng.randrange(32, 127)
        return TextCase(kind, bytes(raw))
    if kind == "insert":
        for _ in range(rng.randint(1, 10)):
            i = rng.randrange(len(text) + 1)
            text = text[:i] + rand_text(rng)[:200] + text[i:]
        return TextCase(kind, text.encode("utf-8", "surrogatepass"))
    if kind == "repeat":
        n = rng.choice((10, 10, 10, 10, 100, 100, 400))
        return TextCase(f"repeat {n}", (text * n)[:1_100_000].encode("utf-8"))
    if kind == "pathological":
        unit = rng.choice(("T9/10/11/", "2.6 x ", "1", "-\n", "(", "no ", "mass ", "mIBG ", ". ", "\n",
                           "lesion in the ", "x", "T 9/10 ", "of the left ", "  ", "did not ",
                           "ca. 2,6 × 1,1 × 2,2 cm ", "60 MBq ", "T1-", "hyper", ", ", "L1 to "))
        size = rng.choice((1000, 1000, 1000, 1000, 10_000, 10_000, 10_000, 10_000, 100_000, 100_000,
                           400_000, 1_000_000))
        return TextCase(f"pathological {unit!r} {size}", (unit * (size // len(unit) + 1))[:size].encode())
    if kind == "unicode":
        chars = "".join(rand_text(rng) for _ in range(rng.randrange(1, 50)))
        return TextCase(kind, (chars + text).encode("utf-8", "surrogatepass"))
    if kind == "bytes":
        raw = text.encode("utf-8")
        how = rng.randrange(4)
        if how == 0:
            raw = raw.replace(b" ", b"\x00", 1)
        elif how == 1:
            raw = text.encode("utf-16")
        elif how == 2:
            raw = b"\xff" + raw
        else:
            raw = raw + bytes([0xC3])
        return TextCase(f"bytes {how}", raw)
    other = rng.choice(corpus)
    i, j = rng.randrange(len(text) + 1), rng.randrange(len(other) + 1)
    return TextCase("splice", (text[:i] + other[j:]).encode("utf-8"))


# ---------------------------------------------------------------------------------------
# Running one case
# ---------------------------------------------------------------------------------------
@dataclass
class Outcome:
    campaign: str
    index: int
    kind: str
    status: str  # ok, documented, undocumented
    error: str = ""  # class and message (first line)
    where: str = ""  # last frame of an undocumented error
    exit_code: int = 0
    loss: str = ""  # what was lost (silent loss)
    truncated: bool = False
    benign: bool = False
    bad_message: str = ""
    seconds: float = 0.0
    size: int = 0
    trace: str = ""  # the traceback of an undocumented error (shown by --only)


def _undocumented(exc: BaseException) -> tuple[str, str]:
    frames = traceback.extract_tb(exc.__traceback__)
    inside = [f for f in frames if "dicomtools" in f.filename] or frames
    last = inside[-1] if inside else None
    where = f"{Path(last.filename).name}:{last.lineno} {last.name}" if last else "?"
    return f"{type(exc).__name__}: {str(exc)[:160]}", where


def cached_sources():
    """dicomtools.build's load_source and load_studies, each folder read once (the build
    step makes the same calls; the campaign measures the findings, not the images)."""
    from dicomtools import build
    loaded: dict[tuple[str, Path], Any] = {}

    def cached(kind, fn):
        def wrapper(path):
            key = (kind, Path(path))
            if key not in loaded:
                loaded[key] = fn(path)
            return loaded[key]
        return wrapper
    return cached("source", build.load_source), cached("studies", build.load_studies)


class Worker:
    """Per-process state: seeds, their clean reads, the source contexts."""

    def __init__(self, work: Path, *, patch: bool = True):
        self.work = work
        self.work.mkdir(parents=True, exist_ok=True)
        if patch:  # a worker process of its own: read the source images once
            from dicomtools import build
            build.load_source, build.load_studies = cached_sources()
        self.srs = seed_srs()
        self.seeds = seed_findings()
        self.corpus = text_corpus()
        self._clean: dict[str, Any] = {}

    def clean(self, seed: str):
        if seed not in self._clean:
            from dicomtools.sr.read import read_sr
            path = self.work / "clean.dcm"
            path.write_bytes(self.srs[seed])
            self._clean[seed] = read_sr(path)
        return self._clean[seed]

    def make(self, campaign: str, seed: int, index: int):
        rng = random.Random(f"{seed}:{campaign}:{index}")
        if campaign == "reader":
            return reader_case(self.srs, rng)
        if campaign == "build":
            return build_case(self.seeds, rng)
        return text_case(self.corpus, rng)

    def run(self, campaign: str, seed: int, index: int) -> Outcome:
        try:
            case = self.make(campaign, seed, index)
        except Exception as exc:  # a bug of the campaign, not of dicomtools
            return Outcome(campaign, index, "make", "undocumented", *_undocumented(exc))
        start = time.perf_counter()
        outcome = getattr(self, campaign)(case, index)
        outcome.seconds = time.perf_counter() - start
        return outcome

    # -- reader --
    def reader(self, case: ReaderCase, index: int) -> Outcome:
        from dicomtools.sr.read import read_sr
        out = Outcome("reader", index, case.kind, "ok", truncated=case.truncated, benign=case.benign,
                      size=len(case.data))
        path = self.work / "case.dcm"
        path.write_bytes(case.data)
        clean = self.clean(case.seed)
        try:
            report = read_sr(path)
        except BaseException as exc:
            return _failed(out, exc, path)
        if case.truncated:
            new = [w for w in report.warnings if w not in clean.warnings]
            if not new:
                out.loss = "truncated file read without a warning"
        elif case.benign:
            from dataclasses import replace
            if replace(report, sr=None) != replace(clean, sr=None) or report.warnings != clean.warnings:
                out.loss = "benign re-encoding read differently: " + ", ".join(
                    _diff(clean.to_json(), report.to_json()))[:200]
        return out

    # -- build --
    def build(self, case: BuildCase, index: int) -> Outcome:
        from dataclasses import replace

        from dicomtools.build import load_findings, with_source
        from dicomtools.sr.read import read_sr
        from dicomtools.sr.write import write_sr
        out = Outcome("build", index, case.kind, "ok", size=len(case.payload))
        findings = self.work / "findings.json"
        findings.write_bytes(case.payload)
        sr = self.work / "out.dcm"
        try:
            _, report = load_findings(findings)
            report = with_source(report, case.source, patient_only=case.patient_only,
                                 where=str(findings))
            write_sr(report, sr)
            back = read_sr(sr)
        except BaseException as exc:
            return _failed(out, exc, findings)
        expected = report.with_findings_in_context()
        lost = []
        if replace(back, sr=None) != expected:
            lost += _diff(expected.to_json(), replace(back, sr=None).to_json())
        noted = [w for w in back.warnings if "kept as content" not in w]
        if noted:  # e.g. pydicom finding a value we wrote invalid
            lost.append("warnings on read-back: " + "; ".join(noted)[:120])
        if case.original is not None:
            lost += _text_changes(case.original, report)
        if lost:
            out.loss = ", ".join(lost)[:300]
        return out

    # -- text --
    def text(self, case: TextCase, index: int) -> Outcome:
        from dicomtools.text.extract import extract_findings
        from dicomtools.text.reports import read_report_text
        out = Outcome("text", index, case.kind, "ok", size=len(case.payload))
        path = self.work / "report.txt"
        path.write_bytes(case.payload)
        try:
            text = read_report_text(path, max_bytes=2_000_000)
            results = extract_findings(text, max_chars=2_000_000)
            for r in results:
                json.dumps(r.to_json())
        except BaseException as exc:
            return _failed(out, exc, path)
        return out


def _failed(out: Outcome, exc: BaseException, path: Path) -> Outcome:
    """The outcome of a case that raised: documented (one of our errors, its message checked)
    or undocumented (anything else, with where and the traceback). Ctrl-C stops the run."""
    from dicomtools.errors import DicomToolsError
    if isinstance(exc, KeyboardInterrupt):
        raise exc
    if isinstance(exc, DicomToolsError):
        out.status, out.exit_code, out.error = "documented", exc.exit_code, f"{type(exc).__name__}: {exc}"
        out.bad_message = _message_problem(str(exc), str(path))
        return out
    out.status = "undocumented"
    out.error, out.where = _undocumented(exc)
    out.trace = traceback.format_exc()
    return out


def _message_problem(message: str, path: str) -> str:
    if "\n" in message or "\r" in message:
        return "message is not one line"
    if len(message) > 1000:
        return "message longer than 1000 characters"
    if path not in message and Path(path).name not in message and "report:" not in message:
        return "message names no file"
    return ""


def _diff(a: Any, b: Any, prefix: str = "") -> list[str]:
    """The paths where two JSON values differ."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for key in sorted(set(a) | set(b), key=str):
            if key == "warnings":
                continue
            out += _diff(a.get(key), b.get(key), f"{prefix}.{key}" if prefix else str(key))
        return out
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        out = []
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            out += _diff(x, y, f"{prefix}[{i}]")
        return out
    if a != b and not (isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b)):
        return [prefix or "(root)"]
    return []


def _text_changes(original: Any, report) -> list[str]:
    """Free-text fields whose model value is not the input's text (surrounding spaces aside)."""
    if not isinstance(original, dict):
        return []
    out = []

    def check(label: str, given: Any, kept: Any) -> None:
        if isinstance(given, str) and given.strip() and kept is not None and kept != given.strip() \
                and kept != given:
            out.append(f"{label} changed by the model")
    for key in TEXT_FIELDS:
        check(key, original.get(key), getattr(report, key))
    study = original.get("study")
    if isinstance(study, dict):
        for key in STUDY_FIELDS:
            if key != "instance_uid" or study.get(key):
                check(f"study.{key}", study.get(key), getattr(report.study, key, None))
    raw = original.get("findings")
    if isinstance(raw, list) and len(raw) == len(report.findings):
        for i, (given, kept) in enumerate(zip(raw, report.findings, strict=True)):
            if isinstance(given, dict):
                for key in FINDING_TEXT_FIELDS:
                    check(f"findings[{i}].{key}", given.get(key), getattr(kept, key))
                evaluations = given.get("evaluations")
                if isinstance(evaluations, list) and len(evaluations) == len(kept.evaluations):
                    for j, (e, k) in enumerate(zip(evaluations, kept.evaluations, strict=True)):
                        if isinstance(e, dict):
                            check(f"findings[{i}].evaluations[{j}]", e.get("value"), k.value)
    return out


# ---------------------------------------------------------------------------------------
# The campaign: forked workers, a timeout per case
# ---------------------------------------------------------------------------------------
def _worker_main(conn, work: Path) -> None:
    import resource
    try:
        resource.setrlimit(resource.RLIMIT_AS, (6 << 30, 6 << 30))
    except (ValueError, OSError):
        pass
    warnings.simplefilter("ignore")
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 1000))
    state = Worker(work)
    conn.send("ready")
    while True:
        job = conn.recv()
        if job is None:
            return
        campaign, seed, index = job
        conn.send(state.run(campaign, seed, index))


class Pool:
    def __init__(self, workers: int, work: Path, timeout: float):
        import multiprocessing
        self.ctx = multiprocessing.get_context("fork")
        self.work, self.timeout = work, timeout
        self.slots = [self._spawn(i) for i in range(workers)]

    def _spawn(self, i: int):
        parent, child = self.ctx.Pipe()
        proc = self.ctx.Process(target=_worker_main, args=(child, self.work / f"w{i}-{time.time_ns()}"),
                                daemon=True)
        proc.start()
        child.close()
        parent.recv()  # ready
        return {"proc": proc, "conn": parent, "job": None, "start": 0.0, "i": i}

    def run(self, jobs, deadline: float | None):
        from multiprocessing.connection import wait
        jobs = iter(jobs)
        pending = True
        while True:
            for slot in self.slots:
                if slot["job"] is None and pending:
                    if deadline is not None and time.monotonic() > deadline:
                        pending = False
                        break
                    job = next(jobs, None)
                    if job is None:
                        pending = False
                        break
                    slot["job"], slot["start"] = job, time.monotonic()
                    slot["conn"].send(job)
            busy = [s for s in self.slots if s["job"] is not None]
            if not busy:
                return
            ready = wait([s["conn"] for s in busy], timeout=0.5)
            for slot in busy:
                if slot["conn"] in ready:
                    try:
                        result = slot["conn"].recv()
                    except EOFError:  # the worker died (a crash of the interpreter)
                        campaign, _, index = slot["job"]
                        result = Outcome(campaign, index, "?", "undocumented", "worker died", "?")
                        self._replace(slot)
                    slot["job"] = None
                    yield result
                elif time.monotonic() - slot["start"] > self.timeout:
                    campaign, _, index = slot["job"]
                    self._replace(slot)
                    slot["job"] = None
                    yield Outcome(campaign, index, "?", "hang", f"no result in {self.timeout:g} s")

    def _replace(self, slot) -> None:
        slot["proc"].kill()
        slot["proc"].join()
        new = self._spawn(slot["i"])
        slot.update(proc=new["proc"], conn=new["conn"])

    def close(self) -> None:
        for slot in self.slots:
            try:
                slot["conn"].send(None)
            except (BrokenPipeError, OSError):
                pass
            slot["proc"].join(timeout=5)
            if slot["proc"].is_alive():
                slot["proc"].kill()


@dataclass
class Tally:
    cases: int = 0
    ok: int = 0
    documented: int = 0
    undocumented: int = 0
    hangs: int = 0
    silent: int = 0
    truncated: int = 0
    truncated_ok: int = 0
    benign: int = 0
    benign_refused: int = 0
    bad_messages: int = 0
    seconds: float = 0.0
    kinds: Counter = field(default_factory=Counter)
    examples: dict = field(default_factory=dict)
    worst_per_mb: float = 0.0

    def add(self, o: Outcome) -> None:
        self.cases += 1
        self.seconds += o.seconds
        if o.status == "hang":
            self.hangs += 1
            self._note("hang", o)
        elif o.status == "undocumented":
            self.undocumented += 1
            self._note(f"undocumented {o.error.split(':')[0]} at {o.where}", o)
        elif o.status == "documented":
            self.documented += 1
            if o.bad_message:
                self.bad_messages += 1
                self._note(f"bad message ({o.bad_message})", o)
        else:
            self.ok += 1
        if o.truncated:
            self.truncated += 1
            if o.status == "ok":
                self.truncated_ok += 1
        if o.benign:
            self.benign += 1
            if o.status == "documented":
                self.benign_refused += 1
                self._note("benign refused", o)
        if o.loss:
            self.silent += 1
            self._note("silent loss: " + o.loss.split(":")[0][:60], o)
        if o.campaign == "text" and o.size > 100_000 and o.status == "ok":
            self.worst_per_mb = max(self.worst_per_mb, o.seconds / (o.size / 1e6))

    def _note(self, key: str, o: Outcome) -> None:
        self.kinds[key] += 1
        self.examples.setdefault(key, f"#{o.index} {o.kind}: {(o.error or o.loss)[:200]}")


def run_campaigns(args) -> dict[str, Tally]:
    work = Path(tempfile.mkdtemp(prefix="dicomtools-fuzz-", dir="/dev/shm" if Path("/dev/shm").is_dir() else None))
    tallies: dict[str, Tally] = {}
    try:
        pool = Pool(args.workers, work, args.timeout)
        end = None if args.minutes is None else time.monotonic() + args.minutes * 60
        records = []
        for n_campaign, campaign in enumerate(args.campaigns):
            tally = tallies[campaign] = Tally()
            start = time.monotonic()
            # time left, shared by the campaigns left (a fast campaign leaves more to the next)
            deadline = None if end is None else start + (end - start) / (len(args.campaigns) - n_campaign)
            jobs = ((campaign, args.seed, i) for i in range(args.cases))
            for n, outcome in enumerate(pool.run(jobs, deadline), start=1):
                tally.add(outcome)
                outcome.trace = ""
                if args.json:
                    records.append(outcome.__dict__)
                if n % 500 == 0:
                    print(f"  {campaign}: {n} cases, {tally.undocumented} undocumented, "
                          f"{tally.hangs} hangs, {tally.silent} silent "
                          f"({time.monotonic() - start:.0f} s)", file=sys.stderr, flush=True)
            tally.seconds = time.monotonic() - start
            if args.cli:
                cli_check(campaign, args, tally, work)
        pool.close()
        if args.json:
            Path(args.json).write_text(json.dumps(records, default=str), encoding="utf-8")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return tallies


def cli_check(campaign: str, args, tally: Tally, work: Path) -> None:
    """``--cli N``: N cases through ``python -m dicomtools``; exit code and stderr checked."""
    state = Worker(work / f"cli-{campaign}")
    env = dict(os.environ, PYTHONPATH=str(args.code) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    problems = Counter()
    examples = {}
    for i in range(args.cli):
        case = state.make(campaign, args.seed, 1_000_000 + i)
        folder = work / f"cli-{campaign}" / "case"
        folder.mkdir(parents=True, exist_ok=True)
        if campaign == "reader":
            target = folder / "sr.dcm"
            target.write_bytes(case.data)
            argv = ["read", str(target)]
        elif campaign == "build":
            target = folder / "findings.json"
            target.write_bytes(case.payload)
            flag = "--patient-from" if case.patient_only else "--source"
            argv = ["build", str(target), flag, str(case.source), "-o", str(folder / "out.dcm")]
        else:
            target = folder / "report.txt"
            target.write_bytes(case.payload)
            argv = ["extract", str(target), "--max-bytes", "2000000"]
        try:
            done = subprocess.run([sys.executable, "-m", "dicomtools", *argv], capture_output=True,
                                  env=env, timeout=args.timeout * 3, cwd=work)
        except subprocess.TimeoutExpired:
            problems["hang"] += 1
            continue
        err = done.stderr.decode("utf-8", "replace")
        problem = ""
        if "Traceback" in err:
            problem = "traceback"
        elif done.returncode not in (0, 2, 3, 4):
            problem = f"exit {done.returncode}"
        elif done.returncode and (err.count("\n") != 1 or not err.startswith("dicomtools: error:")):
            problem = "stderr is not one error line"
        if problem:
            problems[problem] += 1
            examples.setdefault(problem, f"{case.kind}: {err.strip()[-200:]}")
    tally.kinds.update({f"cli {k}": v for k, v in problems.items()})
    for k, v in examples.items():
        tally.examples.setdefault(f"cli {k}", v)
    tally.examples["cli cases"] = f"{args.cli} through the CLI, {sum(problems.values())} with a problem"


def report(tallies: dict[str, Tally]) -> str:
    lines = [f"{'campaign':9} {'cases':>6} {'ok':>6} {'documented':>10} {'undocumented':>12} "
             f"{'hangs':>5} {'silent loss':>11} {'truncated':>9} {'trunc. OK':>9} {'benign':>6} "
             f"{'benign refused':>14} {'bad msg':>7} {'s':>6}"]
    for name, t in tallies.items():
        lines.append(f"{name:9} {t.cases:6} {t.ok:6} {t.documented:10} {t.undocumented:12} "
                     f"{t.hangs:5} {t.silent:11} {t.truncated:9} {t.truncated_ok:9} {t.benign:6} "
                     f"{t.benign_refused:14} {t.bad_messages:7} {t.seconds:6.0f}")
    for name, t in tallies.items():
        if name == "text":
            lines.append(f"text: worst {t.worst_per_mb:.1f} s per MB over inputs > 100 kB")
        common = t.kinds.most_common()
        for key, count in common[:25]:
            lines.append(f"  {name}: {count:5} x {key}")
            lines.append(f"           e.g. {t.examples.get(key, '')[:300]!r}")
        if len(common) > 25:
            lines.append(f"  {name}: {sum(c for _, c in common[25:])} more in {len(common) - 25} kinds")
        if "cli cases" in t.examples:
            lines.append(f"  {name}: {t.examples['cli cases']}")
    return "\n".join(lines)


def _load_code(code: Path) -> None:
    sys.meta_path[:] = [f for f in sys.meta_path if "editable" not in repr(f).lower()]
    sys.path.insert(0, str(code))
    import dicomtools
    print(f"measuring {Path(dicomtools.__file__).parent}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000, help="cases per campaign")
    parser.add_argument("--campaigns", default=",".join(CAMPAIGNS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=max(1, (os.cpu_count() or 2)))
    parser.add_argument("--timeout", type=float, default=60.0,
                        help="seconds per case (a 1 MB text takes ~7 s alone, more on a busy machine)")
    parser.add_argument("--minutes", type=float, default=None,
                        help="stop starting new cases after this many minutes (shared equally)")
    parser.add_argument("--cli", type=int, default=0, help="cases per campaign through the CLI")
    parser.add_argument("--code", type=Path, default=HERE, help="checkout to measure")
    parser.add_argument("--json", type=Path, default=None, help="write every outcome here")
    parser.add_argument("--only", default=None, help="CAMPAIGN:INDEX: run one case here")
    args = parser.parse_args()
    args.code = args.code.resolve()
    args.campaigns = [c for c in args.campaigns.split(",") if c]
    _load_code(args.code)
    if args.only:
        campaign, index = args.only.split(":")
        work = Path(tempfile.mkdtemp(prefix="dicomtools-fuzz-"))
        state = Worker(work)
        case = state.make(campaign, args.seed, int(index))
        size = len(getattr(case, "data", b"") or getattr(case, "payload", b""))
        print(f"case: {getattr(case, 'kind', '?')}, {size} bytes")
        outcome = state.run(campaign, args.seed, int(index))
        trace, outcome.trace = outcome.trace, ""
        print(outcome)
        print(trace, end="")
        print(f"files in {work}")
        return 0
    started = time.monotonic()
    tallies = run_campaigns(args)
    print(report(tallies))
    print(f"total {time.monotonic() - started:.0f} s, {args.workers} workers, timeout {args.timeout:g} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
