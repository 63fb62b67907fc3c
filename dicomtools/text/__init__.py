"""Free-text radiology findings -> the project's findings -> DICOM SR.

``extract_findings(text)`` reads report prose (case reports, figure captions, dictated
findings) into :class:`~dicomtools.model.Finding` objects, each with the sentences and
character offsets it came from (:class:`ExtractedFinding`). ``reports_from_text`` groups them
by procedure into :class:`~dicomtools.model.Report` objects; ``text_to_sr`` writes one SR per
procedure with patient and study taken from the matching source study.

Modules, one step each: ``sentences`` (splitting with offsets, normalisation), ``mentions``
(what a sentence names), ``prose`` (headings, tables, generic and explanatory text: not
report prose), ``assertion`` (negation/uncertainty), ``frames`` (a sentence's
finding nouns and their attributes), ``extract`` (the document: findings with provenance),
``reports`` (findings -> reports -> SR; report file checks), ``cli``.
"""

from .extract import MAX_TEXT, Evidence, ExtractedFinding, extract_findings
from .reports import read_report_text, reports_from_text, text_to_sr

__all__ = ["MAX_TEXT", "Evidence", "ExtractedFinding", "extract_findings", "read_report_text",
           "reports_from_text", "text_to_sr"]
