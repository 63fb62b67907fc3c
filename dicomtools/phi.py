"""What may be printed: patient values masked, file names escaped.

Two kinds of text reach our output that we did not write ourselves:

- **Messages of other programs and libraries** (dciodvfy, dsrdump, PixelMed, pydicom warnings).
  They quote attribute values, e.g. dciodvfy's
  ``Error - Value invalid for this VR - (0x0010,0x0020) LO Patient ID  LO [1] = <DOE123…> - …``.
  :func:`mask_line` replaces the value of every patient attribute (group 0010 — Patient's Name,
  Patient ID, Issuer, Birth Date and Time, Other Patient IDs and Names, Address, … — plus the
  other person names and identifiers listed in :data:`IDENTIFYING_TAGS`) with ``<***>``, keeping
  the rest of the message: ``… Patient ID  LO [1] = <***> - Length invalid for this VR = 80, …``.
  Values known from the dataset itself (:func:`patient_values`) are masked wherever they occur,
  whatever the message format. :func:`mask_library_message` masks every quoted value of a
  library warning, which does not say which attribute it is about.
- **File names.** They are bytes chosen by whoever filled the folder: not necessarily UTF-8,
  possibly holding newlines or terminal escapes. :func:`printable` turns them (or any text) into
  one printable line: undecodable bytes become ``\\xNN``, control and other non-printable
  characters ``\\n``, ``\\t``, ``\\x1b``, ``\\u202e``. The result always encodes as UTF-8.
"""

from __future__ import annotations

import logging
import os
import re
import warnings
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

# Person names and identifiers outside group 0010 (which is masked as a whole).
IDENTIFYING_TAGS = {
    (0x0008, 0x0050): ("AccessionNumber", "Accession Number"),
    (0x0008, 0x0090): ("ReferringPhysicianName", "Referring Physician's Name"),
    (0x0008, 0x1048): ("PhysiciansOfRecord", "Physician(s) of Record"),
    (0x0008, 0x1050): ("PerformingPhysicianName", "Performing Physician's Name"),
    (0x0008, 0x1060): ("NameOfPhysiciansReadingStudy", "Name of Physician(s) Reading Study"),
    (0x0008, 0x1070): ("OperatorsName", "Operators' Name"),
    (0x0032, 0x1032): ("RequestingPhysician", "Requesting Physician"),
    (0x0038, 0x0010): ("AdmissionID", "Admission ID"),
    (0x0040, 0xA075): ("VerifyingObserverName", "Verifying Observer Name"),
    (0x0040, 0xA123): ("PersonName", "Person Name"),
}
# Attributes of group 0010 named without their tag (dciodvfy: "attribute <Patient's Sex>",
# dsrdump: "PatientName (0010,0010)"); the tag forms are matched by _TAG below.
PATIENT_NAMES = (
    "Patient's Name", "Patient ID", "Issuer of Patient ID", "Patient's Birth Date",
    "Patient's Birth Time", "Patient's Sex", "Other Patient IDs", "Other Patient Names",
    "Other Patient IDs Sequence", "Patient's Birth Name", "Patient's Age", "Patient's Address",
    "Patient's Mother's Birth Name", "Patient's Telephone Numbers", "Medical Record Locator",
    "Patient Comments", "Type of Patient ID", "Issuer of Patient ID Qualifiers Sequence",
    "Patient's Primary Language Code Sequence", "Responsible Person", "Ethnic Group",
    "Military Rank", "Branch of Service", "Country of Residence", "Region of Residence",
    "Patient's Insurance Plan Code Sequence", "Patient Religious Preference",
)
PATIENT_KEYWORDS = (
    "PatientName", "PatientID", "IssuerOfPatientID", "PatientBirthDate", "PatientBirthTime",
    "PatientSex", "OtherPatientIDs", "OtherPatientNames", "OtherPatientIDsSequence",
    "PatientBirthName", "PatientAge", "PatientAddress", "PatientMotherBirthName",
    "PatientTelephoneNumbers", "MedicalRecordLocator", "PatientComments", "TypeOfPatientID",
    "ResponsiblePerson", "EthnicGroup", "MilitaryRank", "BranchOfService",
    "CountryOfResidence", "RegionOfResidence", "PatientReligiousPreference",
)
MASK = "***"

_EXTRA_TAGS = "|".join(f"{g:04x},(?:0x)?{e:04x}" for g, e in IDENTIFYING_TAGS)
# (0x0010,0x0020) as dciodvfy writes it, (0010,0020) as DCMTK and PixelMed do.
_TAG = re.compile(rf"\((?:0x)?(?:0010,(?:0x)?[0-9a-f]{{4}}|{_EXTRA_TAGS})\)", re.IGNORECASE)
_NAMES = re.compile(
    r"(?<![A-Za-z])(?:" + "|".join(re.escape(n) for n in sorted(
        (*PATIENT_NAMES, *PATIENT_KEYWORDS,
         *(k for k, _ in IDENTIFYING_TAGS.values()), *(n for _, n in IDENTIFYING_TAGS.values())),
        key=len, reverse=True)) + r")(?![A-Za-z])")
# Where values stand in validator messages.
_INDEXED = re.compile(r"(\[\d+\] = <).*(>(?= - |\s*$))")          # dciodvfy: PN [1] = <…>
_INDEXED_OPEN = re.compile(r"(\[\d+\] = <).*$")                    # … with no closing >
_CHAR = re.compile(r"(= ')(?:.|\n)?(' \(0x[0-9a-f]+\))", re.IGNORECASE)  # = 'x' (0x78)
_ENUM = re.compile(r"((?:value|term) <)[^>]*(> for value)")        # Unrecognized … <X> for value 1
_DCMTK_VALUE = re.compile(r"(\[)(?!\d+\])[^\]]*(\])")              # DCMTK dumps: PN [Doe^John]
_QUOTED = re.compile(r"""(?<![A-Za-z])(?:(')[^']*(')|(")[^"]*("))(?![A-Za-z])""")
_EQUALS = re.compile(r"((?:value|Value)\s*[=:]\s*)(\S.*)$")         # "value = Doe^John"


def names_patient_attribute(line: str) -> bool:
    """Does this message speak about a patient attribute (or another person name / ID)?"""
    return bool(_TAG.search(line) or _NAMES.search(line))


def _mask_known(text: str, values: Iterable[str]) -> str:
    """Each value where it stands as a whole word: a name part "S R" is masked in "S R^Test",
    not inside "DS Referenced" (which would garble the message and mask nothing)."""
    ordered = sorted({v for v in values if v}, key=len, reverse=True)
    if not ordered:
        return text
    pattern = "|".join(re.escape(v) for v in ordered)
    return re.sub(rf"(?<![^\W_])(?:{pattern})(?![^\W_])", MASK, text)


def mask_line(line: str, values: Iterable[str] = ()) -> str:
    """A validator's message with the values of patient attributes replaced by ``***``.

    ``values``: the identifying values of the file being checked (:func:`patient_values`),
    masked wherever they appear. Lines about other attributes keep their values."""
    line = _mask_known(line, values)
    if not names_patient_attribute(line):
        return line
    masked, found = _INDEXED.subn(rf"\g<1>{MASK}\g<2>", line)
    if not found:
        masked = _INDEXED_OPEN.sub(rf"\g<1>{MASK}>", line)
    masked = _CHAR.sub(r"\g<1>*\g<2>", masked)
    masked = _ENUM.sub(rf"\g<1>{MASK}\g<2>", masked)
    masked = _DCMTK_VALUE.sub(rf"\g<1>{MASK}\g<2>", masked)
    masked = _QUOTED.sub(lambda m: (m.group(1) or m.group(3)) + MASK + (m.group(2) or m.group(4)),
                         masked)
    return _EQUALS.sub(rf"\g<1>{MASK}", masked)


def mask_library_message(message: str, values: Iterable[str] = ()) -> str:
    """A library warning (pydicom's UserWarning) as one line without any quoted value: such
    warnings do not name the attribute, so every quoted or bracketed value is masked."""
    message = _mask_known(" ".join(str(message).split()), values)
    message = _QUOTED.sub(lambda m: (m.group(1) or m.group(3)) + MASK + (m.group(2) or m.group(4)),
                          message)
    message = re.sub(r"<[^<>]*>", f"<{MASK}>", message)
    return printable(message)


@contextmanager
def library_warnings() -> Iterator[list[str]]:
    """Capture what libraries say while a file is read: yields a list that holds, once the
    block has ended, the text of each UserWarning raised inside (pydicom's remarks about a
    value; turn them into your own one-line warnings with :func:`mask_library_message`).
    Other warnings (deprecations) are issued again unchanged. pydicom's logger, which repeats
    each warning with the value in it, is muted meanwhile."""
    logger = logging.getLogger("pydicom")
    muted = logger.disabled
    logger.disabled = True
    messages: list[str] = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield messages
    finally:
        logger.disabled = muted
        for w in caught:
            if issubclass(w.category, UserWarning):
                if str(w.message) not in messages:
                    messages.append(str(w.message))
            else:
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)


def _is_identifying(tag: int) -> bool:
    group, element = tag >> 16, tag & 0xFFFF
    return group == 0x0010 or (group, element) in IDENTIFYING_TAGS


def patient_values(ds, min_length: int = 3) -> tuple[str, ...]:
    """The identifying values held by a pydicom Dataset (group 0010 and IDENTIFYING_TAGS), as
    the strings a tool may print: whole values, each value of a multi-valued one, and each
    name component of at least ``min_length`` characters. Read from the raw bytes, so reading
    them raises no pydicom validation warning; sequences are searched too."""
    found: set[str] = set()

    def add(text: str) -> None:
        text = text.strip(" \x00")
        if len(text) >= min_length:
            found.add(text)
            found.add(printable(text))

    def visit(dataset, depth: int = 0) -> None:
        if depth > 8:
            return
        for tag in list(dataset.keys()):
            if not _is_identifying(int(tag)):
                continue
            try:
                elem = dataset.get_item(tag)
                raw = getattr(elem, "value", None)
                if elem is not None and getattr(elem, "VR", None) == "SQ" and not isinstance(
                        raw, (bytes, bytearray)):
                    for item in raw or ():
                        visit(item, depth + 1)
                    continue
                if isinstance(raw, (bytes, bytearray)):
                    text = bytes(raw).decode("latin-1")
                    also = bytes(raw).decode("utf-8", "replace")
                else:
                    text = also = str(raw if raw is not None else "")
            except Exception:  # a damaged element: nothing to mask from it
                continue
            for whole in {text, also, re.sub(r"[\x00-\x1f\x7f]", "", text)}:
                add(whole)
                for value in whole.split("\\"):
                    add(value)
                    for part in re.split(r"[\^=]", value):
                        add(part)
    try:
        visit(ds)
    except Exception:
        pass
    return tuple(sorted(found, key=len, reverse=True))


def printable(text: str | bytes | os.PathLike[str] | os.PathLike[bytes]) -> str:
    """Any text or file name as one printable line that always encodes as UTF-8.

    Bytes that are not UTF-8 (in a ``str`` from the OS they are lone surrogates, PEP 383)
    become ``\\xNN``; newline, tab, other control characters and invisible format characters
    become ``\\n``, ``\\t``, ``\\xNN`` or ``\\uNNNN``. Printable text is returned unchanged."""
    raw = os.fspath(text)  # a str or bytes is returned as it is
    text = raw.decode("utf-8", "surrogateescape") if isinstance(raw, bytes) else raw
    if text.isprintable():
        return text
    out = []
    for ch in text:
        code = ord(ch)
        if ch.isprintable():
            out.append(ch)
        elif 0xDC80 <= code <= 0xDCFF:  # surrogateescape: the undecodable byte itself
            out.append(f"\\x{code - 0xDC00:02x}")
        elif ch in "\n\t\r":
            out.append({"\n": "\\n", "\t": "\\t", "\r": "\\r"}[ch])
        elif code < 0x100:
            out.append(f"\\x{code:02x}")
        elif code < 0x10000:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    return "".join(out)
