"""Pattern tables of the mention finders (mentions.py): one compiled regex or term table
per kind of mention. Linear-time by construction: bounded repeats only, no nested
unbounded quantifiers; they run on one sentence of at most sentences.MAX_SENTENCE characters.
"""

from __future__ import annotations

import re


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
    (_rx(r"(?:\bI[- ]?123[- ]?|\b123 ?I[- ]?|\[123I\] ?(?:I-)?|\(123\) ?I[- ]?|\biodine[- ]123[- ]?)"
         r"(?:m|meta)?[- ]?(?:IBG\b|iodobenzylguanidine)"), "I-123 mIBG scintigraphy"),
    (_rx(r"(?:\bI[- ]?131[- ]?|\b131 ?I[- ]?|\[131I\] ?(?:I-)?|\(131\) ?I[- ]?|\biodine[- ]131[- ]?)"
         r"(?:m|meta)?[- ]?(?:IBG\b|iodobenzylguanidine)"), "I-131 mIBG scintigraphy"),
    (_rx(r"\b(?:m|meta)?[- ]?IBG\b|\bmetaiodobenzylguanidine|\bmeta-iodobenzylguanidine"),
     "mIBG"),
    (_rx(r"\banti[- ]?GD ?2\b|\bimmuno-?scintigraph\w{0,4}"), "99mTc anti-GD2 immunoscintigraphy"),
    (_rx(r"\bDOTA[- ]?NOC\b"), "68Ga-DOTANOC PET/CT"),
    (_rx(r"\bDOTA[- ]?TATE\b|\bDOTATE\b"), "68Ga-DOTATATE PET/CT"),
    (_rx(r"\bDOTA[- ]?TOC\b|\bedotreotide\b"), "68Ga-DOTATOC"),
    (_rx(r"\b(?:18 ?F|F[- ]?18|F)[- ]?(?:L[- ])?DOPA\b|\bfluoro-?(?:L-)?dopa\b"), "18F-DOPA"),
    # an F-18 fluoride bone scan is a PET ("F18 NaF bone scan", "18F-sodium fluoride PET")
    (_rx(r"\b(?:(?:18 ?F|F[- ]?18)[- ]?(?:NaF|sodium fluoride|fluoride)|NaF(?= (?:PET|bone|scan)))\b"), "18F-NaF"),
    # Octreoscan is the brand of In-111 pentetreotide; "octreotide scintigraphy" names no isotope
    (_rx(r"\b(?:(?:In[- ]?111|111 ?In|indium[- ]111)[- ]?(?:DTPA[- ])?(?:pentetreotide|octreotide)"
         r"|pentetreotide|octreoscan\w{0,3})\b"), "In-111 pentetreotide"),
    (_rx(r"\b(?:(?:radio-?labell?ed )?octreotide|somatostatin receptor)(?= (?:scintigra|scan|imaging|"
         r"SPECT|study))|\bradio-?labell?ed octreotide\b"), "octreotide scintigraphy"),
    (_rx(r"\bm?-?FBG\b|\bfluorobenzylguanidine"), "18F-MFBG PET"),
    # radioiodine named as its agent ("NaI-131", "sodium iodide I-131"); an isotope alone
    # ("I-131 whole-body scan", "I123 scintigraphy") names a scintigraphy, not its agent
    (_rx(r"\b(?:NaI[- ]?131|Na ?131 ?I|sodium iodide[- ](?:I[- ]?131|131 ?I)|(?:I[- ]?131|131 ?I) sodium iodide)\b"),
     "I-131 radioiodine"),
    (_rx(r"\b(?:NaI[- ]?123|Na ?123 ?I|sodium iodide[- ](?:I[- ]?123|123 ?I)|(?:I[- ]?123|123 ?I) sodium iodide)\b"),
     "I-123 radioiodine"),
    (_rx(r"(?:\bI-? ?1(?:31|23)|\b1(?:31|23) ?I|\biodine[- ]1(?:31|23))(?=(?: \(I-1(?:31|23)\))?[- ]"
         r"(?:(?:whole[- ]body|diagnostic|post-?therapy|WB|planar|SPECT) ){0,2}(?:scans?|WBS|images?|imaging)\b)"),
     "NM"),
    (_rx(r"(?:\b|(?<=\d)|(?<=\d[A-Z]))FDG\b|\bfluoro-?de-?ox[iy]-?glucose"), "FDG PET/CT"),  # "18FDG-PET/CT"
    (_rx(r"(?<!NaF )(?<!fluoride )\bbone[- ]?scan\w{0,4}\b|\bbone scintigra\w{0,5}|\bskeletal scintigra\w{0,5}"
         r"|\b(?:99m?[- ]?Tc|Tc[- ]?99m)[- ]?(?:MDP|H?HDP|HMDP|DPD)\b|\bmethylene dis?phosphonate"),
     "bone scintigraphy"),
    (_rx(r"\bPET(?:[-/ ]?CT)?(?:scans?)?\b|\bpositron emission tomography"), "PET"),
    # a bare "whole body scan" (WBS) is a scintigraphy: an MRI or CT says so ("WB-MRI")
    (_rx(r"\b(?:SPECT(?:[-/ ]?CT)?|scintigra\w{1,6}|scintiscan\w{0,2}|whole[- ]body scans?|D?WBS)\b"), "NM"),
    # a report line's modality code ("NM - Methylene diphosphonate avid lesion", "CR - lytic lesion")
    (_rx(r"^\W{0,3}NM(?= ?[-:] )"), "NM"),
    (_rx(r"^\W{0,3}(?:CR|DX)(?= ?[-:] )"), "UNKNOWN"),
    (_rx(r"\b(?:perfusion SPECT|radiograph\w{0,2}|roentgenogra\w{1,4}|X-?rays?|CXR|KUB|plain films?|EEG"
         r"|(?<!CT )(?<!MR )angiogra\w{1,4}|mammogra\w{1,4}|fluoroscop\w{1,3})\b"), "UNKNOWN"),
    (_rx(r"\b(?:comput(?:ed|er|eri[sz]ed) (?:axial )?tomogra(?:ph\w{0,2}|ms?)|CT|CECT|NECT|NCCT|HRCT|MDCT|"
         r"CBCT|CTA|CTPA|CAT(?= scans?\b))\b"), "CT"),
    # ("MR - Axial T1 ...", "MR: ...": a report line's label)
    (_rx(r"\b(?:MRI|MRT|MR(?= (?:imaging|images?|scans?|exam\w{0,7}|of|study|technique|system|sequences?|"
         r"protocol|findings|show\w{0,2}|"
         r"reveal\w{0,2}|demonstrat\w{1,3}|angiogra\w{1,4})| ?[-:] )|MRA"
         # "coronal T1 postcontrast MR and axial DWI": a plane, sequence or contrast word says MR
         r"|(?:(?<=T1 )|(?<=T2 )|(?<=axial )|(?<=coronal )|(?<=sagittal )|(?<=postcontrast )|"
         r"(?<=post-contrast )|(?<=enhanced ))MR"
         r"|MRCP|M\.R\.I\b\.?|magnetic resonance(?: imaging| tomography| cholangiopancreatography)?)\b"), "MRI"),
    # an echocardiogram is the heart's ultrasound (transthoracic TTE, transoesophageal TEE)
    (_rx(r"\b(?:ultraso\w{2,8}|sonograph\w{1,4}|sonogram|echograph\w{1,3}|echocardiogra\w{1,3}|TTE|TOE|TEE|EUS|"
         r"Doppler|USG)\b"
         r"|\bUS\b(?! ?\$)"), "ultrasound"),
]
# Studies outside the model's procedures that name their radiopharmaceutical: the finding keeps
# modality and tracer (a term of the generated PS3.16 tables, or None when the isotope is not
# said) and has no procedure. "NM"/"PET" left unresolved are the same with no tracer.
TRACER_STUDIES: dict[str, tuple[str, str | None]] = {
    "68Ga-DOTATOC": ("PT", "Edotreotide Ga^68^"),
    "18F-DOPA": ("PT", "Fluoro-L-dopa F^18^"),
    "18F-NaF": ("PT", "Sodium fluoride F^18^"),
    "In-111 pentetreotide": ("NM", "Indium^111 Pentetreotide"),
    "I-131 radioiodine": ("NM", "Sodium iodide I^131^"),
    "I-123 radioiodine": ("NM", "Sodium iodide I^123^"),
    "octreotide scintigraphy": ("NM", None),
    "NM": ("NM", None),
    "PET": ("PT", None),
}
# Bone-seeking agents a bone scan report names (code meanings of the generated tables, or a
# hand-kept tracer name); an unnamed agent stays unnamed.
_BONE_AGENTS = _rx(r"\b(?:(MDP|medronate|methylene dis?phosphonate)|(H?HDP|HMDP|oxidronate|"
                   r"hydroxy-?methylene diphosphonate))\b")
BONE_AGENT_TERMS = ("99mTc-MDP", "Technetium Tc^99m^ oxidronate")

# "diffusion weighted MRI" / "T2-weighted MR images" name a sequence, not a new study;
# "PET/CT" is PET, "SPECT/CT" is the scintigraphy: their CT is not a CT study.
_NOT_A_STUDY = _rx(r"(?:weighted|diffusion) ?$")
_AFTER_SLASH_CT = _rx(r"(?:PET|SPECT|emission tomography)[-/ ]?$")

# Body regions named with a procedure ("abdominal ultrasound", "MRI of the brain").
_REGION_WORDS: list[tuple[re.Pattern[str], str]] = [
    (_rx(r"\b(?:whole[- ]?body|WB)\b"), "whole body"),
    (_rx(r"\babdom\w{0,5}"), "abdomen"),
    (_rx(r"\b(?:chest|thora[cx]\w{0,2})\b"), "thorax"),
    (_rx(r"\bpelv\w{1,3}\b"), "pelvis"),
    (_rx(r"\bneck\b"), "neck"),
    (_rx(r"\b(?:brain|cranial|cerebral)\b"), "brain"),
    (_rx(r"\bhead\b"), "head"),  # "CT head": the head, skull and scalp with the brain
    (_rx(r"\borbit(?:s|al)?\b"), "orbit"),
    (_rx(r"\bspin\w{1,3}\b"), "spine"),
]

# --- finding nouns ---------------------------------------------------------------------
# (pattern, finding type); "generic" nouns ("abnormality") make study-level statements.
_ANCHORS: list[tuple[re.Pattern[str], str]] = [
    # "lytic metastatic lesions", "a metastatic bone deposit": the lesion is a metastasis
    (_rx(r"\bmetastatic (?:(?!and |or )[a-z-]{2,15} ){0,2}?(?:lesions?|mass(?:es)?|deposits?|foc(?:us|i)|"
         r"nodules?|tumou?rs?|implants?)\b"), "metastasis"),
    (_rx(r"\bmass(?:es)?\b(?![- ]effect)"), "mass"),  # "mass effect" is what a mass does
    (_rx(r"\blesions?\b|\bdeposits?\b|\binfiltrat(?:es?|ion)\b"), "lesion"),
    (_rx(r"\bnodules?\b"), "nodule"),
    # plain words for a mass or a lesion: "a lump in my left thyroid bed", "two opacities of
    # tissue density", "a small size formation" (not "formation of new bone")
    (_rx(r"\blumps?\b"), "mass"),
    # an incidentaloma is a mass found by chance ("a 3-cm left adrenal incidentaloma")
    (_rx(r"\bincidentalomas?\b"), "mass"),
    (_rx(r"\b(?:opacit(?:y|ies)|formations?(?! of\b))\b"), "lesion"),
    # abnormal MR signal is a lesion of the study ("calvarial signal abnormality", "focal
    # abnormal signal intensity", "marrow signal changes")
    (_rx(r"\b(?:signal (?:abnormalit(?:y|ies)|alterations?)|abnormal (?:marrow )?signals?"
         r"(?: intensit(?:y|ies))?)\b"), "lesion"),
    # a region without tracer where there should be some: a lesion of the scan
    (_rx(r"\b(?:photopenic|photon-deficient|cold) (?:areas?|defects?|regions?|foc(?:us|i)|spots?|lesions?)\b"),
     "lesion"),
    (_rx(r"\b(?:lymph ?nodes?|(?:lymph)?adenopath\w{1,3}|nodes)\b"), "lymph node"),
    (_rx(r"\bmetasta(?:sis|ses|tic disease|si[sz]ed to|si[sz]ing to)\b|"
         r"\bmetastatic (?:work-?up|survey|evaluation|screening)\b"), "metastasis"),
    # a named tumour type the vocabulary codes is kept as said (ICD-O-3), not widened to neoplasm
    (_rx(r"\bganglioneuroblastomas?\b"), "ganglioneuroblastoma"),
    (_rx(r"\bneuroblastomas?\b"), "neuroblastoma"),
    (_rx(r"\bganglioneuromas?\b"), "ganglioneuroma"),
    # (a tumour come back, "no signs of recurrence", is a neoplasm)
    (_rx(r"\b(?:tumou?rs?|neoplasms?|neoplasia|neuroblastic (?:tumou?rs?|neoplasms?|neoplasia)|"
         r"(?<!symptom )recurrences?(?! of (?:symptoms?|pain|seizures?|infection)))\b"), "neoplasm"),
    # a bare "focus"/"foci" ("multiple other foci in the liver") is one of a scan (a lesion on
    # CT/MR/US, frames.py); "foci of calcification" is not; a bare "activity" ("no renal
    # activity") is the scan's, and nothing on CT/MR/US (the administered activity is a dose)
    (_rx(r"\b(?:uptake|accumulation|avidity|foc(?:us|i)(?= of (?:\w{1,15} ){0,3}"
         r"(?:uptake|activity|accumulation|radiotracer|tracer))|foc(?:us|i)\b(?! of\b)|hot ?spots?"
         r"|(?<!physical )(?<!disease )(?<!administered )(?<!injected )(?<!applied )(?<!total )"
         r"activity(?! (?:of|in) (?:daily|disease))(?![^.;]{0,24}\d ?(?:MBq|GBq|kBq|mCi|uCi))"
         r"|(?:tracer|radiotracer|radiopharmaceutical|mIBG|FDG) (?:activity|localization|localisation)"
         r"|(?:increased|abnormal|focal|intense|pathologic(?:al)?) (?:radio-?)?(?:tracer )?activity"
         r"|hyperfixations?|hypercaptations?|(?<!internal )(?<!screw )fixations?"
         r"|(?:MIBG|FDG|DOTATATE|somatostatin|tracer)[- ]avid\w{0,3})\b"), "uptake"),
    (_rx(r"\b(?:abnormalit(?:y|ies)|(?:abnormal|pathologic\w{0,3}|suspicious) findings?"
         r"|(?:evidence of |residual |active )?disease|pathology|malignancy)\b"), "generic"),
]
# A tumour type a study is said to have shown ("MRI revealed bilateral adrenal pheochromocytoma",
# "CT showed a right temporal hemangioblastoma") is a neoplasm of that study; the same names
# elsewhere are the diagnosis or background. (Group 1: the name.)
_SHOWN_TUMOUR = _rx(r"\b(?:revealed|showed|shows|demonstrated|demonstrates|detected|identified|disclosed|"
                    r"depicted)(?: an?| the)?(?: (?:bilateral|left|right|multiple|large|small|huge|giant|solitary|"
                    r"[a-z-]{3,15}(?:al|ic|ar|ed)))*"
                    r" ((?!(?:hae|he)matoma|seroma|granuloma|lymphangioma|neuroblastoma|ganglioneuroma|"
                    r"ganglioneuroblastoma)[a-z]{4,20}omas?)\b")
# A noun followed by another finding noun is a modifier ("tumor masses", "MIBG-avid lesion").
_HEAD_GAP = _rx(r"^[ -]{0,2}$")

# --- sites -----------------------------------------------------------------------------
_SITES: list[tuple[re.Pattern[str], str]] = [
    (_rx(r"\bposterior mediastin\w{1,3}\b"), "posterior mediastinum"),
    (_rx(r"\bpara-?(?:vertebral|spinal|spinous)\b"), "paravertebral"),
    (_rx(r"\b(?:adrenals?|suprarenal)\b(?: glands?| regions?| bed)?"), "adrenal gland"),
    (_rx(r"\bretroperitone\w{1,4}\b|\bpara-?aortic\b|\b(?:inter-?)?aorto-?caval\b|\b(?:para|retro)-?caval\b"),
     "retroperitoneum"),
    (_rx(r"\bmediastin\w{1,3}\b"), "mediastinum"),
    (_rx(r"\bwhole[- ]body\b(?! (?:images?|imaging|scan|scintigra|MRI?|PET|SPECT|study|acquisition|views?))"),
     "whole body"),
    (_rx(r"\bbone marrow\b|\bmarrow\b"), "bone marrow"),
    (_rx(r"\bsympathetic (?:trunk|chain)\b"), "sympathetic trunk"),
    # inside the canal: "intradural extramedullary", "extradural", "epidural", "intracanalicular"
    (_rx(r"\b(?:spinal|vertebral) canal\b|\b(?:intra-?spinal|epidural|extradural|intradural|"
         r"extra-?medullary|intra-?canal(?:icul)?ar)\b"), "spinal canal"),
    (_rx(r"\bchest wall\b"), "chest wall"),
    # "the right hemithorax": one side of the thorax (the side word is the laterality)
    (_rx(r"\b(?:thorax|thoracic(?! (?:vertebra|spine|level))|chest|intrathoracic|hemi-?thora(?:x|ces))\b"),
     "thorax"),
    (_rx(r"\b(?:abdomen|abdominal|intra-?abdominal|mesogastri(?:um|c)|mid-?abdom(?:en|inal))\b"), "abdomen"),
    (_rx(r"\b(?:pelvis|pelvic|presacral|para-?pelvic)\b"), "pelvis"),
    (_rx(r"\b(?:neck|cervical(?! (?:spine|vertebra|level))|supraclavicular|carotid space|parapharyngeal space)\b"),
     "neck"),
    (_rx(r"\b(?:kidneys?|renal)\b"), "kidney"),
    (_rx(r"\b(?:liver|hepatic)\b"), "liver"),
    (_rx(r"\b(?:lungs?|pulmonary|lingula|lingular)\b"), "lung"),
    (_rx(r"\b(?:orbits?|orbital|periorbital)\b"), "orbit"),
    (_rx(r"\b(?:skull|calvari\w{1,2}|cranial vault)\b"), "skull"),
    (_rx(r"\b(?:femur|femora|femurs|femoral)\b"), "femur"),
    (_rx(r"\b(?:bones?|osseous|skelet\w{2,3}|cortical bone)\b"), "bone"),
    # (the cerebellum and "intracranial" are the standard's own terms: the open tables name them)
    (_rx(r"\b(?:brain|cerebral)\b"), "brain"),
    (_rx(r"\b(?:spine|spinal(?! cord))\b"), "spine"),
    (_rx(r"\bvertebra(?:e|l bod(?:y|ies))?\b|\bvertebral(?! (?:column|arter\w{1,3}|canal|foramen|foramina|levels?))\b"),
     "vertebra"),  # "a T8 vertebral lesion", "no focal vertebral lesions"
]

# "both the left and right lobe", "the right and left paratracheal nodes": both sides of one
# finding (group 3; mentions.py keeps the two sides of "two masses in the right and left ...")
_LATERALITY = _rx(r"\b(?:(left|right)(?:[- ]?sided)?(?! and (?:left|right)\b)|(bilateral(?:ly)?|"
                  r"both(?= (?:the |of the |of his |of her )?(?:[\w-]{1,20} )?\w{1,20}(?:s|ae|i|a)\b))"
                  r"(?! the (?:left|right) and)(?! (?:left|right) and)|"
                  r"((?:both )?(?:the )?(?:left and right|right and left)))\b")

# --- vertebral levels --------------------------------------------------------------------
# Th12 and D12 (dorsal) are thoracic notations: read as T12.
_LEVEL = r"(?:Th|D|[CTLS]) ?\d{1,2}"
_LEVEL_RANGE = _rx(
    rf"\b({_LEVEL})(?: ?(?:/|-|to|through|and) ?((?:(?:Th|D|[CTLS]) ?)?\d{{1,2}}))?\b"
    r"(?!\s?-?(?:w\b|weighted|signal|hyper|hypo|iso|sequence|image|map|relaxation|=|N\d))",
    0)
# "a lesion in T11", "metastases of L2 and L3": a level right after a finding noun and "in"/
# "of" names the vertebra itself as the site ("high signal in T2" is not: no finding noun).
_LEVEL_AS_SITE = _rx(r"\b(?:lesions?|mass(?:es)?|nodules?|deposits?|metasta(?:sis|ses)|foc(?:us|i)|"
                     r"uptake|infiltrat\w{1,5}|involvement)(?: [a-z]{1,15}){0,2}? (?:in|of|within|at)"
                     r"(?: the)? $")
_LEVEL_CONTEXT = _rx(r"\b(?:level|levels|vertebra\w{0,4}|vertebral bod\w{1,4}|from|at|between|"
                     r"spanning|extending)\W{0,3}(?:\w{1,12}\W{1,3}){0,2}$")

# --- sizes, volume, activity ---------------------------------------------------------------
_UNIT = r"(mm|cm|millimet(?:er|re)s?|centimet(?:er|re)s?)\b"
_SIZE = _rx(
    rf"({_NUM}) ?(?:{_UNIT})? ?(?:x|\*|by) ?(?:approximately |approx\.? |about |ca\.? )?"
    rf"({_NUM}) ?-?(?:{_UNIT})?(?: ?(?:x|\*|by) ?(?:approximately |approx\.? |about |up to )?"
    rf"({_NUM}) ?-?(?:{_UNIT})?)?"
    rf"|({_NUM}) ?-? ?{_UNIT}")
_VOLUME = _rx(rf"\bvolume(?: of)?(?: approximately| about| ca\.?)? ?(?:=|:)? ?({_NUM}) ?"
              r"(ml|cm3|cc|l)\b")
_ACTIVITY = _rx(rf"({_NUM}) ?(MBq|GBq|kBq|mCi|uCi)\b(?! ?/ ?kg)(?! per k)")

# --- MR signal, diffusion, ADC --------------------------------------------------------------
_SIG = r"(hyper|hypo|iso)(?:-| |- )?(?:intens\w{0,5}|(?=-? ?(?:to|and) ))"
_SIG_WORD = r"(high|low|intermediate|bright|dark|increased|decreased)(?: signal(?: intensity)?| on)"
_SEQ_FIRST = _rx(rf"\bT([12])(?:-?w(?:eighted)?\b)?(?:[- ](?:weighted ))?[- ]?(?:images? |sequences? )?"
                 rf"(?:{_SIG}|{_SIG_WORD[:-1]}|signal))")
_SIG_FIRST = _rx(rf"\b(?:{_SIG}|(high|low|intermediate|bright|dark|increased|decreased)(?= (?:signal|on|in)\b))"
                 r"(?: signal(?: intensity)?)?(?: \w{1,12}){0,5}? "
                 r"(?:on|in|at)(?: the| an?)?(?: (?:axial|coronal|sagittal|native|fat[- ]saturated|"
                 r"unenhanced|pre-?contrast))?"
                 r" (T[12]|STIR|TIRM)(?:WI|W)?\b(?:(?:-w| w\b|-?weighted|-)?(?: (?:and|/) ?(T[12])(?:WI|W)?\b)?)?")
# "T1W and T2W hypointense mass": one signal word for both sequences
_SEQ_PAIR = _rx(rf"\bT([12])(?:-?w(?:eighted)?|WI)?(?: and |/| & |-)T([12])(?:-?w(?:eighted)?|WI)?[- ]?"
                rf"(?:images? )?{_SIG}")
_SEQ_VERB = _rx(rf"\bT([12])[- ]?(?:w|weighted)(?: \w{{1,12}})? (?:images?|sequences?) "
                r"(?:show\w{0,2}|demonstrat\w{1,3}|reveal\w{0,2}|depict\w{0,2})(?: an?| the)?(?: \w{1,12}){0,2}? "
                rf"(?:{_SIG})")
# "low T1 signal", "high T2 and low T1 signal" (the first said with the second's noun)
_WORD_SEQ = _rx(r"\b(high|low|intermediate|increased|decreased) T([12])(?:-weighted)?(?: signal|(?= and "
                r"(?:high|low|intermediate|increased|decreased) T[12](?:-weighted)? signal))")
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
           "minimal": "mild", "minimally": "mild", "subtle": "mild", "little": "mild",
           "vivid": "strong", "vividly": "strong", "brightly": "strong", "substantial": "strong",
           "substantially": "strong", "avidity": "strong"}
_PATTERN = {"diffuse": "diffuse", "diffusely": "diffuse", "focal": "focal", "focally": "focal",
            "heterogeneous": "heterogeneous", "heterogeneously": "heterogeneous",
            "heterogenous": "heterogeneous", "inhomogeneous": "heterogeneous",
            "inhomogeneously": "heterogeneous", "dishomogeneous": "heterogeneous",
            "nonhomogeneous": "heterogeneous", "non-homogeneous": "heterogeneous", "patchy": "heterogeneous",
            "uniform": "homogeneous", "uniformly": "homogeneous",
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
_CONTEXT: list[tuple[str, re.Pattern[str]]] = [
    # the site that follows is where the finding is *not*: it is a neighbour
    ("relational", _rx(r"\b(?:adjacent|next|close|contiguous|lateral|medial|anterior|posterior|"
                       r"superior|inferior|cranial|caudal|dorsal|ventral|dorsomedial|ventrolateral|"
                       r"laterally|medially|anteriorly|posteriorly|superiorly|inferiorly)"
                       r"(?: to| of)\b|\b(?:abutting|displacing|compressing|encasing|indenting|"
                       r"abuts|displaces|compresses|encases|encased|splay\w{0,3}|in (?:the )?(?:direct )?course of|"
                       r"contacting|extending (?:to|into|through|towards)|extension (?:to|into)|"
                       # "located to the right side of the aorta", "to the left of the IVC"
                       r"(?:to|on) the (?:right|left)(?: side)? of|"
                       r"invading|infiltrating|behind|above|below|near|(?<=extending )along|beside|"
                       r"(?<!arising )(?<!originating )(?<!arises )(?<!originates )from the (?:upper|lower) pole|"
                       r"(?:displacement|encasement|compression|indentation) of|"
                       # "a retroperitoneal mass with no evident involvement of the adrenal glands"
                       r"(?:(?:no|without) (?:\w{1,12} ){0,2})(?:involvement|invasion|infiltration) of|"
                       r"(?:at|in) the "
                       r"(?:cent(?:er|re)|periphery|edge|margins?) of)\b|\bdisplaced\b")),
    ("interp", _rx(r"\b(?:consistent with|compatible with|suggestive of|suspicious (?:for|of)|"
                   r"in keeping with|represent(?:s|ing)?|typical (?:for|of)|characteristic of|"
                   r"classified as|diagnosed as|indicative of|likely|probably|presumably|"
                   r"most likely|concerning for|worrisome for|which was)\b")),
    ("physio", _rx(r"\b(?<!non-)(?<!non)(?:physiologic\w{0,3}|age-?appropriate|"
                   r"normal(?: \w{1,12})? (?:uptake|distribution|"
                   r"biodistribution|activity|tracer distribution)|expected (?:uptake|activity)|"
                   r"normal biodistribution)")),
    ("pathology", _rx(r"\b(?:histo-?patholog\w{0,6}|histolog\w{1,6}|(?:cyto|immunohisto)\w{2,12}|"
                      r"patholog(?:y|ic|ical) (?:exam\w{0,8}|analys\w{1,3}|evaluation|report|diagnosis|"
                      r"specimen|findings? (?:of|from) the (?:specimen|biopsy))|pathologically|"
                      r"biops(?:y|ies)|specimen|tumou?r cells|schwannian stroma|Shimada|INPC|"
                      r"autops(?:y|ies)|post-?mortem|necropsy|"
                      r"microscop\w{1,4})\b")),
    ("surgery", _rx(r"\b(?:resect\w{1,5}|excis\w{1,5}|removed|removal|adrenalectomy|-?ectomy|"
                    # an image-guided procedure: "Under ultrasound guidance, a needle was ..."
                    r"guidance|[\w-]{2,12}-guided|needle|aspirat\w{1,5}|"
                    r"laparoscop\w{1,5}|thoracoscop\w{1,5}|laparotomy|thoracotomy|surg\w{2,8}|"
                    r"operat\w{2,6}|debulking)\b")),
    ("indication", _rx(r"\b(?:rather than|as opposed to|to rule out|in order to|"
                       r"to (?:preclude|exclude|search for|evaluate|assess|"
                       r"look for)|rule out|for suspect\w{0,3}|with suspect\w{0,3}|suspicion (?:of|for)|"
                       r"clinical(?:ly)? (?:suspicion|suspected|presentation|examination)|"
                       r"(?:patient|child|girl|boy|infant) (?:was|is) suspicious|presented with|presents with|"
                       r"presenting with|referred (?:for|with|to)|"
                       r"(?<!revealed the )(?<!showed the )(?<!confirmed the )diagnosis of|"
                       # ("A workup for metastatic disease was negative": its result)
                       r"work-?up (?:for|of)(?![^.;]{0,60}\b(?:was|were) (?:\w{1,12} )?(?:negative|normal|"
                       r"unremarkable|clear)\b)|"
                       r"screening for|history of|known|treated|treatment|therapy|chemotherapy|"
                       r"indication|differential diagnosis|"
                       # request phrasing of a referral: "search for occult tumour", "r/o NB",
                       # "evaluate for adrenal mass", "assessment for metastatic disease"
                       r"search(?:ing)? for|r/o|evaluat(?:e|ed|ion) for|assess(?:ment|ed)? for|"
                       r"look(?:ing)? for|exclusion of)\b"
                       # "? neuroblastoma": the question mark of a clinical question
                       r"|(?<![\w?])\? ?(?=[A-Za-z])")),
    # the clinician's hands and eyes, not an image: "On examination, a mass was found"
    ("exam", _rx(r"\b(?:on (?:physical |clinical |local )?examination|physical(?:ly)? exam\w{0,7}|"
                 r"clinical(?:ly)? exam\w{0,7}|clinical evaluation|on palpation|palpa(?:ble|ted|tion)|"
                 r"(?:cardiac|abdominal|neurologic\w{0,3}|respiratory|systemic|testicular|lymph node) exam\w{0,7}|"
                 r"well[- ]child (?:visit|check)|"
                 r"rhinoscop\w{1,4}|otoscop\w{1,4}|colonoscop\w{1,4}|bronchoscop\w{1,4}|cystoscop\w{1,4})\b")),
    ("lab", _rx(r"\b(?:catecholamine\w{0,3}|urin\w{1,4}(?! (?:bladder|tract|system)\b)|VMA|HVA|"
                r"vanillylmandelic|homovanillic|"
                r"biochemical (?:investigations?|tests?|screening|work-?up|evaluation|findings|markers?)|"
                r"hypersecretion|"
                r"laborator\w{1,3}|serum|blood(?! pool| flow| vessels?| supply)|NSE|neuron[- ]specific|leukocyt\w{1,5}|"
                r"lymphocyt\w{1,3}|CSF|cerebrospinal)\b")),
    # ("Staging studies revealed no metastasis": this patient's studies are no literature)
    # ("in both the cases": a two-case report's own patients)
    ("cohort", _rx(r"\b(?:patients|pts|(?<!both )(?<!both the )cases|children|cohort|series|"
                   r"(?<!staging )(?<!imaging )(?<!further )"
                   r"(?<!follow-up )(?<!these )(?<!both )studies|literature|review|"
                   r"guidelines?|recommend\w{0,5}|sensitivity|specificity|accuracy|"
                   r"false[- ](?:negative|positive)\w{0,3}|detection rate|incidence|prevalence|"
                   r"et al|percent|neuroblastomas|tumors are|is widely|are widely|"
                   r"typically|usually|commonly|in general|each type of|all types of|"
                   # what a test or a tumour is like in general: "MIBG is highly effective in the
                   # detection of neuroblastoma", "The most common locations are ..."
                   r"(?:is|are) (?:highly |very |most )?(?:effective|useful|sensitive|specific|valuable) "
                   r"(?:in|for)|most common (?:locations?|sites?|presentations?|types?)|"
                   # what the literature reports, not what a study of this patient "reported"
                   r"(?:has|have|had) been reported|(?:is|are|were) reported|reported (?:in|by) (?:the|\d)|"
                   r"previously reported|reported cases|"
                   r"generally|includes the following|diagnostic evaluation|"
                   r"are imaged|is performed in|is indicated|metastasi[sz]es to|"
                   # ("a mass, which appears to arise from the vermis": this mass's origin)
                   r"(?<!to )(?<!which )(?<!that )(?:arises? from|originates? from)|occurs? in)\b|"
                   # a share of a cohort ("in 30%", "30% of patients"), not "the anterior 50% of the convexity"
                   r"(?<=in )\d{1,3}(?:\.\d{1,2})? ?%|\d ?%(?= (?:of|in) (?:the )?(?:[\w-]+ )?(?:patients|cases|"
                   r"children|subjects|tumou?rs|lesions|neuroblastomas))|\(\d{1,3}(?:\.\d)? ?%\)|"
                   r"\[\d{1,3}(?:(?:, ?|-)\d{1,3}){0,10}\]|"
                   # a kind of tumour as the subject, in the present tense: "Ovarian germ cell
                   # tumors (GCTs) are derived from ...", "These tumors grow rapidly"
                   r"^\W{0,3}(?:[\w-]{1,20} ){0,2}(?:tumou?rs|masses|lesions|neuroblastomas|"
                   r"ganglioneuromas) (?:that|which|are|may|might|can|should|tend|typically|usually)\b|"
                   r"^\W{0,3}(?:[\w-]{1,20} ){0,3}(?:tumou?rs|neoplasms|neuroblastomas|ganglioneuromas|"
                   r"paragangliomas|pheochromocytomas|phaeochromocytomas|carcinoids)(?: \([^()]{1,12}\))? "
                   r"(?:grow|arise|occur|account|are (?:derived|classified|classed|rare|uncommon|usually|"
                   r"typically|often|commonly))\b")),
    ("followup", _rx(r"\b(?:follow-?up (?:exam\w{0,8}|visits|studies)|regular follow-?up|annual follow-?up)\b")),
    # "no recurrence", "free of relapse": an outcome, not a study's finding, unless a study
    # says it ("Follow-up sonography showed no signs of recurrence": an absent neoplasm)
    ("outcome", _rx(r"\b(?:no|without|free of|signs? of|evidence of) (?:\w{1,12} )?(?:recurrence|relapse)\b")),
    ("other", _rx(r"\b(?:another|second|additional|further|other|separate|new)\b")),
    ("definite_ref", _rx(r"\b(?:the|this|that|its|said)\s$")),
]


# --- sentence-level cues of the reader (extract.py) ---------------------------------------
_POSITIVE = re.compile(r"\b(?:(?:was|were|is|are) (?:\w{1,12} )?positive|positive|confirmed the "
                       r"(?:diagnosis|presence|finding))\b", re.IGNORECASE)
# What a negation before a study may deny that is a property of a lesion, not a finding of
# the study: "No vascularity seen on color Doppler", "no enhancement on CT".
_PROPERTY_NEGATED = re.compile(r"(?: (?:\w{1,14} ){0,2}?)?(?:vasculari\w{1,8}|flow|perfusion|hyper-?a?emia|"
                               r"enhancement|calcifications?|restrict\w{1,6} diffusion|diffusion restriction|"
                               r"signal|echogenicity|mass effect|midline shift|invasion|extension|"
                               r"interval change|change|growth|progression)\b", re.IGNORECASE)
# Diagnostic reasoning and history, said without a test: what the case was thought or known
# to be, not what an image showed.
_DIAGNOSIS = re.compile(r"\b(?:(?:was|were) (?:considered|suspected)|most likely diagnosis|differential "
                        r"(?:diagnos\w{1,3}|considerations?)|(?:was|were) diagnosed (?:with|as)|"
                        r"(?:could|can)(?:not| not) be ruled out|"
                        # "other diagnoses were suggested including ...": a differential
                        r"diagnos[ie]s (?:were|was|is|are) (?:suggested|considered|proposed|raised)|"
                        r"(?:first |initial )?proposed diagnosis|"
                        # "These imaging findings strongly suggested a primary bone neoplasm": the reading
                        r"^\W{0,3}(?:these|the|such|all|imaging) (?:imaging |radiological |CT |MRI? )?"
                        r"(?:findings|features|appearances) (?:\w{2,12} )?(?:suggested|suggest|suggesting|"
                        r"indicated|favou?red|raised|pointed))\b", re.IGNORECASE)
_NOT_DONE = re.compile(r"(?: \w{1,15}){0,2}? (?:(?:had|has|have|was|were) not been|(?:was|were) not|not) "
                       r"(?:done|performed|obtained|available|carried out)\b", re.IGNORECASE)
_THERAPY = re.compile(r"\b(?:ablat\w{2,5}|therap\w{1,4}|treat\w{1,5}|radionuclide therapy|PRRT|"
                      r"cycles?)\b", re.IGNORECASE)
# A question of a teaching file: "1) Are there any abnormal areas of uptake?"
_QUESTION = _rx(r"\W{0,3}(?:\d{1,2}[.)] ?)?(?:is|are|was|were|does|do|did|what|which|where|how|why|can|"
                r"could|should|would|will|has|have)\b[^?]{0,300}\?\W{0,3}$")
# A numbered item of a report: "Nodule 1:", "Lesion #2:", "Mass A -".
_NUMBERED_ITEM = re.compile(r"\W{0,3}([A-Za-z]{3,20} ?(?:#|no\.? ?)?(?:\d{1,2}|[A-H]))\s?[:)-]")
# A size with no subject: "Measures 1.2 x 0.8 x 1.0 cm.", "Size = 1.5 x 1.5 cm", "measuring 6 mm".
_SUBJECTLESS_SIZE = re.compile(r"\W{0,3}(?:[Ii]t |[Tt]his |[Tt]he (?:lesion|mass|nodule|tumou?r) )?"
                               r"(?:[Mm]easur\w{0,4}|[Ss]ize\b|[Dd]imensions?\b)")
# "a positive [123I]mIBG scan": the result said before the study
_POSITIVE_BEFORE = re.compile(r"\b(?:an?|the) (?:\w{1,12}ly )?positive $|"
                              r"\bpositive (?:on|at|in|with) (?:the )?(?:\w{1,3}-)?$", re.IGNORECASE)
# A figure panel: "A: Coronal T1-weighted image ...", "(b) Axial CT ...", "Fig. 2 ...": the
# panels of one figure show one lesion in several views.
_PANEL = re.compile(r"\W{0,2}(?:\(?[A-Ha-h]\)|[A-H][:.]|fig(?:ure|\.)? ?\d{1,2}\w?[:.]?)\s", re.IGNORECASE)
# A patient's own report named in a forum post or a referral ("interpret my Dad's recent CT
# scan report:"): the text that follows is that test's report.
_PATIENT_REPORT = _rx(r"\b(?:my|his|her|their|[a-z]{2,12}'s) (?:[\w-]{1,15} ){0,3}?(?:report|results)\b")
# Wording only one kind of study uses: densities and attenuation are CT's, echoes US's,
# weighted signal MR's. A sentence naming no study but worded so is not of a study of another
# kind named before ("Ultrasound showed a mass. There are multiple low attenuation lesions").
_STUDY_WORDING: tuple[tuple[re.Pattern[str], frozenset[str]], ...] = (
    (_rx(r"\b(?:(?:low|high|soft[- ]tissue|fat|fluid|water)[- ]attenuation|attenuating|hypo-?dens\w{1,4}|"
         r"hyper-?dens\w{1,4}|iso-?dens\w{1,4}|Hounsfield|\d{1,4} ?HU)\b"), frozenset({"CT", "PT", "NM"})),
    (_rx(r"\b(?:hypo-?echoic|hyper-?echoic|an-?echoic|iso-?echoic|echogenic\w{0,3}|echotexture|"
         r"sonographic\w{0,5}|(?:colou?r |power )?Doppler)\b"), frozenset({"US"})),
    (_rx(r"\b(?:T[12][- ]?(?:weighted|W\w{0,2}|hyper\w{0,9}|hypo\w{0,9}|signal)|hyper-?intens\w{1,4}|"
         r"hypo-?intens\w{1,4}|STIR|FLAIR|signal intensit\w{1,3})\b"), frozenset({"MR"})),
)
# The CT of a hybrid scan, named for its job: attenuation correction, localisation, fusion.
_HYBRID_CT = _rx(r"\b(?:low[- ]dose|attenuation[- ]correct\w{0,3}|anatomic(?:al)? (?:co-?)?locali[sz]ation|"
                 r"image fusion|fusion|fused|localization|localisation|non-?diagnostic)\b")
