"""A tiny in-memory form of an SR content tree, between the model and the DICOM bytes.

The writer maps a Report to Items (write.py) and the codec turns Items into ContentSequence
bytes (codec.py); the reader goes the other way. Keeping the tree plain (no pydicom Dataset
per node) is what makes reading and writing fast: see benchmarks/bench_sr.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..values import Graphic, ImageValue, Num
from ..vocab import Code

__all__ = ["Graphic", "ImageValue", "Num", "Item", "container", "code_item", "num_item",
           "text_item", "CONTAINS", "HAS_OBS_CONTEXT", "HAS_CONCEPT_MOD", "HAS_ACQ_CONTEXT"]

CONTAINS = "CONTAINS"
HAS_OBS_CONTEXT = "HAS OBS CONTEXT"
HAS_CONCEPT_MOD = "HAS CONCEPT MOD"
HAS_ACQ_CONTEXT = "HAS ACQ CONTEXT"


@dataclass(slots=True)
class Item:
    """One content item. ``value`` is a Code (CODE), Num (NUM), str (TEXT, UIDREF, PNAME,
    DATE, TIME, DATETIME), ImageValue (IMAGE, COMPOSITE, WAVEFORM), Graphic (SCOORD,
    SCOORD3D), or None (CONTAINER; a value that could not be decoded)."""

    value_type: str
    name: Code | None
    relationship: str | None = None
    value: Any = None
    children: list[Item] = field(default_factory=list)
    template: str | None = None  # TID of a CONTAINER, e.g. "1500"
    continuous: bool = False  # ContinuityOfContent of a CONTAINER


def container(name: Code, relationship: str | None, children: list[Item],
              template: str | None = None) -> Item:
    return Item("CONTAINER", name, relationship, None, children, template)


def code_item(name: Code, value: Code, relationship: str = CONTAINS,
              children: list[Item] | None = None) -> Item:
    return Item("CODE", name, relationship, value, children or [])


def num_item(name: Code, value: float, unit: Code, relationship: str = CONTAINS) -> Item:
    return Item("NUM", name, relationship, Num(float(value), unit))


def text_item(name: Code, value: str, relationship: str = CONTAINS) -> Item:
    return Item("TEXT", name, relationship, value)
