"""Free-text radiology findings -> the project's findings -> DICOM SR.

``extract_findings(text)`` reads report prose (case reports, figure captions, dictated
findings) into :class:`~dicomtools.model.Finding` objects, each with the sentences and
character offsets it came from (:class:`ExtractedFinding`). ``findings_document(text)`` is
the same as the findings document ``dicomtools build`` reads. ``reports_from_text`` groups
them by procedure into :class:`~dicomtools.model.Report` objects; ``text_to_sr`` writes one
SR per procedure with patient and study taken from the matching source study.

Modules, one step each: ``sentences`` (splitting with offsets, normalisation), ``mentions``
(what a sentence names; pattern tables in ``patterns``, open-vocabulary anatomy in
``anatomy``, measurements through the templates' spellings in ``measures``), ``prose``
(headings, tables, generic and explanatory text: not report prose), ``assertion``
(negation/uncertainty), ``frames`` (a sentence's finding nouns and their attributes),
``lists`` (enumerations: one finding per site; normal-distribution lists), ``clauses``
(study clauses, tests named together, properties of a named lesion), ``extract`` (the
document: findings with provenance), ``merge`` (one finding per lesion), ``document`` (the
findings document ``build`` reads), ``reports`` (findings -> reports -> SR), ``cli``.

Names are imported on first use, so that ``dicomtools --help`` (which registers ``cli``)
does not load the extractor and pydicom.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .document import findings_document
    from .extract import MAX_TEXT, Evidence, ExtractedFinding, extract_findings, read_text
    from .reports import read_report_text, reports_from_text, text_to_sr

_HOME = {"MAX_TEXT": "extract", "Evidence": "extract", "ExtractedFinding": "extract",
         "extract_findings": "extract", "read_text": "extract", "findings_document": "document",
         "read_report_text": "reports", "reports_from_text": "reports", "text_to_sr": "reports"}
__all__ = ["MAX_TEXT", "Evidence", "ExtractedFinding", "extract_findings", "findings_document",
           "read_report_text", "read_text", "reports_from_text", "text_to_sr"]


def __getattr__(name: str) -> Any:
    if name in _HOME:
        return getattr(import_module(f".{_HOME[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
