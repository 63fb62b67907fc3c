"""The sections of a report or an article a sentence is in: an indication or a clinical
question (the request, whose text is the report's indication), a differential-diagnosis or
discussion aside, a pathology section, a table, an abstract. Sentences of the request, an
aside or a table are not results. Split from ``extract``: the reader asks, per sentence."""

from __future__ import annotations

from . import prose
from .clauses import _HEADING
from .mentions import find_mentions


class Sections:
    """Section state while one document is read, sentence by sentence."""

    def __init__(self) -> None:
        self.in_table = False  # between a "Table N" caption and the prose after it
        self.section: str | None = None  # "abstract" until the body's first heading
        self.in_request = False  # inside an indication / clinical-question section
        self.request_filled = False  # the section has text: a blank line then ends it
        self.aside = False  # ... or a differential-diagnosis / discussion section
        self.specimen = False  # ... or a pathology section (one paragraph)
        self.indication: list[str] = []  # its text

    def paragraph(self, starts: bool) -> None:
        """A new paragraph: "History: ..." is one paragraph, and so is "Pathology: ..."."""
        if starts and self.request_filled and (not self.aside or self.specimen):
            self.in_request = self.request_filled = self.specimen = False

    def request(self, clean: str, line_start: bool) -> bool:
        """Track indication sections; True while the sentence is the request, not a result.
        A "Differential diagnosis:" / "Discussion:" section is read the same way (what the
        case could be, or what cases are like: not its results), without being the indication.

        An "Indication:" / "Clinical question:" / "History:" ... label opens the section; a
        "Findings:" / "Impression:" / "Conclusion:" label or a procedure-prefixed line
        ("WB-MRI: ...") ends it, and so does a line that opens with a test and a result verb
        ("WB-MRI revealed ..."): the report went on without a label. Other unlabelled lines
        inside it are the request's own text.
        """
        if self.in_request and line_start and prose.reports_result(clean):
            first = find_mentions(clean[:40])
            if first and first[0].kind == "procedure" and first[0].start <= 3:
                self.in_request = False
                return False
        label = prose.section_label(clean)
        start = 0
        if label is not None:
            kind, end = label
            if kind == "diagnosis" and prose.is_nominal(clean[end:]):
                return True  # the case's diagnosis line (a name, no result verb): this sentence only
            if kind in ("request", "aside", "pathology"):
                self.in_request, self.aside, start = True, kind != "request", end
                self.specimen, self.request_filled = kind == "pathology", False
            elif kind == "report" or any(m.kind == "procedure" for m in find_mentions(clean[:end])):
                self.in_request = self.aside = False
        if self.in_request and not self.aside and len(self.indication) < 20 and clean[start:].strip():
            self.indication.append(clean[start:].strip())
            self.request_filled = True
        if self.specimen and clean[start:].strip():
            self.request_filled = True
        return self.in_request

    def layout(self, clean: str) -> bool:
        """Track sections and tables; True when the sentence is layout, not prose to read.

        A table is skipped from its "Table N" caption until a punctuated sentence of several
        words (prose or a figure caption) follows: its cells are column values, not clauses.
        An "Abstract" heading starts a summary of the article; the body's first heading
        ("Background", "Case presentation", ...) ends it.
        """
        if self.in_table:
            if not prose.ends_table(clean):
                return True
            self.in_table = False
        if prose.is_caption(clean):
            self.in_table = True
            return True
        heading = _HEADING.fullmatch(clean)
        if heading:
            if heading.group(1):
                self.section = "abstract"
            elif self.section == "abstract":
                self.section = "body"
            return True
        return False
