"""Values of SR content that the model holds as they are: numbers with units, image
references, graphic regions, and content items the model has no field for.

These are plain frozen dataclasses (no pydicom), shared by the model (``model.py``) and the SR
codec (``sr/``). :class:`ContentNode` is how unknown content is *kept*: a reader that meets an
item it cannot map stores it here, with a warning, and the writer writes it back unchanged.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import struct
from dataclasses import dataclass
from typing import Any

from .errors import InputError, show
from .vocab import Code, code_from_json, code_to_json

# Value types a ContentNode may hold (PS3.3 C.17.3.2.1), and the relationships between items.
VALUE_TYPES = ("CONTAINER", "CODE", "NUM", "TEXT", "UIDREF", "PNAME", "DATE", "TIME",
               "DATETIME", "IMAGE", "COMPOSITE", "WAVEFORM", "SCOORD", "SCOORD3D", "TCOORD")
# Value types an SR reader keeps as a finding's regions (image references and coordinates).
REGION_TYPES = ("IMAGE", "COMPOSITE", "WAVEFORM", "SCOORD", "SCOORD3D", "TCOORD")
RELATIONSHIPS = ("CONTAINS", "HAS PROPERTIES", "HAS OBS CONTEXT", "HAS ACQ CONTEXT",
                 "INFERRED FROM", "SELECTED FROM", "HAS CONCEPT MOD")
# Deeper trees are refused: real SRs nest a handful of levels; a cycle or a fuzzed file nests
# thousands, and Python's recursion limit must never be what stops us. MAX_DEPTH bounds the
# content kept below a finding or a report (ContentNode children); MAX_TREE_DEPTH the whole SR
# content tree, written or read (the template's own levels above the kept content included).
MAX_DEPTH = 64
MAX_TREE_DEPTH = MAX_DEPTH + 8

# -- text DICOM can hold (PS3.5 §6.1.2, §6.2) -------------------------------------------
# Text VRs (ST, LT, UT) hold graphic characters and the control characters TAB, LF, FF and CR;
# the other string VRs (LO, SH, PN, CS, UC) none; ESC only introduces ISO 2022 code extensions,
# which dicomtools never writes (it writes UTF-8, ISO_IR 192). A lone surrogate cannot be
# encoded at all. In the header, a backslash separates values (pydicom reads "a\\b" back as
# two), so single-valued header strings cannot hold one either.
TEXT = "text"  # ST, LT, UT: TEXT items, Reason for Visit, tracking identifiers
STRING = "string"  # LO, SH, UC, PN written by our codec (content items)
HEADER = "header"  # LO, SH, PN, CS written by pydicom (header attributes), and person names
_REFUSED = {
    TEXT: re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\ud800-\udfff]"),
    STRING: re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]"),
    HEADER: re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff\\]"),
}
_ALLOWED = {TEXT: "TAB, LF, FF and CR are the only control characters DICOM text holds",
            STRING: "DICOM strings hold no control character",
            HEADER: "DICOM strings hold no control character, and a backslash separates values"}
#: Surrounding white space is padding in DICOM (trailing spaces are not significant, and
#: readers strip them): the model keeps text without it.
PADDING = " \t\n\r\x0c"


def refused_character(value: str, kind: str = STRING) -> re.Match | None:
    """The first character of ``value`` that a DICOM value of ``kind`` cannot hold."""
    return _REFUSED[kind].search(value)


def clean_text(value: str, kind: str = STRING) -> tuple[str, int]:
    """``value`` with each character DICOM ``kind`` cannot hold replaced by U+FFFD, and how
    many were (for the reader of damaged or foreign files)."""
    return _REFUSED[kind].subn("\ufffd", value)


def _describe(char: str) -> str:
    code = ord(char)
    if 0xD800 <= code <= 0xDFFF:
        return f"a lone surrogate U+{code:04X}"
    if char == "\\":
        return "a backslash"
    return f"control character U+{code:04X}"


def dicom_text(value: Any, where: str, name: str, kind: str = STRING, *, required: bool = False,
               hide: bool = False, limit: int | None = None) -> str | None:
    """A text field as DICOM holds it: refused (InputError naming the field, the character
    and its position) if it holds a character DICOM cannot; surrounding padding removed;
    empty text is None, or refused when ``required``. ``hide``: do not quote the value
    (patient data)."""
    if value is None:
        return None
    shown = "a value (not shown)" if hide else f"value {show(value)}"
    if not isinstance(value, str):
        shown = f"a value of type {type(value).__name__}" if hide else shown
        raise InputError(f"{where}: field '{name}' has {shown}; expected text or null")
    bad = _REFUSED[kind].search(value)
    if bad is not None:
        raise InputError(f"{where}: field '{name}' has {shown}: {_describe(bad.group())} at "
                         f"position {bad.start()} cannot be stored ({_ALLOWED[kind]})")
    text = value.strip(PADDING)
    if not text:
        if required:
            raise InputError(f"{where}: field '{name}' has {shown}; expected a non-empty text or null")
        return None
    if limit is not None and len(text) > limit:
        raise InputError(f"{where}: field '{name}' has {shown}; expected at most {limit} characters "
                         f"(it has {len(text)})")
    return text


_UID = re.compile(r"(?:0|[1-9][0-9]*)(?:\.(?:0|[1-9][0-9]*))*")
_FORMATS = {
    "UIDREF": (re.compile(r"(?:0|[1-9][0-9]*)(?:\.(?:0|[1-9][0-9]*))*"), "a DICOM UID"),
    "DATE": (re.compile(r"[0-9]{8}"), "a DICOM date YYYYMMDD"),
    "TIME": (re.compile(r"[0-9]{2}(?:[0-9]{2}(?:[0-9]{2}(?:\.[0-9]{1,6})?)?)?"), "a DICOM time HHMMSS.FFFFFF"),
    "DATETIME": (re.compile(r"[0-9]{4}(?:[0-9]{2}(?:[0-9]{2}(?:[0-9]{2}(?:[0-9]{2}(?:[0-9]{2}"
                            r"(?:\.[0-9]{1,6})?)?)?)?)?)?(?:[+-][0-9]{4})?"),
                 "a DICOM date-time YYYYMMDDHHMMSS.FFFFFF&ZZXX"),
}
GRAPHIC_TYPES = {"SCOORD": ("POINT", "MULTIPOINT", "POLYLINE", "CIRCLE", "ELLIPSE"),
                 "SCOORD3D": ("POINT", "MULTIPOINT", "POLYLINE", "POLYGON", "ELLIPSE", "ELLIPSOID")}
_FLOAT32_MAX = 3.4028234663852886e38


_DA = re.compile(r"\s*(\d{4})(\d{2})(\d{2})(?:[\d.+\-]*)\s*")  # DA, or the date of a DT

def parse_date(text) -> dt.date | None:
    """A DICOM DA (YYYYMMDD, or the date part of a DT) -> date; anything else -> None.
    Never raises, whatever the type of ``text``."""
    if not isinstance(text, str):
        return None
    match = _DA.fullmatch(text)
    if not match:
        return None
    try:
        return dt.date(*map(int, match.groups()))
    except ValueError:
        return None


def is_uid(text: Any) -> bool:
    """A DICOM UID (PS3.5 §9.1): digits and dots, no empty or leading-zero component."""
    return isinstance(text, str) and len(text) <= 64 and _UID.fullmatch(text) is not None


def formatted(value: Any, value_type: str, where: str, name: str) -> str | None:
    """A UID, date, time or date-time in its DICOM form (or None); anything else refused."""
    if value is None:
        return None
    pattern, expected = _FORMATS[value_type]
    if not isinstance(value, str) or not pattern.fullmatch(value) \
            or (value_type == "UIDREF" and len(value) > 64):
        raise InputError(f"{where}: field '{name}' has value {show(value)}; expected {expected}")
    return value


@dataclass(frozen=True, slots=True)
class Num:
    """A NUM value: the number and its UCUM unit."""

    value: float
    unit: Code


@dataclass(frozen=True, slots=True)
class ImageValue:
    """An IMAGE or COMPOSITE value: one SOP instance; a segment of it (SEG) or some frames."""

    sop_class_uid: str
    sop_instance_uid: str
    segment_number: int | None = None
    frames: tuple[int, ...] | None = None


@dataclass(frozen=True, slots=True)
class Graphic:
    """A SCOORD (image pixels) or SCOORD3D (patient mm, ``frame_of_reference_uid``) value.
    ``data`` is the flat list of coordinates as DICOM stores them (float32)."""

    graphic_type: str
    data: tuple[float, ...]
    frame_of_reference_uid: str | None = None


NodeValue = Code | Num | ImageValue | Graphic | str | None


@dataclass(frozen=True, slots=True)
class ContentNode:
    """One SR content item kept as it is: value type, relationship to its parent, concept
    name, value, and its children."""

    value_type: str
    relationship: str | None
    concept: Code | None
    value: NodeValue = None
    children: tuple[ContentNode, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"value_type": self.value_type, "relationship": self.relationship,
                "concept": code_to_json(self.concept) if self.concept else None,
                "value": _value_to_json(self.value),
                "children": [child.to_json() for child in self.children]}

    @classmethod
    def from_json(cls, data: Any, where: str = "content", depth: int = 0) -> ContentNode:
        if depth > MAX_DEPTH:
            raise InputError(f"{where}: content nested deeper than {MAX_DEPTH} levels")
        if not isinstance(data, dict):
            raise InputError(f"{where}: expected a content item object, got {type(data).__name__}")
        unknown = sorted(set(data) - set(_NODE_KEYS), key=str)
        if unknown:
            raise InputError(f"{where}: unknown key(s) {', '.join(show(k) for k in unknown[:5])}; "
                             f"known keys: {', '.join(_NODE_KEYS)}")
        value_type = data.get("value_type")
        if not isinstance(value_type, str) or value_type not in VALUE_TYPES:
            raise InputError(f"{where}: field 'value_type' has value {show(value_type)}; expected one of "
                             + ", ".join(VALUE_TYPES))
        relationship = data.get("relationship")
        if relationship is not None and (not isinstance(relationship, str)
                                         or relationship not in RELATIONSHIPS):
            raise InputError(f"{where}: field 'relationship' has value {show(relationship)}; expected "
                             "one of " + ", ".join(RELATIONSHIPS) + " or null")
        concept = data.get("concept")
        children = data.get("children")
        if children is None:
            children = []
        if not isinstance(children, list):
            raise InputError(f"{where}: field 'children' has value {show(children)}; expected a list")
        return cls(value_type, relationship,
                   code_from_json(concept, f"{where}.concept") if concept is not None else None,
                   _value_from_json(value_type, data.get("value"), f"{where}.value"),
                   tuple(cls.from_json(c, f"{where}.children[{i}]", depth + 1)
                         for i, c in enumerate(children)))


_NODE_KEYS = ("value_type", "relationship", "concept", "value", "children")


def _value_to_json(value: NodeValue) -> Any:
    if isinstance(value, Code):
        return code_to_json(value)
    if isinstance(value, Num):
        return {"value": value.value, "unit": value.unit.value}
    if isinstance(value, ImageValue):
        return {"sop_class_uid": value.sop_class_uid, "sop_instance_uid": value.sop_instance_uid,
                "segment_number": value.segment_number,
                "frames": list(value.frames) if value.frames is not None else None}
    if isinstance(value, Graphic):
        return {"graphic_type": value.graphic_type, "data": list(value.data),
                "frame_of_reference_uid": value.frame_of_reference_uid}
    return value


def _value_from_json(value_type: str, value: Any, where: str) -> NodeValue:
    """A node's value from JSON, exactly as an SR can hold it (what is written reads back
    equal): anything else is refused, naming the value."""
    if value is None:
        if value_type in REGION_TYPES and value_type != "TCOORD":
            raise InputError(f"{where}: a {value_type} item needs a value (an SR cannot hold "
                             f"a {value_type} without one)")
        return None
    if value_type in ("CONTAINER", "TCOORD"):
        raise InputError(f"{where}: a {value_type} item has value {show(value)}; expected null "
                         f"(dicomtools keeps no value of a {value_type})")
    if value_type == "CODE":
        return code_from_json(value, where)
    if value_type == "TEXT":
        return dicom_text(value, where.rsplit(".", 1)[0], "value", TEXT)
    if value_type == "PNAME":
        return dicom_text(value, where.rsplit(".", 1)[0], "value", HEADER, limit=64)
    if value_type in _FORMATS:
        return formatted(value, value_type, where.rsplit(".", 1)[0], "value")
    if not isinstance(value, dict):
        raise InputError(f"{where}: {value_type} value {show(value)} must be an object")
    if value_type == "NUM":
        check_keys(value, ("value", "unit"), where)
        number = _finite(value.get("value"), where, "value")
        from .terms import unit_code
        if value.get("unit") is None:
            raise InputError(f"{where}: field 'unit' is required")
        return Num(number, unit_code(value["unit"], f"{where}: unit"))
    if value_type in ("IMAGE", "COMPOSITE", "WAVEFORM"):
        check_keys(value, ("sop_class_uid", "sop_instance_uid", "segment_number", "frames"), where)
        for key in ("sop_class_uid", "sop_instance_uid"):
            if not is_uid(value.get(key)):
                raise InputError(f"{where}: field '{key}' has value {show(value.get(key))}; "
                                 "expected a DICOM UID")
        segment = value.get("segment_number")
        if segment is not None and (isinstance(segment, bool) or not isinstance(segment, int)
                                    or not 1 <= segment <= 65535):
            raise InputError(f"{where}: field 'segment_number' has value {show(segment)}; "
                             "expected an integer 1-65535 or null")
        frames = value.get("frames")
        if frames is not None and (not isinstance(frames, list) or not all(
                isinstance(f, int) and not isinstance(f, bool) and 1 <= f <= 2**31 - 1 for f in frames)):
            raise InputError(f"{where}: field 'frames' has value {show(frames)}; expected a "
                             "list of frame numbers (integers from 1) or null")
        return ImageValue(value["sop_class_uid"], value["sop_instance_uid"], segment,
                          tuple(frames) if frames else None)
    if value_type in ("SCOORD", "SCOORD3D"):
        check_keys(value, ("graphic_type", "data", "frame_of_reference_uid"), where)
        kind = value.get("graphic_type")
        if kind not in GRAPHIC_TYPES[value_type]:
            raise InputError(f"{where}: field 'graphic_type' has value {show(kind)}; expected one of "
                             + ", ".join(GRAPHIC_TYPES[value_type]))
        data = value.get("data")
        if not isinstance(data, list) or not data or len(data) > 1_000_000:
            raise InputError(f"{where}: field 'data' has value {show(data)}; expected a list of "
                             "1 to 1,000,000 coordinates")
        numbers = [_finite(v, where, "data") for v in data]
        if any(abs(v) > _FLOAT32_MAX for v in numbers):
            raise InputError(f"{where}: field 'data' holds a coordinate beyond the float32 range "
                             "an SR stores")
        frame = value.get("frame_of_reference_uid")
        if value_type == "SCOORD" and frame is not None:
            raise InputError(f"{where}: field 'frame_of_reference_uid' has value {show(frame)}; "
                             "expected null for a SCOORD (only SCOORD3D has one)")
        if frame is not None and not is_uid(frame):
            raise InputError(f"{where}: field 'frame_of_reference_uid' has value {show(frame)}; "
                             "expected a DICOM UID or null")
        # SCOORD/SCOORD3D store float32 (FL): hold exactly what an SR can carry
        stored = struct.unpack(f"<{len(numbers)}f", struct.pack(f"<{len(numbers)}f", *numbers))
        return Graphic(kind, stored, frame)
    raise InputError(f"{where}: {value_type} value {show(value)} is not supported")


def check_keys(value: dict, known: tuple[str, ...], where: str) -> None:
    """Refuse keys outside ``known``, naming up to five of them (a typo must not drop data)."""
    unknown = sorted(set(value) - set(known), key=str)
    if unknown:
        raise InputError(f"{where}: unknown key(s) {', '.join(show(k) for k in unknown[:5])}; "
                         f"known keys: {', '.join(known)}")


def _finite(value: Any, where: str, name: str) -> float:
    """A JSON number as a finite float (a huge integer or NaN is refused, naming it)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InputError(f"{where}: field '{name}' has value {show(value)}; expected a finite number")
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        raise InputError(f"{where}: field '{name}' has value {show(value)}; expected a finite number")
    return number
