"""Values of SR content that the model holds as they are: numbers with units, image
references, graphic regions, and content items the model has no field for.

These are plain frozen dataclasses (no pydicom), shared by the model (``model.py``) and the SR
codec (``sr/``). :class:`ContentNode` is how unknown content is *kept*: a reader that meets an
item it cannot map stores it here, with a warning, and the writer writes it back unchanged.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from .errors import InputError
from .vocab import Code, code_from_json, code_to_json

# Value types a ContentNode may hold (PS3.3 C.17.3.2.1), and the relationships between items.
VALUE_TYPES = ("CONTAINER", "CODE", "NUM", "TEXT", "UIDREF", "PNAME", "DATE", "TIME",
               "DATETIME", "IMAGE", "COMPOSITE", "WAVEFORM", "SCOORD", "SCOORD3D", "TCOORD")
RELATIONSHIPS = ("CONTAINS", "HAS PROPERTIES", "HAS OBS CONTEXT", "HAS ACQ CONTEXT",
                 "INFERRED FROM", "SELECTED FROM", "HAS CONCEPT MOD")
# Deeper trees are refused: real SRs nest a handful of levels; a cycle or a fuzzed file nests
# thousands, and Python's recursion limit must never be what stops us.
MAX_DEPTH = 64


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
        value_type = data.get("value_type")
        if value_type not in VALUE_TYPES:
            raise InputError(f"{where}: field 'value_type' has value {value_type!r}; expected one of "
                             + ", ".join(VALUE_TYPES))
        relationship = data.get("relationship")
        if relationship is not None and relationship not in RELATIONSHIPS:
            raise InputError(f"{where}: field 'relationship' has value {relationship!r}; expected "
                             "one of " + ", ".join(RELATIONSHIPS))
        concept = data.get("concept")
        children = data.get("children") or []
        if not isinstance(children, list):
            raise InputError(f"{where}: field 'children' must be a list")
        return cls(value_type, relationship,
                   code_from_json(concept, f"{where}.concept") if concept is not None else None,
                   _value_from_json(value_type, data.get("value"), f"{where}.value"),
                   tuple(cls.from_json(c, f"{where}.children[{i}]", depth + 1)
                         for i, c in enumerate(children)))


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
    if value is None:
        return None
    try:
        if value_type == "CODE":
            return code_from_json(value, where)
        if value_type == "NUM":
            number = value["value"]
            if isinstance(number, bool) or not isinstance(number, (int, float)) \
                    or not math.isfinite(number):
                raise InputError(f"{where}: NUM value {number!r} is not a finite number")
            from .terms import unit_code
            return Num(float(number), unit_code(value["unit"], where))
        if value_type in ("IMAGE", "COMPOSITE", "WAVEFORM"):
            frames = value.get("frames")
            return ImageValue(str(value["sop_class_uid"]), str(value["sop_instance_uid"]),
                              value.get("segment_number"),
                              tuple(int(f) for f in frames) if frames is not None else None)
        if value_type in ("SCOORD", "SCOORD3D"):
            return Graphic(str(value["graphic_type"]), tuple(float(v) for v in value["data"]),
                           value.get("frame_of_reference_uid"))
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise InputError(f"{where}: {value_type} value {value!r} is malformed ({exc})") from None
    if not isinstance(value, str):
        raise InputError(f"{where}: {value_type} value {value!r} must be text")
    return value
