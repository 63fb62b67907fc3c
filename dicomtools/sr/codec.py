"""Content tree <-> ContentSequence bytes, in one pass.

Why not pydicom Datasets or highdicom? Building one validated Dataset per content item is
where highdicom and pydicom spend their time (ecosystem.md §11: ~21 ms and ~6.7 ms per lesion
group to write, ~25 ms and ~3.5 ms to read). The SR content tree uses a dozen attributes, so
encoding them directly is short, and measurably faster: benchmarks/bench_sr.py runs all three
side by side. The rest of the file (header, meta, evidence) is still written by pydicom, and
every file is checked by dciodvfy, dsrdump, PixelMed, dcmqi and highdicom in the tests.

Encoding: explicit VR little endian, defined lengths, text in UTF-8 (ISO_IR 192).
Decoding: explicit or implicit VR little endian, defined or undefined lengths, UN-wrapped
sequences; text in the dataset's character set. Anything else goes through pydicom
(``items_from_pydicom``).
"""

from __future__ import annotations

import math
import struct
from typing import Any, Callable

from ..errors import SRReadError
from ..vocab import Code
from .content import ImageValue, Item, Num, Point3D

# -- tags -------------------------------------------------------------------------------
CODE_VALUE = 0x00080100
CODING_SCHEME = 0x00080102
CODE_MEANING = 0x00080104
MAPPING_RESOURCE = 0x00080105
LONG_CODE_VALUE = 0x00080119
URN_CODE_VALUE = 0x00080120
REF_SOP_CLASS = 0x00081150
REF_SOP_INSTANCE = 0x00081155
REF_SOP_SEQ = 0x00081199
UNITS_SEQ = 0x004008EA
RELATIONSHIP = 0x0040A010
VALUE_TYPE = 0x0040A040
CONCEPT_NAME_SEQ = 0x0040A043
CONTINUITY = 0x0040A050
DATETIME = 0x0040A120
DATE = 0x0040A121
TIME = 0x0040A122
PERSON_NAME = 0x0040A123
UID = 0x0040A124
TEXT_VALUE = 0x0040A160
FLOAT_VALUE = 0x0040A161
CONCEPT_CODE_SEQ = 0x0040A168
MEASURED_VALUE_SEQ = 0x0040A300
NUMERIC_VALUE = 0x0040A30A
TEMPLATE_SEQ = 0x0040A504
CONTENT_SEQ = 0x0040A730
TEMPLATE_ID = 0x0040DB00
REF_SEGMENT_NUMBER = 0x0062000B
GRAPHIC_DATA = 0x00700022
GRAPHIC_TYPE = 0x00700023
REF_FRAME_OF_REFERENCE = 0x30060024

_ITEM = 0xFFFEE000
_ITEM_END = 0xFFFEE00D
_SEQ_END = 0xFFFEE0DD
_UNDEFINED = 0xFFFFFFFF

_SEQUENCES = {REF_SOP_SEQ, UNITS_SEQ, CONCEPT_NAME_SEQ, CONCEPT_CODE_SEQ, MEASURED_VALUE_SEQ,
              TEMPLATE_SEQ, CONTENT_SEQ}
# VRs of the attributes the reader looks at, for implicit VR files.
_IMPLICIT_VR = {tag: b"SQ" for tag in _SEQUENCES}
_IMPLICIT_VR.update({FLOAT_VALUE: b"FD", TEXT_VALUE: b"UT", LONG_CODE_VALUE: b"UC",
                     URN_CODE_VALUE: b"UR", PERSON_NAME: b"PN"})
_LONG_VRS = {b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"UC", b"UN", b"UR", b"UT",
             b"SV", b"UV"}
_U16 = struct.Struct("<H")
_U32 = struct.Struct("<I")
_TAG = struct.Struct("<HH")
_SHORT_HDR = struct.Struct("<HH2sH")
_LONG_HDR = struct.Struct("<HH2sHI")
_F64 = struct.Struct("<d")
_F32x3 = struct.Struct("<3f")


# -- encoding ---------------------------------------------------------------------------
def _element(tag: int, vr: bytes, value: bytes) -> bytes:
    if len(value) & 1:
        value += b"\0" if vr in (b"UI", b"OB", b"UN") else b" "
    if vr in _LONG_VRS:
        return _LONG_HDR.pack(tag >> 16, tag & 0xFFFF, vr, 0, len(value)) + value
    return _SHORT_HDR.pack(tag >> 16, tag & 0xFFFF, vr, len(value)) + value


def _sequence(tag: int, item_bodies: list[bytes]) -> bytes:
    parts = []
    for body in item_bodies:
        parts.append(b"\xfe\xff\x00\xe0" + _U32.pack(len(body)))
        parts.append(body)
    return _element(tag, b"SQ", b"".join(parts))


def _text(value: str) -> bytes:
    return value.encode("utf-8")


_code_cache: dict[tuple[int, str, str, str], bytes] = {}


def encode_code(tag: int, code: Code) -> bytes:
    """A one-item code sequence element; cached because the same codes repeat per lesion."""
    key = (tag, code.value, code.scheme, code.meaning)
    cached = _code_cache.get(key)
    if cached is None:
        scheme_and_meaning = (_element(CODING_SCHEME, b"SH", _text(code.scheme))
                              + _element(CODE_MEANING, b"LO", _text(code.meaning)))
        if len(code.value) <= 16:
            body = _element(CODE_VALUE, b"SH", _text(code.value)) + scheme_and_meaning
        else:  # tags ascend: (0008,0102), (0008,0104) come before (0008,0119)
            body = scheme_and_meaning + _element(LONG_CODE_VALUE, b"UC", _text(code.value))
        cached = _code_cache[key] = _sequence(tag, [body])
    return cached


def format_ds(value: float) -> bytes:
    """A Decimal String of at most 16 characters that reads back as close as DS allows."""
    if not math.isfinite(value):
        raise ValueError(f"cannot encode {value!r} as a DICOM decimal string")
    text = repr(float(value))
    if text.endswith(".0"):
        text = text[:-2]
    if len(text) <= 16:
        return text.encode("ascii")
    for digits in range(15, 0, -1):
        text = f"{value:.{digits}g}"
        if len(text) <= 16:
            return text.encode("ascii")
    raise ValueError(f"cannot encode {value!r} as a DICOM decimal string")


def encode_item(item: Item) -> bytes:
    """The body (elements in ascending tag order) of one content item dataset."""
    parts: list[bytes] = []
    vt = item.value_type
    if vt == "IMAGE":
        ref: ImageValue = item.value
        segment = (b"" if ref.segment_number is None else
                   _element(REF_SEGMENT_NUMBER, b"US", _U16.pack(ref.segment_number)))
        parts.append(_sequence(REF_SOP_SEQ, [
            _element(REF_SOP_CLASS, b"UI", ref.sop_class_uid.encode("ascii"))
            + _element(REF_SOP_INSTANCE, b"UI", ref.sop_instance_uid.encode("ascii")) + segment]))
    if item.relationship:
        parts.append(_element(RELATIONSHIP, b"CS", item.relationship.encode("ascii")))
    parts.append(_element(VALUE_TYPE, b"CS", vt.encode("ascii")))
    if item.name is not None:
        parts.append(encode_code(CONCEPT_NAME_SEQ, item.name))
    if vt == "CONTAINER":
        parts.append(_element(CONTINUITY, b"CS", b"CONTINUOUS" if item.continuous else b"SEPARATE"))
    elif vt == "UIDREF":
        parts.append(_element(UID, b"UI", item.value.encode("ascii")))
    elif vt == "PNAME":
        parts.append(_element(PERSON_NAME, b"PN", _text(item.value)))
    elif vt == "TEXT":
        parts.append(_element(TEXT_VALUE, b"UT", _text(item.value)))
    elif vt == "CODE":
        parts.append(encode_code(CONCEPT_CODE_SEQ, item.value))
    elif vt == "NUM":
        num: Num = item.value
        parts.append(_sequence(MEASURED_VALUE_SEQ, [
            encode_code(UNITS_SEQ, num.unit)
            + _element(FLOAT_VALUE, b"FD", _F64.pack(num.value))
            + _element(NUMERIC_VALUE, b"DS", format_ds(num.value))]))
    if item.template:
        parts.append(_sequence(TEMPLATE_SEQ, [
            _element(MAPPING_RESOURCE, b"CS", b"DCMR")
            + _element(TEMPLATE_ID, b"CS", item.template.encode("ascii"))]))
    if item.children:
        parts.append(encode_content(item.children))
    if vt == "SCOORD3D":  # groups 0070 and 3006 follow the 0040 elements above
        point: Point3D = item.value
        parts.append(_element(GRAPHIC_DATA, b"FL", _F32x3.pack(point.x, point.y, point.z)))
        parts.append(_element(GRAPHIC_TYPE, b"CS", b"POINT"))
        parts.append(_element(REF_FRAME_OF_REFERENCE, b"UI",
                              point.frame_of_reference_uid.encode("ascii")))
    return b"".join(parts)


def encode_content(items: list[Item]) -> bytes:
    """A complete ContentSequence element (tag, VR, length, items)."""
    return _sequence(CONTENT_SEQ, [encode_item(child) for child in items])


def encode_content_value(items: list[Item]) -> bytes:
    """Only the value of a ContentSequence (its items), for a pydicom RawDataElement."""
    return encode_content(items)[12:]


# -- decoding ---------------------------------------------------------------------------
Decoder = Callable[[bytes], str]


_CODE_SEQUENCES = {CONCEPT_NAME_SEQ, CONCEPT_CODE_SEQ, UNITS_SEQ}


class _Parser:
    """A minimal DICOM dataset parser for SR content (little endian only).

    Code sequences are decoded straight to a Code and cached by their raw bytes: an SR repeats
    the same few dozen codes thousands of times, and this halves the read time at 1000 groups.
    """

    __slots__ = ("buf", "implicit", "text", "codes")

    def __init__(self, buf: bytes, implicit: bool, text: Decoder):
        self.buf = buf
        self.implicit = implicit
        self.text = text
        self.codes: dict[bytes, Code | None] = {}

    def sequence(self, pos: int, end: int, implicit: bool) -> tuple[list[dict], int]:
        """Items of a sequence value running from pos to end (end=None: undefined length)."""
        buf = self.buf
        items: list[dict] = []
        limit = len(buf) if end is None else end
        while pos + 8 <= limit:
            group, elem = _TAG.unpack_from(buf, pos)
            tag = group << 16 | elem
            length = _U32.unpack_from(buf, pos + 4)[0]
            pos += 8
            if tag == _SEQ_END:
                return items, pos
            if tag != _ITEM:
                raise SRReadError(f"malformed sequence: expected an item tag, found {tag:08X}")
            if length == _UNDEFINED:
                dataset, pos = self.dataset(pos, None, implicit)
            else:
                if pos + length > len(buf):
                    raise SRReadError("truncated content sequence item")
                dataset, _ = self.dataset(pos, pos + length, implicit)
                pos += length
            items.append(dataset)
        if end is None:
            raise SRReadError("truncated sequence: no sequence delimiter")
        return items, pos

    def dataset(self, pos: int, end: int | None, implicit: bool) -> tuple[dict, int]:
        buf = self.buf
        out: dict[int, Any] = {}
        limit = len(buf) if end is None else end
        while pos + 8 <= limit:
            group, elem = _TAG.unpack_from(buf, pos)
            tag = group << 16 | elem
            if tag == _ITEM_END:
                return out, pos + 8
            if implicit:
                vr = _IMPLICIT_VR.get(tag, b"??")
                length = _U32.unpack_from(buf, pos + 4)[0]
                pos += 8
            else:
                vr = bytes(buf[pos + 4:pos + 6])
                if vr in _LONG_VRS:
                    length = _U32.unpack_from(buf, pos + 8)[0]
                    pos += 12
                else:
                    length = _U16.unpack_from(buf, pos + 6)[0]
                    pos += 8
            if length == _UNDEFINED:
                # SQ (or UN holding an implicit-VR sequence, PS3.5 §6.2.2)
                out[tag], pos = self.sequence(pos, None, implicit or vr == b"UN")
                continue
            if pos + length > len(buf):
                raise SRReadError(f"truncated element ({tag >> 16:04X},{tag & 0xFFFF:04X})")
            if tag in _CODE_SEQUENCES and vr in (b"SQ", b"UN", b"??"):
                raw = buf[pos:pos + length]
                if raw not in self.codes:
                    items, _ = self.sequence(pos, pos + length, implicit or vr == b"UN")
                    self.codes[raw] = _code(items[0], self.text) if items else None
                out[tag] = self.codes[raw]
            elif vr == b"SQ" or (tag in _SEQUENCES and vr in (b"UN", b"??")):
                out[tag], _ = self.sequence(pos, pos + length, implicit or vr == b"UN")
            else:
                out[tag] = buf[pos:pos + length]
            pos += length
        if end is None:
            raise SRReadError("truncated item: no item delimiter")
        return out, pos


def _cs(raw: bytes | None) -> str | None:
    return None if raw is None else raw.decode("ascii", "replace").strip(" \0")


def _code(ds: dict, text: Decoder) -> Code | None:
    value = ds.get(CODE_VALUE) or ds.get(LONG_CODE_VALUE) or ds.get(URN_CODE_VALUE)
    scheme = ds.get(CODING_SCHEME)
    if value is None:
        return None
    return Code(text(value).strip(), _cs(scheme) or "", text(ds.get(CODE_MEANING, b"")).strip())


def _first_code(value: Code | list[dict] | None, text: Decoder) -> Code | None:
    """A decoded Code (cached path) or the first item of an undefined-length code sequence."""
    if value is None or isinstance(value, Code):
        return value
    return _code(value[0], text) if value else None


def _item_from_dict(ds: dict, text: Decoder) -> Item:
    vt = _cs(ds.get(VALUE_TYPE)) or ""
    item = Item(vt, _first_code(ds.get(CONCEPT_NAME_SEQ), text), _cs(ds.get(RELATIONSHIP)))
    if vt == "CODE":
        item.value = _first_code(ds.get(CONCEPT_CODE_SEQ), text)
    elif vt == "NUM":
        measured = ds.get(MEASURED_VALUE_SEQ)
        if measured:
            mv = measured[0]
            unit = _first_code(mv.get(UNITS_SEQ), text)
            number: float | None = None
            if FLOAT_VALUE in mv and len(mv[FLOAT_VALUE]) == 8:
                number = _F64.unpack(mv[FLOAT_VALUE])[0]
            elif NUMERIC_VALUE in mv:
                try:
                    number = float(_cs(mv[NUMERIC_VALUE]) or "nan")
                except ValueError:
                    number = None
            if number is not None and unit is not None:
                item.value = Num(number, unit)
    elif vt in ("TEXT", "PNAME", "UIDREF", "DATE", "TIME", "DATETIME"):
        tag = {"TEXT": TEXT_VALUE, "PNAME": PERSON_NAME, "UIDREF": UID, "DATE": DATE,
               "TIME": TIME, "DATETIME": DATETIME}[vt]
        raw = ds.get(tag)
        item.value = None if raw is None else text(raw).rstrip(" \0")
    elif vt in ("IMAGE", "COMPOSITE"):
        refs = ds.get(REF_SOP_SEQ)
        if refs:
            segment = refs[0].get(REF_SEGMENT_NUMBER)
            item.value = ImageValue(_cs(refs[0].get(REF_SOP_CLASS)) or "",
                                    _cs(refs[0].get(REF_SOP_INSTANCE)) or "",
                                    _U16.unpack(segment[:2])[0] if segment and len(segment) >= 2 else None)
    elif vt == "SCOORD3D":
        data = ds.get(GRAPHIC_DATA)
        if _cs(ds.get(GRAPHIC_TYPE)) == "POINT" and data is not None and len(data) == 12:
            item.value = Point3D(*_F32x3.unpack(data), _cs(ds.get(REF_FRAME_OF_REFERENCE)) or "")
    elif vt == "CONTAINER":
        item.continuous = _cs(ds.get(CONTINUITY)) == "CONTINUOUS"
    templates = ds.get(TEMPLATE_SEQ)
    if templates:
        item.template = _cs(templates[0].get(TEMPLATE_ID))
    children = ds.get(CONTENT_SEQ)
    if children:
        item.children = [_item_from_dict(child, text) for child in children]
    return item


def decode_content_value(raw: bytes, implicit: bool, text: Decoder) -> list[Item]:
    """Items of a ContentSequence given its raw value bytes (as pydicom keeps them lazily)."""
    parser = _Parser(raw, implicit, text)
    try:
        datasets, _ = parser.sequence(0, len(raw), implicit)
    except struct.error:
        raise SRReadError("truncated or malformed content sequence") from None
    return [_item_from_dict(ds, text) for ds in datasets]


# -- pydicom path (already-parsed sequences, big endian files, datasets from a PACS) ----
def _pd_code(seq) -> Code | None:
    if not seq:
        return None
    ds = seq[0]
    value = ds.get("CodeValue") or ds.get("LongCodeValue") or ds.get("URNCodeValue")
    if value is None:
        return None
    return Code(str(value), str(ds.get("CodingSchemeDesignator", "")), str(ds.get("CodeMeaning", "")))


def items_from_pydicom(sequence) -> list[Item]:
    """Items of a pydicom ContentSequence (the slow path, used only when bytes are not raw)."""
    out = []
    for ds in sequence:
        vt = str(ds.get("ValueType", ""))
        item = Item(vt, _pd_code(ds.get("ConceptNameCodeSequence")), ds.get("RelationshipType"))
        if vt == "CODE":
            item.value = _pd_code(ds.get("ConceptCodeSequence"))
        elif vt == "NUM" and ds.get("MeasuredValueSequence"):
            mv = ds.MeasuredValueSequence[0]
            unit = _pd_code(mv.get("MeasurementUnitsCodeSequence"))
            number = mv.get("FloatingPointValue", mv.get("NumericValue"))
            if number is not None and unit is not None:
                item.value = Num(float(number), unit)
        elif vt in ("TEXT", "PNAME", "UIDREF", "DATE", "TIME", "DATETIME"):
            keyword = {"TEXT": "TextValue", "PNAME": "PersonName", "UIDREF": "UID", "DATE": "Date",
                       "TIME": "Time", "DATETIME": "DateTime"}[vt]
            value = ds.get(keyword)
            item.value = None if value is None else str(value)
        elif vt in ("IMAGE", "COMPOSITE") and ds.get("ReferencedSOPSequence"):
            ref = ds.ReferencedSOPSequence[0]
            segment = ref.get("ReferencedSegmentNumber")
            item.value = ImageValue(str(ref.get("ReferencedSOPClassUID", "")),
                                    str(ref.get("ReferencedSOPInstanceUID", "")),
                                    int(segment) if segment is not None else None)
        elif vt == "SCOORD3D" and ds.get("GraphicType") == "POINT":
            data = ds.get("GraphicData")
            if data is not None and len(data) == 3:
                item.value = Point3D(*map(float, data), str(ds.get("ReferencedFrameOfReferenceUID", "")))
        elif vt == "CONTAINER":
            item.continuous = ds.get("ContinuityOfContent") == "CONTINUOUS"
        if ds.get("ContentTemplateSequence"):
            item.template = str(ds.ContentTemplateSequence[0].get("TemplateIdentifier", "")) or None
        if ds.get("ContentSequence"):
            item.children = items_from_pydicom(ds.ContentSequence)
        out.append(item)
    return out
