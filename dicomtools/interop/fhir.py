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

from ..errors import InputError
from ..files import write_text
from ..model import Report
from ..phi import printable
from .fhir_codes import full_url
from .fhir_export import report_entries, seed_of
from .fhir_import import bundle_to_reports as _to_reports
from .fhir_import import check_types

__all__ = ["reports_to_bundle", "bundle_to_reports", "export_fhir", "import_fhir", "read_bundle",
           "validate_bundle", "bundle_json", "MAX_BUNDLE_BYTES", "Exported"]

#: Largest bundle file read (a bundle of 1000 findings is ~15 MB).
MAX_BUNDLE_BYTES = 512 << 20


def reports_to_bundle(reports: Iterable[Report], *, diagnostic_report: bool = False) -> dict[str, Any]:
    """A FHIR R5 transaction Bundle of the reports (plain JSON dict, not yet validated).

    ``diagnostic_report`` adds one DiagnosticReport per report, which the IG leaves out of its
    scope (it maps measurements, not reports)."""
    reports = list(reports)
    seeds = [seed_of(r) for r in reports]
    twice = [s for s, n in Counter(seeds).items() if n > 1]
    if twice:
        raise InputError(f"the same SR is given twice (SOP Instance UID {twice[0]})")
    entries: list[dict[str, Any]] = []
    for report in reports:
        entries += report_entries(report, diagnostic_report=diagnostic_report)
    return {"resourceType": "Bundle",
            "identifier": {"system": "urn:ietf:rfc:3986",
                           "value": full_url("|".join(seeds), "bundle")},
            "type": "transaction", "entry": entries}


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
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        kind = bundle.get("resourceType") if isinstance(bundle, dict) else type(bundle).__name__
        raise InputError(f"{where}: not a FHIR Bundle (resourceType {kind!r})")
    from fhir.resources.bundle import Bundle  # heavy (pydantic models): only when needed
    from pydantic import ValidationError
    try:
        Bundle.model_validate(bundle)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first.get("loc", ()))
        raise InputError(f"{where}: not a valid FHIR R5 Bundle: {loc or 'bundle'}: "
                         f"{first.get('msg', 'invalid')} ({exc.error_count()} error(s))") from None


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
    reports = [read_sr(p) for p in paths]
    bundle = reports_to_bundle(reports, diagnostic_report=diagnostic_report)
    validate_bundle(bundle, "export")
    path = write_text(output, bundle_json(bundle))
    counts = Counter(e["resource"]["resourceType"] for e in bundle["entry"])
    return Exported(path, len(reports), dict(sorted(counts.items())))


def read_bundle(path: str | os.PathLike[str]) -> dict[str, Any]:
    """A bundle file as JSON, refused (InputError naming the file) when it is not JSON."""
    name = printable(path)
    try:
        size = os.stat(path).st_size
        if size > MAX_BUNDLE_BYTES:
            raise InputError(f"{name}: {size:,} bytes; bundles larger than "
                             f"{MAX_BUNDLE_BYTES:,} bytes are refused")
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        raise InputError(f"{name}: cannot be read ({exc.strerror or exc})") from None
    try:
        return json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise InputError(f"{name}: not UTF-8 text (byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"{name}: not JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    except RecursionError:
        raise InputError(f"{name}: JSON nested too deeply") from None


def import_fhir(path: str | os.PathLike[str]) -> list[Report]:
    """The Reports of a bundle file."""
    return bundle_to_reports(read_bundle(path), printable(path))
