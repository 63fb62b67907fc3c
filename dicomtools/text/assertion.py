"""Assertion: is a named finding present, absent, equivocal, or only possible?

A ConText-style algorithm with radiology cue lists, written here rather than taken from
medspaCy/negspacy (see the closing note of the issue, and ``../shared/reference/ecosystem.md``
§5): medspaCy's default rule ``no (abnormal|new)?`` swallows "No abnormal uptake" and leaves
the target un-negated (medspacy#52), "is negative for X" and "X is not excluded" scope
wrongly, medspaCy pins numpy<2, and negspacy has no uncertainty at all. Radiology needs both
directions: cues that look forward ("no", "did not reveal any", "suspicious for") and cues
that look back ("was negative", "could not be detected", "cannot be excluded").

Each cue has a direction and a category; its scope runs from the cue to a terminator
("but", "however", "which", a semicolon...) or a word limit. Pseudo-cues ("no change",
"not only", "no doubt") are matched first and block the cues they overlap.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

NEGATED, EQUIVOCAL, POSSIBLE, PSEUDO = "negated", "equivocal", "possible", "pseudo"
FORWARD, BACKWARD, BOTH = "forward", "backward", "both"

#: Words a forward cue's scope can cover, and a backward cue's scope can look back.
FORWARD_WORDS = 10
BACKWARD_WORDS = 14


@dataclass(frozen=True, slots=True)
class Cue:
    """A cue word group at ``[start, end)`` with its category and scope."""

    category: str
    direction: str
    start: int
    end: int
    scope_start: int
    scope_end: int


def _rx(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


# Order matters: earlier patterns win where cues overlap ("cannot be excluded" is a hedge,
# not the negation "not").
_CUES: list[tuple[str, str, re.Pattern[str]]] = [
    (PSEUDO, FORWARD, _rx(r"\b(?:no (?:significant |interval |substantial )?(?:change|progression|"
                          r"doubt|growth)|not only|not necessarily|no longer (?:only|just)|"
                          r"without (?:any )?(?:change|doubt|delay)|not (?:been )?changed|"
                          r"no (?:neurological )?sequelae|not performed|"
                          # how the images were made: "MRI without contrast shows a mass"
                          r"without (?:\([^()]{0,30}\) )?(?:(?:IV|intravenous|iodinated|oral) )?"
                          r"(?:contrast|gadolinium|sedation|an(?:a)?esthesia|fat[- ]s\w{1,10})|"
                          r"non-?contrast|"
                          # the nature is open, the mass is there: "a mass with indeterminate
                          # radiological characteristics"
                          r"(?:indeterminate|equivocal|uncertain|unclear) (?:[\w-]{1,15} ){0,2}"
                          r"(?:characteristics|features|appearances?|morphology|enhancement pattern))\b")),
    # "No - the soft tissue uptake warrants against this": the answer to a question, not a negation
    (PSEUDO, FORWARD, _rx(r"^\W{0,3}no(?= ?[-\u2013:,.] )")),
    # "the lesions are no longer appreciable": gone on this study (before the "no" of "no ...")
    (NEGATED, BACKWARD, _rx(r"\b(?:was|were|is|are) no longer (?:seen|visible|appreciable|evident|"
                            r"present|identified|detectable|demonstrable|depicted|apparent)\b")),
    (POSSIBLE, BACKWARD, _rx(r"\b(?:can ?not|can't|could not|couldn't|may not|is not|was not|not) "
                             r"(?:be |been |)(?:(?:completely|entirely|definitely|fully|safely|"
                             r"reliably) )?(?:excluded|ruled out)\b")),
    # "a pheochromocytoma, falsely negative on FDG PET/CT and on MIBG scintigraphy"
    (NEGATED, FORWARD, _rx(r"\b(?:falsely |false-)?negative (?:on|at|in|with)(?= (?:the )?(?:[\w/-]{1,20} ){0,3}?"
                           r"(?:scans?|study|scintigra\w{1,6}|MRI|CT|PET(?:/CT)?|ultraso\w{2,8}|imaging)\b)")),
    # "underwent a negative I-123 MIBG scan": the result said before the study
    # ("Bone scintigraphy demonstrated normal bone scintigraphy": the same, without an article)
    (NEGATED, FORWARD, _rx(r"(?:\b(?:an?|the)|(?<=demonstrated)|(?<=showed)|(?<=revealed)) "
                           r"(?:negative|normal|unremarkable)(?= (?:[\w/\[\]-]{1,20} ){0,3}?"
                           r"(?:scans?|study|studies|scintigra\w{1,6}|MRI|CT|PET|ultraso\w{2,8}|imaging)\b)")),
    (EQUIVOCAL, BOTH, _rx(r"\b(?:equivocal|inconclusive|indeterminate|non-?diagnostic|doubtful|"
                          r"(?:of )?(?:uncertain|unclear|undetermined) (?:significance|nature|origin)|"
                          r"uncertain|unclear|borderline)\b")),
    (POSSIBLE, BOTH, _rx(r"\bweakly (?:positive|avid)\b")),
    # "uptake in the adrenal, possibly physiological": a doubt about the finding itself
    (POSSIBLE, BACKWARD, _rx(r"\b(?:possibly|probably|likely|presumably|maybe) (?:physiologic\w{0,3}|"
                             r"benign|reactive|artefact\w{0,2}|artifact\w{0,2}|normal|inflammatory)\b")),
    # "An opsoclonus was suspected and CT revealed a mass": the hedge is on what came before
    (POSSIBLE, BACKWARD, _rx(r"\b(?:is|was|are|were) (?:suspected|possible|likely|probable)\b(?! to\b)")),
    # "lesions, probably metastases": the hedge is on what follows (the interpretation)
    (POSSIBLE, FORWARD, _rx(r"\b(?:possibly|probably|presumably|questionabl[ey])\b")),
    (POSSIBLE, FORWARD, _rx(r"\b(?:possible|probable|likely|suspicious (?:for|of)|suggestive of|"
                            r"suspected|suspicion of|questionable|query|presumed|presumptive|"
                            r"(?:thought|felt|believed|considered) to (?:represent|be|reflect)|"
                            r"potential|concerning for|worrisome for|(?:may|might|could) "
                            r"(?:represent|be|correspond to|reflect)|cannot exclude|"
                            r"differential diagnosis (?:of|includes)|vs\.?|versus)\b")),
    # "Both scans were negative for bone involvement": the studies are negative, there
    (NEGATED, BOTH, _rx(r"\b(?:was|were|is|are|remained) (?:\w{1,12} )?negative for\b")),
    (NEGATED, FORWARD, _rx(r"\b(?:no(?: evidence| signs?| sign| indication)?(?: of)?(?: any)?|"
                           r"without(?: any)?(?: evidence of)?|absence of|absent|free of|"
                           r"negative for|neither|nor|lack of|(?:complete |total )?resolution of|"
                           r"(?:failed|fails|fail) to (?:reveal|show|demonstrate|detect|identify|"
                           r"depict|visuali[sz]e|locali[sz]e|locate|find|pick up)(?: any)?|"
                           r"(?:was|were|is|are) not revealing of|"
                           r"(?:did|does|do|could|can) ?(?:not|n't) (?:reveal|show|demonstrate|"
                           r"detect|identify|display|depict|disclose|visuali[sz]e|find|see|have)"
                           r"(?: any)?(?: signs? of| evidence of)?|"
                           r"(?:revealed|showed|shows|reveals|demonstrated|demonstrates|detected|"
                           r"identified|disclosed|displayed|found|depicted)(?: no| nothing)|"
                           r"not (?:any|a)|non-?avid|rule[ds]? out|excluded|"
                           # "the tumor was not MIBG avid": the predicate is negated
                           r"(?:was|were|is|are) not(?! (?:only|seen|detected|identified|visuali[sz]ed|"
                           r"demonstrated|found|present|evident|appreciated|depicted|observed|noted|"
                           r"shown|delineated|confirmed|performed|changed|detectable|visible|revealing)\b))\b")),
    (NEGATED, BACKWARD, _rx(r"\b(?:(?:was|were|is|are|has been|have been|could|can|could be|"
                            r"would be)? ?(?:not|n't|never) (?:be )?(?:seen|detected|identified|"
                            r"visuali[sz]ed|demonstrated|found|present|evident|appreciated|"
                            r"depicted|observed|noted|shown|delineated|confirmed)|"
                            r"(?:was|were|is|are|remained|remains) (?:\w{1,12} ){0,2}negative|"
                            r"(?:was|were|is|are) (?:absent|excluded|ruled out)|"
                            # "the lesion was undetectable using US, CT and MRI", "occult on CT"
                            r"(?:was|were|is|are|remained|remains) (?:\w{1,12} )?(?:undetectable|undetected|"
                            r"not detectable|occult|invisible|not visible|unrevealing|non-?revealing)|"
                            # "was also normal", "was found to be normal", "came back clear"
                            r"(?:was|were|is|are|appeared|remained|(?:came|come|comes) back) "
                            r"(?:(?:also|again|otherwise|entirely|completely|totally|essentially|likewise|similarly|still|both|"
                            r"found to be|reported as|reported to be|considered|interpreted as|read as) ){0,2}"
                            r"(?:unremarkable|normal|clear)|unremarkable|resolved|disappeared|"
                            # a verbless result: "mIBG: negative.", "Left adrenal: normal."
                            r"(?<=: )(?:negative|normal)(?=\W{0,3}$))\b")),
    # "Normal MIBG scan.", "Negative bone scan": the result word before the study
    (NEGATED, FORWARD, _rx(r"^\W{0,3}(?:normal|negative|unremarkable)\b(?= (?:[\w/-]{1,20} ){0,3}?"
                           r"(?:scan|study|scintigra\w{1,6}|MRI|CT|PET|ultraso\w{2,8}|imaging)\b)")),
]
# Scope ends at these: punctuation that closes a clause, and words that turn the sentence.
_TERMINATOR = _rx(r"[;:.!?]|"
                  # ", and the blood count was normal": a new clause with its own subject
                  r", (?:and|while|whereas) (?=(?:the|a|an|there|it|this|his|her|their|no)\b)|"
                  r"\b(?:but|however|although|though|except|apart from|aside from|"
                  r"which|whereas|while|yet|nevertheless|revealing|showing|demonstrating|"
                  r"whilst|besides|other than|instead)\b")
_WORD = re.compile(r"\S+")
_RELATIVE = _rx(r", which (?:was|were|is|are)(?: (?:considered|regarded|judged|interpreted|read|"
                r"reported|felt|thought)(?: as| to be)?)?(?: \w{1,12}ly)? $")


def find_cues(clean: str) -> list[Cue]:
    """Every assertion cue of a normalised sentence with its scope."""
    taken: list[tuple[int, int]] = []
    raw: list[tuple[str, str, int, int]] = []
    for category, direction, pattern in _CUES:
        for m in pattern.finditer(clean):
            if any(m.start() < e and s < m.end() for s, e in taken):
                continue
            taken.append((m.start(), m.end()))
            raw.append((category, direction, m.start(), m.end()))
    terminators = [m.start() for m in _TERMINATOR.finditer(clean)]
    words = [m.start() for m in _WORD.finditer(clean)]
    cues = []
    for category, direction, start, end in raw:
        if category == PSEUDO:
            continue
        fwd_end = _forward_end(clean, end, terminators, words)
        back_start = _backward_start(start, terminators, words)
        if category in (EQUIVOCAL, POSSIBLE) and direction != FORWARD:
            # "a node, which was considered equivocal": the relative clause judges the noun
            # just before it (negation is left out: "the kidney, which was normal" is the organ)
            rel = _RELATIVE.search(clean, max(0, start - 60), start)
            if rel:
                back_start = _backward_start(rel.start(), terminators, words)
        scope_start, scope_end = {
            FORWARD: (end, fwd_end), BACKWARD: (back_start, start), BOTH: (back_start, fwd_end),
        }[direction]
        cues.append(Cue(category, direction, start, end, scope_start, scope_end))
    return cues


def _forward_end(clean: str, end: int, terminators: list[int], words: list[int]) -> int:
    after = bisect.bisect_left(words, end)
    limit = words[after + FORWARD_WORDS] if after + FORWARD_WORDS < len(words) else len(clean)
    at = bisect.bisect_left(terminators, end)
    stop = terminators[at] if at < len(terminators) else len(clean)
    # A comma ends the scope unless a list continues it ("no mass, node or uptake").
    comma = clean.find(",", end, min(stop, limit))
    if comma >= 0 and not re.search(r"\b(?:or|nor)\b", clean[comma:min(stop, limit)]):
        stop = comma
    return min(stop, limit)


def _backward_start(start: int, terminators: list[int], words: list[int]) -> int:
    at = bisect.bisect_left(terminators, start)
    clause = terminators[at - 1] + 1 if at else 0
    before = bisect.bisect_left(words, start)
    window = words[before - BACKWARD_WORDS] if before >= BACKWARD_WORDS else 0
    return max(clause, window)


def assess(cues: list[Cue], start: int, end: int) -> tuple[bool | None, str | None]:
    """(present, certainty) of the target at ``[start, end)``.

    Negation wins over uncertainty ("no definite mass" is absent); an equivocal cue makes
    the result undetermined (present None); a hedge keeps it present but "possible".
    """
    hits = {c.category for c in cues
            if c.scope_start <= start < c.scope_end or c.start <= start < c.end}
    if NEGATED in hits:
        return False, None
    if EQUIVOCAL in hits:
        return None, None
    if POSSIBLE in hits:
        return True, "possible"
    return True, "definite"

