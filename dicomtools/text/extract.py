"""Mentions -> findings, with provenance: the document-level reading.

Per sentence: skip layout (section headings, tables from their caption on) and text that is
not report prose (prose.py: titles, table rows, generic, explanatory and hypothetical
statements); drop cohort and guideline text and follow-up summaries; cut the sentence into
frames, one per finding noun (frames.py), and make each a draft finding; a procedure with no
finding noun but a negative or equivocal statement ("was negative", "revealed no
abnormality") is a study-level finding (studies.py); a sentence with attributes but no noun
("Restricted diffusion ... could be detected") describes the last finding of its procedure; a
labelled section names the place of its findings and a colon opens a list of places
(places.py); a definite reference takes its antecedent's place.

Per document: placeholders ("mIBG" without isotope, a bare "scintigraphy") are resolved,
administered activity and contrast agent are spread to their procedure's findings, and
findings of the same lesion told twice (case text and figure caption) are merged; a finding
read in an article's abstract that the body reports again is merged into the body's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .. import vocab
from ..errors import InputError
from ..model import Finding
from ..sr.rows import ROW_OF_FIELD
from ..sr.templates import template_for
from . import assertion, prose
from .clauses import (
    _NORMAL_ANATOMY,
    _coordinated,
    _for_procedure,
    _nearest,
    _opens_line,
    _opens_paragraph,
    _property_of,
    _report_line,
    _tracer_term,
    names_tests_after,
)
from .context import (
    DEICTIC_PLACE,
    IMAGED,
    IN_PASSING,
    LESION_REFERENCE,
    NEW_CASE,
    NEW_CLAUSE,
    SPINE_REGIONS,
    after_title,
    antecedent_place,
    confirmed_findings,
    hybrid_ct,
    sides_of_the_document,
    study_organ,
    worded_for,
)
from .exclusions import excluded
from .frames import (
    ATTRIBUTES,
    Draft,
    apply_attributes,
    build_frames,
    frame_draft,
    modality_of,
    names_exam,
    region_of,
    relational_zones,
)
from .mentions import SEQUENCE, Mention, find_mentions, is_definite_reference, places_in
from .merge import _absorb_summary
from .patterns import (
    _DIAGNOSIS,
    _NUMBERED_ITEM,
    _PANEL,
    _PATIENT_REPORT,
    _QUESTION,
    _SUBJECTLESS_SIZE,
    _THERAPY,
    TRACER_STUDIES,
)
from .places import PlaceList, SectionPlaces
from .sections import Sections
from .sentences import Sentence, split_sentences
from .studies import normal_organs, shown_normal_organs, study_level

#: Longest text accepted (characters). A report is a few kB, a whole case-report article
#: ~50 kB; 10 MB is not a report. Worst-case time is linear: a few seconds at the limit.
MAX_TEXT = 500_000
#: Finding nouns per sentence and findings per text beyond which the text is not report prose.
MAX_NOUNS = 30
MAX_FINDINGS = 500

@dataclass(frozen=True, slots=True)
class Evidence:
    """Where a finding was read: ``text[start:end] == sentence``."""

    sentence: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class ExtractedFinding:
    """A finding and the sentences it was read from (provenance is not a Finding field)."""

    finding: Finding
    evidence: tuple[Evidence, ...]

    @property
    def sentence(self) -> str:
        return self.evidence[0].sentence

    @property
    def start(self) -> int:
        return self.evidence[0].start

    @property
    def end(self) -> int:
        return self.evidence[0].end

    def to_json(self, *, sentences: bool = True) -> dict[str, Any]:
        """JSON form; ``sentences=False`` keeps only the offsets of the evidence (the quoted
        report text may name the patient, so it can be left out of what is printed)."""
        return {"finding": self.finding.to_json(),
                "evidence": [({"sentence": e.sentence} if sentences else {}) | {"start": e.start, "end": e.end}
                             for e in self.evidence]}


def extract_findings(text: str, *, max_chars: int = MAX_TEXT) -> list[ExtractedFinding]:
    """Free report text -> findings (the core JSON contract) with their provenance.

    Raises InputError for text longer than ``max_chars``. Runs in time linear in the text.
    """
    return read_text(text, max_chars=max_chars)[0]


def read_text(text: str, *, max_chars: int = MAX_TEXT) -> tuple[list[ExtractedFinding], str | None]:
    """(findings, indication): as :func:`extract_findings`, plus the text of the report's
    indication section ("Clinical information: ...") when it has one."""
    if not isinstance(text, str):
        raise InputError(f"report text must be str, not {type(text).__name__}")
    if len(text) > max_chars:
        raise InputError(f"report text has {len(text):,} characters; the limit is "
                         f"{max_chars:,} (a report, not a document collection)")
    reader = _Reader()
    if prose.not_one_patient(text):
        return [], None  # cohort statistics, background text: about no one patient's study
    for sentence in split_sentences(text):
        reader.read(sentence, line_start=_opens_line(text, sentence.start),
                    paragraph_start=_opens_paragraph(text, sentence.start))
    indication = " ".join(reader.sections.indication)[:1024] or None
    return reader.finish(), indication


class _Reader:
    def __init__(self) -> None:
        self.drafts: list[Draft] = []
        self.last_procedure: str | None = None
        self.procedures_seen: list[str] = []
        self.activities: list[tuple[str | None, float]] = []
        self.agents: list[tuple[str | None, str]] = []
        self.tracers: list[tuple[str | None, str]] = []  # a named agent (bone scan: MDP, HDP)
        self.isotopes: list[str] = []
        self.last_named: dict[str, str] = {}
        self.last_scan: str | None = None  # the last scintigraphy or PET named
        self.case = 0  # the patient of a report of several ("Case 2: ...")
        self.sections = Sections()  # indication, discussion and pathology sections, tables
        self.places = SectionPlaces()  # the place a labelled section is about
        self.place_list = PlaceList()  # "uptake involving:" and one line per place
        self.organ: tuple[str, str] | None = None  # (procedure, organ) of a study of one organ

    def _named(self, p: Mention, procedures: list[Mention]) -> Mention:
        """A bare "scintigraphy"/"PET/CT" is the named study of the same sentence, else the
        last one named before it; resolved at the end of the document otherwise."""
        if p.value == SEQUENCE:
            return Mention(p.kind, p.start, p.end, self.last_named.get("MR", "MRI"))
        modality = {"NM": "NM", "PET": "PT"}.get(p.value)
        if modality is None:
            return p
        same = [q for q in procedures if q.value in vocab.PROCEDURES
                and vocab.PROCEDURES[q.value].modality == modality]
        if p.value == "NM":
            same += [q for q in procedures if q.value == "mIBG"
                     or (q.value in TRACER_STUDIES and q.value != "NM" and modality_of(q.value) == "NM")]
        if same:
            return Mention(p.kind, p.start, p.end, min(same, key=lambda q: abs(q.start - p.start)).value)
        if modality in self.last_named:
            return Mention(p.kind, p.start, p.end, self.last_named[modality])
        return p

    # ---- one sentence --------------------------------------------------------------------
    def read(self, sentence: Sentence, line_start: bool = False, paragraph_start: bool = False) -> None:
        before = len(self.drafts)
        if NEW_CASE.match(sentence.clean):  # "Case 2: an 88-year-old ...": another patient's studies
            self.last_procedure = self.last_scan = self.organ = None
            self.case += 1
        self.sections.paragraph(paragraph_start)
        self.places.enter(sentence.clean, line_start)
        if self.place_list.item(sentence.clean, line_start, self.drafts,
                                Evidence(sentence.raw, sentence.start, sentence.end)):
            return
        self._read(sentence, line_start)
        self.places.fill(self.drafts[before:])
        if self.organ is not None:  # "Thyroid ultrasound ... 3 cysts on the right": the thyroid's
            for draft in self.drafts[before:]:
                if draft.procedure == self.organ[0]:
                    draft.fill("site", self.organ[1])
        for draft in self.drafts[before:]:
            draft.case = self.case  # findings of two patients are never one
        self.place_list.opens(sentence.clean, self.drafts[before:])
        antecedent_place(self.drafts, before, DEICTIC_PLACE.search(sentence.clean) is not None,
                         LESION_REFERENCE.search(sentence.clean) is not None)
        item = _NUMBERED_ITEM.match(sentence.clean) if line_start else None
        if item and any(m.kind == "anchor" for m in find_mentions(item.group(1))):  # not "Deauville 4:"
            for draft in self.drafts[before:]:
                draft.item = item.group(1).casefold()

    def _read(self, sentence: Sentence, line_start: bool) -> None:
        if len(self.drafts) >= MAX_FINDINGS:
            return  # not report prose any more (see MAX_FINDINGS): keep the time bounded
        clean = sentence.clean
        if not clean or self.sections.request(clean, line_start) or self.sections.layout(clean):
            return
        mentions = find_mentions(clean)
        kinds: dict[str, list[Mention]] = {}
        for m in mentions:
            kinds.setdefault(m.kind, []).append(m)
        why = (kinds.get("procedure") or kinds.get("anchor")) and prose.non_report(
            clean, _report_line(clean, kinds))
        if why:
            # headings, table rows, generic/explanatory/hypothetical prose: no finding, and
            # its tests are not "the last procedure" the next report sentence inherits --
            # except a heading that names one ("Computer Tomography Images:", "CT ABDOMEN"):
            # it sets the procedure of what follows
            named = [p for p in kinds.get("procedure", []) if p.value != "UNKNOWN"]
            # one procedure, and at most the modality words of its own technique
            # ("I-123 MIBG SCINTIGRAPHY (185 MBq), 24 h planar and SPECT/CT:")
            specific = [p for p in named if p.value in vocab.PROCEDURES]
            if len(specific) == 1 and all(p is specific[0] or p.value == modality_of(specific[0].value)
                                          for p in named):
                named = specific
            patient_report = self.last_procedure is None and bool(_PATIENT_REPORT.search(clean))
            if (why == "heading" or patient_report) and len({p.value for p in named}) == 1 \
                    and not kinds.get("anchor"):
                self.last_procedure = self._named(named[0], named).value
                self.procedures_seen.append(self.last_procedure)
            return
        procedures = [self._named(p, kinds.get("procedure", [])) for p in kinds.get("procedure", [])]
        procedures = hybrid_ct(clean, procedures, self.last_scan)
        kinds["procedure"] = procedures
        for p in procedures:
            self.procedures_seen.append(p.value)
            if p.value in vocab.PROCEDURES or p.value == "mIBG" or (
                    p.value in TRACER_STUDIES and p.value not in ("NM", "PET")):
                self.last_named[modality_of(p.value) or ""] = p.value
            if modality_of(p.value) in ("NM", "PT"):
                self.last_scan = p.value
            if p.value in ("I-123 mIBG scintigraphy", "I-131 mIBG scintigraphy"):
                self.isotopes.append(p.value)
        worded = worded_for(clean)
        if not procedures and worded and modality_of(self.last_procedure or "") not in worded | {None}:
            # worded for another kind of study: the text went back to the last one of that
            # kind it named ("... on Plain CT. Subtle T2W hypointense component ..."), or to
            # one it does not name
            self.last_procedure = next((p for p in reversed(self.procedures_seen)
                                        if modality_of(p) in worded), None)
        inherited = self.last_procedure
        current = [p for p in procedures if not IN_PASSING.search(clean, max(0, p.start - 45), p.start)]
        if current:  # (not a study named in passing: "... seen on the patient's recent CT exam")
            self.last_procedure = current[-1].value
            organ = study_organ(clean, current[-1], kinds.get("site", []))
            self.organ = (current[-1].value, organ) if organ else None
        if kinds.get("cohort") or kinds.get("followup") or (kinds.get("outcome") and not procedures):
            return  # cohort statistics, guideline text, follow-up summaries: no findings
        if not procedures and _DIAGNOSIS.search(clean):
            return  # "ganglioneuroma ... was considered, the most likely diagnosis": reasoning
        if _QUESTION.match(clean):
            return  # "1) Are there any abnormal areas of uptake?": a teaching file's question
        if _NORMAL_ANATOMY.match(clean):
            return  # "Normal bones show no uptake ...": how normal anatomy looks, not a finding
        evidence = Evidence(sentence.raw, sentence.start, sentence.end)
        self._acquisition(clean, kinds, procedures, inherited)
        if procedures and not kinds.get("anchor"):
            confirmed = confirmed_findings(clean, procedures, self.drafts, evidence) \
                or shown_normal_organs(clean, procedures[-1].value, evidence)
            if confirmed:
                self.drafts += confirmed
                return
        if not procedures and not kinds.get("anchor"):
            normal = normal_organs(clean, inherited, evidence)
            self.drafts += normal
            if not normal:
                self._coreference(clean, kinds, inherited, evidence)
            return
        if len(kinds.get("anchor", [])) > MAX_NOUNS or len(self.drafts) >= MAX_FINDINGS:
            return  # a list of hundreds of nouns is not report prose; keep the time bounded
        kinds["site"] = [m for m in kinds.get("site", []) if not names_exam(clean, m, procedures)]
        kinds["laterality"] = [m for m in kinds.get("laterality", []) if m.value != "bilateral"
                               or not clean[m.start:m.end].lower().startswith("both")
                               or any(0 <= s.start - m.end <= 20 for s in kinds["site"])]
        cues = assertion.find_cues(clean)
        landmarks = relational_zones(clean, kinds.get("relational", []))
        anchors = [a for a in kinds.get("anchor", []) if not excluded(clean, a, kinds)
                   # "uptake superior to the mass": a finding named before, as a landmark
                   and not (is_definite_reference(clean, a.start)
                            and any(lo <= a.start < hi for lo, hi in landmarks))]
        anchors = after_title(clean, anchors, procedures)
        if not procedures:  # a lump the patient felt ("presents with abdominal lump") is no study's
            anchors = [a for a in anchors if not clean[a.start:a.end].lower().startswith("lump")]
        described = [a for a in anchors if _property_of(clean, a, kinds, cues)]
        if described:
            # "No restricted diffusion in this lesion": the lesion named before has the
            # negated property; it is not a new, absent lesion
            anchors = [a for a in anchors if a not in described]
            self._coreference(clean, kinds, procedures[-1].value if procedures else inherited, evidence)
            if not anchors:
                return
        frames = build_frames(clean, anchors, kinds, cues, procedures)
        groups = _coordinated(clean, procedures)
        for frame in frames:
            draft = frame_draft(clean, frame, kinds, cues, procedures, inherited, evidence,
                                scan=self.last_scan)
            if draft is not None and not frame.get("subject"):
                found = [draft, *frame.get("copies", ())]
                # "CT and MRI showed 2 liver nodules": the finding of each test of the list
                group = groups.get(id(frame.get("proc")), [])
                if group and (frame["anchor"].start > group[-1].end
                              or names_tests_after(clean, frame["anchor"], group)):
                    frame["group"] = group
                    found += [_for_procedure(d, p.value, region_of(clean, p, p.value)) for p in group
                              if p is not frame["proc"] and p.value != "UNKNOWN"
                              for d in list(found)]
                panel = bool(_PANEL.match(clean))
                for one in found:
                    one.summary = self.sections.section == "abstract"
                    one.panel = panel
                    self.drafts.append(one)
        self._study_level(clean, procedures, frames, cues, kinds, evidence)
        clause = NEW_CLAUSE.search(clean)  # "..., and the spleen was normal": its own organs
        if clause and not any(a.start >= clause.end() for a in anchors):
            self.drafts += normal_organs(clean[clause.end():], procedures[-1].value if procedures
                                         else inherited, evidence)
        if not frames:
            self._coreference(clean, kinds, inherited if not procedures else procedures[-1].value,
                              evidence)

    def _acquisition(self, clean: str, kinds: dict, procedures: list[Mention], inherited: str | None) -> None:
        """Administered activity and contrast agent belong to the procedure nearest them."""
        for act in kinds.get("activity", []):
            if _THERAPY.search(clean, max(0, act.start - 50), min(len(clean), act.end + 25)):
                continue  # "ablation with 150 mCi of I-131": a treatment, not a study's activity
            self.activities.append((_nearest(procedures, act, inherited), act.value[0]))
        for agent in kinds.get("contrast_agent", []):
            self.agents.append((_nearest(procedures, agent, inherited), agent.value))
        for tracer in kinds.get("tracer", []):
            if tracer.value is not None:
                self.tracers.append((_nearest(procedures, tracer, inherited), tracer.value))

    def _study_level(self, clean: str, procedures: list[Mention], frames: list[dict], cues: list,
                     kinds: dict, evidence: Evidence) -> None:
        for one in study_level(clean, procedures, frames, cues, kinds, evidence):
            one.summary = self.sections.section == "abstract"
            self.drafts.append(one)

    def _coreference(self, clean: str, kinds: dict, procedure: str | None, evidence: Evidence) -> None:
        """Attributes without a finding noun describe the last finding of the procedure; a
        size only when the sentence has no subject of its own ("Measures 1.2 x 0.8 cm.", after
        "Nodule 1: Solid."), and only for a finding not yet measured."""
        sized = bool(kinds.get("size")) and _SUBJECTLESS_SIZE.match(clean) is not None \
            and not places_in(clean)[0]
        if not sized and not any(kinds.get(name) for name in ATTRIBUTES
                                 if name not in ("size", "levels", "contrast_agent")):
            return
        target = next((d for d in reversed(self.drafts) if d.procedure == procedure
                       and d.present is True and not d.study_level), None)
        if target is None or (sized and target.values.get("dimensions_mm")):
            return
        apply_attributes(clean, target, kinds, 0, len(clean))
        target.evidence.append(evidence)

    # ---- the document ----------------------------------------------------------------------
    def finish(self) -> list[ExtractedFinding]:
        resolve = self._resolver()
        for draft in self.drafts:
            draft.procedure = resolve(draft.procedure)
        activity: dict[str | None, float] = {}
        for proc, mbq in self.activities:
            activity.setdefault(resolve(proc), mbq)
        agents: dict[str | None, str] = {}
        for proc, agent in self.agents:
            agents.setdefault(resolve(proc), agent)
        tracers: dict[str | None, str] = {}
        for proc, tracer in self.tracers:
            tracers.setdefault(resolve(proc), tracer)
        sides_of_the_document(self.drafts)
        merged = _absorb_summary(self.drafts)
        out = []
        for draft in merged:
            if draft.procedure == "UNKNOWN":
                continue  # a test the model has no procedure for (an EEG, an X-ray): not its finding
            if draft.procedure is None and draft.modality_hint is None and not draft.study_level and not any(
                    IMAGED.search(e.sentence) or prose.is_nominal(e.sentence) for e in draft.evidence):
                continue  # said of no study, in no imaging words and not as a report line: the story
            procedure = draft.procedure
            modality = modality_of(procedure)
            values = dict(draft.values)
            if procedure in TRACER_STUDIES:  # a study outside the model's procedures
                values["tracer"] = draft.tracer or _tracer_term(TRACER_STUDIES[procedure][1])
                values["activity_mbq"] = activity.get(procedure)
                procedure = None
            elif modality in ("NM", "PT") and procedure is not None:  # a named study: modality_of(None) is None
                values["tracer"] = draft.tracer or tracers.get(procedure) or vocab.PROCEDURES[procedure].tracer
                values["activity_mbq"] = activity.get(procedure)
            elif draft.enhanced and values.get("contrast_agent") is None:
                values["contrast_agent"] = agents.get(procedure)
            if values.get("vertebral_levels") and values.get("site") in SPINE_REGIONS:
                values["site"] = "vertebra"  # "oedema at L5" on an "MRI spine": the level's vertebra
            if modality is not None:  # the report type's template says which fields it has
                template = template_for(modality, procedure or draft.procedure)
                for key in [k for k in values if k in ROW_OF_FIELD]:
                    if not template.allows(ROW_OF_FIELD[key].name):
                        values.pop(key)  # e.g. MR words in a scintigraphy sentence are not its own
                if values.get("measurements"):  # what this report type measures ("SUVmax" on PET)
                    values["measurements"] = [m for m in values["measurements"]
                                              if any(s.concept == m.concept for s in template.measurements)]
            finding = Finding(modality=modality or draft.modality_hint, procedure=procedure,
                              present=draft.present, certainty=draft.certainty,
                              finding=draft.finding, **{k: v for k, v in values.items() if v is not None})
            out.append(ExtractedFinding(finding, tuple(dict.fromkeys(draft.evidence))))
        return out

    def _resolver(self):
        """Placeholders -> procedures: a bare "mIBG" is the mIBG study whose isotope the text
        names elsewhere, else an mIBG scintigraphy of unknown isotope; a bare "scintigraphy"
        / "PET" is the named study of its modality, else a study of that modality only.
        Nothing the text does not say is filled in (no isotope, no tracer)."""
        named = [p for p in self.procedures_seen if p in vocab.PROCEDURES or
                 (p in TRACER_STUDIES and p not in ("NM", "PET"))]
        mibg = self.isotopes[0] if self.isotopes else "mIBG scintigraphy"
        if "mIBG" in self.procedures_seen:
            named.append(mibg)
        nm = next((p for p in named if modality_of(p) == "NM"), None)
        pet = next((p for p in named if modality_of(p) == "PT"), None)

        def resolve(proc: str | None) -> str | None:
            if proc == "mIBG":
                return mibg
            if proc == "NM":
                return nm or "NM"
            if proc == "PET":
                return pet or "PET"
            return proc
        return resolve
