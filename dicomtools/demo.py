"""The main job on the shipped sample data: build every seed-case SR, validate it, read it
back, compare with the findings it was built from, and print a summary."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol, TextIO

from .build import load_findings, with_source
from .describe import describe_finding  # re-exported: demo.describe_finding stays importable
from .errors import InputError
from .model import Report
from .sr.read import read_sr
from .sr.validate import ValidationResult, is_expected_warning, validate
from .sr.write import write_sr

PACKAGE_SAMPLES = Path(__file__).resolve().parent / "sample_data" / "cases"  # installed package
CHECKOUT_SAMPLES = Path(__file__).resolve().parents[1] / "sample_data" / "cases"  # source tree
MASK_FILES = ("case1_wbmri_lesion.nii", "case1_wbmri_adc.nii", "case1_wbmri_labels.json")
SLOW = {"pixelmed": " (slow: ~10 s a file)"}


class Progress(Protocol):
    """A progress line (dicomtools.cli.StatusLine): show one step, clear before output."""

    def __call__(self, text: str) -> None: ...

    def clear(self) -> None: ...


def default_samples() -> Path:
    """./sample_data/cases if there is one, else the copy shipped in the package, else the
    one beside the source checkout (an editable install)."""
    for candidate in (Path.cwd() / "sample_data" / "cases", PACKAGE_SAMPLES, CHECKOUT_SAMPLES):
        if candidate.is_dir():
            return candidate
    return PACKAGE_SAMPLES


def check_samples(samples: Path, *, given: bool = False) -> None:
    """InputError (exit 2) naming what is missing: the case folders, or the mask files the
    demo measures (``masks/`` beside ``cases/``)."""
    where = ("" if given else
             f" (looked in ./sample_data/cases, {PACKAGE_SAMPLES} and {CHECKOUT_SAMPLES})")
    if not samples.is_dir():
        raise InputError(f"{samples}: sample cases not found{where}; pass --samples DIR, a folder "
                         "of caseN/ folders like sample_data/cases in the source repository")
    if not sample_inputs(samples):
        raise InputError(f"{samples}: no findings files (caseN/<exam>.json) in this folder; "
                         "pass --samples DIR, a folder like sample_data/cases")
    missing = [name for name in MASK_FILES if not (samples.parent / "masks" / name).is_file()]
    if missing:
        raise InputError(f"{samples.parent / 'masks'}: sample mask file(s) missing: "
                         f"{', '.join(missing)} (the demo measures them beside {samples.name}/)")


def validate_each(path: Path, tools: tuple[str, ...], progress: Progress | None = None,
                  prefix: str = "") -> ValidationResult:
    """``validate(path, tools)``, one validator at a time so that progress can name the one
    running (PixelMed takes ~10 s a file). Same result as a single call."""
    merged = ValidationResult(str(path))
    for tool in tools:
        if progress:
            progress(f"{prefix} {tool}" + (SLOW.get(tool, "")))
        one = validate(path, (tool,))
        merged.problems.extend(one.problems)
        merged.ran.extend(one.ran)
        merged.skipped.update(one.skipped)
    return merged


@dataclass
class CaseResult:
    case: str
    exam: str
    sr_path: Path
    report: Report
    roundtrip_ok: bool
    validation: ValidationResult | None


LAB_FILE = "labs.json"  # non-imaging evidence beside the findings files, not an SR


def sample_inputs(samples: Path) -> list[tuple[Path, Path, bool]]:
    """(findings JSON, source folder, patient_only) for every SR the sample cases describe:
    ``caseN/<exam>.json`` with images in ``caseN/<exam>/``; a findings file without such a
    folder (histopathology) takes only the patient, from the case folder."""
    inputs = []
    for findings in sorted(samples.glob("*/*.json")):
        if findings.name == LAB_FILE:
            continue
        images = findings.with_suffix("")
        inputs.append((findings, images, False) if images.is_dir() else (findings, findings.parent, True))
    return inputs


def run(samples: Path, out: Path, tools: tuple[str, ...], log: TextIO,
        progress: Progress | None = None) -> list[CaseResult]:
    results = []
    inputs = sample_inputs(samples)
    for n, (findings_file, source, patient_only) in enumerate(inputs, start=1):
        step = f"{n}/{len(inputs)} {findings_file.parent.name}/{findings_file.stem}:"
        if progress:
            progress(f"{step} building")
        case, report = load_findings(findings_file)
        report = with_source(report, source, patient_only=patient_only, where=str(findings_file))
        sr_path = write_sr(report, out / findings_file.parent.name / f"{findings_file.stem}.dcm")
        back = read_sr(sr_path)
        expected = report.with_findings_in_context()
        roundtrip_ok = replace(back, sr=None) == expected and not back.warnings
        validation = validate_each(sr_path, tools, progress, f"{step} validating with") if tools else None
        results.append(CaseResult(case, findings_file.stem, sr_path, back, roundtrip_ok, validation))
        if progress:
            progress.clear()
        print(f"  wrote {sr_path}", file=log)
    return results


def measure_sample(samples: Path, out: Path, tools: tuple[str, ...],
                   progress: Progress | None = None) -> str:
    """The mask path: sample lesion mask + ADC map on case 1's WB-MRI series -> SEG + SR."""
    from .masks.report import load_label_fields, measure_to_sr
    masks = samples.parent / "masks"
    if progress:
        progress("mask: measuring the sample lesion, writing SEG + SR")
    result = measure_to_sr(masks / "case1_wbmri_lesion.nii", samples / "case1" / "wbmri",
                           out / "masks", adc=masks / "case1_wbmri_adc.nii",
                           label_fields=load_label_fields(masks / "case1_wbmri_labels.json"))
    back = read_sr(result.sr_path)
    same = replace(back, sr=None) == result.report.with_findings_in_context() and not back.warnings
    verdict = "not validated"
    if tools:
        results = [validate_each(result.sr_path, tools, progress, "mask: validating the SR with"),
                   validate_each(result.seg_path, tools, progress, "mask: validating the SEG with")]
        errors = sum(len(r.errors) for r in results)
        ran = sorted({t for r in results for t in r.ran})
        verdict = (f"SR and SEG valid ({', '.join(ran)})" if not errors
                   else f"{errors} validation errors")
    (finding,) = back.findings
    # describe_finding shows the volume and the ADC (mean, min, median) itself
    return (f"mask -> {result.seg_path.name} + {result.sr_path.name}: {describe_finding(finding)}; "
            f"{verdict}; read back {'unchanged' if same else 'CHANGED'}")


def concordance_tables(samples: Path, out: Path) -> str:
    """Concordance over the written SRs plus the sample labs; writes md/html/json/csv to out."""
    from .concordance import collect_files, concordance
    from .files import write_text
    cases = sorted(p for p in out.glob("*") if p.is_dir() and p.name != "masks")
    cohort = collect_files([*cases, *sorted(samples.glob(f"*/{LAB_FILE}"))])
    report = concordance(cohort)
    for fmt in ("md", "html", "json", "csv"):
        write_text(out / f"concordance.{fmt}", report.render(fmt))
    return report.to_markdown()


def _finding_text(report: Report) -> str:
    return "; ".join(describe_finding(f) for f in report.findings) or "no findings"


def summary(results: list[CaseResult]) -> str:
    lines = [f"{'case':7} {'exam':8} {'procedure':34} {'round-trip':10} {'validation':24} findings"]
    for r in results:
        if r.validation is None:
            verdict = "not run"
        else:
            warnings = [p for p in r.validation.problems
                        if p.severity == "warning" and not is_expected_warning(p)]
            verdict = ("OK" if r.validation.ok else f"{len(r.validation.errors)} ERRORS") + \
                (f", {len(warnings)} warn" if warnings else "")
        lines.append(f"{r.case:7} {r.exam:8} {r.report.procedure:34} "
                     f"{'OK' if r.roundtrip_ok else 'MISMATCH':10} {verdict:24} {_finding_text(r.report)}")
    ran = sorted({t for r in results if r.validation for t in r.validation.ran})
    skipped = {t: why for r in results if r.validation for t, why in r.validation.skipped.items()}
    lines.append(f"validators run: {', '.join(ran) or 'none'}")
    for tool, why in sorted(skipped.items()):
        lines.append(f"validator skipped: {tool}: {why}")
    return "\n".join(lines)
