"""Findings JSON + source images -> a Report ready to write as SR (the `build` step)."""

from __future__ import annotations

import json
from pathlib import Path

from .errors import InputError
from .model import Report
from .source import attach_patient, attach_source, load_source, load_studies
from .sr.write import assign_tracking


def load_findings(path: Path) -> tuple[str, Report]:
    """A findings JSON file -> (case label, Report without source context).

    ``case`` and ``description`` are free annotations of the file (shown by the demo); they
    are not written to the SR.
    """
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except UnicodeDecodeError:
        raise InputError(f"{path}: not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    if not isinstance(data, dict):
        raise InputError(f"{path}: expected a JSON object with 'procedure' and 'findings'")
    return str(data.get("case", Path(path).parent.name)), Report.from_json(data, where=str(path))


def with_source(report: Report, source: Path, *, patient_only: bool = False,
                where: str = "findings") -> Report:
    """A report with patient, study, images and tracking from its source images.

    ``patient_only``: the report has no images of its own (e.g. histopathology); ``source`` is
    any folder of the patient's images, which gives the patient; the report keeps the study
    of its findings file (date, description) and becomes a new study when written.
    """
    if patient_only:
        report = attach_patient(report, load_studies(source)[0], where=where)
    else:
        report = attach_source(report, load_source(source), where=where)
    return assign_tracking(report)


def build_from_files(findings: Path, source: Path, *, patient_only: bool = False) -> Report:
    """Findings JSON + source images -> Report ready to write."""
    _, report = load_findings(findings)
    return with_source(report, source, patient_only=patient_only, where=str(findings))
