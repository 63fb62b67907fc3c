"""Source images -> patient/study context and image references for an SR.

The SR joins the study of the images it reports on, so the patient and study come from them,
never from the findings file. Mixed patients or studies are refused: an SR belongs to one.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

import pydicom
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError
from pydicom.uid import generate_uid

from .errors import InputError, SourceError
from .model import ImageRef, Patient, Report, Study
from .phi import printable

_HEADER_TAGS = [
    "SOPClassUID", "SOPInstanceUID", "SeriesInstanceUID", "StudyInstanceUID", "Modality",
    "PatientID", "PatientName", "IssuerOfPatientID", "PatientBirthDate", "PatientSex",
    "PatientAge", "StudyDate", "StudyTime", "StudyID", "AccessionNumber", "StudyDescription",
]


@dataclass(frozen=True)
class SourceContext:
    """What an SR takes from its source images."""

    patient: Patient
    study: Study
    images: tuple[ImageRef, ...]
    modalities: tuple[str, ...]
    skipped: tuple[str, ...]  # files that were not DICOM images (named, never silently dropped)


def _files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise SourceError(f"{printable(path)}: no such file or directory")
    return sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith("."))


def _relative(file: Path, root: Path) -> str:
    try:
        return str(file.relative_to(root)) if root.is_dir() else file.name
    except ValueError:
        return str(file)


def _text(ds: Dataset, keyword: str) -> str | None:
    value = ds.get(keyword)
    return None if value in (None, "") else str(value)


def _check_one_patient(root: Path, headers: list[tuple[Path, Dataset]]) -> None:
    first_file, first = headers[0]
    for file, ds in headers[1:]:
        for keyword, what in (("PatientID", "patient"), ("IssuerOfPatientID", "patient issuer")):
            if ds.get(keyword) != first.get(keyword):
                # Name the files, not the identifiers (no patient data in messages).
                raise SourceError(f"{printable(root)}: images of more than one {what} "
                                  f"({_relative(first_file, root)} and {_relative(file, root)} "
                                  f"differ in {keyword}); an SR reports on one patient")


def _context(headers: list[tuple[Path, Dataset]], skipped: list[str]) -> SourceContext:
    first_file, first = headers[0]
    try:
        return _context_of(first, headers, skipped)
    except InputError as exc:  # a header value DICOM cannot carry on: the images are unusable
        raise SourceError(f"{printable(first_file)}: {exc}") from exc


def _context_of(first: Dataset, headers: list[tuple[Path, Dataset]], skipped: list[str]) -> SourceContext:
    images = tuple(ImageRef(str(ds.SOPClassUID), str(ds.SOPInstanceUID), str(ds.SeriesInstanceUID),
                            str(ds.StudyInstanceUID)) for _, ds in headers)
    modalities = tuple(sorted({str(ds.Modality) for _, ds in headers if ds.get("Modality")}))
    patient = Patient(id=_text(first, "PatientID"), name=_text(first, "PatientName"),
                      issuer=_text(first, "IssuerOfPatientID"),
                      birth_date=_text(first, "PatientBirthDate"), sex=_text(first, "PatientSex"))
    study = Study(instance_uid=str(first.StudyInstanceUID), date=_text(first, "StudyDate"),
                  time=_text(first, "StudyTime"), id=_text(first, "StudyID"),
                  accession_number=_text(first, "AccessionNumber"),
                  description=_text(first, "StudyDescription"),
                  patient_age=_text(first, "PatientAge"))
    return SourceContext(patient, study, images, modalities, tuple(skipped))


def _read_headers(root: Path) -> tuple[list[tuple[Path, Dataset]], list[str]]:
    headers: list[tuple[Path, Dataset]] = []
    skipped: list[str] = []
    for file in _files(root):
        try:
            ds = pydicom.dcmread(file, stop_before_pixels=True, specific_tags=_HEADER_TAGS)
        except (InvalidDicomError, EOFError, OSError, ValueError):
            skipped.append(str(file))
            continue
        if ("SOPInstanceUID" not in ds or "StudyInstanceUID" not in ds
                or str(ds.get("SOPClassUID", "")).startswith("1.2.840.10008.5.1.4.1.1.88.")):
            skipped.append(str(file))  # not an image (an SR is not a source image)
            continue
        headers.append((file, ds))
    if not headers:
        raise SourceError(f"{printable(root)}: no DICOM image found")
    return headers, skipped


def load_studies(path: str | os.PathLike) -> list[SourceContext]:
    """One context per study found under ``path`` (e.g. a patient folder holding the WB-MRI
    and the mIBG study), ordered by study date. All must belong to one patient."""
    root = Path(path)
    headers, skipped = _read_headers(root)
    _check_one_patient(root, headers)
    by_study: dict[str, list[tuple[Path, Dataset]]] = {}
    for file, ds in headers:
        by_study.setdefault(str(ds.StudyInstanceUID), []).append((file, ds))
    contexts = [_context(group, skipped) for group in by_study.values()]
    return sorted(contexts, key=lambda c: (c.study.date or "", c.study.time or ""))


def load_source(path: str | os.PathLike) -> SourceContext:
    """Patient, study and image references of the one study under ``path`` (headers only)."""
    root = Path(path)
    studies = load_studies(root)
    if len(studies) > 1:
        raise SourceError(f"{printable(root)}: images of more than one study ({len(studies)} studies); "
                          "an SR reports on one study: point to that study's folder")
    return studies[0]


def attach_source(report: Report, context: SourceContext, where: str = "findings") -> Report:
    """The report with patient, study and image references taken from the source images.

    A findings file that names a patient or study of its own must agree with the images.
    """
    for label, given, found in (("patient", report.patient, context.patient),
                                ("study", report.study, context.study)):
        for key, value in vars_of(given).items():
            if value is not None and value != vars_of(found).get(key):
                raise InputError(f"{where}: {label}.{key} differs from the source images; "
                                 "remove it from the findings file or use the right images")
    if report.modality and context.modalities and report.modality not in context.modalities:
        raise InputError(f"{where}: procedure {report.procedure!r} is {report.modality}, but the "
                         f"source images are {', '.join(context.modalities)}")
    return replace(report, patient=context.patient, study=context.study,
                   source_images=context.images)


def attach_patient(report: Report, context: SourceContext, where: str = "findings") -> Report:
    """The report with the patient of the source images, keeping its own study (no images)."""
    for key, value in vars_of(report.patient).items():
        if value is not None and value != vars_of(context.patient).get(key):
            raise InputError(f"{where}: patient.{key} differs from the source images")
    if report.study.instance_uid in {ref.study_instance_uid for ref in context.images}:
        raise InputError(f"{where}: a report without images cannot join an imaging study")
    study = replace(report.study, instance_uid=report.study.instance_uid or generate_uid())
    return replace(report, patient=context.patient, study=study)


def vars_of(obj) -> dict:
    return {name: getattr(obj, name) for name in obj.__dataclass_fields__}
