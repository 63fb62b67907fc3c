"""Is a sentence report prose about this patient, or text around it?

A case-report article or a guideline page says much more than a report: titles and
headings, flattened tables, background and discussion about patients and tests in general,
explanations of the case's results, advice to readers. Finding nouns and procedure names
occur there in the same words as in a report, so the mention patterns alone cannot tell
them apart; the clues are in how the sentence is built:

* **headings and titles** – no sentence punctuation and no verb ("Tumor localization",
  "General Information About Neuroblastoma"), or most words capitalised;
* **table rows** – runs of column values ("negative positive negative left adrenal gland")
  instead of clauses; a "Table N" caption opens a table that lasts until prose resumes;
* **generic statements** – what tests or tumours do in general: present-tense claims with a
  modal ("can extend", "might be a useful addition", "may order"), frequency adverbs
  ("frequently", "often", "rarely"), predicates about tests ("are involved in", "is widely
  adopted", "has been classified as", "tend to");
* **explanations** – "... may be explained by ...": about a result, not a result;
* **hypotheticals and patient information** – "If your child has neuroblastoma, ...".

:func:`non_report` classifies one normalised sentence (``None`` = report prose). Everything
is a handful of bounded regexes on one sentence, so it stays linear like the rest.
"""

from __future__ import annotations

import re


def _rx(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


# A report states a result in the past ("revealed", "was negative") or in report present
# ("shows", "there is"). Modals in report findings are past ability ("could be detected")
# or a hedge on the interpretation ("may represent", "cannot be excluded"): those are kept.
_MODAL = _rx(r"\b(?:may|might|can|could|should|would|will|must)(?: not|n't)?(?: \w{1,12}ly){0,2} "
             r"(?!not\b)(\w{1,16})(?: (\w{1,16}))?")
_HEDGE_VERBS = frozenset(["represent", "reflect", "correspond", "indicate", "suggest", "signify", "mimic"])
# "could be detected", "cannot be excluded", "may be physiological", "might be a metastasis"
_BE_OK = _rx(r"(?:seen|detected|identified|visuali[sz]ed|demonstrated|depicted|observed|noted|"
             r"found|delineated|appreciated|excluded|ruled|consistent|compatible|related|due|"
             r"secondary|physiologic\w{0,3}|reactive|benign|malignant|inflammatory|artefact\w{0,2}|"
             r"artifact\w{0,2}|normal|residual|necrotic|cystic|post-?operative|an?|the)")
# What a test or a tumour does in general, not what this patient's study showed.
_GENERIC = _rx(
    # ("It is associated with hyperfixations ...": a pronoun subject is this patient's finding)
    r"\b(?:(?<!\bit )(?<!\bthis )(?<!\bwhich )(?:is|are) (?:\w{1,12}ly )?(?:involved in|adopted|"
    r"established|employed|accepted|"
    r"needed|required|used to|useful|valuable|emerging|thought|believed|known to|associated with)|"
    r"(?:has|have) been (?:\w{1,12}ly )?(?:classified|adopted|proposed|shown|used|reported|"
    r"described|suggested|recommended|established|associated|found)|"
    r"(?:is|are) (?:\w{1,12}ly )?described|normally|in descending order|bio-?distribution|"
    # ("multiple mostly hypodense liver lesions": an adverb of a description, not of a kind)
    r"tends? to|frequently|often|rarely|seldom|sometimes|mostly(?! [a-z]+(?:ense|ic|ous|al|ar|ed|id)\b)|"
    r"in most cases|in rare cases|"
    # what kinds of tumour are like: "receptors which are found in many tumors"
    r"(?:many|most|various|several types of|all kinds of) (?:[\w-]{1,20} ){0,2}(?:tumou?rs|neoplasms|cancers|"
    r"malignancies)|"
    r"classically|as a rule|"
    r"neonates|newborns|infants|adults|we recommend|is recommended|prognosis|"
    r"plays? an? (?:\w{1,12} )?role|(?:has|have) shown (?:superiority|value|utility)|"
    # a teaching file's general part: "Findings include a large hyperechoic mass", "foci are seen with"
    r"^\W{0,3}(?:typical |imaging |characteristic |the )?(?:ultrasound |CT |MRI? )?findings include|"
    r"(?:is (?:often |usually |typically )|are (?:often |usually |typically )?)seen with|"
    r"(?:can|may) evaluate|is more common in|"
    # a definition: "Phosphaturic mesenchymal tumor is a pediatric rare tumor ..."
    r"(?:is|are) (?:\w{1,12}ly )?(?:an?|the most common|one of the) (?:[\w-]{1,20} ){0,3}"
    r"(?:tumou?rs?|neoplasms?|diseases?|"
    r"entit(?:y|ies)|malignanc(?:y|ies)|disorders?|syndromes?)(?: (?:of|in|associated|that|which|characteri[sz]ed)\b|"
    r"(?=\W{0,3}$)))\b")
# The article speaking of itself: a title ("...: a case report") or its framing sentence.
_ARTICLE = _rx(r"\b(?:case reports?|case series|a case of|review of the literature)\b")
# An article's title: "...: a case report", "... - case report and review of the literature"
_TITLE = _rx(r"[:-] (?:an? )?(?:\w{1,12} )?(?:case reports?|case series|report of (?:a|an|\w{3,5}) cases?)"
             r"(?: and (?:a )?review of (?:the )?literature)?\W{0,3}$")
# "The findings are in keeping with ...", "These features are typical of ...": what the
# findings just told mean, said of them as a whole; the findings themselves came before.
_INTERPRETATION = _rx(r"\W{0,3}(?:overall,? |taken together,? |in summary,? )?(?:the|these|all|such|both) "
                      r"(?:\w{1,15} ){0,2}(?:findings|features|appearances?|changes|abnormalities|results) "
                      r"(?:are|is|were|was|would be|seem|appear)(?: \w{1,12}ly)?(?: most| more| all)? "
                      r"(?:in keeping with|consistent with|compatible with|suggestive of|typical (?:of|for)|"
                      r"characteristic of|indicative of|suspicious (?:of|for)|concerning for|in favou?r of)\b")
# "may be explained by", "can be attributed to": an explanation of a result.
_EXPLANATION = _rx(r"\b(?:explain\w{0,5}|explanation|attribut\w{1,6} to|accounts? for|"
                   r"(?:may|might|could|can) (?:\w{1,12}ly )?(?:be )?(?:due to|caused by|result\w{0,3} from))\b")
# Addressing the reader, or a condition: "If your child has ...", "whether the tumor has spread".
# ("your PET scan shows ...": a reply about the asker's own report, not a hypothetical)
# ("In case 1, a tumor was detected ...": the case of a report, not a condition)
_HYPOTHETICAL = _rx(r"^\W{0,3}(?:\d{1,2} )?(?:if|when|whenever|unless|in case(?! (?:\d|[IVX]{1,4}\b|one|two|three)))\b|"
                    r"\b(?:you|whether)\b|"
                    r"\byour\b(?! (?:[\w-]+ ){0,2}(?:scans?|reports?|results?|study|images?|PET|CT|MRI))")
# A past or report-present result verb: with one, the sentence reports this patient's study.
_RESULT = _rx(r"\b(?:revealed|showed|shown|demonstrated|detected|identified|depicted|disclosed|"
              r"displayed|was|were|had|measured|measuring)\b")
# "We report a case of ..., revealing on CT a retroperitoneal mass": the framing sentence
# states the case's result (a test, then what it revealed)
_CASE_RESULT = _rx(r"\b(?:revealing|showing|demonstrating|revealed|showed|demonstrated) (?:on |at |by )?"
                   r"(?:\w{1,20} ){0,4}?(?:CT|MRI|computed tomography|ultraso\w{2,8}|scintigra\w{1,6}|PET)\b"
                   r"|\b(?:CT|MRI|computed tomography|ultraso\w{2,8}|scintigra\w{1,6}|PET)(?: \(\w{1,8}\))? "
                   r"(?:revealed|showed|demonstrated)\b"
                   # "a case of a girl ... who was found to have bilateral adrenal masses on CT"
                   r"|\bfound to have (?:[\w-]{1,20} ){1,8}?(?:on|at|by|in) (?:an? |the )?(?:[\w-]{1,20} ){0,3}?"
                   r"(?:CT|MRI|computed tomography|ultraso\w{2,8}|scintigra\w{1,6}|PET)\b"
                   # "a pheochromocytoma, falsely negative on FDG PET/CT and on MIBG scintigraphy"
                   r"|\b(?:negative|positive|avid|seen|visible|detected|identified|enhancing) (?:\w{1,12} )?"
                   r"(?:on|in|at|by) (?:an? |the )?(?:[\w-]{1,20} ){0,4}?(?:CT|MRI|computed tomography|ultraso\w{2,8}|"
                   r"scintigra\w{1,6}|PET|m?IBG|bone scan)\b")
_CASE_LABEL = _rx(r"^\W{0,3}case (?:reports?|presentations?|descriptions?|summary)\s?:")
_TERMINAL = re.compile(r"[.!?;]\W{0,3}$")
# Verbs that make a line a clause rather than a heading.
_VERB = _rx(r"\b(?:is|are|was|were|be|been|has|have|had|there|shows?|showed|shown|reveal\w{0,2}|"
            r"demonstrat\w{1,3}|detect\w{0,3}|identif\w{1,5}|see|seen|noted|appear\w{0,2}|"
            r"measur\w{1,3}|display\w{0,2}|extend\w{0,3}|contain\w{0,3}|involv\w{1,3}|no|not)\b")
# Two column values side by side: "negative positive", "positive n.d.", "not performed negative".
_CELL = r"(?:positive|negative|pos|neg|n\.?d\.?|n\.?a\.?|not performed|normal|abnormal)"
_TABLE_ROW = _rx(rf"\b{_CELL} {_CELL}(?![\w])")
_CAPTION = _rx(r"^\W{0,3}(?:table|tab\.?) ?(?:\d{1,2}|[IVX]{1,4})\b")
_WORDS = re.compile(r"[A-Za-z][A-Za-z'-]{3,}")


def non_report(clean: str, has_anchor_attributes: bool) -> str | None:
    """Why a normalised sentence is not report prose, or None when it is.

    ``has_anchor_attributes``: the sentence names a procedure, a laterality, a size, levels,
    MR signal or an assertion cue, i.e. what a verbless report line ("Right adrenal mass",
    "IMPRESSION: No abnormal MIBG uptake") carries and a heading does not.
    """
    if _TABLE_ROW.search(clean) and not _TERMINAL.search(clean):
        return "table row"
    if not _TERMINAL.search(clean):
        if _title_case(clean):
            return "heading"
        if not _VERB.search(clean) and not has_anchor_attributes:
            return "heading"
    if _HYPOTHETICAL.search(clean):
        return "hypothetical"
    # ("Case report: We present a patient with ...": the section's label, not the article's framing)
    unlabelled = _CASE_LABEL.sub("", clean, count=1)
    if _ARTICLE.search(unlabelled) and (_TITLE.search(unlabelled) or not _CASE_RESULT.search(unlabelled)):
        return "article"
    if _INTERPRETATION.match(clean):
        return "interpretation"
    if _RESULT.search(clean):
        # a result verb makes it this patient's result even with a general aside
        # ("MRI showed a left adrenal mass, which should be correlated with MIBG")
        return None
    if _EXPLANATION.search(clean):
        return "explanation"
    if _GENERIC.search(clean) or any(_generic_modal(m) for m in _MODAL.finditer(clean)):
        return "generic"
    return None


def _generic_modal(m: re.Match[str]) -> bool:
    """'can extend', 'may order', 'might be a useful addition' - not a hedge or past ability."""
    verb, nxt = m.group(1).lower(), (m.group(2) or "").lower()
    if verb in _HEDGE_VERBS:
        return False
    if verb == "be":
        if not nxt or not _BE_OK.fullmatch(nxt):
            return True
        if nxt in ("a", "an", "the"):  # "might be a metastasis" vs "might be a useful addition"
            rest = m.string[m.end():m.end() + 30].lower()
            return bool(re.match(r" (?:useful|valuable|good|better|promising|helpful|important|"
                                 r"reasonable|complement|alternative|option|tool|addition)", rest))
        if nxt in ("seen", "detected", "identified", "visualized", "visualised", "demonstrated",
                   "depicted", "observed", "noted", "found", "delineated", "appreciated"):
            # past ability in a report: "could (not) be detected"; "can be detected" is general
            return not m.group(0).lower().startswith("could")
        return False
    return True


def _title_case(clean: str) -> bool:
    """'General Information About Neuroblastoma': most longer words capitalised."""
    words = _WORDS.findall(clean)
    if len(words) < 4:
        return False
    capital = sum(1 for w in words if w[0].isupper())
    return capital * 10 >= len(words) * 6


def is_caption(clean: str) -> bool:
    """'Table 1 Demographical, clinical ... findings': a table follows."""
    return bool(_CAPTION.match(clean))


def ends_table(clean: str) -> bool:
    """Prose resumes after a table: a punctuated sentence of several words."""
    return bool(_TERMINAL.search(clean)) and len(clean.split()) >= 6 and not _TABLE_ROW.search(clean)


# Report header labels. What follows a request label (the indication, the clinical question)
# is why the study was done: its nouns ("search for occult neuroblastic tumour",
# "? neuroblastoma") are what the referrer asks about, not what the study showed.
# A label's words, with a parenthesised aside that may hold commas ("Whole-body MRI (1.5 T, T1,
# STIR, DWI):"); anything else with a comma is a sentence, not a label.
_LABEL = re.compile(r"\W{0,3}([A-Za-z0-9](?:[\w /'+.-]|\([^()\n:]{0,40}\)){0,38}?) ?:")
# ("Background:" is not one: it labels an article abstract's first part.)
_REQUEST_LABEL = _rx(r"(?:(?:clinical|relevant|past|medical|surgical|family) ){0,2}(?:indications?|history|questions?)|"
                     r"history of [\w /-]{1,30}|"
                     r"clinical (?:information|details|background)|reason for (?:the )?(?:examination|exam|"
                     r"study|referral|request|scan)|referral(?: reason| information)?|"
                     r"(?:clinical )?indication for (?:the )?(?:examination|exam|study)")
# Sections of a teaching file or case page that are not the case's results.
_ASIDE_LABEL = _rx(r"(?:differential(?: diagnos[ie]s)?|ddx|discussion|teaching points?|(?:key )?pearls|"
                   r"references?|learning points?)")
# The pathologist's section of a case page: what the specimen showed, not a study.
_PATHOLOGY_LABEL = _rx(r"(?:gross |microscopic |surgical )?(?:histo)?patholog\w{0,4}(?: findings| report)?|"
                       r"histology|(?:surgical|operative|intraoperative) findings")
_SPECIMEN_LABEL = _rx(r"\W{0,3}[A-Za-z][A-Za-z ]{1,40}, (?:resection|excision|biopsy)\s?:")
_REPORT_LABEL = _rx(r"(?:our |the |main |key |imaging |scan )?(?:findings?|impressions?|conclusions?|results?)|"
                    r"report|opinion|technique|"
                    r"comparison|assessment|summary|interpretation")
# A case's diagnosis line ("Diagnosis: Terminal ileum carcinoid tumor", "Radiological diagnosis:
# right carotid body tumor") names what the case is, not what a study showed.
_DIAGNOSIS_LABEL = _rx(r"(?:(?:final|radiological|radiologic|clinical|pathological|histological|working|"
                       r"imaging|case) )?diagnos[ie]s")


def is_nominal(clean: str) -> bool:
    """Is the text a name or a noun phrase, with no verb ("Terminal ileum carcinoid tumor")?"""
    return _VERB.search(clean) is None


def reports_result(clean: str) -> bool:
    """Does the sentence have a result verb ("revealed", "showed", "was"; in a report's
    present, "demonstrates", "shows")?"""
    return bool(_RESULT.search(clean) or _PRESENT_RESULT.search(clean))


_PRESENT_RESULT = _rx(r"\b(?:shows|reveals|demonstrates|depicts|displays)\b")


def section_label(clean: str) -> tuple[str, int] | None:
    """A header label opening a sentence: ("request"|"aside"|"pathology"|"diagnosis"|"report"|"other",
    end of the label).

    "Indication: ...", "Clinical question: ..." -> request; "Findings:", "IMPRESSION" (a
    heading line alone) -> report; any other "Words:" (a procedure prefix "WB-MRI:", "Date:")
    -> other, for the caller to judge.
    """
    specimen = _SPECIMEN_LABEL.match(clean)
    if specimen is not None:
        return "pathology", specimen.end()
    m = _LABEL.match(clean)
    if m is None:
        bare = clean.strip(" .:-").lower()
        return ("report", len(clean)) if _REPORT_LABEL.fullmatch(bare) else None
    name = m.group(1).strip()
    if _REQUEST_LABEL.fullmatch(name):
        return "request", m.end()
    if _PATHOLOGY_LABEL.fullmatch(name):
        return "pathology", m.end()
    if _ASIDE_LABEL.fullmatch(name):
        return "aside", m.end()
    if _DIAGNOSIS_LABEL.fullmatch(name):
        return "diagnosis", m.end()
    if _REPORT_LABEL.fullmatch(name):
        return "report", m.end()
    return "other", m.end()


# ---- the whole text: one patient's examination, or text about many or about none ----------
# A report or a case report is about one patient: it points at them ("the patient", "a
# 3-year-old", "she", "our case") or is laid out as a report ("Findings:"). A cohort abstract
# counts patients instead ("in nine patients", "n = 9", "for all 34 subjects", "p = 0.002").
_NUMBER = (r"(?:\d{1,5}|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|"
           r"fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty)")
_COHORT_COUNT = _rx(
    rf"\b(?:n ?= ?\d{{1,5}}\b|{_NUMBER} (?:of {_NUMBER} )?(?:[a-z-]{{1,20}} ){{0,2}}(?:patients|subjects|"
    r"infants|children|adults|neonates|participants|individuals)\b|"
    r"p ?[<=>≤] ?0?\.\d|95 ?% ?CI\b|retrospectively (?:analy[sz]ed|reviewed|evaluated)|"
    r"median (?:age|survival)|mean age)")
_ONE_PATIENT = re.compile(
    r"\b(?:[Tt]he patient|[Oo]ur patient|[Tt]his patient|[Tt]he patient's|"
    r"\d{1,3}[- ](?:year|month|week|day)s?[- ]old|[Hh]e|[Ss]he|[Hh]is|[Hh]er|[Hh]im|"
    r"[Tt]he (?:child|girl|boy|infant|baby|neonate|newborn|man|woman|toddler)|"
    r"\b[Aa] (?:young |old |elderly |previously healthy )?(?:woman|man|boy|girl|infant|neonate|toddler|"
    r"teenager|adolescent) (?:presented|was|with|who|underwent|had)|"
    r"(?:[Ii]n this|[Oo]ur|[Tt]he present|[Tt]his) case|[Cc]ase (?:\d{1,2}|report)|a case of|"
    r"[Mm]y (?i:dad|father|mother|mom|mum|son|daughter|wife|husband|child|baby|brother|sister)|"
    r"[Mm]y (?:[\w-]{1,15} ){0,3}?(?:report|scan|results)|"
    r"(?:FINDINGS|Findings|IMPRESSION|Impression|CONCLUSION|Conclusion|History|HISTORY)\s?:)(?!\w)")
# Something said of one examination: a result in the past, a side, a size, a negative, a
# report line "Label: ...", a test that shows ("CT shows", "MR images show"). Background and
# guideline prose has none of them: what tests can show and tumours usually do.
_TEST = (r"(?:images?|scans?|CT|MRI|MR|ultraso\w{2,8}|sonograph\w{1,2}|radiographs?|scintigra\w{2,5}|"
         r"PET(?:/CT)?|m?IBG|study|examination)")
_NOT_RESULT = r"(?!(?:may|might|can|could|would|should|will|must|is|are|be|been)\b)"
_PARTICULAR = _rx(
    r"\b(?:was|were|showed|revealed|demonstrated|had|detected|identified|noted|disclosed|displayed|"
    r"depicted|measur\w{1,4}|there (?:is|are)|right|left|bilateral|no|not|without|negative|positive|"
    r"abnormal|unremarkable|normal|\d{1,4}(?:\.\d{1,3})? ?(?:mm|cm|MBq|mCi)\b|SUV\w{0,4} ?[=:]? ?\d)\b|"
    r"(?:^|\n|[.;] )[ \t]{0,8}[\w /().+-]{2,30}:|"
    # "CT shows", "MR images show", "the scan failed to", "image showing"
    rf"\b{_TEST}(?: {_NOT_RESULT}[\w()]{{1,14}}){{0,3}} {_NOT_RESULT}"
    r"(?:shows|show|reveals|reveal|demonstrates|depicts|displays|showing|revealing|demonstrating|depicting|"
    r"\w{2,14}ed)\b")


def not_one_patient(text: str) -> str | None:
    """Why a whole text is not about one patient's examination, or None when it may be.

    "template": it is a reporting template with blanks to fill ("[# x # cm]", "[Normal*]");
    "cohort": it counts patients and never points at one; "general": nothing in it is said
    of one examination or one patient (no result, side, size, negative, report line, a test
    that shows or showed, a patient pointed at).
    """
    if len(_PLACEHOLDER.findall(text)) >= 3:
        return "template"  # a reporting template: "[# x # cm]", "[none* | benign | ...]", "{if ...}"
    abstract = _ABSTRACT_LAYOUT.search(text) is not None
    if any(not (abstract and m.group().lower().startswith("conclusion")) for m in _ONE_PATIENT.finditer(text)):
        return None  # (an abstract's "Conclusion:" is its last part, not a report's)
    if _COHORT_COUNT.search(text):
        return "cohort"
    if not _PARTICULAR.search(text):
        return "general"
    if not _STUDY_RESULT.search(text) and len(_GENERAL.findall(text)) >= 2:
        return "general"  # reference text: how tumours look and tracers behave, no one's study
    return None


# A structured abstract of a study: its parts are "Methods:" and "Results:".
_ABSTRACT_LAYOUT = _rx(r"\b(?:methods|materials and methods|patients and methods|results)\s?:")
# The blanks of a reporting template: alternatives, number slots, empty fields, instructions.
_PLACEHOLDER = re.compile(r"\[[^\]\n]{0,80}\|[^\]\n]{0,80}\]|\[ ?#|\[ \]|\[[^\]\n]{1,40}\*\]|"
                          r"\{(?:if|only|used) [^}\n]{3,}\}")
# A result of one study: a past result verb, a report's present ("shows", "there is a"), a
# pointer at an image ("arrow"), a measurement taken.
_STUDY_RESULT = _rx(r"\b(?:revealed|showed|demonstrated|depicted|disclosed|detected|identified|"
                    r"(?:was|were) (?:seen|noted|found|detected|identified|observed|present|visuali[sz]ed)|"
                    r"measur(?:ed|ing)|shows|demonstrates|there (?:is|are) (?:a|an|no)|"
                    r"is (?:seen|noted|identified)|arrows?|arrowheads?)\b")
# What reference and guideline text says: what things are, may be, usually do, in what share.
_GENERAL = _rx(r"\b(?:is|are) (?:\w{1,12}ly )?(?:used|seen|present|located|observed|visuali[sz]ed|"
               r"characteri[sz]ed|taken up|transported|desirable|common|rare)\b|"
               r"\b(?:may|can|should|might|could) (?:be|reveal|show|appear|originate|infiltrate)\b|\d ?%|"
               r"\b(?:always|usually|typically|often|generally|commonly|rarely|normally|routinely|"
               r"consistently)\b|\b(?:neuroblastomas|tumou?rs|lesions|patients|cases|children)\b")

