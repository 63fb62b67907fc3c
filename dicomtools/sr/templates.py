"""Load the declarative report templates in the top-level ``templates/`` folder.

The writer, the reader and the validator are engines over these files: which finding fields a
report type carries, and which simple coded field becomes which content item.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from .. import vocab
from ..vocab import Code


@dataclass(frozen=True)
class CodedField:
    """A Finding field written as one CODE item: name -> value set."""

    field: str
    concept: Code
    values: dict[Any, Code]
    relationship: str
    always: bool
    reverse: dict[Code, Any]


@dataclass(frozen=True)
class ReportTemplate:
    name: str
    modalities: tuple[str, ...]
    title: Code
    finding_fields: frozenset[str]
    required_fields: frozenset[str]
    mr_only_fields: frozenset[str]


@dataclass(frozen=True)
class GroupTemplate:
    template_id: str
    coded_fields: tuple[CodedField, ...]

    def field(self, name: str) -> CodedField:
        return next(f for f in self.coded_fields if f.field == name)


def _load(name: str) -> dict:
    try:
        text = resources.files("dicomtools.templates").joinpath(name).read_text("utf-8")
    except (ModuleNotFoundError, FileNotFoundError):  # running from a source checkout
        text = (Path(__file__).resolve().parents[2] / "templates" / name).read_text("utf-8")
    return json.loads(text)


@cache
def group_template() -> GroupTemplate:
    data = _load("finding-group.json")
    coded = tuple(
        CodedField(
            field=row["field"],
            concept=getattr(vocab.Concept, row["concept"]),
            values=getattr(vocab, row["values"]),
            relationship=row.get("relationship", "CONTAINS"),
            always=bool(row.get("always", False)),
            reverse=vocab.reverse(getattr(vocab, row["values"])),
        )
        for row in data["coded_fields"]
    )
    return GroupTemplate(data["template"], coded)


@cache
def report_templates() -> tuple[ReportTemplate, ...]:
    out = []
    for name in ("cross-sectional", "scintigraphy", "histopathology"):
        data = _load(f"{name}.json")
        out.append(ReportTemplate(
            name=name,
            modalities=tuple(data["modalities"]),
            title=getattr(vocab.Concept, data["title"]),
            finding_fields=frozenset(data["finding_fields"]),
            required_fields=frozenset(data.get("required_fields", ())),
            mr_only_fields=frozenset(data.get("mr_only_fields", ())),
        ))
    return tuple(out)


def template_for(modality: str) -> ReportTemplate:
    """The report template of a modality (every model modality has one)."""
    return next(t for t in report_templates() if modality in t.modalities)
