"""Frames: a sentence cut into one frame per finding noun, each frame made a draft finding.

A frame holds the noun's pre-modifiers ("left-sided paravertebral") and the words after it up to
the next noun; an interpretive noun ("consistent with a neuroblastic tumor") or a located one
("uptake in the adrenal mass") joins the frame before it instead of opening one. Attributes go
to the frame they are in; sites after a relational word ("adjacent to the left kidney") are
neighbours, not the finding site. Nouns in a histopathology, surgery, indication, lab or
physiological-uptake context are not imaging findings and open no frame (``exclusions``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from .. import vocab
from ..observations import Measurement
from . import assertion, lists
from .mentions import Mention, is_definite_reference, procedure_regions
from .mr_signals import is_post_contrast
from .patterns import _REGION_WORDS, TRACER_STUDIES

if TYPE_CHECKING:
    from .extract import Evidence

ATTRIBUTES = ("t1_signal", "t2_signal", "diffusion_restricted", "adc", "enhancement",
              "contrast_agent", "size", "levels", "volume_ml", "measurement")
LESIONS = {"mass", "lesion", "neoplasm", "nodule", "metastasis", "neuroblastoma", "ganglioneuroblastoma",
           "ganglioneuroma"}
REGIONS = {"thorax", "abdomen", "pelvis", "neck", "whole body"}
_STOP = frozenset(["a", "an", "the", "this", "that", "these", "those", "its", "their", "his", "her", "of", "in", "at",
                   "on", "with", "to", "from", "by", "within", "into", "for", "and", "or", "showed", "shows", "show",
                   "revealed", "reveals", "reveal", "demonstrated", "demonstrates", "detected", "identified", "is",
                   "are", "was", "were", "be", "been", "there", "seen", "noted", "no", "without", "any", "evidence",
                   "as", "which", "showing", "revealing", "demonstrating", "detecting", "identifying", "visualized",
                   "visualised", "depicted", "confirmed", "including", "than", "also", "both", "either",
                   "but", "however", "although", "though", "while", "whereas", "yet", "nor", "neither",
                   # a verb's particle ends the noun phrase too: "ruled out other tumors"
                   "out", "excluded", "disclosed", "displayed", "found", "had", "has", "have"])
_TOKEN = re.compile(r"[\w.+/-]+|[^\w\s]")
TURN = re.compile(r"[;:]|\b(?:whereas|while|but|however|although|though)\b", re.IGNORECASE)
# (also "found to have", "was found": a clinical history ends where the imaging result starts,
# "A girl presenting with ataxia was found to have a left adrenal mass on CT")
_RESULT_VERB = re.compile(r"\b(?:revealed|reveals|revealing|showed|shows|showing|demonstrated|"
                          r"demonstrates|demonstrating|detected|identified|depicted|visuali[sz]ed|"
                          r"(?:was|were) (?:\w{1,12}ly )?found|found to have|discovered)\b",
                          re.IGNORECASE)


@dataclass
class Draft:
    """A finding being assembled (mutable until the document is read)."""

    procedure: str | None
    finding: str | None
    present: bool | None
    certainty: str | None
    values: dict[str, Any] = field(default_factory=dict)
    evidence: list[Evidence] = field(default_factory=list)
    study_level: bool = False
    enhanced: bool = False
    definite_ref: bool = False
    other: bool = False
    summary: bool = False  # read in an abstract: a restatement of the body
    panel: bool = False  # read in a figure panel ("B: Sagittal T1-weighted MRI showing ...")
    item: str | None = None  # its numbered item ("Nodule 2: ..."): another number, another finding
    case: int = 0  # its patient, in a report of several cases
    tracer: str | None = None
    modality_hint: str | None = None

    def fill(self, key: str, value: Any) -> None:
        if value is not None and self.values.get(key) is None:
            self.values[key] = value


_CONTRAST_WORD = re.compile(r"\bcontrast|\bgadolin|\benhanc", re.IGNORECASE)


def build_frames(clean: str, anchors: list[Mention], kinds: dict, cues: list,
            procedures: list[Mention]) -> list[dict]:
    frames: list[dict] = []
    interps = kinds.get("interp", [])
    for anchor in anchors:
        prev = frames[-1] if frames else None
        last = max([prev["anchor"], *prev["merged"]], key=lambda m: m.end) if prev else None
        gap = clean[last.end:anchor.start] if last else ""
        # ("consistent with an insulinoma and no metastatic disease": the negative is a finding)
        interp = any(anchor.start - 45 <= c.end <= anchor.start for c in interps) \
            and not re.search(r"\b(?:and|with|but) (?:no|without)\b", gap)
        located = prev is not None and prev["anchor"].value == "uptake" and re.fullmatch(
            r"(?: (?:was|were|is|are)(?: also)? (?:found|seen|noted|identified|detected|present|observed))?"
            r" (?:at|in|within|of|involving|corresponding to|in the region of)(?: the| an?)?"
            r"(?: (?!and\b|or\b|with\b)[\w.-]{1,20}){0,6} ?",
            gap)
        if prev is not None and anchor.value != "generic" and (interp or located) \
                and not TURN.search(gap):
            prev["merged"].append(anchor)
            continue
        if prev is not None and re.fullmatch(r" of(?: [\w-]{1,20}){0,3} ", gap):
            # "foci of increased uptake", "evidence of a mass": one finding
            if prev["anchor"].value == "generic":
                prev["anchor"] = Mention("anchor", prev["anchor"].start, anchor.end, anchor.value)
            prev["merged"].append(anchor)
            continue
        if prev is not None and premod(clean, anchor, None) <= prev["anchor"].start \
                and prev["anchor"].value != "generic":
            # "a somatostatin-avid right paravertebral mass": the first noun modifies
            frames.pop()
            prev = frames[-1] if frames else None
        frames.append({"anchor": anchor, "merged": [], "pre": premod(clean, anchor, prev)})
    sites = kinds.get("site", [])
    kept: list[dict] = []
    for i, frame in enumerate(frames):
        nxt = frames[i + 1]["pre"] if i + 1 < len(frames) else len(clean)
        own_site = any(frame["pre"] <= m.start < nxt for m in sites)
        if kept and frame["anchor"].value == "uptake" and not own_site \
                and kept[-1]["anchor"].value in LESIONS \
                and not TURN.search(clean, kept[-1]["anchor"].end, frame["anchor"].start):
            lesion, uptake = kept[-1]["anchor"], frame["anchor"]
            p1, p2 = procedure_for(clean, lesion, procedures), procedure_for(clean, uptake, procedures)
            p2 = tracer_study(uptake, procedures) or p2  # tracer uptake is the tracer study's
            same = ((p1.value if p1 else None) == (p2.value if p2 else None)
                    and assertion.assess(cues, lesion.start, lesion.end)
                    == assertion.assess(cues, uptake.start, uptake.end))
            if same:
                kept[-1]["merged"].append(uptake)  # "the mass showed mild FDG avidity"
                continue
            frame["site_of"] = kept[-1]  # "the mass seen on MRI showed no MIBG uptake"
            if (p1.value if p1 else None) == (p2.value if p2 else None) and p2 is not None \
                    and p2.end <= lesion.start and modality_of(p2.value) in ("NM", "PT") \
                    and is_definite_reference(clean, lesion.start):
                # "On MIBG scintigraphy the lesion showed no uptake": the lesion named before is
                # the subject; what the scan found in it is the uptake
                kept[-1]["subject"] = True
        kept.append(frame)
    frames = kept
    for i, frame in enumerate(frames):
        frame["lo"] = frame["pre"] if i else 0
        frame["hi"] = frames[i + 1]["pre"] if i + 1 < len(frames) else len(clean)
    return frames

def tracer_study(anchor: Mention, procedures: list[Mention]) -> Mention | None:
    """The scintigraphy or PET of the sentence nearest a tracer-uptake noun, if any."""
    if anchor.value != "uptake":
        return None
    tracer = [p for p in procedures if modality_of(p.value) in ("NM", "PT")]
    return min(tracer, key=lambda p: abs(p.start - anchor.start)) if tracer else None


def premod(clean: str, anchor: Mention, prev: dict | None) -> int:
    floor = prev["anchor"].end if prev else 0
    start = anchor.start
    tokens = list(_TOKEN.finditer(clean, floor, anchor.start))
    for tok in reversed(tokens):
        word = tok.group().lower()
        if word in _STOP or word in ",;:()[]\"'":
            break
        start = tok.start()
    return start

_BARE_FOCI = re.compile(r"foc(?:us|i)\b(?! of\b)", re.IGNORECASE)


def frame_draft(clean: str, frame: dict, kinds: dict, cues: list, procedures: list[Mention],
                inherited: str | None, evidence: Evidence, scan: str | None = None) -> Draft | None:
    """The draft finding of one frame; ``scan``: the last scintigraphy or PET named, whose
    the bare "foci" of a sentence naming no study are."""
    anchor: Mention = frame["anchor"]
    proc_mention = procedure_for(clean, anchor, procedures)
    frame["proc"] = proc_mention
    procedure = proc_mention.value if proc_mention else inherited
    if anchor.value == "uptake" and modality_of(procedure) not in ("NM", "PT", None):
        # tracer uptake is not seen on CT/MR/US: "foci of uptake at the mandible showing a
        # lytic lesion on CT" is the PET of a PET/CT; "uptake of contrast" is enhancement
        tracer = tracer_study(anchor, procedures)
        if tracer is not None:
            proc_mention = tracer
            frame["proc"], procedure = proc_mention, proc_mention.value
        elif modality_of(inherited) in ("NM", "PT"):
            frame["proc"], proc_mention, procedure = None, None, inherited
        elif _CONTRAST_WORD.search(clean):
            return None
    if anchor.value == "uptake" and clean[anchor.start:anchor.end].lower() == "activity" \
            and modality_of(procedure) not in ("NM", "PT"):
        return None  # "activity" said of no scan: of a disease, of the patient
    if anchor.value == "uptake" and _BARE_FOCI.match(clean, anchor.start) \
            and modality_of(procedure) not in ("NM", "PT"):
        if proc_mention is None and scan is not None:
            # "There are also other foci in ...", after a CT was mentioned: the scan's
            procedure = scan
        elif procedure is None:
            return None  # "foci" of no known study: nothing says what they are
        else:  # "hyperintense foci" on MRI: lesions of that study
            anchor = frame["anchor"] = Mention(anchor.kind, anchor.start, anchor.end, "lesion")
    if procedure == "UNKNOWN":
        return None
    present, certainty = assertion.assess(cues, frame["pre"], anchor.end)
    if present is not True:
        certainty = None
    lo, hi, pre = frame["lo"], frame["hi"], frame["pre"]
    relational = relational_zones(clean, kinds.get("relational", []))

    def inside(m: Mention, a: int, b: int) -> bool:
        return a <= m.start < b and not any(s <= m.start < e for s, e in relational)

    # (a place inside the noun is its own only in "metastatic liver lesions": the anchor spans it)
    spans_place = clean[anchor.start:anchor.start + 11].lower() == "metastatic "
    sites = [m for m in kinds.get("site", []) if inside(m, lo, hi)
             and (spans_place or not (anchor.start <= m.start < anchor.end))]
    if anchor.value == "generic":
        sites = [m for m in sites if m.start >= pre]
    premod = sorted((m for m in sites if pre <= m.start < (anchor.end if spans_place else anchor.start)),
                    key=lambda m: m.value in REGIONS)  # "thoracic paravertebral": the specific one
    after = specific_site(clean, next((m for m in sites if m.start >= anchor.end), None), sites)
    site_m = next(iter(premod), None) or after \
        or specific_site(clean, _described(clean, [m for m in sites if m.start < pre], pre)
                         or next((m for m in sites if m.start < pre), None), sites)
    listed: list[Mention] = []
    if after is not None and (site_m is after or lists.general(site_m)):
        after = lists.named_by_list(clean, after, sites) or after
        listed = lists.site_list(clean, after, sites, hi, relational)
        if len(listed) > 1:
            site_m = after
    kind = anchor.value
    if kind == "generic":
        if present is not False or site_m is None:
            frame["generic"] = True
            return None  # study-level statement, handled with the procedure
        kind = "uptake" if modality_of(procedure) in ("NM", "PT") else "mass"
    draft = Draft(procedure, kind, present, certainty, evidence=[evidence])
    draft.definite_ref = is_definite_reference(clean, anchor.start)
    draft.other = any(c.end <= anchor.start and anchor.start - c.end < 25
                      for c in kinds.get("other", []))
    if site_m is None and "site_of" in frame:
        owner = frame["site_of"]
        site_m = next((m for m in kinds.get("site", []) if owner["pre"] <= m.start < owner["anchor"].start), None)
        lat_m = next((m for m in kinds.get("laterality", []) if owner["pre"] <= m.start < owner["anchor"].start), None)
        if site_m is None and owner.get("site_m") is not None:
            # "a lesion in the liver ..., which demonstrates no FDG uptake": the lesion's place
            site_m, lat_m = owner["site_m"], owner.get("lat_m")
        draft.fill("laterality", lat_m.value if lat_m else None)
    if site_m is not None:
        draft.fill("site", node_site(clean, site_m) if kind == "lymph node" else site_m.value)
    frame["site_m"] = site_m
    lats = [m for m in kinds.get("laterality", []) if inside(m, lo, hi)]
    lat = None
    if site_m is not None:
        lat = next((m for m in lats if 0 <= site_m.start - m.end <= 12), None)

    def own(m: Mention) -> bool:  # "both femora": that laterality is the femora's
        nxt = next((x for x in kinds.get("site", []) if 0 <= x.start - m.end <= 20), None)
        # "lower lobe of right lung": the lung named again is the lobe's own whole
        return nxt is None or nxt is site_m or (site_m is not None and str(nxt.value) in str(site_m.value))

    lat = lat or next((m for m in lats if pre <= m.start < anchor.start), None)
    if len(listed) < 2:  # in a list, a side word after the noun is its own site's
        lat = lat or next((m for m in lats if m.start >= anchor.end and own(m)), None) \
            or next((m for m in lats if m.start < pre and own(m)), None)
    elif lat is None:
        draft.fill("laterality", lists.own_laterality(clean, listed[0], lats))
    if lat is not None and site_m is None and not (pre <= lat.start < anchor.start or _trails(clean, anchor, lat)):
        lat = None  # with no place, only the noun's own side word ("a left-sided mass") is its side
    if lat is not None and (draft.values.get("site") or site_m is None):
        draft.fill("laterality", lat.value)
        frame["lat_m"] = lat
    if lists.biodistribution(clean, anchor, listed, pre):
        return None  # "uptake in the spleen, kidneys, liver, thyroid ...": the normal distribution
    adjectives = lists.adjective_sites(clean, anchor) if len(listed) < 2 else []
    if len(adjectives) > 1:  # "cervical, axillary and mediastinal lymphadenopathy"
        apply_attributes(clean, draft, kinds, lo, hi)
        draft.values["site"], draft.values["laterality"] = adjectives[0], None
        frame["copies"] = [replace(draft, values={**draft.values, "site": site}, evidence=list(draft.evidence))
                           for site in adjectives[1:]]
    elif len(listed) > 1:
        frame["copies"] = lists.copies(clean, draft, listed, kinds, hi)
        apply_attributes(clean, draft, kinds, lo, lists.item_start(clean, listed[0], listed[1]))
    else:
        apply_attributes(clean, draft, kinds, lo, hi)
    if draft.values.get("site") is None and present is False and "site_of" not in frame:
        regions = regions_of(clean, proc_mention, procedure)
        if not regions and anchor.value == "metastasis":
            regions = ["whole body"]  # "no metastases", "metastatic work-up was negative": nowhere
        draft.fill("site", regions[0] if regions else None)
        if not frame.get("copies"):
            frame["copies"] = per_region(draft, regions)
    pair = next((m for m in lats if lat is not None and clean[lat.end:m.start] == " and "),
                None) if draft.values.get("laterality") and not frame.get("copies") else None
    if pair is not None:  # "masses in the right and left adrenal gland, ... respectively": one per side
        frame["copies"] = [replace(draft, values={**draft.values, "laterality": pair.value},
                                   evidence=list(draft.evidence))]
    return draft

def _described(clean: str, before: list[Mention], pre: int) -> Mention | None:
    """The place a "with no ..." phrase describes: "a bulky left adrenal gland with no discrete
    mass lesion" (the nearest place before it, in the same list item)."""
    if before and re.fullmatch(r"[\w -]{0,25}? (?:with|without|showing|containing)(?: no| any)?\W{0,2}",
                               clean[before[-1].end:pre]):
        return before[-1]
    return None


def _trails(clean: str, anchor: Mention, lat: Mention) -> bool:
    """Does the side word follow the noun inside its own phrase ("a mass to the right of the IVC")?"""
    return 0 <= lat.start - anchor.end <= 40 and not re.search(r"[,;.]|\b(?:and|with|which|but)\b",
                                                               clean[anchor.end:lat.start])


def node_site(clean: str, site: Mention) -> object:
    """The lymph-node station a place word names ("mediastinal nodes" -> mediastinal lymph
    node, "hilar adenopathy" -> hilar lymph node), else the place itself."""
    from .anatomy import open_sites
    said = clean[site.start:site.end]
    found = open_sites(f"{said} lymph node")
    if found and found[0][0] == 0 and found[0][1] == len(said) + len(" lymph node") \
            and str(found[0][2]).endswith(" lymph node"):  # not "... lymph node of the anterior mediastinum"
        return found[0][2]
    return site.value


def apply_attributes(clean: str, draft: Draft, kinds: dict, lo: int, hi: int) -> None:
    for name in ATTRIBUTES:
        for m in kinds.get(name, []):
            if not lo <= m.start < hi:
                continue
            apply_mention(clean, draft, m)

def specific_site(clean: str, site: Mention | None, sites: list[Mention]) -> Mention | None:
    """'the left cervical paravertebral region': a region word followed at once by a more
    specific site names that site."""
    if site is None or site.value not in REGIONS:
        return site
    nxt = next((m for m in sites if 0 < m.start - site.end <= 15), None)
    if nxt is None or nxt.value in REGIONS or lists.has_join(clean[site.end:nxt.start]):
        return site  # "the abdomen or the paravertebral region" is a list, not one place
    return nxt


# words that end an examination's name: "CT of the abdomen | detected a retroperitoneal tumor"
_EXAM_END = (r"(?:show\w{0,3}|reveal\w{0,2}|detect\w{0,2}|demonstrat\w{1,3}|identif\w{1,5}|disclos\w{1,3}|"
             r"was|were|is|are|a|an|no|with|and the)\b")


_RUN_JOIN = re.compile(r",? and |, | or |/", re.IGNORECASE)


def _region_run(gap: str) -> bool:
    """Is ``gap`` a run of study-region words ("and pelvic", ", orbital and abdominal")?"""
    words = _RUN_JOIN.split(gap.rstrip())
    return len(words) > 1 and not words[0] and all(
        any(pattern.fullmatch(word) for pattern, _ in _REGION_WORDS) for word in words[1:])


def names_exam(clean: str, site: Mention, procedures: list[Mention]) -> bool:
    """'Chest X-ray', 'abdominal ultrasound', 'CT of the abdomen': the site is the region the
    examination covered, not where a finding is."""
    for p in procedures:
        if p.start <= site.start < p.end:
            return True
        if 0 < site.start - p.end <= 1 and re.match(r"\W{0,2}:", clean[site.end:site.end + 3]):
            return True  # "CT Abdomen: ...": the region the study covered, a heading
        if 0 <= p.start - site.end <= 2 and not re.match(r"[- ](?:avid|positive|negative|uptake)",
                                                         clean[p.end:p.end + 10], re.IGNORECASE):
            return True  # "suprarenal MIBG-avid mass": the test names the uptake, not the region
        if site.end < p.start and _region_run(clean[site.end:p.start]):
            return True  # "Abdominal and pelvic CT": each region word is the study's
        gap = clean[p.end:site.start]
        if 0 <= site.start - p.end <= 45 and re.fullmatch(
                r"(?: scan| examination| imaging| study| images?)? of the"
                r"(?: (?!" + _EXAM_END + r")[\w-]{1,15},?(?: and)?){0,3} ?", gap, re.IGNORECASE):
            return True
    return False


def modality_of(procedure: str | None) -> str | None:
    if procedure in vocab.PROCEDURES:
        return vocab.PROCEDURES[procedure].modality
    if procedure == "mIBG":
        return "NM"
    study = TRACER_STUDIES.get(procedure or "")
    return study[0] if study else None


def apply_mention(clean: str, draft: Draft, m: Mention) -> None:
    """Put one attribute mention on a draft (first value wins)."""
    if m.kind in ("t1_signal", "t2_signal"):
        if m.kind == "t1_signal" and is_post_contrast(clean, m):
            draft.enhanced = True
            return
        draft.fill(m.kind, m.value[0])
        draft.modality_hint = "MR"
    elif m.kind == "diffusion_restricted":
        draft.fill("diffusion_restricted", m.value)
        draft.modality_hint = "MR"
    elif m.kind == "adc":
        if draft.values.get("adc_value") is None and m.value[1] in vocab.ADC_UNITS:
            draft.values["adc_value"], draft.values["adc_unit"] = m.value
        draft.modality_hint = "MR"
    elif m.kind == "enhancement":
        degree, pattern = m.value
        draft.fill("enhancement", degree)
        draft.fill("enhancement_pattern", pattern)
        draft.enhanced = True
    elif m.kind == "contrast_agent":
        draft.fill("contrast_agent", m.value)
    elif m.kind == "size":
        draft.fill("dimensions_mm", m.value)
    elif m.kind == "levels":
        draft.fill("vertebral_levels", m.value)
    elif m.kind == "volume_ml":
        draft.fill("volume_ml", m.value)
    elif m.kind == "measurement":
        taken = draft.values.setdefault("measurements", [])
        if len(taken) < 20:
            taken.append(Measurement(m.value.concept, m.value.value, m.value.unit, m.value.derivation))


def clause_around(clean: str, pos: int) -> tuple[int, int]:
    """The comma/semicolon-delimited clause around ``pos``."""
    lo = max(clean.rfind(",", 0, pos), clean.rfind(";", 0, pos)) + 1
    his = [i for i in (clean.find(",", pos), clean.find(";", pos)) if i >= 0]
    return lo, (min(his) if his else len(clean))


def procedure_for(clean: str, anchor: Mention, procedures: list[Mention]) -> Mention | None:
    """The procedure a finding noun belongs to: nearest before it in its clause, else after."""
    if not procedures:
        return None
    turns = [m.start() for m in TURN.finditer(clean)]
    lo = max([t for t in turns if t < anchor.start], default=0)
    hi = min([t for t in turns if t > anchor.start], default=len(clean))
    inside = [p for p in procedures if anchor.start <= p.start < anchor.end]  # "MIBG-avid lesion"
    if inside:
        return inside[0]
    before = [p for p in procedures if lo <= p.start < anchor.start]
    if before:
        return before[-1]
    after = [p for p in procedures if anchor.end <= p.start < hi]
    if after:
        return after[0]
    earlier = [p for p in procedures if p.start < anchor.start]
    return earlier[-1] if earlier else None


def regions_of(clean: str, proc: Mention | None, procedure: str | None) -> list[str]:
    """Where a negative study looked: 'whole body' for scintigraphy/PET and WB-MRI, else each
    region named with it ("CT of the chest, abdomen and pelvis")."""
    if modality_of(procedure) in ("NM", "PT") or procedure == "whole-body MRI":
        return ["whole body"]
    return procedure_regions(clean, proc) if proc is not None else []


def region_of(clean: str, proc: Mention | None, procedure: str | None) -> str | None:
    """The first region a negative study looked at (see ``regions_of``)."""
    regions = regions_of(clean, proc, procedure)
    return regions[0] if regions else None


def per_region(draft: Draft, regions: list[str]) -> list[Draft]:
    """Copies of a negative finding for each further region its study covered."""
    return [replace(draft, values={**draft.values, "site": region}, evidence=list(draft.evidence))
            for region in regions[1:] if draft.values.get("site") == regions[0]]


def relational_zones(clean: str, cues: list[Mention]) -> list[tuple[int, int]]:
    zones = []
    for cue in cues:
        # ("uptake adjacent to the resection margin in the proximal tibia": the tibia holds both)
        stop = re.compile(r"[,;(]| (?:with|at|measuring|which|that|and|consistent|in keeping|in the|within the) ")
        m = stop.search(clean, cue.end)
        zones.append((cue.start, m.start() if m else len(clean)))
    return zones


