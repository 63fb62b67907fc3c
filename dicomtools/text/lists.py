"""Coordination and enumeration: one finding per site of a list.

"uptake involving the thoracolumbar spine, the skull, and the left pelvis" names three
places of one kind of finding; "no uptake in the adrenal glands or the liver" two places
without it. The sites after a finding noun that are joined only by list words (commas,
"and", "or", "as well as") and their own determiners and side words form the list; each
site after the first becomes a copy of the finding with its own site, its own laterality
(a side word right before it, never the first site's), and the attributes said between it
and the next site. A generic place before the noun ("osseous metastases involving the
clavicles, scapula and ribs") yields to a list of two or more specific ones.

Linear: one pass over the sentence's site mentions, each gap checked by a bounded regex.
"""

from __future__ import annotations

import re
from itertools import pairwise
from typing import TYPE_CHECKING

from .mentions import Mention

if TYPE_CHECKING:
    from .frames import Draft

# What may stand between two sites of one list: the part of the first place it names, a list
# word, determiners, side and position words, counts ("both", "multiple areas within"), a figure reference.
_JOIN = re.compile(
    # the part of the place the item names ("the left lung base, the liver")
    r"(?: (?:bases?|apex|apices|lobes?|regions?|areas?|poles?|walls?|margins?|aspects?|segments?|"
    r"portions?|parts?|shafts?|beds?|fossae?|sides?|tips?|roots?|level|bod(?:y|ies)|heads?|"
    r"necks?|tails?|metaphys[ie]s|diaphys[ie]s|epiphys[ie]s))?"
    r"(?:\s?\((?:fig\w{0,5}|figure|not shown)[^()]{0,20}\))?"
    # items the tables do not name ("the face, the clivus") are passed over, not list ends
    r"(?:, (?:the |both |bilateral )?[a-z]{3,15}(?= ?,)){0,3}"
    r"(?:,|,? (?:and|or|as well as|&|and/or|nor|followed by)|,? (?:as well as|and) (?:likely|possibly|probably)"
    r"(?: also)?| as well as)?"
    r"(?: (?:in|within|at|of|involving|along))?"
    r"(?: (?:the|both|bilateral|left|right|a|an|multiple|several|numerous|areas? within|all|"
    r"proximal|distal|upper|lower|also|of the|bones of the|entire|whole|[a-z]{1,12}[- ]sided|"
    r"bony|osseous|anterior|posterior|medial|lateral|superior|inferior|mid|central|"
    r"[CTLS] ?\d{1,2}))*"
    r" ?", re.IGNORECASE)
# Places too general to name a finding when a list names specific ones.
_GENERAL = frozenset({"bone", "whole body", "thorax", "abdomen", "pelvis", "neck"})
_MAX_ITEMS = 20


def site_list(clean: str, first: Mention, sites: list[Mention], hi: int,
              blocked: list[tuple[int, int]]) -> list[Mention]:
    """The sites listed with ``first`` (``first`` included) up to ``hi``; ``blocked`` are
    spans (relational zones) whose sites are neighbours, not members."""
    out = [first]
    for site in sites:
        if site.start <= out[-1].start or site.start >= hi:
            continue
        if any(a <= site.start < b for a, b in blocked) or len(out) >= _MAX_ITEMS:
            break
        gap = clean[out[-1].end:site.start]
        if re.fullmatch(r"[ -]{1,2}", gap) and site.value not in _GENERAL:
            out[-1] = site  # "the paravertebral sympathetic chain": the head noun names the place
            continue
        if out[-1].value in _GENERAL and re.fullmatch(r" of(?: the)? ", gap):
            out[-1] = site  # "the bones of the pelvis": the part named after "of"
            continue
        if len(gap) > 60 or not _JOIN.fullmatch(gap) or not has_join(gap):
            break
        if "," in gap and _CLAUSE_VERB.match(clean, site.end):
            break  # "a mass in the liver, and the spleen was normal": a clause of its own
        out.append(site)
    return out


_CLAUSE_VERB = re.compile(r" (?:was|were|is|are|appears?|appeared|remains?|remained|looks?|looked|seems?)\b",
                          re.IGNORECASE)


def has_join(gap: str) -> bool:
    """A list needs a list word between its items ("the right femur and the skull"), not
    just a space ("adrenal gland liver" is no list)."""
    return "," in gap or bool(re.search(r"\b(?:and|or|nor|as well as|followed by)\b|&", gap, re.IGNORECASE))


_ITEM_HEDGE = re.compile(r"\b(?:likely|possibly|probably|perhaps|questionabl[ey]|suspected)\b", re.IGNORECASE)
_LIST_WORD = re.compile(r",|\b(?:and|or|nor|as well as)\b", re.IGNORECASE)


def item_start(clean: str, prev: Mention, site: Mention) -> int:
    """Where a list item begins: after the last list word before its site (what stands
    between, "the L4", "bilateral", is the item's own)."""
    start = prev.end
    for m in _LIST_WORD.finditer(clean, prev.end, site.start):
        start = m.end()
    return start


def own_laterality(clean: str, site: Mention, lateralities: list[Mention]) -> str | None:
    """The side word right before a site ("the left pelvis", "bilateral femora"), inside its
    name ("the proximal left femur") or right after it ("the ribs bilaterally")."""
    for m in lateralities:
        if site.start <= m.start and m.end <= site.end:
            return m.value
    for m in lateralities:
        if 0 <= site.start - m.end <= 12 and not re.search(r"[,;]|\band\b|\bor\b", clean[m.end:site.start]):
            return m.value
        if clean[site.end:m.start] == " " and m.value == "bilateral":
            return m.value
        if re.fullmatch(r" of (?:the )?", clean[site.end:m.start]):
            return m.value  # "lower lobe of the right lung"
    return None


# What makes uptake abnormal; a long list of organs without any of it is the tracer's normal
# distribution ("uptake ... in the spleen followed by the kidneys, adrenal glands, liver ...").
_ABNORMAL = re.compile(r"\b(?:increased|abnormal|patholog\w{0,5}|focal|foc(?:us|i)|hot|avid\w{0,3}|"
                       r"hyper\w{0,12}|suspicious|metasta\w{1,6}|lesions?|heterogeneous|"
                       r"non-?physiologic\w{0,3}|intense|marked)\b", re.IGNORECASE)
_BIODISTRIBUTION_ITEMS = 4


def biodistribution(clean: str, anchor: Mention, listed: list[Mention], pre: int) -> bool:
    """Is an uptake frame with its list of places the normal distribution of the tracer?"""
    if anchor.value != "uptake" or not listed:
        return False
    stop = re.compile(r"[;.]|\b(?:with|which|but|whereas|while)\b").search(clean, listed[0].start)
    end = max(stop.start() if stop else len(clean), listed[-1].end)
    if len(listed) < _BIODISTRIBUTION_ITEMS:
        # the list may go on with organs the tables do not name ("muscles", "breast")
        items = re.split(r",|\band\b|\bfollowed by\b", clean[listed[0].start:end])
        if len(items) < _BIODISTRIBUTION_ITEMS + 1 or any(len(i.split()) > 4 for i in items):
            return False
    if re.search(r"\b(?:left|right)\b", clean[listed[0].start:end], re.IGNORECASE):
        return False  # "the skull, bony pelvis, left femur, ...": a normal distribution names no side
    return not _ABNORMAL.search(clean, max(0, pre - 40), listed[0].start)


# "throughout the skeleton including the skull, the face, ...": the general place is named by
# the list that follows it.
_NAMING = re.compile(r"(?: [\w-]{1,20}){0,3},? (?:including|such as|particularly|especially|notably|"
                     r"namely|mainly|mostly|involving|with involvement of)(?: in| of)?(?: the)? ?$",
                     re.IGNORECASE)


def named_by_list(clean: str, site: Mention, sites: list[Mention]) -> Mention | None:
    """The first site of a list that names a general place, or None."""
    if site.value not in _GENERAL:
        return None
    nxt = next((m for m in sites if m.start > site.end), None)
    if nxt is None or nxt.start - site.end > 60 or not _NAMING.fullmatch(clean[site.end:nxt.start]):
        return None
    return nxt


def general(site: Mention | None) -> bool:
    """Is the site a general place a list of specific ones replaces?"""
    return site is not None and site.value in _GENERAL


def copies(clean: str, draft: Draft, listed: list[Mention], kinds: dict, hi: int) -> list[Draft]:
    """A copy of ``draft`` for each site of ``listed`` after the first."""
    from .frames import Draft, apply_attributes
    out = []
    starts = [item_start(clean, a, b) for a, b in pairwise(listed)]
    for i, site in enumerate(listed[1:], start=1):
        begin = starts[i - 1]
        end = starts[i] if i < len(starts) else hi
        copy = Draft(draft.procedure, draft.finding, draft.present, draft.certainty,
                     evidence=list(draft.evidence), tracer=draft.tracer,
                     modality_hint=draft.modality_hint)
        if _ITEM_HEDGE.search(clean, listed[i - 1].end, site.start) and draft.present is True:
            copy.certainty = "possible"  # "..., as well as likely the ribs": this item only
        copy.fill("site", site.value)
        copy.fill("laterality", own_laterality(clean, site, kinds.get("laterality", [])))
        apply_attributes(clean, copy, kinds, begin, end)
        out.append(copy)
    return out


# "cervical, axillary, mediastinal and retroperitoneal lymphadenopathy", "no hepatic, splenic,
# adrenal or marrow deposit": places said as adjectives of one finding noun, one finding each.
_ADJECTIVE_LIST = re.compile(r"((?:[A-Za-z-]{3,20}, ){1,8}(?:[A-Za-z-]{3,20},? )?(?:and|or|and/or|nor) "
                             r"[A-Za-z-]{3,20}) (?:[a-z-]{3,15} )?$")


def adjective_sites(clean: str, anchor: Mention) -> list[str]:
    """The places a coordinated run of adjectives before ``anchor`` names, or [] when the
    run is not (wholly) places ("hypermetabolic, lobulated and enhancing mass")."""
    from .anatomy import open_sites
    from .mentions import places_in
    m = _ADJECTIVE_LIST.search(clean, max(0, anchor.start - 160), anchor.start)
    if m is None:
        return []
    words = [w for w in re.split(r",? (?:and/or|and|or|nor) |, ", m.group(1)) if w]
    node = anchor.value == "lymph node"
    out: list[str] = []
    for word in words:
        term = None
        if node:  # "axillary" -> axillary lymph node
            found = open_sites(f"{word} lymph node")
            term = found[0][2] if found and found[0][0] == 0 and "lymph node" in str(found[0][2]) else None
        if term is None:
            found_sites = places_in(word)[0]
            term = found_sites[0].value if len(found_sites) == 1 else None
        if term is None:
            return []
        out.append(term)
    return out if len(set(out)) == len(out) else []
