"""DICOM SR <-> FHIR R5, following the HL7 "DICOM SR to FHIR Resource Mapping" IG
(``hl7.fhir.uv.dicom-sr`` 1.0.0): the public functions behind ``dicomtools export fhir`` and
``dicomtools import fhir``.

    bundle = reports_to_bundle([read_sr("case1_wbmri.dcm")])   # a transaction Bundle (dict)
    reports = bundle_to_reports(bundle)                          # back: list[Report]
    export_fhir(["a.dcm", "b.dcm"], "bundle.json")               # files -> validated file
    import_fhir("bundle.json")                                   # file -> list[Report]

Every resource is checked with the fhir.resources R5 models before a bundle is written or
read; the fullUrls derive from the SRs' UIDs, so the same SRs give the same bundle. The
mapping and what it leaves out are in docs/fhir.md.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import InputError, one_line, show
from ..files import read_input_text, write_text
from ..model import Report
from ..phi import printable
from .fhir_bundle import check_types, kind_of
from .fhir_codes import EXT_FIELD, ext_value, full_url
from .fhir_export import report_entries, seed_of
from .fhir_import import bundle_to_reports as _to_reports

__all__ = ["reports_to_bundle", "bundle_to_reports", "export_fhir", "import_fhir", "read_bundle",
           "validate_bundle", "bundle_json", "MAX_BUNDLE_BYTES", "Exported"]

#: Largest bundle file read (a bundle of 1000 findings is ~15 MB).
MAX_BUNDLE_BYTES = 512 << 20


def reports_to_bundle(reports: Iterable[Report], *, diagnostic_report: bool = False) -> dict[str, Any]:
    """A FHIR R5 transaction Bundle of the reports (plain JSON dict, not yet validated).

    ``diagnostic_report`` adds one DiagnosticReport per report, which the IG leaves out of its
    scope (it maps measurements, not reports)."""
    return _bundle(list(reports), None, diagnostic_report)[0]


def _bundle(reports: list[Report], names: list[str] | None,
            diagnostic_report: bool) -> tuple[dict[str, Any], list[int]]:
    """The bundle of the reports (read from the files ``names``, if given), and where the
    entries of each report end."""
    seeds = [seed_of(r) for r in reports]
    first: dict[str, int] = {}
    for k, seed in enumerate(seeds):
        if seed in first and names:
            raise InputError(f"the same SR is given twice: {names[first[seed]]} and {names[k]} "
                             f"(SOP Instance UID {show(seed)})")
        if seed in first:
            raise InputError(f"the same SR is given twice (SOP Instance UID {show(seed)})")
        first[seed] = k
    entries: list[dict[str, Any]] = []
    ends = []
    for report in reports:
        entries += report_entries(report, diagnostic_report=diagnostic_report)
        ends.append(len(entries))
    return {"resourceType": "Bundle",
            "identifier": {"system": "urn:ietf:rfc:3986",
                           "value": full_url("|".join(seeds), "bundle")},
            "type": "transaction", "entry": entries}, ends


def bundle_to_reports(bundle: dict[str, Any], where: str = "bundle") -> list[Report]:
    """The Reports of a bundle written by :func:`reports_to_bundle` (or another IG bundle:
    its Observations come back as open measurements and evaluations)."""
    if isinstance(bundle, dict) and bundle.get("resourceType") == "Bundle":
        check_types(bundle, where)
    validate_bundle(bundle, where)
    try:
        return _to_reports(bundle, where)
    except (KeyError, IndexError, TypeError, ValueError, AttributeError) as exc:
        # an element dicomtools needs is missing or of another shape than it wrote
        detail = f"element {exc}" if isinstance(exc, KeyError) else type(exc).__name__
        raise InputError(f"{where}: a resource lacks what dicomtools reads ({detail})") from None


def validate_bundle(bundle: Any, where: str = "bundle") -> None:
    """Check a bundle and every resource in it against the fhir.resources R5 models; an
    InputError names the first element that is wrong (never its value: it may be patient data)."""
    if not isinstance(bundle, dict):
        raise InputError(f"{where}: not a FHIR Bundle (the JSON is {kind_of(bundle)}, not an object)")
    if bundle.get("resourceType") != "Bundle":
        kind = bundle.get("resourceType")
        kind = show(kind) if isinstance(kind, str) or kind is None else kind_of(kind)
        raise InputError(f"{where}: not a FHIR Bundle (resourceType {kind})")
    error = _first_error(bundle)
    if error is not None:
        loc, msg, count = error
        raise InputError(f"{where}: not a valid FHIR R5 Bundle: {_dotted(loc) or 'bundle'}: "
                         f"{msg} ({count} error(s))")


def _first_error(bundle: dict[str, Any]) -> tuple[tuple, str, int] | None:
    """Where the R5 models first refuse the bundle (their location, their message without
    the value refused, how many errors), or None."""
    from fhir.resources.bundle import Bundle  # heavy (pydantic models): only when needed
    from pydantic import ValidationError
    try:
        Bundle.model_validate(bundle)
    except ValidationError as exc:
        first = exc.errors()[0]
        msg = str(first.get("msg", "invalid"))
        value = first.get("input")
        if isinstance(value, (str, int, float)) and str(value) and str(value) in msg:
            msg = msg.replace(str(value), "<the value>")  # a validator may quote it
        return tuple(first.get("loc", ())), one_line(msg, 200), exc.error_count()
    return None


def _dotted(loc: tuple) -> str:
    return ".".join(str(p) for p in loc)


def bundle_json(bundle: dict[str, Any]) -> str:
    """The text written: indented, UTF-8, one trailing newline (stable across runs)."""
    return json.dumps(bundle, indent=2, ensure_ascii=False) + "\n"


@dataclass(frozen=True)
class Exported:
    """What :func:`export_fhir` wrote: the file, the number of SRs and resources per type."""

    path: Path
    reports: int
    resources: dict[str, int]


def export_fhir(paths: Iterable[str | os.PathLike[str]], output: str | os.PathLike[str], *,
                diagnostic_report: bool = False) -> Exported:
    """Read each SR, map them to one validated transaction Bundle, write it atomically."""
    from ..sr.read import read_sr
    paths = list(paths)
    names = [printable(p) for p in paths]
    reports = [read_sr(p) for p in paths]
    bundle, ends = _bundle(reports, names, diagnostic_report)
    error = _first_error(bundle)
    if error is not None:
        raise InputError(_export_error(bundle, ends, names, *error))
    path = write_text(output, bundle_json(bundle))
    counts = Counter(e["resource"]["resourceType"] for e in bundle["entry"])
    return Exported(path, len(reports), dict(sorted(counts.items())))


# The element of an ImagingSelection that a DICOM attribute became: (of the SR itself, of an
# instance the SR references). Their values are UIDs, which an error may quote.
_ATTRIBUTES = {"studyUid": ("StudyInstanceUID", "StudyInstanceUID of a referenced instance"),
               "seriesUid": ("SeriesInstanceUID", "SeriesInstanceUID of a referenced instance"),
               "uid": ("SOPInstanceUID", "ReferencedSOPInstanceUID"),
               "code": ("SOPClassUID", "ReferencedSOPClassUID"),
               "frameOfReferenceUid": ("FrameOfReferenceUID", "ReferencedFrameOfReferenceUID")}


def _export_error(bundle: dict[str, Any], ends: list[int], names: list[str], loc: tuple,
                  msg: str, count: int) -> str:
    """The message of a bundle the R5 models refuse: the SR file, the DICOM attribute and
    its value when the element holds a UID, else the FHIR element (its value not quoted)."""
    if len(loc) < 3 or loc[0] != "entry" or not isinstance(loc[1], int) or loc[1] >= ends[-1]:
        return f"export: not a valid FHIR R5 Bundle: {_dotted(loc) or 'bundle'}: {msg}"
    n, rest = loc[1], loc[3:]
    name = names[next(k for k, end in enumerate(ends) if n < end)]
    resource = bundle["entry"][n]["resource"]
    element = f"{resource.get('resourceType')}.{_dotted(rest)}"
    value: Any = resource
    for step in rest:
        try:
            value = value[step]
        except (KeyError, IndexError, TypeError):
            value = None
            break
    keys = [p for p in rest if isinstance(p, str)]
    attribute = _ATTRIBUTES.get(keys[-1]) if keys and resource.get("resourceType") == \
        "ImagingSelection" and (keys[-1] != "code" or keys[-2:-1] == ["sopClass"]) else None
    extra = f"; {count - 1} more error(s)" if count > 1 else ""
    if attribute is not None and isinstance(value, str):
        ours = (ext_value(resource, EXT_FIELD, "valueCode") == "report")
        return (f"{name}: {attribute[0] if ours else attribute[1]} {show(value)} is not a value "
                f"FHIR R5 accepts ({element}: {msg}{extra})")
    return f"{name}: FHIR R5 refuses the value the SR gives {element} ({msg}{extra})"


def read_bundle(path: str | os.PathLike[str]) -> dict[str, Any]:
    """A bundle file as JSON, refused (InputError naming the file) when it is not JSON."""
    name = printable(path)
    text = read_input_text(path, "a FHIR bundle", MAX_BUNDLE_BYTES)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{name}: not JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    except RecursionError:
        raise InputError(f"{name}: JSON nested too deeply") from None


def import_fhir(path: str | os.PathLike[str]) -> list[Report]:
    """The Reports of a bundle file."""
    return bundle_to_reports(read_bundle(path), printable(path))
