"""The DICOM header parts of a report: patient, study, source-image references and the
identity of an SR read from file, with their JSON form and the checks of their values.

Split from :mod:`dicomtools.model`, which re-exports every name here.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, fields
from typing import Any

from .errors import InputError, show
from .values import HEADER, dicom_text, is_uid


def field_error(where: str, name: str, value: Any, expected: str) -> InputError:
    """'where: field 'name' has value ...; expected ...': the one message for a bad field."""
    return InputError(f"{where}: field '{name}' has value {show(value)}; expected {expected}")


def keys_text(keys: list[Any]) -> str:
    """Unknown keys for a message: the first five, each shown short."""
    text = ", ".join(show(k) for k in keys[:5])
    return text + (f" and {len(keys) - 5} more" if len(keys) > 5 else "")


def _is_uid(text: str) -> bool:
    """A DICOM UID (PS3.5 §9.1): digits and dots, no empty or leading-zero component."""
    return is_uid(text)


def _header_strings(obj: Any, where: str, *, hide: bool) -> None:
    """Every field of a header part (Patient, Study) as DICOM holds it: text or None, no
    control character or backslash (refused, naming the field), padding removed, blank =
    None. ``hide``: the values are patient data and are not quoted."""
    for f in fields(obj):
        object.__setattr__(obj, f.name, dicom_text(getattr(obj, f.name), where, f.name, HEADER,
                                                   hide=hide))


@dataclass(frozen=True, slots=True)
class Patient:
    """Patient context, taken from the source images (or an SR when read)."""

    id: str | None = None
    name: str | None = None
    issuer: str | None = None
    birth_date: str | None = None
    sex: str | None = None

    def __post_init__(self) -> None:
        _header_strings(self, "patient", hide=True)


@dataclass(frozen=True, slots=True)
class Study:
    """Study context: the SR joins the study of the images it reports on."""

    instance_uid: str | None = None
    date: str | None = None
    time: str | None = None
    id: str | None = None
    accession_number: str | None = None
    description: str | None = None
    patient_age: str | None = None

    def __post_init__(self) -> None:
        _header_strings(self, "study", hide=False)


# What a study given in a findings file must look like (PS3.5 §6.2: DA, TM, SH, LO, AS, UI).
_STUDY_FORMATS = {
    "instance_uid": (None, "a DICOM UID"),
    "date": (re.compile(r"[0-9]{8}"), "a DICOM date YYYYMMDD"),
    "time": (re.compile(r"[0-9]{2}(?:[0-9]{2}(?:[0-9]{2}(?:\.[0-9]{1,6})?)?)?"), "a DICOM time HHMMSS"),
    "id": (re.compile(r".{1,16}"), "at most 16 characters"),
    "accession_number": (re.compile(r".{1,16}"), "at most 16 characters"),
    "description": (re.compile(r".{1,64}", re.DOTALL), "at most 64 characters"),
    "patient_age": (re.compile(r"[0-9]{3}[DWMY]"), "an age such as 005Y, 011M"),
}


def _check_study(study: Study, where: str) -> None:
    for name, (pattern, expected) in _STUDY_FORMATS.items():
        value = getattr(study, name)
        if value is None:
            continue
        ok = is_uid(value) if pattern is None else pattern.fullmatch(value) is not None
        if not ok:
            raise field_error(f"{where}: study", name, value, expected)


@dataclass(frozen=True, slots=True)
class ImageRef:
    """A referenced source image (Image Library + evidence)."""

    sop_class_uid: str
    sop_instance_uid: str
    series_instance_uid: str
    study_instance_uid: str

    def __post_init__(self) -> None:
        for f in fields(self):
            if not isinstance(getattr(self, f.name), str):
                raise field_error("source image", f.name, getattr(self, f.name), "a DICOM UID")


@dataclass(frozen=True, slots=True)
class SRIdentity:
    """Where an SR read from file came from (filled by the reader, ignored by the writer)."""

    sop_instance_uid: str
    series_instance_uid: str
    sop_class_uid: str
    content_date: str | None = None
    content_time: str | None = None
    timezone_offset: str | None = None  # Timezone Offset From UTC, "+0100"
    manufacturer: str | None = None  # of the equipment that wrote the SR
    model_name: str | None = None


def header_part(cls: Any, data: Any, where: str, *, required: bool = False) -> Any:
    """A Patient, Study, ImageRef or SRIdentity from its JSON object, naming what is wrong."""
    if data is None and not required:
        return cls()
    if not isinstance(data, dict):
        raise InputError(f"{where}: expected a JSON object, got {show(data)}")
    known = [f.name for f in fields(cls)]
    unknown = sorted(set(data) - set(known), key=str)
    if unknown:
        raise InputError(f"{where}: unknown key(s) {keys_text(unknown)}; known keys: {', '.join(known)}")
    missing = [f.name for f in fields(cls)
               if f.name not in data and f.default is dataclasses.MISSING]
    if missing:
        raise InputError(f"{where}: field(s) {', '.join(missing)} required")
    try:
        return cls(**data)
    except InputError as exc:
        message = str(exc)
        for label in ("patient:", "study:", "source image:"):
            if message.startswith(label):
                message = message[len(label):].lstrip()
                break
        raise InputError(f"{where}: {message}") from None


def plain_fields(obj: Any) -> dict[str, Any]:
    return {f.name: getattr(obj, f.name) for f in fields(obj)}
