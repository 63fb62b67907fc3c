"""A DICOM Part 10 parser for the fast reader (fast.py): only what the Report needs.

It walks the whole file (so a cut file is never taken for a whole one), keeps the header
attributes the mapping reads (read_map.py) as plain strings and nested FastDatasets, and
the Content Sequence as raw bytes for the codec (or, of undefined length, as datasets:
fast_content.py). Each value is converted as pydicom 3
converts it (decoded, trailing NUL and space removed) and checked as pydicom checks it when
reading; a value pydicom would warn about, or anything this parser does not handle, raises
:class:`NotFast` and the caller falls back to pydicom. Why our own parser: pydicom's
``dcmread`` and conversion of the same header attributes take ~1.15 ms per seed SR, this
parse ~0.10 ms (11.7x; benchmarks/bench_read_fast.py, "header:" lines).
"""

from __future__ import annotations

import re
import struct
from typing import Any

from .codec import CONTENT_SEQ
from .fast_content import NUMBER_VRS, ContentDataset, KeywordDataset, NotFast, number
from .fast_content import TABLE as CONTENT_TABLE

__all__ = ["FastDataset", "NotFast", "parse"]


_TS_IMPLICIT = {"1.2.840.10008.1.2.1": False, "1.2.840.10008.1.2": True}
_VRS = frozenset(b"AE AS AT CS DA DS DT FD FL IS LO LT OB OD OF OL OV OW PN SH SL SQ SS ST "
                 b"SV TM UC UI UL UN UR US UT UV".split())
_LONG = frozenset(b"OB OD OF OL OV OW SQ UC UN UR UT SV UV".split())
_U16 = struct.Struct("<H")
_U32 = struct.Struct("<I")
_TAG = struct.Struct("<HH")
_ITEM, _ITEM_END, _SEQ_END, _UNDEFINED = 0xFFFEE000, 0xFFFEE00D, 0xFFFEE0DD, 0xFFFFFFFF
_CHARSET = 0x00080005
_MAX_DEPTH = 16  # header sequences nest 3 deep (evidence); deeper is left to pydicom
_MAX_CONTENT_DEPTH = 40  # two sequences per content level: ~20 levels (deeper: pydicom)

# Every attribute the mapping reads (read_map.py), with its dictionary VR. "?" attributes are
# only tested for presence (pydicom does not convert them, so nothing is checked).
_TABLE: dict[int, tuple[str, bytes]] = {
    0x00080005: ("SpecificCharacterSet", b"CS"),
    0x00080016: ("SOPClassUID", b"UI"),
    0x00080018: ("SOPInstanceUID", b"UI"),
    0x00080020: ("StudyDate", b"DA"),
    0x00080023: ("ContentDate", b"DA"),
    0x00080030: ("StudyTime", b"TM"),
    0x00080033: ("ContentTime", b"TM"),
    0x00080070: ("Manufacturer", b"LO"),
    0x00080201: ("TimezoneOffsetFromUTC", b"SH"),
    0x00080050: ("AccessionNumber", b"SH"),
    0x00080060: ("Modality", b"?"),
    0x00080100: ("CodeValue", b"SH"),
    0x00080102: ("CodingSchemeDesignator", b"SH"),
    0x00080104: ("CodeMeaning", b"LO"),
    0x00081030: ("StudyDescription", b"LO"),
    0x00081090: ("ManufacturerModelName", b"LO"),
    0x00081115: ("ReferencedSeriesSequence", b"SQ"),
    0x00081150: ("ReferencedSOPClassUID", b"UI"),
    0x00081155: ("ReferencedSOPInstanceUID", b"UI"),
    0x00081199: ("ReferencedSOPSequence", b"SQ"),
    0x00100010: ("PatientName", b"PN"),
    0x00100020: ("PatientID", b"LO"),
    0x00100021: ("IssuerOfPatientID", b"LO"),
    0x00100030: ("PatientBirthDate", b"DA"),
    0x00100040: ("PatientSex", b"CS"),
    0x00101010: ("PatientAge", b"AS"),
    0x0020000D: ("StudyInstanceUID", b"UI"),
    0x0020000E: ("SeriesInstanceUID", b"UI"),
    0x00200010: ("StudyID", b"SH"),
    0x00321066: ("ReasonForVisit", b"UT"),
    0x0040A040: ("ValueType", b"?"),
    0x0040A043: ("ConceptNameCodeSequence", b"SQ"),
    0x0040A372: ("PerformedProcedureCodeSequence", b"SQ"),
    0x0040A375: ("CurrentRequestedProcedureEvidenceSequence", b"SQ"),
    0x0040A385: ("PertinentOtherEvidenceSequence", b"SQ"),
    0x0040A491: ("CompletionFlag", b"?"),
    0x0040A493: ("VerificationFlag", b"?"),
    0x0040A504: ("ContentTemplateSequence", b"SQ"),
    0x0040A730: ("ContentSequence", b"SQ"),
    0x0040DB00: ("TemplateIdentifier", b"CS"),
}
KEYWORDS = frozenset(keyword for keyword, _ in _TABLE.values())
# VR of the presence-only attributes, for the explicit VR check
_PRESENCE_VR = {0x00080060: b"CS", 0x0040A040: b"CS", 0x0040A491: b"CS", 0x0040A493: b"CS"}

# pydicom's reading checks (valuerep.VR_REGEXES, MAX_VALUE_LEN), or stricter: no ranges of
# dates and times, no trailing space inside a time.
_CHECKS: dict[bytes, tuple[re.Pattern[bytes], int]] = {
    b"UI": (re.compile(rb"(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*"), 64),
    b"CS": (re.compile(rb"[A-Z0-9 _]*"), 16),
    b"DA": (re.compile(rb"(\d{4}(0[1-9]|1[0-2])([0-2]\d|3[01]))?"), 0),
    b"TM": (re.compile(rb"(([01]\d|2[0-3])([0-5]\d((60|[0-5]\d)(\.\d{1,6})?)?)?)?"), 0),
    b"AS": (re.compile(rb"(\d\d\d[DWMY])?"), 0),
}
_TEXT_MAX = {b"SH": 16, b"LO": 64, b"UT": 0, b"PN": 0, b"UC": 0}
_PLAIN = frozenset(_CHECKS) | frozenset(_TEXT_MAX) | NUMBER_VRS


class FastDataset(KeywordDataset):
    """Header attributes by keyword: the keywords the mapping reads (read_map.py)."""

    __slots__ = ()
    parsed = KEYWORDS


def parse(data: bytes) -> tuple[FastDataset, bytes | list | None, bool, str]:
    """The header attributes, the Content Sequence (its value bytes, or the ContentDatasets
    of a sequence of undefined length; None when absent), whether its bytes are implicit VR,
    and the Python encoding of its text (pydicom's name), of a
    whole Part 10 file; NotFast otherwise."""
    return _Parser(data).file()


class _Parser:
    __slots__ = ("cls", "content", "content_implicit", "data", "encoding", "end", "implicit",
                 "table")

    def __init__(self, data: bytes):
        self.data = data
        self.end = len(data)
        self.implicit = False
        self.encoding = "iso8859"  # pydicom's default repertoire
        self.content: bytes | list | None = None
        self.table = _TABLE  # CONTENT_TABLE inside a Content Sequence of undefined length
        self.cls: type[dict] = FastDataset
        self.content_implicit = False

    def file(self) -> tuple[FastDataset, bytes | list | None, bool, str]:
        data = self.data
        if self.end < 144 or data[128:132] != b"DICM":
            raise NotFast("no DICM preamble")
        if data[132:138] != b"\x02\x00\x00\x00UL" or data[138:140] != b"\x04\x00":
            raise NotFast("file meta: no group length")
        meta_end = 144 + _U32.unpack_from(data, 140)[0]
        if meta_end > self.end:
            raise NotFast("file meta: truncated")
        pos, syntax = 144, None
        while pos < meta_end:
            group, elem = _TAG.unpack_from(data, pos)
            vr = data[pos + 4:pos + 6]
            if group != 2 or vr not in _VRS:
                raise NotFast("file meta: element")
            if vr in _LONG:
                length, pos = _U32.unpack_from(data, pos + 8)[0], pos + 12
            else:
                length, pos = _U16.unpack_from(data, pos + 6)[0], pos + 8
            if length == _UNDEFINED or pos + length > meta_end:
                raise NotFast("file meta: length")
            if vr == b"UI":
                value = self.string(data[pos:pos + length], b"UI")
                if elem == 0x0010:
                    syntax = value
            pos += length
        if data[meta_end:meta_end + 2] == b"\x02\x00":
            raise NotFast("file meta: longer than its group length")
        if syntax not in _TS_IMPLICIT:
            raise NotFast(f"transfer syntax {syntax}")
        self.implicit = implicit = _TS_IMPLICIT[syntax]
        if self.end - meta_end >= 6:  # pydicom's check of the first element's VR
            a, b = data[meta_end + 4], data[meta_end + 5]
            if (0x40 < a < 0x5B and 0x40 < b < 0x5B) == implicit:
                raise NotFast("VR encoding differs from the transfer syntax")
        ds, _ = self.dataset(meta_end, self.end, 0, True)
        assert isinstance(ds, FastDataset)  # the top level is read with the header table
        return ds, self.content, implicit or self.content_implicit, self.encoding

    def dataset(self, pos: int, end: int | None, depth: int, keep: bool) -> tuple[dict, int]:
        """Elements from pos to end (None: to an item delimiter). With ``keep``, the table's
        attributes are converted; without, the structure is only walked."""
        table = self.table
        if depth > (_MAX_DEPTH if table is _TABLE else _MAX_CONTENT_DEPTH):
            raise NotFast("deep sequence")
        data, implicit = self.data, self.implicit
        limit = self.end if end is None else end
        out = self.cls()
        last = -1
        while pos < limit:
            if limit - pos < 8:
                raise NotFast("truncated element header")
            group, elem = _TAG.unpack_from(data, pos)
            tag = group << 16 | elem
            if group == 0xFFFE:
                if tag == _ITEM_END and end is None and depth and data[pos + 4:pos + 8] == b"\0\0\0\0":
                    return out, pos + 8
                raise NotFast("misplaced delimiter")
            if tag <= last:
                raise NotFast("elements out of order")
            last = tag
            entry = table.get(tag)
            if implicit:
                vr = entry[1] if entry else b""
                length, pos = _U32.unpack_from(data, pos + 4)[0], pos + 8
            else:
                vr = data[pos + 4:pos + 6]
                if vr not in _VRS:
                    raise NotFast("unknown VR")
                if vr in _LONG:
                    if limit - pos < 12:
                        raise NotFast("truncated element header")
                    length, pos = _U32.unpack_from(data, pos + 8)[0], pos + 12
                else:
                    length, pos = _U16.unpack_from(data, pos + 6)[0], pos + 8
                if vr == b"UN" and (entry or length == _UNDEFINED):
                    if tag == CONTENT_SEQ and depth == 0 and keep and length != _UNDEFINED \
                            and table is _TABLE:
                        # a tool that did not know the tag: implicit VR inside (PS3.5
                        # §6.2.2), which the codec reads as read_sr has it read
                        if pos + length > limit:
                            raise NotFast("truncated value")
                        self.content_implicit = True
                        self.keep(out, tag, entry, pos, pos + length, depth)  # type: ignore[arg-type]
                        pos += length
                        continue
                    raise NotFast("UN element")
                if entry and keep and vr != entry[1] and vr != _PRESENCE_VR.get(tag):
                    raise NotFast("VR differs from the dictionary")
            if length == _UNDEFINED:
                if not implicit and vr != b"SQ":
                    raise NotFast("undefined length outside a sequence")
                if tag == CONTENT_SEQ and depth == 0 and keep:
                    # pydicom parses it while reading, and read_sr maps its datasets with
                    # items_from_pydicom: parsed here into datasets like those
                    self.table, self.cls = CONTENT_TABLE, ContentDataset
                    try:
                        self.content, pos = self.sequence(pos, None, depth + 1, True)
                    finally:
                        self.table, self.cls = _TABLE, FastDataset
                    out["ContentSequence"] = ""
                    continue
                if keep and entry is not None and entry[1] not in (b"SQ", b"?"):
                    # implicit VR: pydicom reads it as a sequence, which the mapping would
                    # then see where it expects a string
                    raise NotFast("a string attribute of undefined length")
                wanted = keep and entry is not None and entry[1] == b"SQ"
                items, pos = self.sequence(pos, None, depth + 1, wanted)
                if wanted:
                    out[entry[0]] = items  # type: ignore[index]
                elif keep and entry is not None and depth == 0:
                    out[entry[0]] = ""  # present (only its presence is read)
                continue
            stop = pos + length
            if stop > limit:
                raise NotFast("truncated value")
            if entry is not None and keep:
                if entry[1] in _PLAIN and tag != _CHARSET:  # most of them: a plain string
                    out[entry[0]] = self.string(data[pos:stop], entry[1])
                else:
                    self.keep(out, tag, entry, pos, stop, depth)
            pos = stop
        if end is None:
            raise NotFast("no item delimiter")
        return out, pos

    def keep(self, out: dict, tag: int, entry: tuple[str, bytes], pos: int, stop: int,
             depth: int) -> None:
        keyword, vr = entry
        if vr == b"?":
            if depth == 0:
                out[keyword] = ""
        elif vr == b"SQ":
            if tag == CONTENT_SEQ and self.table is _TABLE:
                if depth == 0:
                    self.content = self.data[pos:stop]
                    out[keyword] = ""
            else:
                out[keyword], _ = self.sequence(pos, stop, depth + 1, True)
        else:
            if tag == _CHARSET:
                if depth:
                    raise NotFast("character set in an item")
                value = self.string(self.data[pos:stop], vr)
                self.encoding = _charset(value)
                out[keyword] = value
                return
            out[keyword] = self.string(self.data[pos:stop], vr)

    def sequence(self, pos: int, end: int | None, depth: int, keep: bool) -> tuple[list, int]:
        data = self.data
        limit = self.end if end is None else end
        items: list[dict] = []
        while pos < limit:
            if limit - pos < 8:
                raise NotFast("truncated item header")
            group, elem = _TAG.unpack_from(data, pos)
            tag = group << 16 | elem
            length = _U32.unpack_from(data, pos + 4)[0]
            pos += 8
            if tag == _SEQ_END and end is None and length == 0:
                return items, pos
            if tag != _ITEM:
                raise NotFast("not an item")
            if length == _UNDEFINED:
                item, pos = self.dataset(pos, None, depth, keep)
            else:
                if pos + length > limit:
                    raise NotFast("truncated item")
                item, pos = self.dataset(pos, pos + length, depth, keep)
            items.append(item)
        if end is None:
            raise NotFast("no sequence delimiter")
        return items, pos

    def string(self, raw: bytes, vr: bytes) -> Any:
        """A value as pydicom converts it, when pydicom would not warn about it."""
        if vr in NUMBER_VRS:
            return number(raw, vr)
        check = _CHECKS.get(vr)
        if check is not None:  # decoded as ASCII by pydicom whatever the character set
            raw = raw.rstrip(b" \0")
            regex, most = check  # ASCII only: no backslash, no escape, no other byte
            if regex.fullmatch(raw) is None or (most and len(raw) > most):
                raise NotFast(f"{vr.decode()} value pydicom warns about")
            return raw.decode("ascii")
        if b"\\" in raw or b"\x1b" in raw:
            raise NotFast("multi-valued or escaped value")  # MultiValue, ISO 2022: pydicom's
        limit = _TEXT_MAX.get(vr)
        if limit is None:
            raise NotFast(f"VR {vr.decode()}")
        if vr == b"PN":
            raw = raw.rstrip(b"\0 ")
        try:
            text = raw.decode(self.encoding)
        except UnicodeDecodeError:
            raise NotFast("text not valid in its character set") from None
        if limit and len(text) > limit:
            raise NotFast(f"{vr.decode()} value longer than pydicom allows")
        if vr == b"PN" and "=" in text:
            raise NotFast("person name with component groups")
        return text.rstrip("\0 ")


# pydicom's convert_encodings for the character sets the fast path takes
_PYTHON_ENCODING = {"": "iso8859", "ISO_IR 6": "iso8859", "ISO_IR 100": "latin_1",
                    "ISO_IR 192": "UTF8"}


def _charset(value: str) -> str:
    encoding = _PYTHON_ENCODING.get(value)
    if encoding is None:
        raise NotFast(f"character set {value[:20]}")
    return encoding
