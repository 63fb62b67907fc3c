"""Sentence-level helpers of the reader (extract.py): where a study's clause runs, which
tests are named together, whether a finding noun is the lesion a negated property is said
of, report lines and headings. Bounded regexes on one sentence, like the rest."""

from __future__ import annotations

import re

from .. import terms
from . import assertion
from .frames import REGIONS, TURN, Draft, modality_of
from .mentions import Mention, is_definite_reference

# A sentence about normal organs ("Normal adrenal glands are usually not seen"), not a
# normal study ("Normal MIBG scan", "Normal findings").
_NORMAL_ANATOMY = re.compile(r"\W{0,3}normal (?!(?:[\w/-]{1,20} ){0,3}(?:scan|study|exam\w{0,7}|"
                             r"scintigra\w{1,6}|findings?|results?|appearances?|imaging|PET|MRI|CT)\b)"
                             r"(?:[\w-]{1,20} ){0,2}[\w-]{1,20}s? (?:show|are|is|have|has|do|does|were|was)\b",
                             re.IGNORECASE)


_PROPERTIES = ("diffusion_restricted", "enhancement", "t1_signal", "t2_signal", "adc")


def _property_of(clean: str, anchor: Mention, kinds: dict, cues: list) -> bool:
    """Is a finding noun the definite reference a negated property is said of ("no
    restricted diffusion in this lesion", "no enhancement of the mass")?"""
    if not is_definite_reference(clean, anchor.start):
        return False
    for cue in cues:
        if cue.category != assertion.NEGATED or not cue.scope_start <= anchor.start < cue.scope_end:
            continue
        if any(m.start < anchor.start and cue.start <= m.start <= cue.end + 3
               for name in _PROPERTIES for m in kinds.get(name, [])):
            return True
    return False


def _coordinated(clean: str, procedures: list[Mention]) -> dict[int, list[Mention]]:
    """Tests named together as one subject ("CT and MRI", "Chest CT and PET-CT"): each
    member's id -> the whole list."""
    out: dict[int, list[Mention]] = {}
    run: list[Mention] = []
    spelled: list[Mention] = []  # "magnetic resonance imaging (MRI)": one test, spelled twice
    for p in procedures:
        if run and p.value == run[-1].value and clean[run[-1].end:p.start] in (" (", "("):
            spelled.append(run[-1])
            run[-1] = p
            continue
        if run and _PROC_JOIN.fullmatch(clean[run[-1].end:p.start]) and p.value != run[-1].value:
            run.append(p)
            continue
        if len(run) > 1:
            out.update({id(m): run for m in (*run, *spelled)})
        run, spelled = [p], []
    if len(run) > 1:
        out.update({id(m): run for m in (*run, *spelled)})
    return out


# (the first test may carry its noun and a panel letter: "The CT scan (A) and MR image (B)";
# a test its region, the next its modifiers: "ultrasonography of the abdomen, whole body CT")
_PROC_JOIN = re.compile(r"\)?(?: (?:scans?|images?|imaging|examinations?|studies|study))?(?: \([A-Za-z0-9]{1,3}\))?"
                        r"(?: of the [a-z]{3,12}| (?:chest|thorax|abdomen|pelvis|neck|brain|spine))?"
                        r"(?:,? (?:and|or|&|as well as) (?:the |an? )?|, (?:the |an? )?)(?:[\w-]{2,16} ){0,3}",
                        re.IGNORECASE)
# "No metastases were detected by CT chest and bone scan": the tests named after the finding
_TESTS_AFTER = re.compile(r"^[^;:]{0,60}?\b(?:by|on|at|with|using|including)\b(?:[^;:]{0,20})$", re.IGNORECASE)


def names_tests_after(clean: str, anchor: Mention, group: list[Mention]) -> bool:
    """Is a list of tests named after a finding noun the tests that found (or did not find) it?"""
    return anchor.end <= group[0].start and _TESTS_AFTER.match(clean[anchor.end:group[0].start]) is not None \
        and not TURN.search(clean, anchor.end, group[0].start)


def _for_procedure(draft: Draft, procedure: str, region: str | None = None) -> Draft:
    """The same finding read for another test of the subject list (``region``: where that
    test looked, for a negative said of the region each test covered)."""
    values = dict(draft.values)
    if draft.present is False and values.get("site") in REGIONS and region:
        values["site"] = region  # "no metastases on abdominal US and bone scan": each its own region
    copy = Draft(procedure, draft.finding, draft.present, draft.certainty, values=values,
                 evidence=list(draft.evidence), enhanced=draft.enhanced, definite_ref=draft.definite_ref,
                 other=draft.other, modality_hint=None)
    return copy


def _tracer_term(name: str | None) -> str | None:
    """The tracer term of a generated-table meaning (None stays None: no tracer was said)."""
    return terms.lookup("tracer", name) if name else None


# A section heading alone on its line (an inline "Background:" label inside an abstract is
# part of its sentence and does not match).
_HEADING = re.compile(r"\W{0,3}(?:(abstract|summary)|background|introduction|case (?:presentations?|"
                      r"reports?|descriptions?|histor(?:y|ies))|(?:materials and )?methods|results|"
                      r"discussion|conclusions?|references)(?: and [a-z]{1,15})?\W{0,3}", re.IGNORECASE)


def _opens_line(text: str, start: int) -> bool:
    """Does the sentence at ``start`` open a line (a report line after an indication)?
    Looks back a bounded stretch only, so reading stays linear in the text."""
    before = text[max(0, start - 80):start].rstrip(" \t")
    return before.endswith("\n") or (not before and start <= 80)


def _opens_paragraph(text: str, start: int) -> bool:
    """Does the sentence at ``start`` follow a blank line?"""
    before = text[max(0, start - 80):start].rstrip(" \t")
    return before.endswith("\n") and before[:-1].rstrip(" \t").endswith("\n")


def _report_line(clean: str, kinds: dict) -> bool:
    """Does a line carry what a verbless report line carries (a test, a side, a size, a
    level, MR signal, a negation or hedge)? Headings do not."""
    if any(kinds.get(k) for k in ("laterality", "size", "levels", "t1_signal",
                                  "t2_signal", "enhancement", "diffusion_restricted", "adc")):
        return True
    if kinds.get("procedure") and not _figure_title(clean, kinds["procedure"]):
        return True
    return bool(assertion.find_cues(clean))


def _figure_title(clean: str, procedures: list) -> bool:
    """'MRI of neuroblastoma invading the spinal canal', 'CXR and CT of neuroblastoma': a
    line that opens with its tests and says what they are 'of' titles a figure (its
    caption follows); the test alone does not make it a report line."""
    if clean.rstrip()[-1:] in ".;:!?" or len(clean.split()) > 10 \
            or not _TITLE_LEAD.fullmatch(clean, 0, procedures[0].start):
        return False
    pos = procedures[0].end
    for p in procedures[1:]:
        if not _TITLE_JOIN.fullmatch(clean, pos, p.start):
            break
        pos = p.end
    return bool(_TITLE_OF.match(clean, pos))


_TITLE_JOIN = re.compile(r"(?:,? and |, | ?/ ?| & )(?:[A-Z]{2,5} (?:and|,) )?", re.IGNORECASE)
_TITLE_OF = re.compile(r" of\b")
# before the first test: nothing, or another test's acronym ("CXR and MRI of ...")
_TITLE_LEAD = re.compile(r"\W{0,2}(?:[A-Z]{2,5}(?:,? and |, | ?/ ?| & ))?")


def _study_clause(clean: str, proc: Mention, procedures: list[Mention]) -> tuple[int, int]:
    """From the procedure to the next clause turn or the next procedure's clause."""
    turn = TURN.search(clean, proc.end)
    if turn and turn.group() == ":" and not clean[proc.end:turn.start()].strip(" )"):
        turn = TURN.search(clean, turn.end())  # "mIBG: negative": the label's line is its clause
    hi = turn.start() if turn else len(clean)
    following = [p.start for p in procedures if p.start > proc.end]
    if following:
        # a list of tests sharing one verb ("X, Y and Z revealed no abnormalities") stays
        # together; a second test with a verb of its own starts a new clause
        nxt = following[0]
        between = clean[proc.end:nxt]
        if re.search(r"\b(?:was|were|is|are|revealed|showed|demonstrated|did|had)\b", between):
            hi = min(hi, nxt)
    before = _TURN_BEFORE.findall(clean[:proc.start])
    lo = clean.rfind(before[-1], 0, proc.start) if before else 0
    return lo, hi


_TURN_BEFORE = re.compile(r"[;:]|\b(?:whereas|while|but|however|although)\b", re.IGNORECASE)


def _nearest(procedures: list[Mention], m: Mention, inherited: str | None) -> str | None:
    candidates = [p for p in procedures if modality_of(p.value) in ("NM", "PT", "MR", "CT")]
    if not candidates:
        return inherited
    return min(candidates, key=lambda p: abs(p.start - m.start)).value
