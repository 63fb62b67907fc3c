"""A Content Sequence of undefined length, for the fast reader (fast_parse.py).

pydicom parses such a sequence itself while reading (dcmqi and DCMTK write them), and read_sr
then maps pydicom's datasets with codec_pydicom.items_from_pydicom. The fast path does the
same over datasets of its own, holding what pydicom's conversion gives for each attribute
items_from_pydicom reads (str, float, int, lists), with pydicom's attribute access; a value
pydicom would warn about, or convert in a way not copied here, raises NotFast.
"""

from __future__ import annotations

import re
import struct
from typing import Any


class NotFast(Exception):
    """The fast path does not take this file (the message says why); read_sr reads it."""


# Every attribute items_from_pydicom reads, with its dictionary VR.
TABLE: dict[int, tuple[str, bytes]] = {
    0x00080100: ("CodeValue", b"SH"),
    0x00080102: ("CodingSchemeDesignator", b"SH"),
    0x00080104: ("CodeMeaning", b"LO"),
    0x00080119: ("LongCodeValue", b"UC"),
    0x00080120: ("URNCodeValue", b"UR"),
    0x00081150: ("ReferencedSOPClassUID", b"UI"),
    0x00081155: ("ReferencedSOPInstanceUID", b"UI"),
    0x00081160: ("ReferencedFrameNumber", b"IS"),
    0x00081199: ("ReferencedSOPSequence", b"SQ"),
    0x004008EA: ("MeasurementUnitsCodeSequence", b"SQ"),
    0x0040A010: ("RelationshipType", b"CS"),
    0x0040A040: ("ValueType", b"CS"),
    0x0040A043: ("ConceptNameCodeSequence", b"SQ"),
    0x0040A050: ("ContinuityOfContent", b"CS"),
    0x0040A120: ("DateTime", b"DT"),
    0x0040A121: ("Date", b"DA"),
    0x0040A122: ("Time", b"TM"),
    0x0040A123: ("PersonName", b"PN"),
    0x0040A124: ("UID", b"UI"),
    0x0040A160: ("TextValue", b"UT"),
    0x0040A161: ("FloatingPointValue", b"FD"),
    0x0040A168: ("ConceptCodeSequence", b"SQ"),
    0x0040A300: ("MeasuredValueSequence", b"SQ"),
    0x0040A30A: ("NumericValue", b"DS"),
    0x0040A504: ("ContentTemplateSequence", b"SQ"),
    0x0040A730: ("ContentSequence", b"SQ"),
    0x0040DB00: ("TemplateIdentifier", b"CS"),
    0x0062000B: ("ReferencedSegmentNumber", b"US"),
    0x00700022: ("GraphicData", b"FL"),
    0x00700023: ("GraphicType", b"CS"),
    0x30060024: ("ReferencedFrameOfReferenceUID", b"UI"),
}
KEYWORDS = frozenset(keyword for keyword, _ in TABLE.values())


class KeywordDataset(dict):
    """Attributes by keyword, with pydicom Dataset's ``get``, ``in`` and attribute access for
    the keywords ``parsed`` (a subclass's). Asking for any other keyword is a bug of the fast
    path (the mapping reads something the parser did not keep): NotFast, and pydicom reads
    the file."""

    __slots__ = ()
    parsed: frozenset[str] = frozenset()

    def get(self, key: Any, default: Any = None) -> Any:
        if key not in self.parsed:
            raise NotFast(f"keyword {key} is not parsed")
        return dict.get(self, key, default)

    def __contains__(self, key: object) -> bool:
        if key not in self.parsed:
            raise NotFast(f"keyword {key} is not parsed")
        return dict.__contains__(self, key)

    def __getattr__(self, key: str) -> Any:
        if key not in self.parsed:
            raise NotFast(f"keyword {key} is not parsed")
        try:
            return self[key]
        except KeyError:
            raise AttributeError(key) from None


class ContentDataset(KeywordDataset):
    """One content item (or a code, a measured value, a reference): the keywords
    items_from_pydicom reads."""

    __slots__ = ()
    parsed = KEYWORDS


# pydicom's checks of these VRs when it converts them (valuerep.VR_REGEXES, MAX_VALUE_LEN),
# or stricter: no ranges, no multiple values.
_DS = re.compile(rb" *[+\-]?(\d+|\d+\.\d*|\.\d+)([eE][+\-]?\d+)? *")
_IS = re.compile(rb" *[+\-]?\d+ *")
_DT = re.compile(rb"\d{4}((0[1-9]|1[0-2])(([0-2]\d|3[01])(([01]\d|2[0-3])"
                 rb"([0-5]\d((60|[0-5]\d)(\.\d{1,6})?)?)?)?)?)?([+-][01]\d\d\d)?")
_UR = re.compile(rb"[A-Za-z_\d:/?#\[\]@!$&'()*+,;=%\-.~]*")
_F64 = struct.Struct("<d")
_U16 = struct.Struct("<H")


def number(raw: bytes, vr: bytes) -> Any:
    """A numeric or DS/IS/DT/UR value as pydicom converts it (one value only)."""
    if vr == b"FD":
        if len(raw) != 8:
            raise NotFast("FD value")
        return _F64.unpack(raw)[0]
    if vr == b"US":
        if len(raw) != 2:
            raise NotFast("US value")
        return _U16.unpack(raw)[0]
    if vr == b"FL":
        if not raw or len(raw) % 4:
            raise NotFast("FL value")
        values = struct.unpack(f"<{len(raw) // 4}f", raw)
        return values[0] if len(values) == 1 else list(values)
    text = raw.rstrip(b" \0")
    if vr == b"DS":
        if not text or len(raw) > 16 or _DS.fullmatch(text) is None:
            raise NotFast("DS value")
        return float(text)
    if vr == b"IS":
        if not text or len(raw) > 12 or _IS.fullmatch(text) is None:
            raise NotFast("IS value")
        return int(text)
    if vr == b"DT":
        if text and _DT.fullmatch(text) is None:
            raise NotFast("DT value")
        return text.decode("ascii")
    if vr == b"UR":
        if _UR.fullmatch(text) is None:
            raise NotFast("UR value")
        return text.decode("ascii")
    raise NotFast(f"VR {vr.decode(errors='replace')}")


NUMBER_VRS = frozenset((b"FD", b"US", b"FL", b"DS", b"IS", b"DT", b"UR"))
