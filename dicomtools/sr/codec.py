"""Content tree <-> ContentSequence bytes, in one pass.

Why not pydicom Datasets or highdicom? Building one validated Dataset per content item is
where highdicom and pydicom spend their time (ecosystem.md §11: ~21 ms and ~6.7 ms per lesion
group to write, ~25 ms and ~3.5 ms to read). The SR content tree uses a dozen attributes, so
encoding them directly is short, and measurably faster: benchmarks/bench_sr.py runs all three
side by side. The rest of the file (header, meta, evidence) is still written by pydicom, and
every file is checked by dciodvfy, dsrdump, PixelMed, dcmqi and highdicom in the tests.

Encoding: explicit VR little endian, defined lengths, text in UTF-8 (ISO_IR 192); a text
with a character DICOM cannot hold (values.py: control characters, lone surrogates) is
refused, never dropped.
Decoding: explicit or implicit VR little endian, defined or undefined lengths, UN-wrapped
sequences; text in the dataset's character set, characters its VR cannot hold shown as U+FFFD
and counted (``TextDecoder``). Anything else goes through pydicom (codec_pydicom.py);
codec_walk.py says where a cut file ends early.
"""

from __future__ import annotations

import math
import struct
from typing import Any

from ..errors import SRReadError, show
from ..values import HEADER, MAX_TREE_DEPTH, STRING, TEXT, refused_character
from ..vocab import Code
from .codec_text import Decoder, TextDecoder, _decoder, _pd_code, _pd_str  # noqa: F401  (pydicom values: render.py, codec_pydicom.py)
from .content import Graphic, ImageValue, Item, Num

__all__ = ["CONTENT_SEQ", "Decoder", "EncodeError", "TextDecoder", "decode_content_value",
           "encode_code", "encode_content", "encode_content_value", "encode_item", "format_ds"]

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
REF_FRAME_NUMBER = 0x00081160
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
_IMPLICIT_VR = dict.fromkeys(_SEQUENCES, b"SQ")
_IMPLICIT_VR.update({FLOAT_VALUE: b"FD", TEXT_VALUE: b"UT", LONG_CODE_VALUE: b"UC",
                     URN_CODE_VALUE: b"UR", PERSON_NAME: b"PN"})
_LONG_VRS = {b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"UC", b"UN", b"UR", b"UT",
             b"SV", b"UV"}
_U16 = struct.Struct("<H")
_U32 = struct.Struct("<I")
_SHORT_HDR = struct.Struct("<HH2sH")
_LONG_HDR = struct.Struct("<HH2sHI")
_F64 = struct.Struct("<d")


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


class EncodeError(ValueError):
    """A value the codec cannot write (to_dataset turns it into an InputError)."""


def _text(value: Any, kind: str = STRING) -> bytes:
    """A string value as UTF-8; a value DICOM cannot hold is refused, naming the character."""
    if not isinstance(value, str):
        raise EncodeError(f"value {show(value)} is not text")
    bad = refused_character(value, kind)
    if bad is not None:
        char = bad.group()
        what = "a backslash" if char == "\\" else f"character U+{ord(char):04X}"
        raise EncodeError(f"value {show(value)} holds {what} at position {bad.start()}, which "
                          "DICOM cannot hold there")
    return value.encode("utf-8")


_code_cache: dict[tuple[int, str, str, str], bytes] = {}


def encode_code(tag: int, code: Code) -> bytes:
    """A one-item code sequence element; cached because the same codes repeat per lesion."""
    key = (tag, code.value, code.scheme, code.meaning)
    cached = _code_cache.get(key)
    if cached is None:
        if not isinstance(code, Code):
            raise EncodeError(f"{show(code)} is not a code")
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


def encode_item(item: Item, depth: int = 0) -> bytes:
    """The body (elements in ascending tag order) of one content item dataset."""
    if depth > MAX_TREE_DEPTH:
        raise EncodeError(f"content nested deeper than {MAX_TREE_DEPTH} levels")
    try:
        return _encode_item(item, depth)
    except EncodeError as exc:
        if exc.args and str(exc.args[0]).startswith("content item "):
            raise
        name = item.name.meaning if isinstance(item.name, Code) else "(no concept name)"
        raise EncodeError(f"content item {item.value_type} '{name}': {exc}") from None
    except (struct.error, OverflowError, UnicodeEncodeError, AttributeError, TypeError) as exc:
        name = item.name.meaning if isinstance(item.name, Code) else "(no concept name)"
        raise EncodeError(f"content item {item.value_type} '{name}': value {show(item.value)} "
                          f"cannot be encoded ({type(exc).__name__})") from None


def _encode_item(item: Item, depth: int) -> bytes:
    parts: list[bytes] = []
    vt = item.value_type
    if vt in ("IMAGE", "COMPOSITE", "WAVEFORM") and isinstance(item.value, ImageValue):
        ref: ImageValue = item.value
        frames = (b"" if not ref.frames else _element(
            REF_FRAME_NUMBER, b"IS", "\\".join(str(n) for n in ref.frames).encode("ascii")))
        segment = (b"" if ref.segment_number is None else
                   _element(REF_SEGMENT_NUMBER, b"US", _U16.pack(ref.segment_number)))
        parts.append(_sequence(REF_SOP_SEQ, [
            _element(REF_SOP_CLASS, b"UI", ref.sop_class_uid.encode("ascii"))
            + _element(REF_SOP_INSTANCE, b"UI", ref.sop_instance_uid.encode("ascii"))
            + frames + segment]))
    if item.relationship:
        parts.append(_element(RELATIONSHIP, b"CS", item.relationship.encode("ascii")))
    parts.append(_element(VALUE_TYPE, b"CS", vt.encode("ascii")))
    if item.name is not None:
        parts.append(encode_code(CONCEPT_NAME_SEQ, item.name))
    if vt == "CONTAINER":
        parts.append(_element(CONTINUITY, b"CS", b"CONTINUOUS" if item.continuous else b"SEPARATE"))
    elif item.value is None:
        pass  # an item kept without a value (as read)
    elif vt == "DATETIME":
        parts.append(_element(DATETIME, b"DT", item.value.encode("ascii")))
    elif vt == "DATE":
        parts.append(_element(DATE, b"DA", item.value.encode("ascii")))
    elif vt == "TIME":
        parts.append(_element(TIME, b"TM", item.value.encode("ascii")))
    elif vt == "UIDREF":
        parts.append(_element(UID, b"UI", item.value.encode("ascii")))
    elif vt == "PNAME":
        parts.append(_element(PERSON_NAME, b"PN", _text(item.value, HEADER)))
    elif vt == "TEXT":
        parts.append(_element(TEXT_VALUE, b"UT", _text(item.value, TEXT)))
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
        parts.append(_sequence(CONTENT_SEQ, [encode_item(child, depth + 1) for child in item.children]))
    if vt in ("SCOORD", "SCOORD3D") and isinstance(item.value, Graphic):
        # groups 0070 and 3006 follow the 0040 elements above
        graphic: Graphic = item.value
        parts.append(_element(GRAPHIC_DATA, b"FL",
                              struct.pack(f"<{len(graphic.data)}f", *graphic.data)))
        parts.append(_element(GRAPHIC_TYPE, b"CS", graphic.graphic_type.encode("ascii")))
        if vt == "SCOORD3D" and graphic.frame_of_reference_uid:
            parts.append(_element(REF_FRAME_OF_REFERENCE, b"UI",
                                  graphic.frame_of_reference_uid.encode("ascii")))
    return b"".join(parts)


def encode_content(items: list[Item]) -> bytes:
    """A complete ContentSequence element (tag, VR, length, items)."""
    return _sequence(CONTENT_SEQ, [encode_item(child) for child in items])


def encode_content_value(items: list[Item]) -> bytes:
    """Only the value of a ContentSequence (its items), for a pydicom RawDataElement."""
    return encode_content(items)[12:]


# -- decoding ---------------------------------------------------------------------------
_CODE_SEQUENCES = {CONCEPT_NAME_SEQ, CONCEPT_CODE_SEQ, UNITS_SEQ}
_EXPLICIT_HDR = struct.Struct("<HH2sH")
_IMPLICIT_HDR = struct.Struct("<HHI")
# Codes decoded in earlier files, by (raw bytes, implicit, encoding): an archive's SRs share
# most of their codes, and this takes ~25 % off reading a small SR. Only a code decoded with
# nothing invalid or replaced is kept, so the decoder's counts are those of a fresh decode.
_SHARED_CODES: dict[tuple[bytes, bool, str], Code | None] = {}
_SHARED_MAX = 20_000
# Parsed item datasets (a content item, a measured value...) by the same key and depth: the
# same finding site, laterality or unit item recurs in every report of an archive.
_SHARED_ITEMS: dict[tuple[bytes, bool, int, str], dict] = {}
_SHARED_ITEM_BYTES = 2048  # and at most _SHARED_ITEMS_MAX of them: a few MB at most
_SHARED_ITEMS_MAX = 5_000


class _Parser:
    """A minimal DICOM dataset parser for SR content (little endian only).

    Code sequences are decoded straight to a Code and cached by their raw bytes: an SR repeats
    the same few dozen codes thousands of times, and this halves the read time at 1000 groups.
    """

    __slots__ = ("buf", "codes", "dirty", "implicit", "shared", "tainted", "text")

    def __init__(self, buf: bytes, implicit: bool, text: TextDecoder):
        self.buf = bytes(buf)
        self.implicit = implicit
        self.text = text
        self.codes: dict[bytes, Code | None] = {}
        self.dirty: set[bytes] = set()  # codes whose decoding counted something
        self.tainted = 0  # uses of those codes from self.codes
        # the shared cache holds only what the plain decoder gives (not a custom one)
        self.shared = text._decode is None

    def sequence(self, pos: int, end: int | None, implicit: bool,
                 depth: int = 0) -> tuple[list[dict], int]:
        """Items of a sequence value running from pos to end (end=None: undefined length)."""
        if depth > 2 * MAX_TREE_DEPTH + 8:  # content items nest two sequences per level
            raise SRReadError(f"content nested deeper than {MAX_TREE_DEPTH} levels")
        buf = self.buf
        items: list[dict] = []
        limit = len(buf) if end is None else end
        unpack = _IMPLICIT_HDR.unpack_from
        while pos + 8 <= limit:
            group, elem, length = unpack(buf, pos)
            tag = group << 16 | elem
            pos += 8
            if tag == _SEQ_END:
                return items, pos
            if tag != _ITEM:
                raise SRReadError(f"malformed content: expected an item tag, found {_tag_text(tag)}")
            if length == _UNDEFINED:
                dataset, pos = self.dataset(pos, None, implicit, depth)
            else:
                if pos + length > limit:
                    raise SRReadError("malformed content: an item runs past the end of its sequence")
                if self.shared and length <= _SHARED_ITEM_BYTES:
                    dataset = self._shared_item(pos, length, implicit, depth)
                else:
                    dataset, _ = self.dataset(pos, pos + length, implicit, depth)
                pos += length
            items.append(dataset)
        if end is None:
            raise SRReadError("malformed content: a sequence has no delimiter")
        return items, pos

    def dataset(self, pos: int, end: int | None, implicit: bool,
                depth: int = 0) -> tuple[dict, int]:
        buf = self.buf
        out: dict[int, Any] = {}
        limit = len(buf) if end is None else end
        unpack = _IMPLICIT_HDR.unpack_from if implicit else _EXPLICIT_HDR.unpack_from
        u32 = _U32.unpack_from
        while pos + 8 <= limit:
            if implicit:
                group, elem, length = unpack(buf, pos)
                tag = group << 16 | elem
                if tag == _ITEM_END:
                    return out, pos + 8
                vr = _IMPLICIT_VR.get(tag, b"??")
                pos += 8
            else:
                group, elem, vr, length = unpack(buf, pos)
                tag = group << 16 | elem
                if tag == _ITEM_END:
                    return out, pos + 8
                if vr in _LONG_VRS:
                    length = u32(buf, pos + 8)[0]
                    pos += 12
                else:
                    pos += 8
            if length == _UNDEFINED:
                # SQ (or UN holding an implicit-VR sequence, PS3.5 §6.2.2)
                out[tag], pos = self.sequence(pos, None, implicit or vr == b"UN", depth + 1)
                continue
            if pos + length > limit:
                raise SRReadError(f"malformed content: element {_tag_text(tag)} runs past the end "
                                  "of its item")
            if tag in _CODE_SEQUENCES and vr in (b"SQ", b"UN", b"??"):
                raw = buf[pos:pos + length]
                codes = self.codes
                if raw in codes:
                    out[tag] = codes[raw]
                    if raw in self.dirty:
                        self.tainted += 1
                else:
                    out[tag] = codes[raw] = self._code(raw, pos, length, implicit or vr == b"UN",
                                                       depth)
            elif vr == b"SQ" or (tag in _SEQUENCES and vr in (b"UN", b"??")):
                out[tag], _ = self.sequence(pos, pos + length, implicit or vr == b"UN", depth + 1)
            else:
                out[tag] = buf[pos:pos + length]
            pos += length
        if end is None:
            raise SRReadError("malformed content: an item has no delimiter")
        return out, pos

    def _shared_item(self, pos: int, length: int, implicit: bool, depth: int) -> dict:
        """An item's parsed dataset, from the shared cache when another file held the same
        bytes at the same depth (its dict is only read, never changed, by the decoding)."""
        text = self.text
        key = (self.buf[pos:pos + length], implicit, depth, text.encoding)
        found = _SHARED_ITEMS.get(key)
        if found is not None:
            return found
        # shared only if decoding it counted nothing, nor reused a code that did count
        counts = (text.invalid, text.replaced, self.tainted)
        dataset, _ = self.dataset(pos, pos + length, implicit, depth)
        if counts == (text.invalid, text.replaced, self.tainted):
            if len(_SHARED_ITEMS) >= _SHARED_ITEMS_MAX:
                _SHARED_ITEMS.clear()
            _SHARED_ITEMS[key] = dataset
        return dataset

    def _code(self, raw: bytes, pos: int, length: int, implicit: bool, depth: int) -> Code | None:
        """A code sequence not met before in this file: from the shared cache, or decoded."""
        text = self.text
        key = (raw, implicit, text.encoding)
        if self.shared and key in _SHARED_CODES:
            return _SHARED_CODES[key]
        counts = (text.invalid, text.replaced)
        items, _ = self.sequence(pos, pos + length, implicit, depth + 1)
        code = _code(items[0], text) if items else None
        if counts != (text.invalid, text.replaced):
            self.dirty.add(raw)  # a later use of it in this file counts nothing
        elif self.shared:
            if len(_SHARED_CODES) >= _SHARED_MAX:
                _SHARED_CODES.clear()
            _SHARED_CODES[key] = code
        return code


def _bytes(value: Any) -> bytes | None:
    """An element's raw bytes; None when the element is absent or has the wrong form (a
    sequence where a string belongs: a damaged or fuzzed file)."""
    return value if value.__class__ is bytes else None


def _cs(raw: Any) -> str | None:
    return raw.decode("ascii", "replace").strip(" \0") if raw.__class__ is bytes else None


def _items(value: Any) -> list[dict]:
    """A sequence's items (the parser makes lists of dicts); [] when the element is not a
    sequence."""
    return value if value.__class__ is list else []


def _code(ds: dict, text: TextDecoder) -> Code | None:
    value = _bytes(ds.get(CODE_VALUE)) or _bytes(ds.get(LONG_CODE_VALUE)) \
        or _bytes(ds.get(URN_CODE_VALUE))
    if value is None:
        return None
    return Code(text(value), text(_bytes(ds.get(CODING_SCHEME)) or b""),
                text(_bytes(ds.get(CODE_MEANING)) or b""))


def _first_code(value: Any, text: TextDecoder) -> Code | None:
    """A decoded Code (cached path) or the first item of an undefined-length code sequence."""
    if value is None or isinstance(value, Code):
        return value
    items = _items(value)
    return _code(items[0], text) if items else None


_TEXT_TAGS = {"TEXT": TEXT_VALUE, "PNAME": PERSON_NAME, "UIDREF": UID, "DATE": DATE,
              "TIME": TIME, "DATETIME": DATETIME}
_TEXT_KINDS = {"TEXT": TEXT, "PNAME": HEADER}


def _number(mv: dict) -> float | None:
    raw = _bytes(mv.get(FLOAT_VALUE))
    if raw is not None and len(raw) == 8:
        number = _F64.unpack(raw)[0]
        return number if math.isfinite(number) else None
    try:
        number = float(_cs(mv.get(NUMERIC_VALUE)) or "nan")
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _graphic(ds: dict, three_d: bool) -> Graphic | None:
    data = _bytes(ds.get(GRAPHIC_DATA))
    kind = _cs(ds.get(GRAPHIC_TYPE))
    if data is None or not kind or len(data) % 4:
        return None
    values = struct.unpack(f"<{len(data) // 4}f", data)
    frame = _cs(ds.get(REF_FRAME_OF_REFERENCE)) if three_d else None
    return Graphic(kind, values, frame or None)


def _image(ds: dict) -> ImageValue | None:
    refs = _items(ds.get(REF_SOP_SEQ))
    if not refs:
        return None
    ref = refs[0]
    segment = _bytes(ref.get(REF_SEGMENT_NUMBER))
    frames_text = _cs(ref.get(REF_FRAME_NUMBER))
    try:
        frames = tuple(int(f) for f in frames_text.split("\\")) if frames_text else None
    except ValueError:
        frames = None
    return ImageValue(_cs(ref.get(REF_SOP_CLASS)) or "", _cs(ref.get(REF_SOP_INSTANCE)) or "",
                      _U16.unpack(segment[:2])[0] if segment and len(segment) >= 2 else None,
                      frames)


def _item_from_dict(ds: dict, text: TextDecoder, depth: int = 0) -> Item:
    if depth > MAX_TREE_DEPTH:
        raise SRReadError(f"content nested deeper than {MAX_TREE_DEPTH} levels")
    vt = _cs(ds.get(VALUE_TYPE)) or ""
    item = Item(vt, _first_code(ds.get(CONCEPT_NAME_SEQ), text), _cs(ds.get(RELATIONSHIP)))
    if vt == "CODE":
        item.value = _first_code(ds.get(CONCEPT_CODE_SEQ), text)
    elif vt == "NUM":
        measured = _items(ds.get(MEASURED_VALUE_SEQ))
        if measured:
            unit = _first_code(measured[0].get(UNITS_SEQ), text)
            number = _number(measured[0])
            if number is not None and unit is not None:
                item.value = Num(number, unit)
    elif vt in _TEXT_TAGS:
        raw = _bytes(ds.get(_TEXT_TAGS[vt]))
        item.value = None if raw is None else text(raw, _TEXT_KINDS.get(vt, STRING))
    elif vt in ("IMAGE", "COMPOSITE", "WAVEFORM"):
        item.value = _image(ds)
    elif vt in ("SCOORD", "SCOORD3D"):
        item.value = _graphic(ds, vt == "SCOORD3D")
    elif vt == "CONTAINER":
        item.continuous = _cs(ds.get(CONTINUITY)) == "CONTINUOUS"
    templates = _items(ds.get(TEMPLATE_SEQ))
    if templates:
        item.template = _cs(templates[0].get(TEMPLATE_ID))
    children = _items(ds.get(CONTENT_SEQ))
    if children:
        item.children = [_item_from_dict(child, text, depth + 1) for child in children]
    return item


def decode_content_value(raw: bytes, implicit: bool, text: Decoder | TextDecoder) -> list[Item]:
    """Items of a ContentSequence given its raw value bytes (as pydicom keeps them lazily)."""
    texts = _decoder(text)
    parser = _Parser(raw, implicit, texts)
    try:
        datasets, _ = parser.sequence(0, len(raw), implicit)
        return [_item_from_dict(ds, texts) for ds in datasets]
    except (struct.error, ValueError, TypeError, IndexError, KeyError, AttributeError, OverflowError):
        raise SRReadError("malformed content sequence") from None


def _tag_text(tag: int) -> str:
    """A tag as a message shows it: (0040,A730) ContentSequence."""
    from pydicom.datadict import keyword_for_tag
    try:
        keyword = keyword_for_tag(tag)
    except Exception:
        keyword = ""
    return f"({tag >> 16:04X},{tag & 0xFFFF:04X})" + (f" {keyword}" if keyword else "")
