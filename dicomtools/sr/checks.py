"""dicomtools' own SR checks, driven by the same row table and templates as the writer:
TID 1500 structure, the fields each report type may and must carry, the units of the
measurements it expects, and the declaration of the private coding scheme.

``sr/validate.py`` merges these with the independent validators (dciodvfy, dsrdump, PixelMed).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from .. import terms, vocab
from ..model import Report
from .codec import CONTENT_SEQ
from .read import open_dicom, report_from_dataset
from .templates import template_for
from .write import finding_problems

if TYPE_CHECKING:
    from .validate import Problem


def check_dicomtools(path: Path, ds=None) -> list[Problem]:
    """Our own checks of one SR. ``ds``: the file already read (validate() reads it once)."""
    from .validate import Problem  # validate imports this module

    problems: list[Problem] = []
    add = lambda sev, msg: problems.append(Problem(sev, "dicomtools", msg))
    ds = ds if ds is not None else open_dicom(path)
    report = report_from_dataset(ds, str(path))  # SRReadError propagates: not an SR at all
    for message in report.warnings:
        add("warning", message)
    templates = ds.get("ContentTemplateSequence")
    if not templates or str(templates[0].get("TemplateIdentifier", "")) != "1500":
        add("error", "root container does not declare TID 1500 (ContentTemplateSequence)")
    if report.procedure is None:
        add("error", "Procedure reported (TID 1500 row 4) is missing or not a code")
    elif isinstance(report.procedure, vocab.Code):
        add("warning", f"procedure {report.procedure.meaning!r} has no dicomtools name; "
                       "checked against the generic template")
    template = template_for(report.modality, report.procedure)
    for finding in report.findings:
        label = finding.tracking_id or "(untracked finding)"
        if not finding.tracking_id or not finding.tracking_uid:
            add("error", f"{label}: TID 1501 group lacks Tracking Identifier or Tracking UID")
        for problem in finding_problems(finding, template):
            add("error", f"{label}: {problem}")
        for m in finding.measurements:
            spec = template.spec_for(m.concept, m.derivation)
            if spec is None:
                if template.measurements:
                    add("warning", f"{label}: measurement {str(m.concept)!r} is not one a "
                                   f"{template.name} report expects")
            elif not any(terms.same_unit(m.unit.value, unit) for unit in spec.units):
                add("error", f"{label}: measurement {str(m.concept)!r} in {m.unit.value!r}; "
                             f"expected {' or '.join(spec.units)}")
    for message in plausibility(report):
        add("warning", message)
    raw = ds.get_item(CONTENT_SEQ)
    used_local = raw is not None and getattr(raw, "is_raw", False) and \
        vocab.LOCAL_SCHEME.encode() in bytes(raw.value or b"")
    declared = {str(item.get("CodingSchemeDesignator", ""))
                for item in ds.get("CodingSchemeIdentificationSequence") or ()}
    if used_local and vocab.LOCAL_SCHEME not in declared:
        add("error", f"private scheme {vocab.LOCAL_SCHEME} used but not declared in "
                     "Coding Scheme Identification Sequence (0008,0110)")
    return problems


# ADC of tissue in 10^-6 mm2/s: below ~50 or above ~5,000 is almost surely a unit error
# (a value in 10^-3 mm2/s written as um2/s, or the reverse).
_ADC_RANGE_UM2_S = (50.0, 5000.0)


def plausibility(report: Report) -> list[str]:
    """Warnings for values that are valid but unlikely: an ADC outside the range of tissue
    after unit conversion, sizes that look like centimetres in a millimetre field, and an
    impression that contradicts the findings."""
    out = []
    present = [f for f in report.findings if f.present is True]
    for finding in report.findings:
        label = finding.tracking_id or "(untracked finding)"
        if finding.adc_value is not None and finding.adc_unit in vocab.ADC_UNITS:
            adc = finding.adc_value * vocab.ADC_UNITS[finding.adc_unit]
            low, high = _ADC_RANGE_UM2_S
            if not low <= adc <= high:
                out.append(f"{label}: ADC {finding.adc_value:g} {finding.adc_unit} is "
                           f"{adc:g} um2/s, outside {low:g}-{high:g} um2/s of tissue: wrong unit?")
        dims = finding.dimensions_mm or ()
        # a size measured on a segmentation (roi) is computed: decimals are expected there
        if dims and finding.roi is None and all(d < 10 for d in dims) and any(d != int(d) for d in dims):
            out.append(f"{label}: diameters {', '.join(f'{d:g}' for d in dims)} mm are all under "
                       "1 cm with decimals: centimetres given as millimetres?")
    if report.impression == "normal" and present:
        out.append(f"impression 'normal' but {len(present)} finding(s) are present")
    if report.impression == "abnormal" and report.findings and not present:
        out.append("impression 'abnormal' but no finding is present")
    return out
