"""Sites and finding nouns of the open vocabulary: any anatomy of the generated PS3.16 tables
named in prose by its term or code meaning (up to four words; plurals, Latin plurals, British
spellings), except words too generic to name a place and devices that some segmentation lists
hold beside anatomy; and any finding morphology of the generated finding tables ("abscess",
"oedema", "emboli", "thrombosis") beside the hand-kept nouns of ``patterns``."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

from .. import terms, vocab

# Words of the generated anatomy tables that are too generic to name a site in prose.
_VAGUE_ANATOMY = frozenset({
    "body", "region", "structure", "tissue", "blood", "skin", "organ", "fat", "wall", "space",
    "cavity", "line", "surface", "side", "back", "trunk", "lesion", "mass", "cell", "joint",
    "muscle", "nerve", "vessel", "artery", "vein", "duct", "gland", "lymph", "node", "bone",
    "head", "neck", "face", "hand", "foot", "arm", "leg", "limb", "central", "lateral",
    "extremity", "entire body", "soft tissue", "left", "right", "anterior", "posterior",
    "superior", "inferior", "upper", "lower", "level", "segment", "margin", "contrast",
    "image", "signal", "uptake", "tumor", "tumour", "neoplasm", "cyst", "abscess",
    "implant", "catheter", "drug", "radiopharmaceutical", "perfusion", "flow", "blood flow",
    # devices some segmentation lists hold beside anatomy
    "needle", "stent", "wire", "clip", "tube", "port", "drain", "pacemaker", "prosthesis", "gas"})
_WORD = re.compile(r"[A-Za-z][A-Za-z'-]{1,30}")


@lru_cache(maxsize=1)
def _anatomy_index() -> dict[str, str]:
    """Normalised spelling -> site term, over the generated anatomy tables and synonyms."""
    index: dict[str, str] = {}
    for term in terms.names("site"):
        # hand-kept sites have their own patterns (with context: "whole-body MRI" is no site)
        if term in vocab.SITES or term.casefold() in _VAGUE_ANATOMY or len(term) < 3:
            continue
        for spelling in (term, terms.code_for("site", term).meaning):
            if spelling.casefold() not in _VAGUE_ANATOMY:
                index.setdefault(terms.normalise(spelling), term)
    for spelling, term in terms.SYNONYMS["site"].items():
        if term not in vocab.SITES and term in index.values():
            index.setdefault(terms.normalise(spelling), term)  # "splenic" -> spleen
    for spelling, term in _part_names().items():
        if term.endswith(" of vertebra"):
            term = "vertebra"  # "the right pedicle of T10": the model codes the vertebra and its level
        if spelling.casefold() not in _VAGUE_ANATOMY and (term not in vocab.SITES or term == "vertebra"):
            index.setdefault(terms.normalise(spelling), term)  # "wrist" -> wrist joint
    return index


@lru_cache(maxsize=1)
def _part_names() -> dict[str, str]:
    return terms.part_names({t: terms.code_for("site", t) for t in terms.names("site")})


@lru_cache(maxsize=1)
def _part_keys() -> frozenset[str]:
    return frozenset(terms.normalise(h) for h in _part_names())


# "splenic hilum", "renal pole": an organ adjective before a part's short name says whose part
# it is, which need not be the one organ the standard has the short name for
_ORGAN_ADJECTIVE = re.compile(r"[a-z]{3,}(?:ic|al|ar)$")


_SIDES = frozenset({"left", "right", "bilateral"})


def _latin_singular(index: dict[str, str], key: str) -> str | None:
    """Latin plurals of anatomy: humeri -> humerus, tibiae -> tibia, vertebral bodies -> body."""
    if key.endswith("i"):
        return index.get(key[:-1] + "us")
    if key.endswith("ae"):
        return index.get(key[:-1])
    if key.endswith("ies"):
        return index.get(key[:-3] + "y")
    return None


# Adjectives of anatomy and the noun they come from (Latin/English morphology, tried in
# order: pancreatic -> pancreas, tibial -> tibia, pleural -> pleura, humeral -> humerus, sacral -> sacrum,
# mandibular -> mandible, scapular -> scapula, iliac -> ilium, acetabular -> acetabulum); position words are not places.
_ADJECTIVE_RULES = (("atic", "as"), ("ial", "ia"), ("ral", "ra"), ("al", "us"), ("al", "um"),
                    ("ular", "le"), ("ar", "a"), ("ac", "um"), ("ar", "um"))
_NOT_PLACES = frozenset({"dorsal", "ventral", "central", "lateral", "medial", "distal", "proximal",
                         "cranial", "caudal", "basal", "apical", "total", "normal", "focal", "nodal",
                         "several", "general", "initial", "usual", "internal", "external", "bilateral",
                         "unilateral", "peripheral", "vertical", "horizontal", "interval", "oval",
                         "similar", "regular", "irregular", "nodular", "cellular", "vascular",
                         "tubular", "lobular", "linear", "polar", "particular", "muscular"})


def _noun_of(index: dict[str, str], key: str) -> str | None:
    """The site an anatomical adjective names ("pancreatic" -> pancreas), or None."""
    if key in _NOT_PLACES:
        return None
    for suffix, noun in _ADJECTIVE_RULES:
        if key.endswith(suffix) and len(key) - len(suffix) >= 3:
            term = index.get(key[:-len(suffix)] + noun)
            if term is not None:
                return term
    return None


Word = tuple[int, int, str]


def _longest_runs(clean: str, max_words: int, name: Callable[[list[Word], int, int], str | None],
                  may_start: Callable[[str], bool] | None = None) -> list[tuple[int, int, str]]:
    """(start, end, term) of the longest runs of up to ``max_words`` words, joined only by
    spaces or hyphens, that ``name(words, i, n)`` gives a term for; one pass, left to right."""
    words = [(m.start(), m.end(), m.group()) for m in _WORD.finditer(clean)]
    # reach[i]: how many words from i on are joined only by spaces or hyphens (computed once,
    # right to left, instead of checking every gap of every candidate run)
    reach = [1] * len(words)
    for j in range(len(words) - 2, -1, -1):
        if not clean[words[j][1]:words[j + 1][0]].strip(" -"):
            reach[j] = reach[j + 1] + 1
    out: list[tuple[int, int, str]] = []
    i = 0
    while i < len(words):
        if may_start is not None and not may_start(words[i][2]):
            i += 1
            continue
        for n in range(min(max_words, reach[i]), 0, -1):
            term = name(words, i, n)
            if term is not None:
                out.append((words[i][0], words[i + n - 1][1], term))
                i += n
                break
        else:
            i += 1
    return out


@lru_cache(maxsize=65536)
def _site_named(joined: str, single: bool) -> tuple[str | None, bool]:
    """(site term, whether its key is a part's short name) of words joined without spaces;
    cached because the same words recur in every report (a third of the extractor's time)."""
    index = _anatomy_index()
    key = terms.normalise(joined)
    term = index.get(key) or index.get(terms.us_spelling(key)) \
        or (index.get(key[:-1]) if key.endswith("s") else None) \
        or (index.get(key[:-2]) if key.endswith("es") else None) or _latin_singular(index, key) \
        or (_noun_of(index, key) if single else None)
    return term, single and key in _part_keys()


@lru_cache(maxsize=1)
def _site_starts() -> frozenset[str]:
    """The first three letters of every site spelling (and its US form): plurals, Latin
    plurals and adjectives keep them, so a word without them starts no site name."""
    return frozenset(k[:3] for key in _anatomy_index() for k in (key, terms.us_spelling(key)))


@lru_cache(maxsize=65536)
def _may_start_site(word: str) -> bool:
    key = terms.normalise(word)
    return len(key) < 3 or key[:3] in _site_starts() or terms.us_spelling(key)[:3] in _site_starts()


def open_sites(clean: str) -> list[tuple[int, int, str]]:
    """Sites of the open vocabulary (any anatomy of PS3.16, by its name): the longest run of
    up to four words that names one, plural "-s"/"-es" allowed on the last word."""

    def name(words: list[Word], i: int, n: int) -> str | None:
        # "the distal right tibia": a side word inside the name is the laterality's
        term, part = _site_named("".join(w for j, (_, _, w) in enumerate(words[i:i + n])
                                         if not (0 < j < n - 1 and w.lower() in _SIDES)), n == 1)
        if term is not None and part and i > 0:
            before = words[i - 1][2].lower()
            if _ORGAN_ADJECTIVE.match(before) and before not in _NOT_PLACES and before != "pulmonary":
                return None
        if term is not None and part and i + 1 < len(words) and words[i + 1][2].lower() == "of":
            return None  # "the hilum of the spleen": the place is the organ it is part of
        return term

    return _longest_runs(clean, 4, name, _may_start_site)


# Finding terms of the generated tables that name no morphology one can point at in a report
# (qualifiers, classes of concepts, the normal).
_VAGUE_FINDINGS = frozenset({
    "background", "normal", "regional", "focal", "multifocal", "diffuse", "function", "substance",
    "tissue", "physical object", "anatomical structure", "body substance", "index lesion",
    "spatial and relational concept", "morphologically abnormal structure", "focal abnormality",
    "non-focal abnormality"})


@lru_cache(maxsize=1)
def _finding_index() -> dict[str, str]:
    """Normalised spelling -> finding term, for the generated finding terms only (the
    hand-kept ones have patterns with context: "mass effect" is no mass)."""
    return {key: term for key, term in terms.spellings("finding").items()
            if term not in vocab.FINDING_TYPES and term.casefold() not in _VAGUE_FINDINGS
            and len(key) >= 4}


@lru_cache(maxsize=1)
def _finding_starts() -> frozenset[str]:
    """The first four letters of every finding spelling (US form): a cheap first test."""
    return frozenset(key[:4] for key in _finding_index())


def open_findings(clean: str) -> list[tuple[int, int, str]]:
    """Finding nouns of the open vocabulary: the longest run of up to three words naming a
    generated finding term ("blood clot", "abscesses", "oedema", "emboli")."""
    index = _finding_index()

    def name(words: list[Word], i: int, n: int) -> str | None:
        key = terms.normalise("".join(w for _, _, w in words[i:i + n]))
        us = terms.us_spelling(key)
        return index.get(key) or index.get(us) or (index.get(us[:-1]) if us.endswith("s") else None) \
            or (index.get(us[:-2]) if us.endswith("es") else None) or _latin_singular(index, us)

    return _longest_runs(clean, 3, name, _may_start_finding)


@lru_cache(maxsize=65536)
def _may_start_finding(word: str) -> bool:
    """No finding term begins so: most words of a sentence are passed over at once."""
    return terms.us_spelling(word[:5].lower())[:4] in _finding_starts()
