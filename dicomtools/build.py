"""Findings JSON + source images -> a Report ready to write as SR (the `build` step)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from .errors import InputError, show
from .files import read_input_text
from .model import Report
from .phi import printable
from .source import attach_patient, attach_source, load_source, load_studies
from .sr.write import assign_tracking

#: Largest findings file read (bytes): a report of 10,000 findings is ~10 MB.
MAX_FINDINGS_BYTES = 64 * 1024 * 1024
#: Most findings in one report (each becomes a TID 1501 group).
MAX_FINDINGS = 20_000
#: Deepest JSON nesting accepted (a findings file nests ~10 levels; content kept below a
#: finding at most values.MAX_DEPTH more).
MAX_JSON_DEPTH = 200


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object; a key given twice is refused (json would keep the last one silently)."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _Duplicate(key)
        out[key] = value
    return out


class _Duplicate(Exception):
    pass


def _depth(text: str) -> int:
    """Deepest nesting of [ and { outside strings, without recursion (so that a deeply
    nested file is refused with a message, before json's own recursion gives out)."""
    stripped = _STRINGS.sub('""', text)
    depth = deepest = 0
    for match in _BRACKETS.finditer(stripped):
        depth += 1 if match.group() in "[{" else -1
        deepest = max(deepest, depth)
    return deepest


_STRINGS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')
_BRACKETS = re.compile(r"[\[\]{}]")


def parse_findings(text: str, where: str) -> Any:
    """Findings JSON text -> Python objects, every way it can be malformed an InputError."""
    if text.startswith("\ufeff"):  # a byte-order mark some editors write
        text = text[1:]
    if _depth(text) > MAX_JSON_DEPTH:
        raise InputError(f"{where}: JSON nested deeper than {MAX_JSON_DEPTH} levels")
    try:
        return json.loads(text, object_pairs_hook=_no_duplicates)
    except _Duplicate as exc:
        raise InputError(f"{where}: key {show(exc.args[0])} is given twice in one object "
                         "(which value is meant?)") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"{where}: not valid JSON ({exc.msg} at line {exc.lineno}, "
                         f"column {exc.colno})") from None
    except RecursionError:
        raise InputError(f"{where}: JSON nested too deeply") from None
    except ValueError as exc:  # e.g. an integer of more than 4300 digits
        raise InputError(f"{where}: not valid JSON ({exc})") from None


def load_findings(path: Path) -> tuple[str, Report]:
    """A findings JSON file -> (case label, Report without source context).

    ``case`` and ``description`` are free annotations of the file (shown by the demo); they
    are not written to the SR. Every way the file can be wrong is an InputError naming the
    file, the field and the value.
    """
    where = "standard input" if str(path) == "-" else printable(path)  # - : extract --json | build -
    text = read_input_text(path, "a findings file", MAX_FINDINGS_BYTES)
    data = parse_findings(text, where)
    if not isinstance(data, dict):
        raise InputError(f"{where}: expected a JSON object with 'procedure' and 'findings'")
    findings = data.get("findings")
    if isinstance(findings, list) and len(findings) > MAX_FINDINGS:
        raise InputError(f"{where}: {len(findings):,} findings; at most {MAX_FINDINGS:,} in one report")
    data = _from_extract(data, where)
    case = data.get("case", Path(path).parent.name)
    try:
        report = Report.from_json(data, where=where)
    except RecursionError:
        raise InputError(f"{where}: content nested too deeply") from None
    return case if isinstance(case, str) else show(case), report


def _from_extract(data: dict[str, Any], where: str) -> dict[str, Any]:
    """The findings document of ``dicomtools extract --json`` as a findings file: its
    ``evidence`` (provenance, possibly quoting the patient's name) is not written to the SR;
    without ``procedure``, the one procedure all findings name is the report's."""
    if "evidence" not in data:
        return data
    data = {k: v for k, v in data.items() if k != "evidence"}
    findings = data.get("findings")
    if "procedure" not in data and isinstance(findings, list):
        named = {show(f.get("procedure")) for f in findings if isinstance(f, dict)}
        if len(named) > 1:
            raise InputError(f"{where}: findings of {len(named)} procedures ({', '.join(sorted(named))}); "
                             "one SR is one procedure: dicomtools extract --json --procedure NAME")
        procedure = next((f.get("procedure") for f in findings if isinstance(f, dict)), None)
        if procedure is not None:
            data["procedure"] = procedure
    return data


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
