"""Mentions: what a normalised sentence names, each with its span and a model value.

One regex per kind of mention (procedure, tracer, activity, finding noun, site, laterality,
vertebral levels, size, volume; T1/T2 signal, diffusion, ADC, enhancement and contrast agent in
``mr_signals``)
plus the context words the later steps need (relational "adjacent to", interpretive
"consistent with", physiological, pathology, indication, cohort text). Values are the
project's vocabulary terms (vocab.py), never free text.

All patterns are linear-time: bounded repeats only, no nested unbounded quantifiers, and
they run on one sentence of at most sentences.MAX_SENTENCE characters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .. import terms, vocab
from . import measures
from .anatomy import open_findings, open_sites
from .patterns import (
    _ACTIVITY,
    _AFTER_SLASH_CT,
    _ANCHORS,
    _BONE_AGENTS,
    _CONTEXT,
    _HEAD_GAP,
    _LATERALITY,
    _NOT_A_STUDY,
    _PROCEDURES,
    _REGION_WORDS,
    _SHOWN_TUMOUR,
    _SITES,
    _SIZE,
    _VOLUME,
    BONE_AGENT_TERMS,
)


@dataclass(frozen=True, slots=True)
class Mention:
    """``kind`` found at ``clean[start:end]`` with model value ``value``."""

    kind: str
    start: int
    end: int
    value: Any = None


_ANGIO_AFTER = re.compile(r"(?: [a-z]{3,15}){0,2} angiogra\w{1,4}", re.IGNORECASE)


def _procedures(clean: str) -> list[Mention]:
    found: list[Mention] = []
    taken: list[tuple[int, int]] = []
    for pattern, name in _PROCEDURES:
        for m in pattern.finditer(clean):
            if any(m.start() < e and s < m.end() for s, e in taken):
                continue
            before = clean[max(0, m.start() - 20):m.start()]
            if name in ("MRI", "CT") and _NOT_A_STUDY.search(before):
                if name == "CT" or "weighted" not in before.lower():
                    continue
                name = SEQUENCE  # "T1-weighted MR imaging": a sequence of the MR study being read
            if name == "CT" and _AFTER_SLASH_CT.search(before):
                continue
            if name == "ultrasound" and m.group().isupper() is False and m.group() == "us":
                continue
            if name == "ultrasound" and m.group() in ("us", "Us"):
                continue
            taken.append((m.start(), m.end()))
            found.append(Mention("procedure", m.start(), m.end(), name))
    found.sort(key=lambda x: x.start)
    # "I-123-mIBG scintigraphy", "anti-GD2 immunoscintigraphy", "FDG PET/CT": one study
    out: list[Mention] = []
    for mention in found:
        prev = out[-1] if out else None
        if prev is not None and re.fullmatch(r"[ -]{0,2}(?:\(\w{1,8}\) ?)?", clean[prev.end:mention.start]) \
                and (mention.value in _PLACEHOLDERS or mention.value == prev.value):
            out[-1] = Mention("procedure", prev.start, mention.end, prev.value)
        elif prev is not None and prev.value in ("CT", "MRI") and mention.value == "UNKNOWN" \
                and _ANGIO_AFTER.fullmatch(clean, prev.end, mention.end):
            # "CT pulmonary angiogram", "MR angiography": the CT / MR study of the vessels
            out[-1] = Mention("procedure", prev.start, mention.end, prev.value)
        elif prev is not None and prev.value in _PLACEHOLDERS and mention.value not in _PLACEHOLDERS \
                and re.fullmatch(r"[ -]{0,2}", clean[prev.end:mention.start]):
            out[-1] = Mention("procedure", prev.start, mention.end, mention.value)
        else:
            out.append(mention)
    # "she underwent 131I-MIBG therapy": a treatment with the agent, not a study; an
    # "ultrasound-guided biopsy" / "CT-guided biopsy" is a biopsy, not an imaging study
    return [m for m in out if not (m.value in _ISOTOPE_STUDIES and _TREATMENT.match(clean, m.end))
            and not _GUIDED.match(clean, m.end)]


_PLACEHOLDERS = ("mIBG", "NM", "PET")
_IMAGING_SUBJECT = re.compile(r"\b(?:scans?|images?|imaging|study|examination|sequences?)"
                              r"(?: (?:also|further|clearly|then))? $", re.IGNORECASE)
_NOT_IMAGING = re.compile(r"[;.]|\b(?:patholog|histolog|biops|cytolog|surg|resect|immunohisto)", re.IGNORECASE)
_ISOTOPE_STUDIES = ("I-123 mIBG scintigraphy", "I-131 mIBG scintigraphy", "mIBG")
_GUIDED = re.compile(r"\)?[ -]?guided\b", re.IGNORECASE)
_TREATMENT = re.compile(r"[ -]?(?:therap\w{1,4}|treatment|radiotherapy)\b", re.IGNORECASE)
#: A sequence of an MR study ("T2-weighted MRI showed ..."): the MR study named last, else MRI.
SEQUENCE = "MR sequence"


# a list of region words: "chest, abdomen and pelvis", "chest/abdomen/pelvis", "Head, orbital and abdominal"
_REGION_LIST = r"((?:[\w-]{1,20}(?:, (?:and )?| and |/| & )){0,4}[\w-]{1,20})"
_REGIONS_AFTER = re.compile(r"(?: scans?| examination| imaging| study)?(?: of the| of)? " + _REGION_LIST, re.IGNORECASE)
_REGIONS_BEFORE = re.compile(_REGION_LIST + r" ?$", re.IGNORECASE)


def procedure_regions(clean: str, mention: Mention) -> list[str]:
    """The body regions named with a procedure, in order: 'abdominal ultrasound', 'CT of the
    chest, abdomen and pelvis' (one per region: a negative study is negative in each)."""
    before = clean[max(0, mention.start - 60):mention.start].rsplit(".", 1)[-1]
    after = _REGIONS_AFTER.match(clean, mention.end, mention.end + 70)
    before_match = _REGIONS_BEFORE.search(before)
    for text in (after.group(1) if after else "", before_match.group(1) if before_match else ""):
        hits = sorted((m.start(), term) for pattern, term in _REGION_WORDS for m in pattern.finditer(text))
        if hits:
            return list(dict.fromkeys(term for _, term in hits))
    return []


def _anchors(clean: str, procedures: list[Mention] | tuple[Mention, ...] = ()) -> list[Mention]:
    found = []
    for pattern, kind in _ANCHORS:
        for m in pattern.finditer(clean):
            found.append(Mention("anchor", m.start(), m.end(), kind))
    # "uptake in the masses with standardized uptake values of 6.4 and 9.3": the measure's name
    # is no second uptake (it is one where the sentence names none: "the gland disclosed a
    # standardized uptake value of 4.1")
    named = [m for m in found if not _SUV_NAME.match(clean, m.start)]
    if any(m.value == "uptake" for m in named):
        found = named
    # the generated finding terms fill in where no hand-kept noun is ("abscess", "oedema")
    components = []
    for s, e, t in open_findings(clean):
        if any(s < h.end and h.start < e for h in found):
            continue
        if _COMPONENT.search(clean[max(0, s - 80):s].rsplit(";", 1)[-1].rsplit(".", 1)[-1]):
            components.append(s)
        else:
            found.append(Mention("anchor", s, e, t))
    for m in _SHOWN_TUMOUR.finditer(clean):
        # (the study is the verb's subject: not "Pathology demonstrated metastatic paraganglioma")
        shown = any(p.end <= m.start() and not _NOT_IMAGING.search(clean, p.end, m.start()) for p in procedures) \
            or _IMAGING_SUBJECT.search(clean, max(0, m.start() - 30), m.start() + 1) is not None
        if shown and not any(m.start(1) < h.end and h.start < m.end(1) for h in found):
            found.append(Mention("anchor", m.start(1), m.end(1), "neoplasm"))
    # "areas of tumor necrosis": the tumour names whose necrosis it is, not another finding
    found = [h for h in found if not any(_HEAD_GAP.match(clean[h.end:c]) for c in components if c >= h.end)]
    found.sort(key=lambda x: (x.start, -x.end))
    out: list[Mention] = []
    for mention in found:
        if out and mention.start < out[-1].end:
            continue  # overlapping: the earlier, longer noun wins
        if out and _HEAD_GAP.match(clean[out[-1].end:mention.start]) and out[-1].value != "generic":
            prev = out.pop()  # "tumor masses": the last noun is the head
            kind = mention.value if mention.value != "generic" else prev.value
            if mention.value == "lesion" and prev.value in ("mass", "nodule", "neoplasm"):
                kind = prev.value  # ... but a "mass lesion" is a mass: "lesion" says less
            if prev.value == "lymph node" and mention.value in ("metastasis", "neoplasm", "neuroblastoma"):
                kind = "lymph node"
            mention = Mention("anchor", prev.start, mention.end, kind)
        out.append(mention)
    return out


# "areas of necrosis", "intratumoral haemorrhage", "foci of cystic degeneration, haemorrhage
# and necrosis": what a lesion is made of, said inside its description, is not a finding.
_COMPONENT = re.compile(r"\b(?:(?:areas?|foci|regions?|zones?|components?|portions?|parts?) of|"
                        r"intra-?\w{3,12}al|internal|central|inner)\b[^,;:()]{0,40}"
                        r"(?:,[^,;:()]{1,40}){0,4}$", re.IGNORECASE)


# Hand-kept regions kept coarse on purpose (the body regions concordance compares).
_COARSE = frozenset({"thorax", "abdomen", "pelvis", "neck", "whole body"})


def _sites(clean: str) -> list[Mention]:
    found = []
    for pattern, term in _SITES:
        for m in pattern.finditer(clean):
            found.append(Mention("site", m.start(), m.end(), term))
    hand = [(m.start, m.end) for m in found]
    # the hand-kept patterns (adjectives, "para-aortic" ...) first; the open tables fill in,
    # and a longer name of them wins over the hand-kept word inside it ("thoracolumbar spine")
    for o in (Mention("site", s, e, t) for s, e, t in open_sites(clean)):
        inside = [h for h in found if o.start <= h.start and h.end <= o.end]
        if inside and all(h.value not in _COARSE for h in inside) and "lymph node" not in o.value \
                and any(o.end - o.start > h.end - h.start for h in inside) and not any(
                h.start < o.start < h.end or h.start < o.end < h.end for h in found):
            found = [h for h in found if h not in inside] + [o]
        elif not any(o.start < e and s < o.end for s, e in hand):
            found.append(o)
    found.sort(key=lambda x: (x.start, -x.end))
    out: list[Mention] = []
    for mention in found:
        if out and mention.start < out[-1].end:
            continue
        if _OUTSIDE.search(clean, max(0, mention.start - 7), mention.start):
            continue  # "extra-pulmonary", "non-adrenal": the place it is not
        out.append(mention)
    # "the neck and body of the pancreas": parts coordinated before "of" are the organ's
    for i in range(len(out) - 2, -1, -1):
        this, nxt = out[i], out[i + 1]
        if _PART_AND.match(clean[this.end:nxt.start]) or (
                _AND.fullmatch(clean[this.end:nxt.start]) and _PART_OF.match(clean, nxt.start, nxt.end)):
            out[i] = Mention("site", this.start, this.end, nxt.value)
    return out


_PART_AND = re.compile(r" and (?:the )?[a-z]{3,12} of (?:the )?$", re.IGNORECASE)
_AND = re.compile(r" and (?:the )?", re.IGNORECASE)
_PART_OF = re.compile(r"[a-z]{3,12} of ", re.IGNORECASE)
_OUTSIDE = re.compile(r"\b(?:extra|non)-?$", re.IGNORECASE)


# "two new masses in the right and left adrenal gland": a count of findings, one per side
_COUNTED = re.compile(r"\b(?:two|2|both) (?:[\w-]{1,15} ){0,3}(?:masses|lesions|nodules|tumou?rs|foci)\b[^,;.]{0,25}$",
                      re.IGNORECASE)

_RESPECTIVELY = re.compile(r"[^;]{0,150}?\brespectively\b", re.IGNORECASE)

_SUV_NAME = re.compile(r"uptake values?\b", re.IGNORECASE)


def _laterality(clean: str) -> list[Mention]:
    out = []
    for m in _LATERALITY.finditer(clean):
        if m.group(3) and (_COUNTED.search(clean, max(0, m.start() - 50), m.start())
                           or _RESPECTIVELY.match(clean, m.end())):
            for side in re.finditer(r"left|right", m.group(3), re.IGNORECASE):  # one per side
                out.append(Mention("laterality", m.start(3) + side.start(), m.start(3) + side.end(),
                                   side.group().lower()))
            continue
        value = m.group(1).lower() if m.group(1) else "bilateral"
        out.append(Mention("laterality", m.start(), m.end(), value))
    return out


def _number(text: str) -> float:
    return float(text.replace(",", "."))


def _length_unit(said: str) -> str:
    """'cm', 'centimeters' -> cm; 'millimetres' -> mm."""
    said = said.lower()
    return "cm" if said.startswith("centi") else "mm" if said.startswith("milli") else said


def _sizes(clean: str) -> list[Mention]:
    out = []
    for m in _SIZE.finditer(clean):
        if m.group(7):  # one axis: "3 cm", "a 3-cm mass"
            unit = _length_unit(m.group(8))
            axes = [(_number(m.group(7)), unit)]
        else:
            units = [m.group(2), m.group(4), m.group(6)]
            last = next((u for u in reversed(units) if u), None)
            if last is None:
                continue  # "2 x 3" without a unit is not a size
            values = [m.group(1), m.group(3), m.group(5)]
            axes, unit = [], _length_unit(last)
            for value, own in reversed(list(zip(values, units, strict=True))):
                if value is None:
                    continue
                unit = _length_unit(own) if own else unit
                axes.insert(0, (_number(value), unit))
        tail = clean[m.end():m.end() + 12].lower()
        if re.match(r" ?(?:/|per|of (?:gadolinium|contrast)|gadolinium)", tail):
            continue
        lengths = [vocab.length_to_mm(v, u) for v, u in axes]
        mm = tuple(round(d, 3) for d in lengths if d is not None)
        if len(mm) == len(axes) and all(0 < d <= 1000 for d in mm):
            out.append(Mention("size", m.start(), m.end(), mm))
    return out


def _activities(clean: str) -> list[Mention]:
    out = []
    for m in _ACTIVITY.finditer(clean):
        unit = m.group(2)
        # "mBq" in reports means MBq (a millibecquerel dose is impossible); "mCi" is mCi.
        canonical = {"mbq": "MBq", "gbq": "GBq", "kbq": "kBq", "mci": "mCi", "uci": "uCi"}[unit.lower()]
        mbq = vocab.activity_to_mbq(_number(m.group(1)), canonical)
        if mbq and 0 < mbq <= 20000:
            out.append(Mention("activity", m.start(), m.end(), (round(mbq, 3), canonical)))
    return out


def _volumes(clean: str) -> list[Mention]:
    out = []
    for m in _VOLUME.finditer(clean):
        unit = {"cc": "ml", "l": "l"}.get(m.group(2).lower(), m.group(2).lower())
        ml = vocab.volume_to_ml(_number(m.group(1)), unit)
        if ml and 0 < ml <= 50000:
            out.append(Mention("volume_ml", m.start(), m.end(), round(ml, 3)))
    return out


def _context(clean: str, low: str) -> list[Mention]:
    out = []
    for kind, pattern in _CONTEXT:
        if kind == "definite_ref" or (kind in _GATES and not _open(low, kind)):
            continue
        for m in pattern.finditer(clean):
            out.append(Mention(kind, m.start(), m.end(), m.group().lower()))
    return out


def is_definite_reference(clean: str, start: int) -> bool:
    """'the mass', 'this lesion': a finding named before, not a new one."""
    before = clean[max(0, start - 40):start]
    return bool(re.search(r"\b(?:the|this|that|its|said)\s(?:[\w-]{1,20}\s){0,3}$", before, re.I))


# Cheap substring gates: a pattern group runs only when one of its keys is in the sentence.
# Why: a report sentence names few of the ~60 patterns; skipping the rest keeps junk input
# (1 MB of "1.1 x 1.1 x") and long reports fast.
_GATES: dict[str, tuple[str, ...]] = {
    "signals": ("t1", "t2", "stir", "tirm"),
    "diffusion": ("fusion", "adc", "restrict"),
    "enhancement": ("enhanc", "gado", "gd", "contrast", "dotarem", "magnevist", "hance"),
    "activities": ("bq", "ci"),
    "volumes": ("volume",),
    "sizes": ("mm", "cm", "centimet", "millimet"),
    "physio": ("physiolog", "normal", "expected", "appropriate"),
    "pathology": ("patholog", "histo", "biops", "cyto", "specimen", "cells", "stroma", "shimada",
                  "inpc", "microscop", "autops", "mortem", "necrops"),
    "followup": ("follow",),
    "outcome": ("recurren", "relapse"),
    "tracers": ("mdp", "hdp", "medronate", "oxidronate", "phosphonate"),
    "measures": measures.GATE,
}


def _measures(clean: str) -> list[Mention]:
    """Measurements the report templates spell ("SUVmax 8.2", "28 HU")."""
    return [Mention("measurement", start, end, value)
            for start, end, value in measures.find_measurements(clean)]


def _tracers(clean: str) -> list[Mention]:
    """Radiopharmaceuticals a report names beside its procedure (the bone-seeking agent)."""
    return [Mention("tracer", m.start(), m.end(),
                    terms.lookup("tracer", BONE_AGENT_TERMS[0 if m.group(1) else 1]))
            for m in _BONE_AGENTS.finditer(clean)]


def _open(low: str, gate: str) -> bool:
    return any(key in low for key in _GATES[gate])


def places_in(clean: str) -> tuple[list[Mention], list[Mention]]:
    """The sites and side words of a text (a label), without the finding noun
    :func:`find_mentions` needs before it looks for places."""
    return _sites(clean), _laterality(clean)


def find_mentions(clean: str) -> list[Mention]:
    """Every mention in one normalised sentence, ordered by position."""
    from . import mr_signals, vertebrae  # (they build Mentions: imported here, after this module)
    low = clean.lower()
    digits = any(c.isdigit() for c in clean)
    procedures = _procedures(clean)
    heads = [*procedures, *_anchors(clean, procedures)]
    # Without a procedure or a finding noun a sentence can only add attributes to the
    # previous finding ("Restricted diffusion ... could be detected"): skip the rest.
    mentions = [*heads, *((*_sites(clean), *_laterality(clean), *_context(clean, low)) if heads else ()),
                *(_tracers(clean) if heads and _open(low, "tracers") else ()),
                *(vertebrae.levels(clean) if digits else ()),
                *(vertebrae.ordinal_levels(clean) if digits and ("vertebr" in low or "level" in low) else ()),
                *(_sizes(clean) if digits and _open(low, "sizes") else ()),
                *(_volumes(clean) if digits and _open(low, "volumes") else ()),
                *(_measures(clean) if digits and _open(low, "measures") else ()),
                *(_activities(clean) if digits and _open(low, "activities") else ()),
                *(mr_signals.signals(clean) if _open(low, "signals") else ()),
                *(mr_signals.diffusion(clean) if _open(low, "diffusion") else ()),
                *(mr_signals.enhancement(clean) if _open(low, "enhancement") else ())]
    return sorted(mentions, key=lambda m: (m.start, m.end))
