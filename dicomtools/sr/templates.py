"""Report templates: the JSON files of the top-level ``templates/`` folder, one per report type,
discovered from the folder (a new report type is a new file, no code).

A template names the modalities (and optionally the procedures) it serves, the root title,
the rows of the TID 1501 row table (``sr/rows.py``) a finding may carry, the fields each
finding must have, and the measurements a report of this type is expected to hold: concept,
units, derivations, and how reports spell them (for the text extractor).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from .. import terms
from ..errors import InputError
from ..vocab import Code, code_from_json
from .rows import ROW_NAMES

FALLBACK = "generic"  # the template of a report whose modality no other template serves


@dataclass(frozen=True)
class MeasurementSpec:
    """A measurement a report type expects: the concept, its accepted UCUM units (the first is
    the one to write), the derivations it comes with, and spellings in report prose."""

    concept: terms.Term
    units: tuple[str, ...]
    derivations: tuple[terms.Term | None, ...]
    says: tuple[str, ...]


@dataclass(frozen=True)
class ReportTemplate:
    name: str
    description: str
    modalities: tuple[str, ...]
    procedures: tuple[str, ...]
    title: Code
    rows: tuple[str, ...]
    required_fields: frozenset[str]
    measurements: tuple[MeasurementSpec, ...]

    def allows(self, row: str) -> bool:
        return row in self.rows

    def spec_for(self, concept: terms.Term, derivation: terms.Term | None) -> MeasurementSpec | None:
        return next((m for m in self.measurements if m.concept == concept
                     and (not m.derivations or derivation in m.derivations)), None)


def _folder_files() -> list[tuple[str, str]]:
    # A source checkout's own templates/ first (so an editable install of another checkout
    # never shadows it), else the installed package data.
    source = Path(__file__).resolve().parents[2] / "templates"
    if (source / f"{FALLBACK}.json").is_file():
        return sorted((p.name, p.read_text("utf-8")) for p in source.glob("*.json"))
    folder = resources.files("dicomtools.templates")
    return sorted((f.name, f.read_text("utf-8")) for f in folder.iterdir() if f.name.endswith(".json"))


def _measurement(data: Any, where: str) -> MeasurementSpec:
    if not isinstance(data, dict) or "concept" not in data or not data.get("units"):
        raise InputError(f"{where}: a measurement needs 'concept' and 'units'")
    concept = terms.resolve("any", data["concept"], where, "concept")
    if concept is None:
        raise InputError(f"{where}: 'concept' must name a concept")
    units = tuple(terms.unit_code(u, f"{where}: units").value for u in data["units"])
    derivations = tuple(terms.resolve("derivation", d, where, "derivations")
                        for d in data.get("derivations", ()))
    return MeasurementSpec(concept, units, derivations, tuple(data.get("says", ())))


def parse_template(name: str, data: Any) -> ReportTemplate:
    """One template file's content; errors name the file and the key."""
    where = f"templates/{name}.json"
    if not isinstance(data, dict):
        raise InputError(f"{where}: expected a JSON object")
    row_names = tuple(data.get("rows", ()))
    unknown = [r for r in row_names if r not in ROW_NAMES]
    if unknown:
        raise InputError(f"{where}: unknown row(s) {unknown}; rows are {', '.join(ROW_NAMES)}")
    from ..sr.rows import ROW_BY_NAME
    fields = {f for r in row_names if r in ROW_BY_NAME for f in ROW_BY_NAME[r].fields}
    fields |= {r for r in row_names if r not in ROW_BY_NAME}
    required = frozenset(data.get("required_fields", ()))
    if not required <= fields:
        raise InputError(f"{where}: required_fields {sorted(required - fields)} are not in its rows")
    return ReportTemplate(
        name=name, description=str(data.get("description", "")),
        modalities=tuple(data.get("modalities", ())), procedures=tuple(data.get("procedures", ())),
        title=code_from_json(data.get("title"), f"{where}: title"), rows=row_names,
        required_fields=required,
        measurements=tuple(_measurement(m, f"{where}: measurements[{i}]")
                           for i, m in enumerate(data.get("measurements", ()))))


@cache
def report_templates() -> tuple[ReportTemplate, ...]:
    """Every template file of the folder."""
    out = tuple(parse_template(name[:-5], json.loads(text)) for name, text in _folder_files())
    if not any(t.name == FALLBACK for t in out):
        raise InputError(f"templates/: {FALLBACK}.json is missing")
    return out


def template_for(modality: str | None, procedure: object = None) -> ReportTemplate:
    """The template naming the procedure, else the one serving the modality, else the
    fallback (every row allowed, nothing required)."""
    templates = report_templates()
    for template in templates:
        if isinstance(procedure, str) and procedure in template.procedures:
            return template
    for template in templates:
        if modality in template.modalities:
            return template
    return next(t for t in templates if t.name == FALLBACK)
