"""What a sentence's context says about it: which study its wording allows, which test
named in it is only referred to, which CT is a scan's own, what a caption title or a
deictic place stands for, and the sides a whole document gives its places."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from . import prose
from .frames import LESIONS, REGIONS, modality_of
from .mentions import Mention
from .patterns import _HYBRID_CT, _STUDY_WORDING
from .studies import UNPAIRED

if TYPE_CHECKING:
    from .frames import Draft

# a test named in passing: "the lesions seen on the patient's recent CT exam"
IN_PASSING = re.compile(r"\b(?:seen|noted|shown|demonstrated|visible|depicted|described) (?:on|at|in|by)"
                         r" (?:the |an? )?(?:patient's |his |her )?(?:recent |prior |previous |earlier |outside |"
                         r"initial |last |concurrent |same-day )?$", re.IGNORECASE)
# "uptake at that location": the place named before
DEICTIC_PLACE = re.compile(r"\b(?:at|in|of|to) (?:that|this|the same|the corresponding|these|those) "
                            r"(?:locations?|sites?|areas?|regions?|levels?|places?|spots?)\b", re.IGNORECASE)
# A finding told of no study is a result only in the words of imaging: a result verb, an image,
# a signal, a density, a size ("I had no more issues with tumors" is the story).
IMAGED = re.compile(r"\b(?:show\w{0,3}|reveal\w{0,3}|found|demonstrat\w{1,4}|detect\w{0,3}|identif\w{1,6}|seen|"
                    r"noted|visuali[sz]\w{1,4}|depict\w{0,3}|disclos\w{1,3}|imag\w{1,5}|radiolog\w{1,6}|scan\w{0,4}|"
                    r"figure|fig|arrows?|arrowheads?|T[12]\w{0,3}|STIR|FLAIR|DWI|enhanc\w{1,6}|signal|intens\w{1,6}|"
                    r"hypo\w{3,12}|hyper\w{3,12}|iso\w{3,12}|dens\w{1,6}|echo\w{0,8}|attenuat\w{1,6}|uptake|avid\w{0,3}|"
                    r"SUV\w{0,3}|measur\w{1,4}|\d(?:\.\d)? ?(?:mm|cm)|there (?:is|are|was|were)|present|evident|"
                    r"appear\w{0,3}|involv\w{1,4}|extend\w{0,3}|locat\w{1,4}|panel|view)\b", re.IGNORECASE)
# "uptake in the lesion", "the mass showed no uptake": a lesion named before
LESION_REFERENCE = re.compile(r"\b(?:the|this|that|these|those) (?:[\w-]{1,20} ){0,2}?(?:lesions?|mass(?:es)?|"
                              r"tumou?rs?|nodules?)\b", re.IGNORECASE)
# "Case 2: an 88-year-old male ...": the studies named before were another patient's
NEW_CASE = re.compile(r"\W{0,3}(?:(?:case|patient) (?:\d{1,2}|[IVX]{1,4}|one|two|three)\s?[:.)-]|"
                      # "In the second case, ...", "Regarding our 3rd case", "Our 4th patient was ..."
                      r"(?:in|regarding|for) (?:the|our) (?:first|second|third|fourth|fifth|other|latter|"
                      r"\d(?:st|nd|rd|th)) (?:case|patient)\b|our (?:second|third|fourth|fifth|"
                      r"\d(?:st|nd|rd|th)) (?:case|patient)\b|the (?:second|third|fourth|other) (?:case|patient)\b)",
                      re.IGNORECASE)
# "..., and the spleen was normal": a clause with a subject of its own
NEW_CLAUSE = re.compile(r", (?:and|while|whereas) (?=the |his |her )", re.IGNORECASE)
SPINE_REGIONS = frozenset({"spine", "cervical spine", "thoracic spine", "lumbar spine", "vertebral column"})


def worded_for(clean: str) -> frozenset[str]:
    """The kinds of study the sentence's wording allows (empty: any)."""
    allowed: frozenset[str] | None = None
    for pattern, kinds in _STUDY_WORDING:
        if pattern.search(clean):
            allowed = kinds if allowed is None else allowed & kinds
    return allowed or frozenset()


def after_title(clean: str, anchors: list[Mention], procedures: list[Mention]) -> list[Mention]:
    """"Wilms' Tumor: Axial CT demonstrates a large mass ...": a caption's title label names
    the diagnosis; the finding is what the test after it shows (when it names one)."""
    label = prose.section_label(clean)
    if label is None or label[0] != "other" or not procedures or procedures[0].start < label[1]:
        return anchors
    after = [a for a in anchors if a.start >= label[1]]
    return after or anchors


def sides_of_the_document(drafts: list[Draft]) -> None:
    """"Osteosarcoma of the left femur ... a mass originating from the distal femur": a place
    the text gives one side only is on that side wherever the text names it without one (a
    part of it too: the distal femur is the femur's). Places told on two sides stay unsided, and
    so do absent findings (a negative about an organ covers both)."""
    sides: dict[str, set[str]] = {}
    for d in drafts:
        site, side = d.values.get("site"), d.values.get("laterality")
        if isinstance(site, str) and side in ("left", "right"):
            sides.setdefault(site, set()).add(side)
    if not sides:
        return
    for d in drafts:
        site = d.values.get("site")
        if not isinstance(site, str) or d.values.get("laterality") or d.values.get("vertebral_levels") \
                or site in UNPAIRED or d.present is not True:
            continue  # a level or a midline place says which one it is; "no uptake in the adrenals" is both
        told = set().union(*(v for k, v in sides.items() if k == site or k in site.split()
                             or site in k.split()))
        if len(told) == 1:
            d.values["laterality"] = told.pop()


def hybrid_ct(clean: str, procedures: list[Mention], last_scan: str | None) -> list[Mention]:
    """A PET's or SPECT's own CT ("a low dose CT scan for attenuation correction", "On
    low dose CT note is made of ...") is part of that scan, not a study of its own."""
    scan = any(modality_of(p.value) in ("NM", "PT") for p in procedures) or last_scan is not None
    return [p for p in procedures if not (
        scan and p.value == "CT" and _HYBRID_CT.search(clean, max(0, p.start - 15), min(len(clean), p.end + 50)))]


def antecedent_place(drafts: list[Draft], before: int, deictic: bool = False, referred: bool = False) -> None:
    """"Chest ultrasound showed a mass in the right hemithorax. On CT the mass was ...": a
    definite reference without a place of its own (``drafts[before:]``, the sentence's) is
    where its antecedent (the lesion named last, by any test) is; so is uptake "in the lesion",
    "the mass showed no uptake" (``referred``: the sentence refers to a lesion named before), and
    any finding "at that location", "at the same site" (``deictic``), at the last place named."""
    for draft in drafts[before:]:
        if draft.values.get("site") or not (deictic or (draft.definite_ref and draft.finding in LESIONS)
                                             or (referred and draft.finding == "uptake")):
            continue
        antecedent = next((d for d in reversed(drafts[max(0, before - 20):before])
                           if d.present is True and not d.study_level
                           and (d.values.get("site") if deictic else d.finding in LESIONS)), None)
        if antecedent is not None and antecedent.values.get("site"):
            draft.fill("site", antecedent.values["site"])
            draft.fill("laterality", antecedent.values.get("laterality"))
            if deictic:
                draft.fill("vertebral_levels", antecedent.values.get("vertebral_levels"))


# "CT confirmed the ultrasound appearances", "The ultrasound findings were confirmed on a CT
# scan": the confirming study showed what the other one had shown
_CONFIRMED = re.compile(
    r"\bconfirm(?:ed|s|ing)\b (?:the |these |this |those |its |all )?(?:[\w-]{1,20} ){0,3}?(?:findings?|appearances?)\b"
    r"|\b(?:findings?|appearances?) (?:[\w-]{1,20} ){0,4}?(?:was|were|is|are) (?:\w{1,12}ly )?confirmed\b",
    re.IGNORECASE)


def confirmed_findings(clean: str, procedures: list[Mention], drafts: list[Draft],
                       evidence: object) -> list[Draft]:
    """The findings a sentence without finding nouns confirms on another study: the
    confirming study's copies of the confirmed study's positive findings (place only)."""
    from .frames import Draft

    said = _CONFIRMED.search(clean)
    if said is None:
        return []
    passive = said.group(0).lower().endswith("confirmed")
    confirming = next((p for p in procedures if p.start >= said.end()), None) if passive else \
        next((p for p in reversed(procedures) if p.start < said.start()), None)
    if confirming is None:
        return []
    named = [p.value for p in procedures if p is not confirming and p.value != confirming.value]
    recent = drafts[-20:]
    source = named[0] if named else next((d.procedure for d in reversed(recent)
                                          if d.procedure not in (None, confirming.value)), None)
    return [Draft(confirming.value, d.finding, True, d.certainty,
                  values={k: d.values[k] for k in ("site", "laterality", "vertebral_levels") if d.values.get(k)},
                  evidence=[evidence])  # type: ignore[list-item]
            for d in recent if source is not None and d.procedure == source and d.present is True
            and not d.study_level and d.finding is not None]


# regions a study covers without naming where in them a finding lies
_COARSE_REGIONS = frozenset({*REGIONS, "head", "bone", "trunk", *SPINE_REGIONS})
_OF_ORGAN = re.compile(r"\)?(?: scan| examination| imaging| study| images?)?(?: of)?(?: the)? ?", re.IGNORECASE)


def study_organ(clean: str, procedure: Mention, sites: list[Mention]) -> str | None:
    """The one organ a study is of ("thyroid ultrasound", "CT of the liver", "MRI liver"):
    findings of that study that name no place of their own lie in it ("a lesion in the left
    lobe"); a body region ("abdominal CT") says nothing of where."""
    for site in sites:
        if site.value in _COARSE_REGIONS or not isinstance(site.value, str):
            continue
        if 0 <= procedure.start - site.end <= 1 or (
                0 <= site.start - procedure.end <= 20
                and _OF_ORGAN.fullmatch(clean, procedure.end, site.start)
                and not re.match(r"\W{0,2}(?:and|or|,)", clean[site.end:site.end + 5])):
            return site.value
    return None
