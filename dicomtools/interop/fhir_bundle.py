"""The checks of a FHIR Bundle that come before its mapping (:mod:`.fhir_import`): resource
types, unique fullUrls, references that resolve, and JSON kept inside an extension's text.

Every error is an InputError naming the bundle file, the entry and the element; a value is
quoted only when it cannot be patient data, and then bounded (:func:`errors.show`).
"""

from __future__ import annotations

import json
import re
from typing import Any

from ..errors import InputError, show
from ..values import MAX_TREE_DEPTH
from .fhir_codes import EXT_FIELD, ext_value

#: Resource types a bundle may hold: the IG's profiles (Observation, ImagingSelection,
#: BodyStructure, Device, Practitioner), what it references (Patient, ImagingStudy,
#: ServiceRequest) and our optional DiagnosticReport. The referenced ones are not read.
READ_TYPES = ("Observation", "ImagingSelection", "BodyStructure")
IGNORED_TYPES = ("DiagnosticReport", "Device", "Practitioner", "Patient", "ImagingStudy",
                 "ServiceRequest")
#: Elements of a read resource that reference another entry (each is followed on import).
REFERENCES = ("derivedFrom", "hasMember", "bodyStructure", "focus")
#: Deepest JSON kept in an extension's text: content items nest an object and a list per
#: level, below the template's own levels (as the SR reader bounds the tree it reads).
MAX_JSON_DEPTH = 2 * MAX_TREE_DEPTH + 8
# A RESTful reference to a resource on a server ("ImagingStudy/123", or the absolute URL of
# one), which a bundle may hold without the resource; one to a type import reads must be an
# entry.
_SERVER_REFERENCE = re.compile(r"(?:https?://[^\s/]+(?:/[^\s/]+)*/)?([A-Z][A-Za-z]{1,63})/"
                               r"[A-Za-z0-9\-.]{1,64}(?:/_history/[A-Za-z0-9\-.]{1,64})?")


def kind_of(value: Any) -> str:
    """What a JSON value is, for a message that must not quote it."""
    return {dict: "an object", list: "a list", bool: "a boolean", type(None): "null",
            str: "a string"}.get(type(value), "a number")


def check_types(bundle: dict[str, Any], where: str) -> None:
    """Refuse, before anything else, an entry whose resource the IG does not define. A type
    name is quoted (bounded); any other value is named by its JSON path only (an object or a
    list may hold patient data)."""
    entries = bundle.get("entry")
    if entries is not None and not isinstance(entries, list):
        raise InputError(f"{where}: field 'entry' must be a list")
    expected = f"expected one of {', '.join(READ_TYPES + IGNORED_TYPES)}"
    for i, entry in enumerate(entries or ()):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        kind = resource.get("resourceType") if isinstance(resource, dict) else None
        if kind in READ_TYPES + IGNORED_TYPES:
            continue
        if not isinstance(resource, dict) or "resourceType" not in resource:
            raise InputError(f"{where}: entry[{i}] has no resource with a resourceType ({expected})")
        if not isinstance(kind, str):
            raise InputError(f"{where}: entry[{i}].resource.resourceType is {kind_of(kind)}, not "
                             f"a resource type name ({expected})")
        name = kind if kind.isidentifier() and len(kind) <= 64 else show(kind)
        raise InputError(f"{where}: entry[{i}] is a {name} resource, which the DICOM SR IG does "
                         f"not define ({expected})")


def json_text(text: Any, where: str, extension: str) -> Any:
    """The JSON an extension's ``valueString`` holds (None when there is none), nested at most
    MAX_JSON_DEPTH levels: deeper JSON is refused before anything walks it."""
    if text is None:
        return None
    try:
        data = json.loads(text)
    except RecursionError:
        raise InputError(f"{where}: extension {extension} holds JSON nested deeper than "
                         f"{MAX_JSON_DEPTH} levels") from None
    except (TypeError, ValueError) as exc:
        raise InputError(f"{where}: extension {extension} is not JSON ({exc})") from None
    stack = [(data, 1)]
    while stack:  # iterative: the depth is what is being bounded
        value, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise InputError(f"{where}: extension {extension} holds JSON nested deeper than "
                             f"{MAX_JSON_DEPTH} levels")
        children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
        stack.extend((c, depth + 1) for c in children if isinstance(c, (dict, list)))
    return data


class Bundle:
    """The entries import reads, by fullUrl, once checked: fullUrls unique (FHIR bdl-7: the
    same fullUrl twice needs distinct meta.versionId), and every reference a read resource
    makes (``REFERENCES``) resolving to an entry."""

    def __init__(self, bundle: dict[str, Any], where: str):
        self.where = where
        self.by_url: dict[str, tuple[int, dict[str, Any]]] = {}
        self.url_of: dict[int, str] = {}  # id(resource) -> fullUrl
        self.order: list[tuple[int, dict[str, Any]]] = []
        self.warnings: list[str] = []
        seen: dict[tuple[str, Any], int] = {}
        for i, entry in enumerate(bundle.get("entry") or ()):
            resource = entry.get("resource") if isinstance(entry, dict) else None
            if not isinstance(resource, dict):
                raise InputError(f"{where}: entry[{i}] has no resource")
            url = entry.get("fullUrl")
            if isinstance(url, str):
                version = (resource.get("meta") or {}).get("versionId")
                if (url, version) in seen:
                    raise InputError(f"{self.at(i)}: fullUrl {show(url)} is that of entry"
                                     f"[{seen[url, version]}] too (a bundle's fullUrls are "
                                     "unique, FHIR bdl-7)")
                seen[url, version] = i
            if resource.get("resourceType") not in READ_TYPES:
                continue
            if isinstance(url, str):
                self.by_url[url] = (i, resource)
                self.url_of[id(resource)] = url
            self.order.append((i, resource))
        urls = {url for url, _ in seen}
        for i, resource in self.order:
            self._check_references(i, resource, urls)

    def _check_references(self, i: int, resource: dict[str, Any], urls: set[str]) -> None:
        for name in REFERENCES:
            refs = resource.get(name)
            for k, ref in enumerate(refs if isinstance(refs, list) else [refs] if refs else []):
                url = ref.get("reference") if isinstance(ref, dict) else None
                if url is None or url in urls:
                    continue  # by identifier (the ImagingStudy), or an entry
                server = _SERVER_REFERENCE.fullmatch(url) if isinstance(url, str) else None
                if server and server.group(1) not in READ_TYPES:
                    continue  # a resource on a server, which import does not read
                at = f"{name}[{k}]" if isinstance(refs, list) else name
                raise InputError(f"{self.at(i)}: {at}: reference {show(url)} is not an entry of "
                                 "the bundle")

    def at(self, i: int) -> str:
        return f"{self.where}: entry[{i}]"

    def get(self, ref: Any, where: str) -> tuple[int, dict[str, Any]]:
        url = ref.get("reference") if isinstance(ref, dict) else None
        if not isinstance(url, str) or url not in self.by_url:
            raise InputError(f"{where}: reference {show(url)} is not an entry of the bundle "
                             f"that import reads ({', '.join(READ_TYPES)})")
        return self.by_url[url]

    def sources(self, resource: dict[str, Any]) -> list[str]:
        return [r["reference"] for r in resource.get("derivedFrom") or ()
                if isinstance(r, dict) and isinstance(r.get("reference"), str)]


def field_of(resource: dict[str, Any]) -> str | None:
    """The Finding / Report field a resource holds (our finding-field extension), or None."""
    value = ext_value(resource, EXT_FIELD, "valueCode")
    return value if isinstance(value, str) else None


def check_sources(b: Bundle, sources: list[tuple[int, dict[str, Any]]]) -> None:
    """One source selection per SR: the same SR twice would be read (and written) twice."""
    seen: dict[str, int] = {}
    for i, source in sources:
        uid = ((source.get("instance") or [{}])[0] or {}).get("uid")
        if isinstance(uid, str) and uid in seen:
            raise InputError(f"{b.at(i)}: the source SR of entry[{seen[uid]}] again (SOP "
                             f"Instance UID {show(uid)}); a bundle holds each SR once")
        if isinstance(uid, str):
            seen[uid] = i


#: finding-field tags of the Observations that are members of a group (never read alone).
MEMBER_FIELDS = frozenset(("dimensions_mm", "extent_mm", "volume_ml", "adc_value", "adc_min",
                           "adc_median", "laterality", "vertebral_levels", "measurements",
                           "evaluations", "present", "certainty", "t1_signal", "t2_signal",
                           "diffusion_restricted", "enhancement", "enhancement_pattern"))
#: finding-field tags of the ImagingSelections a group is derivedFrom.
PART_FIELDS = frozenset(("roi", "roi-centroid", "regions"))


def check_parts(b: Bundle, member_urls: set) -> list[str]:
    """A resource tagged as part of a finding that no group lists (the group's hasMember or
    derivedFrom lost it) is refused: it would be dropped silently. A BodyStructure no group
    references is a warning (it holds a site, but names no finding)."""
    derived = {u for _, r in b.order if r["resourceType"] == "Observation" for u in b.sources(r)}
    notes = []
    bodies = {(r.get("bodyStructure") or {}).get("reference") for _, r in b.order
              if r["resourceType"] == "Observation" and isinstance(r.get("bodyStructure"), dict)}
    for i, r in b.order:
        url, field = b.url_of.get(id(r)), field_of(r)
        if r["resourceType"] == "Observation" and field in MEMBER_FIELDS and url not in member_urls:
            raise InputError(f"{b.at(i)}: an Observation of finding field {show(field)} that no "
                             "measurement group lists in hasMember (its group lost it)")
        if r["resourceType"] == "ImagingSelection" and field in PART_FIELDS and url not in derived:
            raise InputError(f"{b.at(i)}: an ImagingSelection of finding field {show(field)} that "
                             "no measurement group is derivedFrom (its group lost it)")
        if r["resourceType"] == "BodyStructure" and url not in bodies:
            notes.append(f"{b.at(i)}: a BodyStructure that no Observation references is not read")
    return notes
