"""Per-patient table in the shape of Table 1 of the seed case series, cohort summary, and
their Markdown, CSV, JSON and HTML forms."""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import json
import re
from dataclasses import dataclass

from ..levels import format_levels
from ..model import Finding
from ..phi import printable
from ..vocab import Code
from .anatomy import LEVEL_DEPENDENT, PAIRED_ORGANS
from .cohort import Agreement, Sensitivity
from .collect import Cohort, parse_date
from .match import PATHOLOGY, PROCEDURE_CLASS, LesionMatch, PatientConcordance

COLUMNS = ("Age at presentation", "Gender", "Chief complaint", "Abdominal ultrasound",
           "Whole-body MRI", "Whole-body Scintigraphy", "Tumor localization", "Pathology/Diagnosis")
_SEX = {"F": "female", "M": "male", "O": "other"}
_ADJECTIVE = {
    "thorax": "thoracal", "adrenal gland": "adrenal", "retroperitoneum": "retroperitoneal",
    "abdomen": "abdominal", "pelvis": "pelvic", "neck": "cervical", "mediastinum": "mediastinal",
    "posterior mediastinum": "posterior mediastinal", "kidney": "renal", "liver": "hepatic",
    "paravertebral": "paravertebral", "sympathetic trunk": "sympathetic trunk",
}


def format_age(birth: dt.date | None, on: dt.date | None, dicom_age: str | None = None) -> str:
    """'17 months' below two years, else '13 years 11 months' (as the seed table states age)."""
    if birth and on and birth <= on:
        months = (on.year - birth.year) * 12 + on.month - birth.month - (on.day < birth.day)
        if months < 24:
            return f"{months} months"
        years, rest = divmod(months, 12)
        return f"{years} years" + (f" {rest} months" if rest else "")
    if dicom_age and len(dicom_age) == 4 and dicom_age[:3].isdigit():
        unit = {"D": "days", "W": "weeks", "M": "months", "Y": "years"}.get(dicom_age[3], "")
        return f"{int(dicom_age[:3])} {unit}".strip()
    return "unknown"


def format_interval(days: int) -> str:
    months = round(abs(days) / 30.4375)
    text = (f"{days} days" if abs(days) < 62 else
            f"{months // 12} years {months % 12} months" if months >= 24 else f"{months} months")
    return text.replace("-", "") + (" before" if days < 0 else " after")


def hedge_word(f: Finding) -> str | None:
    """'possible' (or another hedge) for a positive finding the report hedged; None for a
    definite one or one whose certainty was not stated."""
    if f.present is True and f.certainty not in (None, "definite"):
        return str(f.certainty)
    return None


def hedged_result(findings: list[Finding]) -> str | None:
    """The hedge of a set of positive findings when every one is hedged ('possible' if any
    is only possible), else None: one definite finding makes the exam plainly positive."""
    words = [hedge_word(f) for f in findings if f.present is True]
    if not words or None in words:
        return None
    return "possible" if "possible" in words else str(words[0])


def _class_findings(result: PatientConcordance, klass: str, in_workup: bool) -> list[Finding]:
    # record.exams and result.exams are in the same order (match._summaries)
    return [f for exam, summary in zip(result.record.exams, result.exams, strict=True)
            if PROCEDURE_CLASS.get(summary.procedure) == klass and summary.in_workup == in_workup
            and summary.result == "positive" for f in exam.report.findings]


def result_cell(result: PatientConcordance, klass: str) -> str:
    """The combined result of a column inside the work-up; when the procedure was done only
    outside the work-up window, its result with the interval (not "not performed"). A
    positive result whose findings are all hedged says so: 'positive (possible)'."""
    inside = result.result_of_class(klass)
    if inside == "positive":
        hedge = hedged_result(_class_findings(result, klass, True))
        return f"positive ({hedge})" if hedge else inside
    if inside != "not performed":
        return inside
    outside = [(e.days_from_index, e) for e in result.exams
               if PROCEDURE_CLASS.get(e.procedure) == klass and not e.in_workup
               and e.days_from_index is not None]
    if not outside:
        return inside
    days, nearest = min(outside, key=lambda pair: (abs(pair[0]), pair[0]))
    shown = nearest.result
    if shown == "positive":
        hedge = hedged_result(_class_findings(result, klass, False))
        shown = f"positive, {hedge}" if hedge else shown
    return (f"{shown} ({format_interval(days)} the index exam, "
            f"outside the {result.window_days}-day work-up window)")


def term_text(term: str | Code) -> str:
    """A term as a table shows it: a dicomtools name as it is; a code without one (read from
    another tool's SR) by its meaning, escaped."""
    return term if isinstance(term, str) else printable(term.meaning)


def format_location(f: Finding) -> str:
    site = term_text(f.site) if f.site else "unknown site"
    if f.laterality and f.laterality != "bilateral":
        side = term_text(f.laterality)
        side = side if f.site in PAIRED_ORGANS else f"{side}-sided"
        site = f"{side} {site}"
    elif f.laterality == "bilateral":
        site = f"bilateral {site}"
    if f.vertebral_levels and (f.site in LEVEL_DEPENDENT or f.site == "vertebra"):
        site = f"{site} {format_levels(f.vertebral_levels)}"
    return site


def format_diagnosis(f: Finding) -> str:
    adjective = _ADJECTIVE.get(f.site, "") if isinstance(f.site, str) else ""
    return f"{adjective} {term_text(f.finding)}".strip() if f.finding else "unknown diagnosis"


def lesion_text(lesion: LesionMatch) -> str:
    """A lesion's place, with its hedge when every report of it hedged ('possible')."""
    hedge = hedged_result([f for _, f in lesion.members])
    return format_location(lesion.location) + (f" ({hedge})" if hedge else "")


def _equivocal_notes(result: PatientConcordance) -> list[str]:
    """Equivocal statements (present neither affirmed nor denied) named in the notes: they
    make no lesion, but the reader of the table must see them."""
    out = []
    for exam, summary in zip(result.record.exams, result.exams, strict=True):
        if not summary.in_workup:
            continue
        for f in exam.report.findings:
            if f.present is None:
                what = term_text(f.finding) if f.finding else "finding"
                out.append(f"equivocal on {summary.procedure}: {what} at {format_location(f)}")
    return out


@dataclass
class Row:
    label: str
    cells: dict[str, str]
    notes: list[str]
    patient_id: str | None


def table_row(result: PatientConcordance, label: str) -> Row:
    record = result.record
    index_exam = next((e for e in record.exams if e.date == result.index_date), None)
    dicom_age = index_exam.report.study.patient_age if index_exam else None
    indications = [e.report.indication for e in record.exams if e.report.indication]
    confirmed = [lesion for lesion in result.lesions if lesion.confirmed_by]
    shown = confirmed or result.lesions
    diagnoses = [f for e in record.exams if e.procedure == PATHOLOGY
                 for f in e.report.findings if f.present is True]
    cells = {
        "Age at presentation": format_age(parse_date(record.patient.birth_date), result.index_date,
                                          dicom_age),
        "Gender": _SEX.get(record.patient.sex or "", "unknown"),
        "Chief complaint": printable(indications[0]) if indications else "not recorded",
        "Abdominal ultrasound": result_cell(result, "ultrasound"),
        "Whole-body MRI": result_cell(result, "WB-MRI"),
        "Whole-body Scintigraphy": result_cell(result, "scintigraphy"),
        "Tumor localization": "; ".join(lesion_text(lesion) for lesion in shown) or "none found",
        "Pathology/Diagnosis": "; ".join(format_diagnosis(f) for f in diagnoses) or "not available",
    }
    notes = [f"{e.procedure} {format_interval(e.days_from_index)} the index exam: {e.result} "
             f"(outside the {result.window_days}-day work-up window)"
             for e in result.exams if not e.in_workup and e.days_from_index is not None]
    for lesion in result.lesions:
        if lesion.verdict == "discordant":
            pos = [p for p, s in lesion.by_procedure.items() if s == "positive"]
            neg = [p for p, s in lesion.by_procedure.items() if s == "negative"]
            notes.append(f"discordant at {lesion_text(lesion)}: positive on "
                         f"{', '.join(pos)}; negative on {', '.join(neg)}")
    notes.extend(_equivocal_notes(result))
    notes.extend(f"{lab.test}: {lab.result}" for lab in record.labs)
    notes.extend(result.warnings)
    return Row(label, cells, notes, printable(record.key[0]))


@dataclass
class ConcordanceReport:
    rows: list[Row]
    patients: list[PatientConcordance]
    sensitivities: list[Sensitivity]
    agreements: list[Agreement]
    cohort: Cohort
    show_ids: bool = False
    sensitivity_workup_only: bool = False

    def summary_lines(self) -> list[str]:
        lines = [f"patients: {len(self.rows)}; verdicts: " + ", ".join(
            f"{v} {sum(p.verdict == v for p in self.patients)}"
            for v in sorted({p.verdict for p in self.patients}))]
        if self.sensitivities:
            scope = ("exams inside the work-up window" if self.sensitivity_workup_only
                     else "every exam of the patient, any interval")
            lines.append(f"sensitivity against histopathology ({scope}): " + "; ".join(
                f"{s.name} {s}" for s in self.sensitivities))
        for a in self.agreements:
            kappa = "undefined" if a.kappa is None else f"{a.kappa:.2f}"
            observed = "n/a" if a.observed is None else f"{a.observed:.0%}"
            lines.append(f"{a.scheme} regions, {a.first} vs {a.second}: {a.pairs} patient-regions, "
                         f"agreement {observed}, Cohen's kappa {kappa} "
                         f"(both + {a.both_positive}, {a.first} only {a.first_only}, "
                         f"{a.second} only {a.second_only}, both - {a.both_negative})")
        if self.cohort.skipped_files:
            names = self.cohort.skipped_names
            more = self.cohort.skipped_files - len(names)
            lines.append(f"{self.cohort.skipped_files} non-SR file(s) skipped: " + ", ".join(names)
                         + (f" and {more} more" if more > 0 else ""))
        lines.extend(f"warning: {w}" for w in self.cohort.warnings)
        return lines

    def _header(self) -> list[str]:
        return ["", *(["Patient ID"] if self.show_ids else []), *COLUMNS]

    def _cells(self, row: Row) -> list[str]:
        return [row.label, *([row.patient_id or ""] if self.show_ids else []),
                *(row.cells[c] for c in COLUMNS)]

    def to_markdown(self) -> str:
        out = ["| " + " | ".join(self._header()) + " |", "|" + "---|" * len(self._header())]
        out += ["| " + " | ".join(c.replace("|", "\\|") for c in self._cells(r)) + " |" for r in self.rows]
        notes = [f"- {r.label}: {n}" for r in self.rows for n in r.notes]
        return "\n".join(out + (["", *notes] if notes else []) + [""] +
                         [f"- {line}" for line in self.summary_lines()]) + "\n"

    def to_csv(self) -> str:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow([*self._header(), "Notes"])
        for row in self.rows:
            writer.writerow([*self._cells(row), " | ".join(row.notes)])
        return buffer.getvalue()

    def to_json(self) -> str:
        return json.dumps({
            "columns": list(COLUMNS),
            "rows": [{"label": r.label, **({"patient_id": r.patient_id} if self.show_ids else {}),
                      **r.cells, "notes": r.notes} for r in self.rows],
            "patients": [{
                "label": r.label, "verdict": p.verdict,
                "index_date": p.index_date.isoformat() if p.index_date else None,
                "exams": [{"procedure": e.procedure, "date": e.date.isoformat() if e.date else None,
                           "result": e.result, "days_from_index": e.days_from_index,
                           "in_workup": e.in_workup} for e in p.exams],
                "lesions": [{"location": format_location(lesion.location), "verdict": lesion.verdict,
                             "by_procedure": lesion.by_procedure,
                             "confirmed_by": (format_diagnosis(lesion.confirmed_by)
                                              if lesion.confirmed_by else None)}
                            for lesion in p.lesions],
            } for r, p in zip(self.rows, self.patients, strict=True)],
            "sensitivity": {s.name: {"detected": s.detected, "examined": s.examined}
                            for s in self.sensitivities},
            "agreement": [{"scheme": a.scheme, "first": a.first, "second": a.second,
                           "pairs": a.pairs, "observed": a.observed, "kappa": a.kappa,
                           "per_region": {k: list(v) for k, v in a.per_region.items()}}
                          for a in self.agreements],
            "warnings": self.cohort.warnings,
        }, indent=2) + "\n"

    def to_html(self) -> str:
        from .bodymap import base_defs, body_map  # bodymap uses this module's formatting
        esc = html_text
        head = "".join(f"<th>{esc(h)}</th>" for h in self._header())
        body = "".join("<tr>" + "".join(
            f"<td class='{_cell_class(c)}'>{esc(c)}</td>" if _cell_class(c) else f"<td>{esc(c)}</td>"
            for c in self._cells(r)) + "</tr>" for r in self.rows)
        maps = "".join(f"<figure class='bodymap'>{body_map(p, r.label, standalone=False)}"
                       f"<figcaption>{esc(r.label)}</figcaption></figure>"
                       for r, p in zip(self.rows, self.patients, strict=True))
        notes = "".join(f"<li><b>{esc(r.label)}</b>: {esc(n)}</li>" for r in self.rows for n in r.notes)
        summary = "".join(f"<li>{esc(line)}</li>" for line in self.summary_lines())
        return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Cross-modality concordance</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem; color: #222; }}
table {{ border-collapse: collapse; }} th, td {{ border: 1px solid #bbb; padding: .35rem .6rem; vertical-align: top; }}
th {{ background: #eef; text-align: left; }} td.positive {{ background: #fdd; }} td.negative {{ background: #dfd; }}
td.hedged, td.equivocal {{ background: #ffe9b3; }}
figure.bodymap {{ display: inline-block; margin: 0 1rem 1rem 0; vertical-align: top; }}
figure.bodymap figcaption {{ display: none; }}
</style></head><body>
<h1>Cross-modality concordance</h1>
<p>Demographical, clinical and imaging findings and histopathological results per patient
(shape of Table 1 of the seed case series), built from DICOM SR by dicomtools.</p>
<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>
<h2>Notes</h2><ul>{notes or '<li>none</li>'}</ul>
<h2>Cohort</h2><ul>{summary}</ul>
<h2>Body maps</h2>
<p>Each lesion at its site or vertebral level, coloured by which procedures saw it; a black
ring marks a lesion confirmed by histopathology. Front view, the patient's right on the left of
the picture (radiological convention). Positions are schematic (coded site, side and level).</p>
{base_defs()}{maps}
</body></html>
"""

    def render(self, fmt: str) -> str:
        """The report in one format; the text always encodes as UTF-8 and holds no control
        character but its line ends (file names and values are escaped where they enter; any
        character left that a table cannot carry raw is escaped here)."""
        text = {"md": self.to_markdown, "csv": self.to_csv, "json": self.to_json,
                "html": self.to_html}[fmt]()
        return _UNSAFE.sub(lambda m: printable(m.group()), text)


def html_text(text: object) -> str:
    """Any value as HTML text: escaped markup, and control or invisible characters shown as
    ``\\xNN`` (dicomtools.phi.printable), which HTML cannot carry."""
    return html.escape(printable(str(text)), quote=True)


# What no table format may carry raw: lone surrogates (not UTF-8), control characters other
# than the line ends the formats use (a terminal obeys ESC), invisible format characters and
# non-characters; each is shown as printable() shows it.
_UNSAFE = re.compile("[\ud800-\udfff\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f"
                     "\u2028-\u202e\u2060-\u2064\ufeff\ufffe\uffff]")


def _cell_class(cell: str) -> str:
    """CSS class of a result cell: positive / negative / hedged ('positive (possible)') /
    equivocal; '' for other cells."""
    if cell in ("positive", "negative", "equivocal"):
        return cell
    return "hedged" if cell.startswith("positive (") and not cell.endswith("window)") else ""
