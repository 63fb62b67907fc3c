"""The open part of a finding: any coded numeric measurement and any qualitative evaluation.

A :class:`Measurement` is one TID 300 NUM (concept, value, UCUM unit, derivation, method,
finding site, and whatever else qualifies it, kept as content). An :class:`Evaluation` is one
CODE or TEXT qualitative evaluation. The typed fields of :class:`~dicomtools.model.Finding`
(``dimensions_mm``, ``adc_value``, ``t2_signal`` ...) are the convenient view of the rows the
domain needs; everything else a report or an SR says lives here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from . import terms
from .errors import InputError, show
from .values import TEXT, ContentNode, check_keys, dicom_text
from .vocab import Code, code_from_json, code_to_json

_MEASUREMENT_KEYS = ("concept", "value", "unit", "derivation", "method", "site", "children")
_EVALUATION_KEYS = ("concept", "value", "children")


def _term_json(value: terms.Term | None) -> Any:
    return code_to_json(value) if isinstance(value, Code) else value


def _children(data: Any, where: str) -> tuple[ContentNode, ...]:
    if data is None:
        return ()
    if isinstance(data, (list, tuple)):
        return tuple(c if isinstance(c, ContentNode) else ContentNode.from_json(c, f"{where}[{i}]")
                     for i, c in enumerate(data))
    raise InputError(f"{where}: expected a list of content items, got {show(data)}")


def _from_json(cls: Any, data: Any, where: str, keys: tuple[str, ...],
               required: tuple[str, ...], label: str) -> Any:
    """One Measurement or Evaluation from its JSON object; errors name ``where``."""
    if isinstance(data, cls):
        return data
    if not isinstance(data, dict):
        raise InputError(f"{where}: expected {label} object "
                         f"{{{', '.join(map(repr, required))}, ...}}, got {type(data).__name__}")
    check_keys(data, keys, where)
    for key in required:
        if data.get(key) is None:
            raise InputError(f"{where}: field '{key}' is required")
    try:
        return cls(**data)
    except InputError as exc:
        raise InputError(str(exc).replace(f"{cls.__name__.lower()}:", f"{where}:", 1)) from None


@dataclass(frozen=True, slots=True)
class Measurement:
    """One numeric measurement: ``value`` in UCUM ``unit`` of ``concept`` (a term such as
    "long axis" or any Code), optionally derived ("maximum") by a ``method``, at a ``site``."""

    concept: terms.Term
    value: float
    unit: Code
    derivation: terms.Term | None = None
    method: Code | None = None
    site: terms.Term | None = None
    children: tuple[ContentNode, ...] = ()

    def __post_init__(self) -> None:
        where = "measurement"
        set_ = object.__setattr__
        set_(self, "concept", _required_term("any", self.concept, where, "concept"))
        if isinstance(self.value, bool) or not isinstance(self.value, (int, float)) \
                or not (isinstance(self.value, float) or abs(self.value) <= 10**15) \
                or not math.isfinite(self.value) or abs(self.value) > 1e15:
            raise InputError(f"{where}: field 'value' has value {show(self.value)}; expected a finite "
                             "number (|x| <= 1e15)")
        set_(self, "value", float(self.value))
        set_(self, "unit", terms.unit_code(self.unit, f"{where}: unit"))
        set_(self, "derivation", terms.resolve("derivation", self.derivation, where, "derivation"))
        if self.method is not None:
            set_(self, "method", code_from_json(self.method, f"{where}: method"))
        set_(self, "site", terms.resolve("site", self.site, where, "site"))
        set_(self, "children", _children(self.children, f"{where}: children"))

    @property
    def concept_code(self) -> Code:
        return terms.code_for("any", self.concept)

    def to_json(self) -> dict[str, Any]:
        return {"concept": _term_json(self.concept), "value": self.value, "unit": self.unit.value,
                "derivation": _term_json(self.derivation),
                "method": code_to_json(self.method) if self.method else None,
                "site": _term_json(self.site),
                "children": [c.to_json() for c in self.children]}

    @classmethod
    def from_json(cls, data: Any, where: str = "measurement") -> Measurement:
        return _from_json(cls, data, where, _MEASUREMENT_KEYS, ("concept", "value", "unit"),
                          "a measurement")


@dataclass(frozen=True, slots=True)
class Evaluation:
    """One qualitative evaluation: ``concept`` = ``value``, a Code (CODE item) or text (TEXT)."""

    concept: terms.Term
    value: Code | str
    children: tuple[ContentNode, ...] = ()

    def __post_init__(self) -> None:
        where = "evaluation"
        object.__setattr__(self, "concept", _required_term("any", self.concept, where, "concept"))
        value: Any = self.value
        if isinstance(value, dict):
            value = code_from_json(value, f"{where}: value")
        elif isinstance(value, str):  # a TEXT item (UT)
            value = dicom_text(value, where, "value", TEXT, required=True)
        elif not isinstance(value, Code):
            raise InputError(f"{where}: field 'value' has value {show(value)}; expected text or a "
                             'code object {"code", "scheme", "meaning"}')
        object.__setattr__(self, "value", value)
        object.__setattr__(self, "children", _children(self.children, f"{where}: children"))

    @property
    def concept_code(self) -> Code:
        return terms.code_for("any", self.concept)

    def to_json(self) -> dict[str, Any]:
        value = code_to_json(self.value) if isinstance(self.value, Code) else self.value
        return {"concept": _term_json(self.concept), "value": value,
                "children": [c.to_json() for c in self.children]}

    @classmethod
    def from_json(cls, data: Any, where: str = "evaluation") -> Evaluation:
        return _from_json(cls, data, where, _EVALUATION_KEYS, ("concept", "value"),
                          "an evaluation")


def _required_term(kind: str, value: Any, where: str, field: str) -> terms.Term:
    term = terms.resolve(kind, value, where, field)
    if term is None:
        raise InputError(f"{where}: field '{field}' is required")
    return term
