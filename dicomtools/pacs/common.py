"""Small types shared by the DIMSE and DICOMweb clients."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydicom.datadict import dictionary_VR, tag_for_keyword
from pydicom.dataset import Dataset

from ..errors import InputError

# Query levels as users say them -> DIMSE QueryRetrieveLevel.
LEVELS = {"patient": "PATIENT", "study": "STUDY", "series": "SERIES", "instance": "IMAGE"}

# Keys returned by default at each level (a query adds its own keys to these).
DEFAULT_KEYS = {
    "patient": ("PatientID", "PatientName", "NumberOfPatientRelatedStudies"),
    "study": ("StudyInstanceUID", "StudyDate", "StudyDescription", "AccessionNumber",
              "ModalitiesInStudy", "NumberOfStudyRelatedInstances", "PatientID"),
    "series": ("StudyInstanceUID", "SeriesInstanceUID", "Modality", "SeriesNumber",
               "SeriesDescription", "NumberOfSeriesRelatedInstances"),
    "instance": ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID", "SOPClassUID",
                 "InstanceNumber"),
}

# Never shown in plain (non --json) output: the CLI does not print patient identifiers.
IDENTIFYING = frozenset({"PatientName", "PatientID", "PatientBirthDate", "OtherPatientIDs",
                         "IssuerOfPatientID", "OtherPatientNames", "PatientAddress"})


@dataclass(frozen=True, slots=True)
class InstanceRef:
    """Where an instance lives: enough for a C-GET/C-MOVE at IMAGE level or a WADO-RS URL."""

    study_uid: str
    series_uid: str
    sop_uid: str
    sop_class_uid: str | None = None

    @classmethod
    def of(cls, ds: Dataset) -> InstanceRef:
        return cls(str(ds.StudyInstanceUID), str(ds.SeriesInstanceUID), str(ds.SOPInstanceUID),
                   str(ds.SOPClassUID) if ds.get("SOPClassUID") else None)


@dataclass(frozen=True, slots=True)
class StoreStatus:
    """What the PACS answered to one store: accepted or not, its status code, a message."""

    ok: bool
    code: int | None
    message: str


def check_level(level: str) -> str:
    if level not in LEVELS:
        raise InputError(f"query level {level!r}: expected one of {', '.join(LEVELS)}")
    return level


def query_dataset(level: str, query: Mapping[str, Any]) -> Dataset:
    """The C-FIND identifier for a level: default return keys plus the query's keys.

    Values are matching keys ("" = return the key, "*"/"?" wildcards, "a-b" ranges, lists for
    UID list matching); keywords are checked so a typo is an error, not a silent universal match.
    """
    check_level(level)
    ds = Dataset()
    ds.QueryRetrieveLevel = LEVELS[level]
    for keyword in DEFAULT_KEYS[level]:
        setattr(ds, keyword, "")
    for keyword, value in query.items():
        tag = tag_for_keyword(keyword)
        if tag is None:
            raise InputError(f"query key {keyword!r} is not a DICOM keyword "
                             "(e.g. StudyInstanceUID, Modality, PatientID)")
        if dictionary_VR(tag) == "SQ":
            raise InputError(f"query key {keyword!r} is a sequence; sequence matching is not supported")
        if value is None:
            value = ""
        if isinstance(value, (list, tuple)):
            value = [str(v) for v in value]
        setattr(ds, keyword, value if isinstance(value, list) else str(value))
    return ds


def to_plain(ds: Dataset) -> dict[str, Any]:
    """A query answer as JSON-ready {keyword: str | list[str] | None}, in tag order."""
    out: dict[str, Any] = {}
    for elem in ds:
        if elem.keyword in ("QueryRetrieveLevel", "SpecificCharacterSet", "RetrieveAETitle") \
                or not elem.keyword or elem.VR == "SQ":
            continue
        value = elem.value
        if value is None or value == "":
            out[elem.keyword] = None
        elif elem.VM > 1:
            out[elem.keyword] = [str(v) for v in value]
        else:
            out[elem.keyword] = str(value)
    return out
