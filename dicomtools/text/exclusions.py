"""Which finding nouns are no imaging finding of the sentence: nouns of a histopathology,
surgery, laboratory, examination or indication clause, normal (physiological) uptake, and
echo features of a lesion. Split from ``frames``: it decides which nouns open a frame."""

from __future__ import annotations

import re

from .frames import _RESULT_VERB, TURN, clause_around, relational_zones
from .mentions import Mention


def excluded(clean: str, anchor: Mention, kinds: dict) -> bool:
    """Is this finding noun about pathology, surgery, an indication or normal uptake, or a
    feature of a lesion ("no echogenic foci", "hyperechoic foci": its texture, not a lesion)?"""
    if clean[anchor.start:anchor.start + 3].lower() == "foc" \
            and _ECHO_FEATURE.search(clean, max(0, anchor.start - 24), anchor.start):
        return True
    lo, hi = clause_around(clean, anchor.start)
    procedures = kinds.get("procedure", [])

    def imaged_between(a: int, b: int) -> bool:  # "..., MIBG scintigraphy revealed metastases"
        return any(a <= p.start < b and _RESULT_VERB.search(clean, p.end, b) for p in procedures)

    for cue in kinds.get("pathology", []):
        # from the pathology clause to the end of the sentence, unless a study is the subject
        # of the noun's own clause ("Abdomen CT revealed a liver mass that proved to be
        # hepatoblastoma on biopsy")
        if clause_around(clean, cue.start)[0] <= anchor.start and not imaged_between(
                lo if cue.start > anchor.end else cue.end, anchor.start):
            return True
    landmarks = relational_zones(clean, kinds.get("relational", []))
    if any(cue.start <= 3 for cue in kinds.get("exam", [])):
        return True  # "On examination, ...": the whole sentence is the clinician's
    for cue in kinds.get("exam", []):
        # "His cardiac exam was ...; he had pretibial edema": the examination goes on to the
        # sentence's end, unless a test is named after it
        if cue.start < anchor.start and not any(cue.end <= p.start < anchor.start for p in kinds.get("procedure", [])):
            return True
    for cue in kinds.get("surgery", []) + kinds.get("lab", []) + kinds.get("exam", []):
        if lo <= cue.start < hi and not any(a <= cue.start < b for a, b in landmarks) \
                and not imaged_between(lo if cue.start > anchor.end else cue.end, anchor.start):
            # (not "uptake adjacent to the resection margin": a landmark of the place; not
            # "ultrasonography revealed a mass and elevated urine VMA": the lab comes after)
            return True
    for cue in kinds.get("indication", []):
        if cue.start <= anchor.start < cue.end:
            return True
        # the scope runs over commas ("includes neuroblastoma, ganglioneuroma and ...")
        # until a clause turn, a procedure or a result verb
        if cue.start < anchor.start and not TURN.search(clean, cue.end, anchor.start):
            between = clean[cue.end:anchor.start]
            stops = [p for p in kinds.get("procedure", []) if cue.end <= p.start < anchor.start]
            if not stops and not _RESULT_VERB.search(between):
                return True
    for cue in kinds.get("physio", []):
        if lo <= cue.start < hi and abs(cue.start - anchor.start) < 60:
            return True
        # "uptake in the adrenal glands, likely physiological": the appositive judges it normal
        gap = clean[anchor.end:cue.start]
        if 0 < len(gap) <= 80 and not TURN.search(gap) and _NORMAL_APPOSITIVE.search(gap):
            return True
    return False

_ECHO_FEATURE = re.compile(r"\b(?:hyper|hypo|an)?echo(?:genic|ic)(?: punctate| bright)? $", re.IGNORECASE)
# ", likely physiological" judges the uptake normal; ", possibly physiological" only hedges it.
_NORMAL_APPOSITIVE = re.compile(r", (?:(?:most|very|more|highly) )?(?:likely|probably|presumably|"
                                r"consistent with|in keeping with|compatible with|representing|"
                                r"(?:thought|felt|considered) to be)? ?(?:a |an )?$", re.IGNORECASE)
