"""Codes, identifiers and references shared by the FHIR export and import (no fhir.resources).

DICOM coding scheme designators become FHIR code system URIs (PS3.16 Table 8-1 and HL7
terminology); a designator without a known URI (a private ``99...`` scheme, an unlisted one)
is kept unchanged inside ``urn:dicom:coding-scheme:<designator>``, dicomtools' own convention,
so it comes back exactly. A designator that differs from the canonical one of its system
(``SRT`` for SNOMED CT) travels in a Coding extension, for the same reason.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from ..errors import InputError, show
from ..vocab import Code

#: The IG's canonical base, and the base of dicomtools' own extensions (documented in
#: docs/fhir.md; a placeholder domain until the project publishes its profiles).
IG = "http://hl7.org/fhir/uv/dicom-sr/StructureDefinition/"
EXT = "https://dicomtools.invalid/fhir/StructureDefinition/"
EXT_FIELD = EXT + "finding-field"          # valueCode: which Finding/Report field this holds
EXT_CONTENT = EXT + "sr-content"           # valueString: SR content kept as it is (JSON)
EXT_PROCEDURE = EXT + "procedure-reported"  # valueCodeableConcept
EXT_MODALITY = EXT + "modality"            # valueCoding (DCM modality)
EXT_INDICATION = EXT + "indication"        # valueString (Reason for Visit)
EXT_CONTENT_DATE = EXT + "content-date"    # valueDate
EXT_STUDY = EXT + "study"                  # valueString: study attributes (JSON)
EXT_CONTENT_TIME = EXT + "content-time"    # valueString: the SR's Content Time (DICOM TM)
EXT_TIMEZONE = EXT + "timezone-offset"     # valueString: Timezone Offset From UTC ("+0100")
EXT_EQUIPMENT = EXT + "equipment"          # valueString: manufacturer and model name (JSON)
EXT_DESIGNATOR = EXT + "coding-scheme-designator"  # valueString on a Coding

SYSTEMS: dict[str, str] = {
    "SCT": "http://snomed.info/sct",
    "DCM": "http://dicom.nema.org/resources/ontology/DCM",
    "UCUM": "http://unitsofmeasure.org",
    "LN": "http://loinc.org",
    "RADLEX": "http://radlex.org",
    "UMLS": "http://terminology.hl7.org/CodeSystem/umls",
    "NCIt": "http://ncicb.nci.nih.gov/xml/owl/EVS/Thesaurus.owl",
    "ICDO3": "http://terminology.hl7.org/CodeSystem/icd-o-3",
    "RFC5646": "urn:ietf:bcp:47",
    "ISO3166_1": "urn:iso:std:iso:3166",
    "FMA": "http://purl.org/sig/ont/fma",
    "MDC": "urn:iso:std:iso:11073:10101",
    "I10": "http://hl7.org/fhir/sid/icd-10",
    "RXNORM": "http://www.nlm.nih.gov/research/umls/rxnorm",
}
# Retired designators of the same system (written with the system, the designator kept).
_ALIASES = {"SRT": "SCT", "SNM3": "SCT", "99SDM": "SCT"}
_DESIGNATOR = {system: scheme for scheme, system in SYSTEMS.items()}
_DESIGNATOR["http://www.radlex.org"] = "RADLEX"  # older FHIR spelling, read only
LOCAL_PREFIX = "urn:dicom:coding-scheme:"
DICOM_UID = "urn:dicom:uid"
SOP_CLASS_SYSTEM = "https://dicom.nema.org/medical/dicom/current/output/chtml/part04/sect_B.5"
ACSN = {"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "ACSN",
        "display": "Accession ID"}
STUDY_UID_TYPE = {"system": SYSTEMS["DCM"], "code": "110180", "display": "Study Instance UID"}

_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://dicomtools.invalid/fhir")


def system_of(scheme: str) -> str:
    """The FHIR code system URI of a DICOM coding scheme designator."""
    canonical = _ALIASES.get(scheme, scheme)
    return SYSTEMS.get(canonical) or LOCAL_PREFIX + scheme


def coding(code: Code) -> dict[str, Any]:
    """A FHIR Coding of a DICOM code; display = the code meaning, exactly."""
    out: dict[str, Any] = {"system": system_of(code.scheme), "code": code.value,
                           "display": code.meaning}
    if code.scheme in _ALIASES:
        out["extension"] = [{"url": EXT_DESIGNATOR, "valueString": code.scheme}]
    return out


def concept(code: Code) -> dict[str, Any]:
    """A CodeableConcept holding one Coding."""
    return {"coding": [coding(code)]}


def code_of(data: Any, where: str) -> Code:
    """The DICOM code of a FHIR Coding (a CodeableConcept: its first Coding)."""
    if isinstance(data, dict) and "coding" in data:
        codings = data.get("coding") or []
        if not codings:
            raise InputError(f"{where}: a CodeableConcept without a coding")
        data = codings[0]
    if not isinstance(data, dict):
        raise InputError(f"{where}: expected a Coding, got {type(data).__name__}")
    system, value = data.get("system"), data.get("code")
    if not isinstance(system, str) or not isinstance(value, str):
        raise InputError(f"{where}: a Coding needs 'system' and 'code'")
    scheme = _DESIGNATOR.get(system.rstrip("/"))
    if scheme is None:
        if not system.startswith(LOCAL_PREFIX):
            raise InputError(f"{where}: code system {show(system)} has no DICOM coding scheme "
                             f"designator (known: {', '.join(sorted(SYSTEMS))}, or "
                             f"{LOCAL_PREFIX}<designator>)")
        scheme = system[len(LOCAL_PREFIX):]
    for ext in data.get("extension") or ():
        if isinstance(ext, dict) and ext.get("url") == EXT_DESIGNATOR:
            scheme = str(ext.get("valueString"))
    meaning = data.get("display") or value
    return Code(value, scheme, meaning)


def uid_value(uid: str) -> str:
    """A DICOM UID as FHIR identifier value (``urn:oid:``)."""
    return "urn:oid:" + uid


def uid_from(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise InputError(f"{where}: expected a DICOM UID, got {type(value).__name__}")
    return value[len("urn:oid:"):] if value.startswith("urn:oid:") else value


def full_url(seed: str, path: str) -> str:
    """A reproducible ``urn:uuid`` for the resource at ``path`` of the SR ``seed``."""
    return "urn:uuid:" + str(uuid.uuid5(_NAMESPACE, f"{seed}/{path}"))


def extension(url: str, **value: Any) -> dict[str, Any]:
    return {"url": url, **value}


def ext_value(resource: dict[str, Any], url: str, key: str) -> Any:
    """The value ``key`` of the first extension ``url`` of a resource (or element), or None."""
    for ext in resource.get("extension") or ():
        if isinstance(ext, dict) and ext.get("url") == url:
            return ext.get(key)
    return None


def content_json(nodes: Any) -> str:
    """SR content (ContentNode JSON) as the text of an extension: compact, keys sorted."""
    return json.dumps(nodes, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
