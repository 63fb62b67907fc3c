"""Source images -> patient/study context and image references for an SR.

The SR joins the study of the images it reports on, so the patient and study come from them,
never from the findings file. Mixed patients or studies are refused: an SR belongs to one.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

import pydicom
from pydicom.errors import InvalidDicomError

from .errors import InputError, SourceError
from .model import ImageRef, Patient, Report, Study

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
        raise SourceError(f"{path}: no such file or directory")
    return sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith("."))


def _text(ds, keyword: str) -> str | None:
    value = ds.get(keyword)
    return None if value in (None, "") else str(value)


def load_source(path: str | os.PathLike) -> SourceContext:
    """Read the headers of every DICOM file under ``path`` (pixel data is not read)."""
    root = Path(path)
    images: list[ImageRef] = []
    skipped: list[str] = []
    first = None
    first_file = None
    modalities: set[str] = set()
    for file in _files(root):
        try:
            ds = pydicom.dcmread(file, stop_before_pixels=True, specific_tags=_HEADER_TAGS)
        except (InvalidDicomError, EOFError, OSError, ValueError):
            skipped.append(str(file))
            continue
        if "SOPInstanceUID" not in ds or "StudyInstanceUID" not in ds:
            skipped.append(str(file))
            continue
        if str(ds.SOPClassUID).startswith("1.2.840.10008.5.1.4.1.1.88."):
            skipped.append(str(file))  # an SR is not a source image
            continue
        if first is None:
            first, first_file = ds, file
        else:
            for keyword, what in (("PatientID", "patient"), ("IssuerOfPatientID", "patient issuer"),
                                  ("StudyInstanceUID", "study")):
                if ds.get(keyword) != first.get(keyword):
                    # Name the files, not the identifiers (no patient data in messages).
                    raise SourceError(f"{root}: images of more than one {what} "
                                      f"({first_file.name} and {file.name} differ in {keyword}); "
                                      "an SR reports on one study of one patient")
        images.append(ImageRef(str(ds.SOPClassUID), str(ds.SOPInstanceUID),
                               str(ds.SeriesInstanceUID), str(ds.StudyInstanceUID)))
        if ds.get("Modality"):
            modalities.add(str(ds.Modality))
    if first is None:
        raise SourceError(f"{root}: no DICOM image found")
    patient = Patient(id=_text(first, "PatientID"), name=_text(first, "PatientName"),
                      issuer=_text(first, "IssuerOfPatientID"),
                      birth_date=_text(first, "PatientBirthDate"), sex=_text(first, "PatientSex"))
    study = Study(instance_uid=str(first.StudyInstanceUID), date=_text(first, "StudyDate"),
                  time=_text(first, "StudyTime"), id=_text(first, "StudyID"),
                  accession_number=_text(first, "AccessionNumber"),
                  description=_text(first, "StudyDescription"),
                  patient_age=_text(first, "PatientAge"))
    return SourceContext(patient, study, tuple(images), tuple(sorted(modalities)), tuple(skipped))


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


def vars_of(obj) -> dict:
    return {name: getattr(obj, name) for name in obj.__dataclass_fields__}
