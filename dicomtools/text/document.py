"""The findings document: what ``dicomtools extract --json`` prints and ``dicomtools build``
reads, so that text -> findings -> SR needs no hand editing in between.

It is a findings file (``Report.from_json``: ``procedure``, ``modality``, ``impression``,
``indication``, ``findings``) with one more key, ``evidence``: per finding, the sentences
(and character offsets) it was read from. ``build`` leaves the evidence out of the SR (it
is provenance, and the quoted text may name the patient). ``procedure``, ``modality`` and
``impression`` are given when every finding belongs to one procedure; a text about several
studies gives one document per procedure with ``extract --procedure NAME``.
"""

from __future__ import annotations

from typing import Any

from .. import vocab
from .extract import MAX_TEXT, ExtractedFinding, read_text
from .reports import impression_of


def findings_document(text: str, *, sentences: bool = True, procedure: str | None = None,
                      max_chars: int = MAX_TEXT) -> dict[str, Any]:
    """Report text -> the findings document; ``procedure`` keeps only that study's findings."""
    extracted, indication = read_text(text, max_chars=max_chars)
    if procedure is not None:
        extracted = [e for e in extracted if e.finding.procedure == procedure]
    return document_of(extracted, indication, sentences=sentences)


def document_of(extracted: list[ExtractedFinding], indication: str | None = None, *,
                sentences: bool = True) -> dict[str, Any]:
    """Extracted findings -> the findings document."""
    doc: dict[str, Any] = {}
    procedures = {e.finding.procedure for e in extracted}
    if len(procedures) == 1:
        (procedure,) = procedures
        if isinstance(procedure, str) and procedure in vocab.PROCEDURES:
            findings = [e.finding for e in extracted]
            doc |= {"procedure": procedure, "modality": vocab.PROCEDURES[procedure].modality,
                    "impression": impression_of(findings)}
    if indication:
        doc["indication"] = indication
    items = [e.to_json(sentences=sentences) for e in extracted]
    doc["findings"] = [item["finding"] for item in items]
    doc["evidence"] = [item["evidence"] for item in items]
    return doc
