"""Content items of a pydicom ContentSequence (the reader's slow path: sequences pydicom
has already parsed, big endian or deflated files, datasets from a PACS or from highdicom),
decoded and cleaned as codec.py decodes raw bytes."""

from __future__ import annotations

import math
import struct
from typing import Any

from ..errors import SRReadError
from ..values import MAX_TREE_DEPTH, STRING
from .codec import _TEXT_KINDS
from .codec_text import TextDecoder, _pd_code, _pd_str
from .content import Graphic, ImageValue, Item, Num

_PD_TEXT = {"TEXT": "TextValue", "PNAME": "PersonName", "UIDREF": "UID", "DATE": "Date",
            "TIME": "Time", "DATETIME": "DateTime"}


def _pd_value(ds: Any, vt: str, texts: TextDecoder) -> Any:
    if vt == "CODE":
        return _pd_code(ds.get("ConceptCodeSequence"), texts)
    if vt == "NUM" and ds.get("MeasuredValueSequence"):
        mv = ds.MeasuredValueSequence[0]
        unit = _pd_code(mv.get("MeasurementUnitsCodeSequence"), texts)
        number = mv.get("FloatingPointValue", mv.get("NumericValue"))
        if number is None or unit is None or not math.isfinite(float(number)):
            return None
        return Num(float(number), unit)
    if vt in _PD_TEXT:
        value = ds.get(_PD_TEXT[vt])
        return None if value is None else _pd_str(value, texts, _TEXT_KINDS.get(vt, STRING))
    if vt in ("IMAGE", "COMPOSITE", "WAVEFORM") and ds.get("ReferencedSOPSequence"):
        ref = ds.ReferencedSOPSequence[0]
        segment = ref.get("ReferencedSegmentNumber")
        frames = ref.get("ReferencedFrameNumber")
        if frames is not None:
            frames = tuple(int(f) for f in (frames if isinstance(frames, (list, tuple))
                                            or (hasattr(frames, "__iter__") and not isinstance(frames, str))
                                            else [frames]))
        return ImageValue(str(ref.get("ReferencedSOPClassUID", "")),
                          str(ref.get("ReferencedSOPInstanceUID", "")),
                          int(segment) if segment is not None else None, frames or None)
    if vt in ("SCOORD", "SCOORD3D") and ds.get("GraphicType"):
        data = ds.get("GraphicData")
        if data is None:
            return None
        values = tuple(struct.unpack(f"<{len(data)}f", struct.pack(f"<{len(data)}f", *map(float, data))))
        frame = str(ds.get("ReferencedFrameOfReferenceUID", "")) if vt == "SCOORD3D" else ""
        return Graphic(str(ds.GraphicType), values, frame or None)
    return None


def items_from_pydicom(sequence: Any, depth: int = 0, texts: TextDecoder | None = None) -> list[Item]:
    """Items of a pydicom ContentSequence (the slow path, used only when bytes are not raw)."""
    if depth > MAX_TREE_DEPTH:
        raise SRReadError(f"content nested deeper than {MAX_TREE_DEPTH} levels")
    texts = texts if texts is not None else TextDecoder()
    out = []
    for ds in sequence:
        if not hasattr(ds, "get"):
            raise SRReadError("malformed content sequence (an item is not a dataset)")
        vt = _pd_str(ds.get("ValueType", ""), texts)
        relationship = ds.get("RelationshipType")
        item = Item(vt, _pd_code(ds.get("ConceptNameCodeSequence"), texts),
                    _pd_str(relationship, texts) if relationship else None)
        try:
            item.value = _pd_value(ds, vt, texts)
        except (TypeError, ValueError, AttributeError, IndexError, KeyError, OverflowError, struct.error):
            item.value = None  # a damaged value: the item is kept without it
        if vt == "CONTAINER":
            item.continuous = ds.get("ContinuityOfContent") == "CONTINUOUS"
        templates = ds.get("ContentTemplateSequence")
        if templates:
            try:
                item.template = str(templates[0].get("TemplateIdentifier", "")) or None
            except (TypeError, IndexError, AttributeError, KeyError):
                item.template = None
        children = ds.get("ContentSequence")
        if children:
            if isinstance(children, (str, bytes)) or not hasattr(children, "__iter__"):
                raise SRReadError("malformed content sequence (Content Sequence is not a sequence)")
            item.children = items_from_pydicom(children, depth + 1, texts)
        out.append(item)
    return out
