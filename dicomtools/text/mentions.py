"""Mentions: what a normalised sentence names, each with its span and a model value.

One regex per kind of mention (procedure, tracer, activity, finding noun, site, laterality,
vertebral levels, size, volume, T1/T2 signal, diffusion, ADC, enhancement, contrast agent)
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

from .. import vocab
from ..errors import InputError
from ..levels import expand_levels


@dataclass(frozen=True, slots=True)
class Mention:
    """``kind`` found at ``clean[start:end]`` with model value ``value``."""

    kind: str
    start: int
    end: int
    value: Any = None


def _rx(pattern: str, flags: int = re.IGNORECASE) -> re.Pattern[str]:
    return re.compile(pattern, flags)


_NUM = r"\d{1,4}(?:[.,]\d{1,3})?"

# --- procedures -----------------------------------------------------------------------
# Placeholders resolved per document in extract.py: "mIBG" (isotope not said), "NM" (a bare
# "scintigraphy"), "PET" (a bare "PET/CT"), "UNKNOWN" (an imaging test outside the model:
# radiograph, perfusion SPECT, EEG; findings after it are not given to the previous test).
_PROCEDURES: list[tuple[re.Pattern[str], str]] = [
    (_rx(r"\b(?:whole[- ]?body|WB)[- ]?(?:MRI?|MRT|magnetic resonance(?: imaging)?)\b"
         r"|\bWBMRI\b"), "whole-body MRI"),
    (_rx(r"(?:\bI[- ]?123[- ]?|\b123 ?I[- ]?|\[123I\] ?|\(123\) ?I[- ]?|\biodine[- ]123[- ]?)"
         r"(?:m|meta)?[- ]?(?:IBG\b|iodobenzylguanidine)"), "I-123 mIBG scintigraphy"),
    (_rx(r"(?:\bI[- ]?131[- ]?|\b131 ?I[- ]?|\[131I\] ?|\(131\) ?I[- ]?|\biodine[- ]131[- ]?)"
         r"(?:m|meta)?[- ]?(?:IBG\b|iodobenzylguanidine)"), "I-131 mIBG scintigraphy"),
    (_rx(r"\b(?:m|meta)?[- ]?IBG\b|\bmetaiodobenzylguanidine|\bmeta-iodobenzylguanidine"),
     "mIBG"),
    (_rx(r"\banti[- ]?GD ?2\b|\bimmuno-?scintigraph\w{0,4}"), "99mTc anti-GD2 immunoscintigraphy"),
    (_rx(r"\bDOTA[- ]?NOC\b"), "68Ga-DOTANOC PET/CT"),
    (_rx(r"\bDOTA[- ]?TATE\b|\bsomatostatin receptor (?:PET|imaging|scintigraphy)"),
     "68Ga-DOTATATE PET/CT"),
    (_rx(r"\bm?-?FBG\b|\bfluorobenzylguanidine"), "18F-MFBG PET"),
    (_rx(r"\bFDG\b|\bfluorodeoxyglucose"), "FDG PET/CT"),
    (_rx(r"\bbone scan\w{0,3}\b|\bbone scintigra\w{0,5}|\bskeletal scintigra\w{0,5}"
         r"|\b(?:99m?[- ]?Tc|Tc[- ]?99m)[- ]?(?:MDP|HDP|DPD)\b|\bmethylene diphosphonate"),
     "bone scintigraphy"),
    (_rx(r"\bPET(?:[-/ ]?CT)?\b|\bpositron emission tomography"), "PET"),
    (_rx(r"\b(?:SPECT(?:[-/ ]?CT)?|scintigra\w{1,6}|scintiscan\w{0,2})\b"), "NM"),
    (_rx(r"\b(?:perfusion SPECT|radiograph\w{0,2}|X-?rays?|EEG|echocardiogra\w{1,3}"
         r"|angiogra\w{1,4}|mammogra\w{1,4}|fluoroscop\w{1,3})\b"), "UNKNOWN"),
    (_rx(r"\b(?:computed tomograph\w{1,2}|CT|CECT|MDCT)\b"), "CT"),
    (_rx(r"\b(?:MRI|MRT|MR(?= (?:imaging|scan|exam\w{0,7}|of|study|showed|revealed|demonstrated))"
         r"|magnetic resonance(?: imaging| tomography)?)\b"), "MRI"),
    (_rx(r"\b(?:ultraso\w{2,8}|sonograph\w{1,4}|sonogram|echograph\w{1,3}|Doppler)\b"
         r"|\bUS\b(?! ?\$)"), "ultrasound"),
]
# "diffusion weighted MRI" / "T2-weighted MR images" name a sequence, not a new study;
# "PET/CT" is PET, "SPECT/CT" is the scintigraphy: their CT is not a CT study.
_NOT_A_STUDY = _rx(r"(?:weighted|diffusion) ?$")
_AFTER_SLASH_CT = _rx(r"(?:PET|SPECT)[-/ ]?$")

# Body regions named with a procedure ("abdominal ultrasound", "MRI of the brain").
_REGION_WORDS: list[tuple[re.Pattern[str], str]] = [
    (_rx(r"\b(?:whole[- ]?body|WB)\b"), "whole body"),
    (_rx(r"\babdom\w{0,5}"), "abdomen"),
    (_rx(r"\b(?:chest|thora[cx]\w{0,2})\b"), "thorax"),
    (_rx(r"\bpelv\w{1,3}\b"), "pelvis"),
    (_rx(r"\bneck\b"), "neck"),
    (_rx(r"\b(?:brain|cranial|cerebral|head)\b"), "brain"),
    (_rx(r"\bspin\w{1,3}\b"), "spine"),
]

# --- finding nouns ---------------------------------------------------------------------
# (pattern, finding type); "generic" nouns ("abnormality") make study-level statements.
_ANCHORS: list[tuple[re.Pattern[str], str]] = [
    (_rx(r"\bmass(?:es)?\b"), "mass"),
    (_rx(r"\blesions?\b|\bdeposits?\b|\binfiltrat(?:es?|ion)\b"), "lesion"),
    (_rx(r"\bnodules?\b"), "nodule"),
    (_rx(r"\b(?:lymph ?nodes?|(?:lymph)?adenopath\w{1,3}|nodes)\b"), "lymph node"),
    (_rx(r"\bmetasta(?:sis|ses|tic disease)\b"), "metastasis"),
    (_rx(r"\b(?:tumou?rs?|neoplasms?|neoplasia|(?:ganglio)?neuroblastomas?|ganglioneuromas?"
         r"|neuroblastic (?:tumou?rs?|neoplasms?|neoplasia))\b"), "neoplasm"),
    (_rx(r"\b(?:uptake|accumulation|avidity|foc(?:us|i)(?= of (?:\w{1,15} ){0,3}"
         r"(?:uptake|activity|accumulation|radiotracer|tracer))|hot ?spots?"
         r"|(?:tracer|radiotracer|mIBG|FDG) (?:activity|localization|localisation)"
         r"|(?:MIBG|FDG|DOTATATE|somatostatin|tracer)[- ]avid\w{0,3})\b"), "uptake"),
    (_rx(r"\b(?:abnormalit(?:y|ies)|(?:abnormal|pathologic\w{0,3}|suspicious) findings?"
         r"|(?:evidence of |residual |active )?disease|pathology|malignancy)\b"), "generic"),
]
# A noun followed by another finding noun is a modifier ("tumor masses", "MIBG-avid lesion").
_HEAD_GAP = _rx(r"^[ -]{0,2}$")

# --- sites -----------------------------------------------------------------------------
_SITES: list[tuple[re.Pattern[str], str]] = [
    (_rx(r"\bposterior mediastin\w{1,3}\b"), "posterior mediastinum"),
    (_rx(r"\bpara-?(?:vertebral|spinal|spinous)\b"), "paravertebral"),
    (_rx(r"\b(?:adrenals?|suprarenal)\b(?: glands?| regions?| bed)?"), "adrenal gland"),
    (_rx(r"\bretroperitone\w{1,4}\b|\bpara-?aortic\b"), "retroperitoneum"),
    (_rx(r"\bmediastin\w{1,3}\b"), "mediastinum"),
    (_rx(r"\bwhole[- ]body\b(?! (?:images?|imaging|scan|scintigra|MRI?|PET|SPECT|study|acquisition|views?))"),
     "whole body"),
    (_rx(r"\bbone marrow\b|\bmarrow\b"), "bone marrow"),
    (_rx(r"\bsympathetic (?:trunk|chain)\b"), "sympathetic trunk"),
    (_rx(r"\b(?:spinal|vertebral) canal\b|\b(?:intra-?spinal|epidural)\b"), "spinal canal"),
    (_rx(r"\bchest wall\b"), "chest wall"),
    (_rx(r"\b(?:thorax|thoracic(?! (?:vertebra|spine|level))|chest|intrathoracic)\b"), "thorax"),
    (_rx(r"\b(?:abdomen|abdominal|intra-?abdominal)\b"), "abdomen"),
    (_rx(r"\b(?:pelvis|pelvic|presacral|para-?pelvic)\b"), "pelvis"),
    (_rx(r"\b(?:neck|cervical(?! (?:spine|vertebra|level))|supraclavicular)\b"), "neck"),
    (_rx(r"\b(?:kidneys?|renal)\b"), "kidney"),
    (_rx(r"\b(?:liver|hepatic)\b"), "liver"),
    (_rx(r"\b(?:lungs?|pulmonary)\b"), "lung"),
    (_rx(r"\b(?:orbits?|orbital|periorbital)\b"), "orbit"),
    (_rx(r"\b(?:skull|calvari\w{1,2}|cranial vault)\b"), "skull"),
    (_rx(r"\b(?:femur|femora|femurs|femoral)\b"), "femur"),
    (_rx(r"\b(?:bones?|osseous|skelet\w{2,3}|cortical bone)\b"), "bone"),
    (_rx(r"\b(?:brain|cerebral|cerebell\w{1,3}|intracranial)\b"), "brain"),
    (_rx(r"\b(?:spine|spinal(?! cord))\b"), "spine"),
    (_rx(r"\bvertebra(?:e|l bod(?:y|ies))?\b"), "vertebra"),
]

_LATERALITY = _rx(r"\b(?:(left|right)(?:[- ]?sided)?|(bilateral(?:ly)?|both)(?= \w{1,20}s\b)?)\b")

# --- vertebral levels --------------------------------------------------------------------
_LEVEL = r"[CTLS] ?\d{1,2}"
_LEVEL_RANGE = _rx(
    rf"\b({_LEVEL})(?: ?(?:/|-|to|through|and) ?((?:[CTLS] ?)?\d{{1,2}}))?\b"
    r"(?!\s?-?(?:w\b|weighted|signal|hyper|hypo|iso|sequence|image|map|relaxation|=|N\d))",
    0)
_LEVEL_CONTEXT = _rx(r"\b(?:level|levels|vertebra\w{0,4}|vertebral bod\w{1,4}|from|at|between|"
                     r"spanning|extending)\W{0,3}(?:\w{1,12}\W{1,3}){0,2}$")

# --- sizes, volume, activity ---------------------------------------------------------------
_UNIT = r"(mm|cm)\b"
_SIZE = _rx(
    rf"({_NUM}) ?(?:{_UNIT})? ?(?:x|\*|by) ?(?:approximately |approx\.? |about |ca\.? )?"
    rf"({_NUM}) ?(?:{_UNIT})?(?: ?(?:x|\*|by) ?(?:approximately |approx\.? |about |up to )?"
    rf"({_NUM}) ?(?:{_UNIT})?)?"
    rf"|({_NUM}) ?-? ?{_UNIT}")
_VOLUME = _rx(rf"\bvolume(?: of)?(?: approximately| about| ca\.?)? ?(?:=|:)? ?({_NUM}) ?"
              r"(ml|cm3|cc|l)\b")
_ACTIVITY = _rx(rf"({_NUM}) ?(MBq|GBq|kBq|mCi|uCi)\b(?! ?/ ?kg)(?! per k)")

# --- MR signal, diffusion, ADC --------------------------------------------------------------
_SIG = r"(hyper|hypo|iso)(?:-| |- )?(?:intens\w{0,5}|(?=-? ?(?:to|and) ))"
_SIG_WORD = r"(high|low|intermediate|bright|dark|increased|decreased)(?: signal(?: intensity)?| on)"
_SEQ_FIRST = _rx(rf"\bT([12])(?:-?w(?:eighted)?\b)?(?:[- ](?:weighted ))?[- ]?(?:images? |sequences? )?"
                 rf"(?:{_SIG}|{_SIG_WORD[:-1]}|signal))")
_SIG_FIRST = _rx(rf"\b(?:{_SIG}|{_SIG_WORD})(?: signal(?: intensity)?)?(?: \w{{1,12}}){{0,5}}? "
                 r"(?:on|in|at)(?: the| an?)?(?: (?:axial|coronal|sagittal|native|fat[- ]saturated|"
                 r"unenhanced|pre-?contrast))?"
                 r" (T[12]|STIR|TIRM)\b(?:(?:-w| w\b|-?weighted)?(?: (?:and|/) ?(T[12])\b)?)?")
_SEQ_VERB = _rx(rf"\bT([12])[- ]?(?:w|weighted)(?: \w{{1,12}})? (?:images?|sequences?) "
                r"(?:show\w{0,2}|demonstrat\w{1,3}|reveal\w{0,2}|depict\w{0,2})(?: an?| the)?(?: \w{1,12}){0,2}? "
                rf"(?:{_SIG})")
_WORD_SEQ = _rx(r"\b(high|low|intermediate|increased|decreased) T([12])(?:-weighted)? signal")
_STIR_FIRST = _rx(rf"\b(?:STIR|TIRM)(?: images?| sequences?)? ?(?:{_SIG})")
_POST_CONTRAST = _rx(r"post-?contrast|contrast-?enhanced|gadolinium-?enhanced|after (?:the )?"
                     r"(?:intravenous )?(?:administration|injection|application|contrast|gado)"
                     r"|enhanc")
_NATIVE = _rx(r"\b(?:native|pre-?contrast|unenhanced|non-?contrast)\b")
_DIFF_YES = _rx(r"\b(?:restrict(?:ed|s|ing|ion)? (?:of )?(?:the )?dif{1,2}usion|dif{1,2}usion[- ]restrict\w{0,5}"
                r"|(?:low|reduced|decreased|lowered) (?:apparent diffusion coefficient|ADC)"
                r"|ADC (?:hypointens\w{1,5}|reduction)|restricted on (?:DWI|diffusion))\b")
_DIFF_NO = _rx(r"\b(?:(?:no|without|absence of|absent|not? (?:show\w{0,3} )?(?:any )?)"
               r" ?(?:significant |definite |relevant )?(?:restricted diffusion|diffusion restriction)"
               r"|(?:un|non-?)restricted diffusion|facilitated diffusion|high (?:ADC|apparent diffusion)"
               r"|(?:does|did) not restrict(?: diffusion)?)\b")
_ADC_VALUE = _rx(
    rf"\bADC\b(?:[ :=(]{{1,3}}(?:values?|mean|min\w{{0,5}}|of|was|were|is|measured|approximately|"
    rf"about|around|=|:|,)){{0,4}}[ :=(]{{1,3}}({_NUM})"
    r" ?(?:(?:x|\*) ?10 ?(?:\^|e)? ?-? ?([36]) ?)?(mm2/s|mm\^2/s|mm2 ?/ ?s|mm2s-1|um2/s|um2/ms)")

# --- enhancement, contrast -----------------------------------------------------------------
_ENH = r"(?:contrast[- ])?(?:enhanc\w{0,6}|uptake of contrast)"
_DEGREE = {"strong": "strong", "intense": "strong", "intensely": "strong", "avid": "strong",
           "avidly": "strong", "vigorous": "strong", "vigorously": "strong", "marked": "strong",
           "markedly": "strong", "brisk": "strong", "pronounced": "strong", "strongly": "strong",
           "significant": "strong", "moderate": "moderate", "moderately": "moderate",
           "mild": "mild", "mildly": "mild", "slight": "mild", "slightly": "mild",
           "faint": "mild", "faintly": "mild", "weak": "mild", "weakly": "mild",
           "minimal": "mild", "minimally": "mild", "subtle": "mild", "little": "mild"}
_PATTERN = {"diffuse": "diffuse", "diffusely": "diffuse", "focal": "focal", "focally": "focal",
            "heterogeneous": "heterogeneous", "heterogeneously": "heterogeneous",
            "heterogenous": "heterogeneous", "inhomogeneous": "heterogeneous",
            "homogeneous": "homogeneous", "homogeneously": "homogeneous",
            "homogenous": "homogeneous"}
_MOD = "|".join(sorted({*_DEGREE, *_PATTERN}, key=len, reverse=True))
_ENH_PRE = _rx(rf"\b((?:(?:{_MOD})(?:,? (?:and |but )?| ))" r"{1,3})" rf"{_ENH}")
_ENH_POST = _rx(rf"\benhanc\w{{0,5}}((?: (?:{_MOD})(?:,| and)?){{1,3}})\b")
_ENH_NONE = _rx(r"\b(?:non-?enhancing|no (?:\w{1,12} )?(?:contrast )?enhancement|without (?:\w{1,12} )?"
                r"(?:contrast )?enhancement|(?:does|did) not enhance|unenhancing|lack of enhancement)\b")
_ENH_BARE = _rx(rf"\b{_ENH}")
_AGENTS = _rx(r"\b(gadobutrol|gadovist|gadoterate(?: meglumine)?|dotarem|gadolinium|Gd-?DTPA|"
              r"gadopentetate|magnevist|gadoteridol|gadobenate|multihance|prohance|gd)\b")
_AGENT_TERM = {"gadobutrol": "gadobutrol", "gadovist": "gadobutrol", "gadoterate": "gadoterate",
               "dotarem": "gadoterate"}

# --- context words ---------------------------------------------------------------------------
_CONTEXT: list[tuple[re.Pattern[str], str]] = [
    # the site that follows is where the finding is *not*: it is a neighbour
    ("relational", _rx(r"\b(?:adjacent|next|close|contiguous|lateral|medial|anterior|posterior|"
                       r"superior|inferior|cranial|caudal|dorsal|ventral|dorsomedial|ventrolateral)"
                       r"(?: to| of)\b|\b(?:abutting|displacing|compressing|encasing|indenting|"
                       r"contacting|extending (?:to|into|through|towards)|extension (?:to|into)|"
                       r"invading|infiltrating|behind|above|below|near|along|beside|from the "
                       r"(?:upper|lower) pole)\b|\bdisplaced\b")),
    ("interp", _rx(r"\b(?:consistent with|compatible with|suggestive of|suspicious (?:for|of)|"
                   r"in keeping with|represent(?:s|ing)?|typical (?:for|of)|characteristic of|"
                   r"classified as|diagnosed as|indicative of|likely|probably|presumably|"
                   r"most likely|concerning for|worrisome for|which was)\b")),
    ("physio", _rx(r"\b(?<!non-)(?<!non)(?:physiologic\w{0,3}|normal(?: \w{1,12})? (?:uptake|distribution|"
                   r"biodistribution|activity|tracer distribution)|expected (?:uptake|activity)|"
                   r"normal biodistribution)")),
    ("pathology", _rx(r"\b(?:histo-?patholog\w{0,6}|histolog\w{1,6}|(?:cyto|immunohisto)\w{2,12}|"
                      r"patholog(?:y|ic|ical) (?:exam\w{0,8}|analys\w{1,3}|evaluation|report|diagnosis|"
                      r"specimen|findings? (?:of|from) the (?:specimen|biopsy))|pathologically|"
                      r"biops(?:y|ies)|specimen|tumou?r cells|schwannian stroma|Shimada|INPC|"
                      r"microscop\w{1,4})\b")),
    ("surgery", _rx(r"\b(?:resect\w{1,5}|excis\w{1,5}|removed|removal|adrenalectomy|-?ectomy|"
                    r"laparoscop\w{1,5}|thoracoscop\w{1,5}|laparotomy|thoracotomy|surg\w{2,8}|"
                    r"operat\w{2,6}|debulking)\b")),
    ("indication", _rx(r"\b(?:to rule out|in order to|to (?:preclude|exclude|search for|evaluate|assess|"
                       r"look for)|rule out|for suspect\w{0,3}|with suspect\w{0,3}|suspicion (?:of|for)|"
                       r"clinical(?:ly)? (?:suspicion|suspected|presentation|examination)|"
                       r"(?:patient|child|girl|boy|infant) (?:was|is) suspicious|presented with|"
                       r"presenting with|referred (?:for|with|to)|diagnosis of|work-?up (?:for|of)|"
                       r"screening for|history of|known|treated|treatment|therapy|chemotherapy|"
                       r"indication|differential diagnosis)\b")),
    ("lab", _rx(r"\b(?:catecholamine\w{0,3}|urin\w{1,4}|VMA|HVA|vanillylmandelic|homovanillic|"
                r"laborator\w{1,3}|serum|blood|NSE|neuron[- ]specific|leukocyt\w{1,5}|"
                r"lymphocyt\w{1,3}|CSF|cerebrospinal)\b")),
    ("cohort", _rx(r"\b(?:patients|cases|children|cohort|series|studies|literature|review|"
                   r"guidelines?|recommend\w{0,5}|sensitivity|specificity|accuracy|"
                   r"false[- ](?:negative|positive)\w{0,3}|detection rate|incidence|prevalence|"
                   r"et al|percent|neuroblastomas|tumors are|is widely|are widely|"
                   r"typically|usually|commonly|in general|[Rr]eported|"
                   r"generally|includes the following|diagnostic evaluation|"
                   r"are imaged|is performed in|is indicated|metastasi[sz]es to|arises? from|originates? from|occurs? in)\b|"
                   r"\d ?%|\[\d{1,3}(?:(?:, ?|-)\d{1,3}){0,10}\]|"
                   r"^\W{0,3}(?:[\w-]{1,20} ){0,2}(?:tumou?rs|masses|lesions|neuroblastomas|"
                   r"ganglioneuromas) (?:that|which|are|may|might|can|should|tend|typically|usually)\b")),
    ("followup", _rx(r"\b(?:follow-?up (?:exam\w{0,8}|visits|studies)|regular follow-?up|annual follow-?up|"
                     r"recurrence|relapse)\b")),
    ("other", _rx(r"\b(?:another|second|additional|further|other|separate|new)\b")),
    ("definite_ref", _rx(r"\b(?:the|this|that|its|said)\s$")),
]
CONTEXT_KINDS = tuple(kind for kind, _ in _CONTEXT)


def _procedures(clean: str) -> list[Mention]:
    found: list[Mention] = []
    taken: list[tuple[int, int]] = []
    for pattern, name in _PROCEDURES:
        for m in pattern.finditer(clean):
            if any(m.start() < e and s < m.end() for s, e in taken):
                continue
            before = clean[max(0, m.start() - 20):m.start()]
            if name in ("MRI", "CT") and _NOT_A_STUDY.search(before):
                continue
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
    for m in found:
        prev = out[-1] if out else None
        if prev is not None and re.fullmatch(r"[ -]{0,2}(?:\(\w{1,8}\) ?)?", clean[prev.end:m.start]) \
                and (m.value in _PLACEHOLDERS or m.value == prev.value):
            out[-1] = Mention("procedure", prev.start, m.end, prev.value)
        elif prev is not None and prev.value in _PLACEHOLDERS and m.value not in _PLACEHOLDERS \
                and re.fullmatch(r"[ -]{0,2}", clean[prev.end:m.start]):
            out[-1] = Mention("procedure", prev.start, m.end, m.value)
        else:
            out.append(m)
    return out


_PLACEHOLDERS = ("mIBG", "NM", "PET")


def procedure_region(clean: str, mention: Mention) -> str | None:
    """The body region named with a procedure: 'abdominal ultrasound', 'CT of the chest'."""
    before = clean[max(0, mention.start - 30):mention.start]
    before = before.rsplit(",", 1)[-1].rsplit(".", 1)[-1]
    after = clean[mention.end:mention.end + 40]
    after_match = re.match(r"(?: scan| examination| imaging| study)? of the (\w{1,15}(?: and \w{1,15})?)",
                           after, re.IGNORECASE)
    for text in (after_match.group(1) if after_match else "", before[-25:]):
        hits = [(m.start(), term) for pattern, term in _REGION_WORDS for m in pattern.finditer(text)]
        if hits:
            return min(hits)[1]
    return None


def _anchors(clean: str) -> list[Mention]:
    found = []
    for pattern, kind in _ANCHORS:
        for m in pattern.finditer(clean):
            found.append(Mention("anchor", m.start(), m.end(), kind))
    found.sort(key=lambda x: (x.start, -x.end))
    out: list[Mention] = []
    for m in found:
        if out and m.start < out[-1].end:
            continue  # overlapping: the earlier, longer noun wins
        if out and _HEAD_GAP.match(clean[out[-1].end:m.start]) and out[-1].value != "generic":
            prev = out.pop()  # "tumor masses": the last noun is the head
            kind = m.value if m.value != "generic" else prev.value
            if prev.value == "lymph node" and m.value in ("metastasis", "neoplasm"):
                kind = "lymph node"
            m = Mention("anchor", prev.start, m.end, kind)
        out.append(m)
    return out


def _sites(clean: str) -> list[Mention]:
    found = []
    for pattern, term in _SITES:
        for m in pattern.finditer(clean):
            found.append(Mention("site", m.start(), m.end(), term))
    found.sort(key=lambda x: (x.start, -x.end))
    out: list[Mention] = []
    for m in found:
        if out and m.start < out[-1].end:
            continue
        out.append(m)
    return out


def _laterality(clean: str) -> list[Mention]:
    out = []
    for m in _LATERALITY.finditer(clean):
        value = m.group(1).lower() if m.group(1) else "bilateral"
        out.append(Mention("laterality", m.start(), m.end(), value))
    return out


def _levels(clean: str) -> list[Mention]:
    out = []
    for m in _LEVEL_RANGE.finditer(clean):
        first, second = m.group(1), m.group(2)
        before = clean[max(0, m.start() - 40):m.start()]
        after = clean[m.end():m.end() + 12].lower()
        if second is None and not _LEVEL_CONTEXT.search(before) and not after.startswith(
                (" vertebra", " level", " vertebral", "-level")):
            continue  # a lone "T2" is a sequence unless the words say "level"/"vertebra"
        if second is not None and not second[0].isalpha() and "/" not in m.group() \
                and not _LEVEL_CONTEXT.search(before) and " and " in m.group():
            continue
        text = first if second is None else f"{first}-{second}"
        text = text.replace("and", "-")
        try:
            levels = expand_levels(text)
        except InputError:
            continue
        if len(levels) > 12:
            continue
        out.append(Mention("levels", m.start(), m.end(), levels))
    return out


def _number(text: str) -> float:
    return float(text.replace(",", "."))


def _sizes(clean: str) -> list[Mention]:
    out = []
    for m in _SIZE.finditer(clean):
        if m.group(7):  # one axis: "3 cm", "a 3-cm mass"
            unit = m.group(8).lower()
            axes = [(_number(m.group(7)), unit)]
        else:
            units = [m.group(2), m.group(4), m.group(6)]
            last = next((u for u in reversed(units) if u), None)
            if last is None:
                continue  # "2 x 3" without a unit is not a size
            values = [m.group(1), m.group(3), m.group(5)]
            axes, unit = [], last.lower()
            for value, own in reversed(list(zip(values, units))):
                if value is None:
                    continue
                unit = own.lower() if own else unit
                axes.insert(0, (_number(value), unit))
        tail = clean[m.end():m.end() + 12].lower()
        if re.match(r" ?(?:/|per|of (?:gadolinium|contrast)|gadolinium)", tail):
            continue
        mm = tuple(round(vocab.length_to_mm(v, u), 3) for v, u in axes)
        if all(0 < d <= 1000 for d in mm):
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


def _signals(clean: str) -> list[Mention]:
    out = []

    def add(m: re.Match[str], seq: str, word: str, pos: int) -> None:
        value = _signal_value(word)
        if value is None:
            return
        field = "t1_signal" if seq.upper() == "T1" else "t2_signal"
        out.append(Mention(field, m.start(), m.end(), (value, pos)))

    for m in _SEQ_FIRST.finditer(clean):
        word = m.group(2) or m.group(3)
        if word:
            add(m, "T" + m.group(1), word, m.start())
    for m in _SIG_FIRST.finditer(clean):
        word = m.group(1) or m.group(2)
        seqs = [m.group(3)] + ([m.group(4)] if m.group(4) else [])
        for seq in seqs:
            seq = "T2" if seq.upper() in ("STIR", "TIRM") else seq
            add(m, seq, word, m.start(m.lastindex if m.lastindex else 0))
    for m in _STIR_FIRST.finditer(clean):
        add(m, "T2", m.group(1), m.start())
    for m in _SEQ_VERB.finditer(clean):
        add(m, "T" + m.group(1), m.group(2), m.start())
    for m in _WORD_SEQ.finditer(clean):
        add(m, "T" + m.group(2), m.group(1), m.start())
    return out


def _signal_value(word: str) -> str | None:
    word = word.lower()
    if word in ("hyper", "high", "bright", "increased"):
        return "hyper"
    if word in ("hypo", "low", "dark", "decreased"):
        return "hypo"
    if word in ("iso", "intermediate"):
        return "iso"
    return None


def is_post_contrast(clean: str, mention: Mention) -> bool:
    """Is a T1 brightness said of a post-contrast image (then it is enhancement, not signal)?
    Looks at the words just before the mention and after it up to the next 'and'/comma."""
    before = clean[max(0, mention.start - 25):mention.start]
    after = clean[mention.end:mention.end + 45]
    stop = re.search(r",|;|\.(?!\d)| and ", after)
    after = after[:stop.start()] if stop else after
    if _NATIVE.search(clean[max(0, mention.start - 25):mention.end]):
        return False
    return bool(_POST_CONTRAST.search(before) or _POST_CONTRAST.search(after))


def _diffusion(clean: str) -> list[Mention]:
    out = [Mention("diffusion_restricted", m.start(), m.end(), False) for m in _DIFF_NO.finditer(clean)]
    for m in _DIFF_YES.finditer(clean):
        if not any(o.start <= m.start() < o.end or m.start() <= o.start < m.end() for o in out):
            out.append(Mention("diffusion_restricted", m.start(), m.end(), True))
    for m in _ADC_VALUE.finditer(clean):
        unit = m.group(3).replace("^", "").replace(" ", "").lower()
        unit = {"mm2s-1": "mm2/s"}.get(unit, unit)
        if m.group(2) and unit == "mm2/s":
            unit = f"10-{m.group(2)}.mm2/s"
        out.append(Mention("adc", m.start(), m.end(), (_number(m.group(1)), unit)))
    return out


def _enhancement(clean: str) -> list[Mention]:
    out = [Mention("enhancement", m.start(), m.end(), ("none", None)) for m in _ENH_NONE.finditer(clean)]
    for rx in (_ENH_PRE, _ENH_POST):
        for m in rx.finditer(clean):
            if any(o.start <= m.start() < o.end for o in out):
                continue
            words = re.findall(r"[a-z]+", m.group(1).lower())
            degree = next((_DEGREE[w] for w in words if w in _DEGREE), None)
            pattern = next((_PATTERN[w] for w in words if w in _PATTERN), None)
            out.append(Mention("enhancement", m.start(), m.end(), (degree, pattern)))
    for m in _ENH_BARE.finditer(clean):
        if not any(o.start <= m.start() < o.end or m.start() <= o.start < m.end() for o in out):
            out.append(Mention("enhancement", m.start(), m.end(), (None, None)))
    for m in _AGENTS.finditer(clean):
        word = m.group(1).lower()
        if word == "gd" and not re.match(r" ?(?:-|contrast|based|chelate)", clean[m.end():m.end() + 10]):
            continue
        term = next((t for k, t in _AGENT_TERM.items() if word.startswith(k)), "gadolinium")
        out.append(Mention("contrast_agent", m.start(), m.end(), term))
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
    "sizes": ("mm", "cm"),
    "physio": ("physiolog", "normal", "expected"),
    "pathology": ("patholog", "histo", "biops", "cyto", "specimen", "cells", "stroma", "shimada",
                  "inpc", "microscop"),
    "followup": ("follow", "recurren", "relapse"),
}


def _open(low: str, gate: str) -> bool:
    return any(key in low for key in _GATES[gate])


def find_mentions(clean: str) -> list[Mention]:
    """Every mention in one normalised sentence, ordered by position."""
    low = clean.lower()
    digits = any(c.isdigit() for c in clean)
    heads = [*_procedures(clean), *_anchors(clean)]
    # Without a procedure or a finding noun a sentence can only add attributes to the
    # previous finding ("Restricted diffusion ... could be detected"): skip the rest.
    mentions = [*heads, *((*_sites(clean), *_laterality(clean), *_context(clean, low)) if heads else ()),
                *(_levels(clean) if digits else ()),
                *(_sizes(clean) if digits and _open(low, "sizes") else ()),
                *(_volumes(clean) if digits and _open(low, "volumes") else ()),
                *(_activities(clean) if digits and _open(low, "activities") else ()),
                *(_signals(clean) if _open(low, "signals") else ()),
                *(_diffusion(clean) if _open(low, "diffusion") else ()),
                *(_enhancement(clean) if _open(low, "enhancement") else ())]
    return sorted(mentions, key=lambda m: (m.start, m.end))
