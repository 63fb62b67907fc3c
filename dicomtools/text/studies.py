"""Study-level statements: "X was negative", "X revealed no abnormality", "X was
inconclusive", "negative on X": one finding about the whole study (``uptake`` on scintigraphy
and PET, ``mass`` on CT/MR/US), at the place the sentence names, else the region the study
covered (whole body for scintigraphy, PET and WB-MRI)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from . import assertion, lists
from .clauses import _study_clause
from .frames import Draft, apply_attributes, modality_of, per_region, regions_of, relational_zones
from .mentions import Mention, places_in
from .patterns import _CONTEXT, _NOT_DONE, _POSITIVE, _POSITIVE_BEFORE, _PROPERTY_NEGATED, _rx

if TYPE_CHECKING:
    from .extract import Evidence


def study_level(clean: str, procedures: list[Mention], frames: list[dict], cues: list, kinds: dict,
                evidence: Evidence) -> list[Draft]:
    """The study-level findings of one sentence (its finding-noun frames already read)."""
    out: list[Draft] = []
    for proc in procedures:
        if proc.value == "UNKNOWN":
            continue
        lo, hi = _study_clause(clean, proc, procedures)
        if _NOT_DONE.match(clean, proc.end):
            continue  # "A preoperative bone scan had not been done": no study, no result
        if any(_names_own_finding(f, proc, lo, hi) for f in frames):
            continue  # the procedure's clause (or the same study, named twice) has its finding
        state = None
        for cue in cues:
            covers = cue.scope_start <= proc.start < cue.scope_end or lo <= cue.start < hi
            if not covers or cue.category == assertion.POSSIBLE:
                continue
            if cue.start < proc.start and _PROPERTY_NEGATED.match(clean, cue.end):
                continue  # "No vascularity seen on color Doppler": a property, not the study
            if cue.direction == assertion.FORWARD and cue.start > proc.start:
                # "X revealed no abnormality": the negated noun must be generic
                generic = [f for f in frames if f.get("generic")
                           and cue.end <= f["anchor"].start < cue.scope_end]
                if not generic:
                    continue
            state = cue.category
            break
        if state is None:
            positive = _POSITIVE.search(clean, proc.end, hi) \
                or _POSITIVE_BEFORE.search(clean, max(0, proc.start - 30), proc.start)
            if not positive or any(c.start < positive.start() < c.scope_end and
                                   c.category == assertion.NEGATED for c in cues):
                continue
            state = "positive"
        present = {assertion.NEGATED: False, assertion.EQUIVOCAL: None, "positive": True}[state]
        modality = modality_of(proc.value)
        draft = Draft(proc.value, "uptake" if modality in ("NM", "PT") else "mass", present,
                       None, evidence=[evidence], study_level=True)
        if present is True:
            weak = any(c.category == assertion.POSSIBLE and lo <= c.start < hi for c in cues)
            draft.certainty = "possible" if weak else "definite"
        relational = relational_zones(clean, kinds.get("relational", []))
        # ("Brain MRI, obtained for suspected cerebellar ataxia, was unremarkable": the
        # indication's place is not where the study looked)
        sites = [m for m in kinds.get("site", []) if proc.end <= m.start < hi
                 and not _OTHER_TEST.match(clean, m.end)  # "bone scan and pulmonary function test"
                 and not any(a <= m.start < b for a, b in relational)
                 and not any(c.start < m.start <= c.end + 25 for c in kinds.get("indication", []))]
        copies: list[Draft] = []
        if sites:  # "Left suprarenal region unremarkable": absent there, not everywhere
            draft.fill("site", sites[0].value)
            draft.fill("laterality", lists.own_laterality(clean, sites[0], kinds.get("laterality", [])))
            listed = lists.site_list(clean, sites[0], sites, hi, relational)
            levels = {"levels": kinds.get("levels", [])}
            if len(listed) > 1:
                copies = lists.copies(clean, draft, listed, levels, hi)
                apply_attributes(clean, draft, levels, proc.end, lists.item_start(clean, *listed[:2]))
            else:
                apply_attributes(clean, draft, levels, proc.end, hi)
        elif present is not True:
            regions = regions_of(clean, proc, proc.value)
            draft.fill("site", regions[0] if regions else None)
            copies = per_region(draft, regions)
        out += [draft, *copies]
    return out


def _names_own_finding(frame: dict, proc: Mention, lo: int, hi: int) -> bool:
    """Does a frame report a finding of this study: in the procedure's clause, or read for
    the same study named again nearby ("FDG uptake on the PET": "FDG" and "PET" are one)?"""
    own = frame.get("proc")
    if any(p is proc for p in frame.get("group", ())):
        return True  # "No metastases were found by CT and bone scan": read for each test
    if own is None or frame.get("generic") or own.value != proc.value:
        return False
    if own is proc:
        return lo <= frame["anchor"].start < hi
    return abs(frame["anchor"].start - proc.start) < 80


# A place word that names a test that is no image: "pulmonary function test", "marrow aspirate"
_OTHER_TEST = _rx(r"\W{0,2}(?:function|biops\w{1,3}|aspirat\w{1,4}|trephines?|smears?|cytolog\w{1,3})\b")
# Places without a left and a right one (or told apart by level, not side).
UNPAIRED = frozenset({"vertebra", "spine", "cervical spine", "thoracic spine", "lumbar spine", "sacrum",
                      "spinal canal", "mediastinum", "posterior mediastinum", "retroperitoneum", "pelvis",
                      "abdomen", "thorax", "neck", "head", "whole body", "bone", "bone marrow", "skull",
                      "brain", "liver", "spleen", "pancreas", "bladder", "sternum", "paravertebral"})
# "The liver and spleen appear normal in size", "The pancreas, adrenals and kidneys are
# unremarkable", "Bony structures are intact": normal organs, one absent lesion each
_NORMAL_STATE = _rx(r"\b(?:is|are|was|were|appears?|appeared|looks?|looked|seems?|seemed|remains?|remained)"
                    r"(?: (?:also|grossly|entirely|completely|essentially|both|all))?"
                    r"(?: to be)? (?:normal|unremarkable|intact|preserved|within normal limits)\b"
                    # "normal in size", not "normal in height and alignment" (a property's)
                    r"(?! in (?!size|appearance|morphology)| for )")
_NOT_NORMAL = _rx(r"\b(?:not|no longer|except|but|apart from|other than)\b")
# what is normal is a property of the place, or a laboratory value, not the place itself
_PROPERTY = _rx(r"\b(?:signal|intensity|vascularity|flow|height|alignment|caliber|calibre|position|location|"
                r"contour|configuration|thickness|echogenicity|density|attenuation|enhancement|uptake|activity|"
                r"distribution|levels?|concentrations?|urine|urinary|serum|plasma|blood|function)\b")
_NOT_IMAGING = frozenset({"exam", "lab", "pathology", "surgery"})
# "... were normal along with the liver, spleen ...", "... normal in size, as well as the spleen"
_ALONG_WITH = _rx(r"[^,;]{0,30}?,? ?(?:along with|as well as|together with) ")
_RELATIONAL = dict(_CONTEXT)["relational"]


def normal_organs(clean: str, procedure: str | None, evidence: Evidence) -> list[Draft]:
    """The absent lesions of a sentence that calls organs normal (no finding noun in it)."""
    state = _NORMAL_STATE.search(clean)
    if state is None or _NOT_NORMAL.search(clean, 0, state.start()) or modality_of(procedure or "") in ("NM", "PT"):
        return []
    if any(kind in _NOT_IMAGING and pattern.search(clean) for kind, pattern in _CONTEXT):
        return []  # "On examination, heart and lungs were normal": the clinician's, or a lab's
    # (a sentence without a finding noun has no places read yet: read them here)
    found, lateralities = places_in(clean)
    relational = relational_zones(clean, [Mention("relational", m.start(), m.end(), m.group().lower())
                                          for m in _RELATIONAL.finditer(clean)])
    sites = [m for m in found if not any(a <= m.start < b for a, b in relational)]
    subject = [m for m in sites if m.end <= state.start()]
    if not subject or _PROPERTY.search(clean, subject[-1].end, state.start()) \
            or _PROPERTY.search(clean[:subject[0].start]):
        return []
    after = _ALONG_WITH.match(clean, state.end())
    if after is not None:
        subject += [m for m in sites if m.start >= after.end()]
    return _absent_lesions(clean, subject, lateralities, procedure, evidence)


def _absent_lesions(clean: str, organs: list[Mention], lateralities: list[Mention], procedure: str | None,
                    evidence: Evidence) -> list[Draft]:
    """One absent lesion per organ called normal, with its side."""
    out: list[Draft] = []
    side_before: str | None = None
    for i, site in enumerate(organs):
        side = lists.own_laterality(clean, site, lateralities)
        if side is None and i and side_before and site.value not in UNPAIRED \
                and clean[organs[i - 1].end:site.start] == " and ":
            side = side_before  # "the left kidney and adrenal gland": one side for both
        if side is None and site.value not in UNPAIRED and clean[site.end - 1:site.end].lower() == "s":
            side = "bilateral"  # "the kidneys", "adrenals"
        draft = Draft(procedure, "lesion", False, None, evidence=[evidence], study_level=True)
        draft.fill("site", site.value)
        draft.fill("laterality", side)
        out.append(draft)
        side_before = side
    return out


# "Computed tomography of the abdomen showed normal adrenal glands": the organs named after it
_SHOWN_NORMAL = _rx(r"\b(?:showed|shows|revealed|reveals|demonstrated|demonstrates|disclosed) (?:an? |the )?"
                    r"(?:normal|unremarkable) (?=[a-z])"
                    # a property is normal, not the organ: "normal size of the liver"
                    r"(?!(?:size|sized|shape|position|morphology|contours?|echo\w{0,10}|density|attenuation|"
                    r"signal|thickness|calib(?:er|re)|volume|appearance|enhancement)\b)")


def shown_normal_organs(clean: str, procedure: str | None, evidence: Evidence) -> list[Draft]:
    """The absent lesions of organs a study "showed normal" (a sentence with no finding noun)."""
    shown = _SHOWN_NORMAL.search(clean)
    if shown is None or modality_of(procedure or "") in ("NM", "PT"):
        return []
    return _shown_normal(clean, shown, procedure, evidence)


def _shown_normal(clean: str, shown: re.Match[str], procedure: str | None, evidence: Evidence) -> list[Draft]:
    if any(kind in _NOT_IMAGING and pattern.search(clean) for kind, pattern in _CONTEXT):
        return []
    stop = re.compile(r"[,;.(]| (?:and|with|but|except) ").search(clean, shown.end())
    end = stop.start() if stop else len(clean)
    found, lateralities = places_in(clean)
    return _absent_lesions(clean, [m for m in found if shown.end() <= m.start < end], lateralities,
                           procedure, evidence)
