"""The one home of every coded concept dicomtools writes or reads.

Plain model values ("left", "T9", "hyper", "I-123 mIBG") map to coded concepts (SCT, DCM,
RADLEX, UCUM, UMLS) and back. Nothing else in the package spells a code value.

Codes are checked against pydicom's PS3.16 dictionaries in tests/test_vocab.py. Where no
standard code was found, a local code of the private scheme ``99DCMTLS`` (PS3.16 §8.2) is
used and declared in the SR's Coding Scheme Identification Sequence; each one is listed in
``LOCAL_CODES`` so it can be replaced once a standard code is confirmed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .errors import InputError

LOCAL_SCHEME = "99DCMTLS"
LOCAL_SCHEME_NAME = "dicomtools local codes"

# Retired designators that mean the same scheme (readers must accept SRs of older tools).
_SCHEME_ALIASES = {"SRT": "SCT", "SNM3": "SCT", "99SDM": "SCT"}


@dataclass(frozen=True, slots=True, eq=False)
class Code:
    """A coded concept. Equality and hash ignore the meaning, as in DICOM."""

    value: str
    scheme: str
    meaning: str
    key: tuple[str, str] = field(init=False, repr=False)  # (scheme, value), SRT read as SCT

    def __post_init__(self) -> None:
        object.__setattr__(self, "key", (_SCHEME_ALIASES.get(self.scheme, self.scheme), self.value))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Code) and self.key == other.key

    def __hash__(self) -> int:
        return hash(self.key)

    def __repr__(self) -> str:
        return f"Code({self.value!r}, {self.scheme!r}, {self.meaning!r})"

    def __str__(self) -> str:  # how a code is shown to people: its meaning
        return self.meaning


# DICOM limits of the Basic Code Sequence attributes (PS3.3 §8.8): SH 16, UC for longer values.
_MAX_SCHEME, _MAX_MEANING, _MAX_VALUE = 16, 64, 64


def code_to_json(code: Code) -> dict[str, str]:
    """The JSON form of a code: ``{"code", "scheme", "meaning"}``."""
    return {"code": code.value, "scheme": code.scheme, "meaning": code.meaning}


def code_from_json(data: object, where: str = "code") -> Code:
    """A code from ``{"code", "scheme", "meaning"}`` (dcmqi's ``CodeValue`` /
    ``CodingSchemeDesignator`` / ``CodeMeaning`` spelling is accepted too)."""
    if isinstance(data, Code):
        return data
    if not isinstance(data, dict):
        raise InputError(f"{where}: expected a code object {{\"code\", \"scheme\", \"meaning\"}}, "
                         f"got {data!r}")
    value = data.get("code", data.get("CodeValue"))
    scheme = data.get("scheme", data.get("CodingSchemeDesignator"))
    meaning = data.get("meaning", data.get("CodeMeaning"))
    for name, text, limit in (("code", value, _MAX_VALUE), ("scheme", scheme, _MAX_SCHEME),
                              ("meaning", meaning, _MAX_MEANING)):
        if not isinstance(text, str) or not text.strip() or len(text) > limit \
                or not text.isprintable() or "\\" in text:
            raise InputError(f"{where}: field '{name}' has value {text!r}; expected printable "
                             f"text of 1-{limit} characters without backslash")
    unknown = set(data) - {"code", "scheme", "meaning", "CodeValue", "CodingSchemeDesignator",
                           "CodeMeaning"}
    if unknown:
        raise InputError(f"{where}: unknown key(s) {', '.join(map(repr, sorted(unknown)))} in a code")
    return Code(value.strip(), scheme.strip(), meaning.strip())  # type: ignore[union-attr]


def _sct(value: str, meaning: str) -> Code:
    return Code(value, "SCT", meaning)


def _dcm(value: str, meaning: str) -> Code:
    return Code(value, "DCM", meaning)


def _local(value: str, meaning: str) -> Code:
    return Code(value, LOCAL_SCHEME, meaning)


def _ucum(value: str, meaning: str | None = None) -> Code:
    return Code(value, "UCUM", meaning or value)


# ---------------------------------------------------------------------------------------
# Concept names (the left-hand side of content items)
# ---------------------------------------------------------------------------------------
class Concept:
    """Concept names of the TID 1500 / 1501 / 300 rows dicomtools writes."""

    IMAGING_MEASUREMENT_REPORT = _dcm("126000", "Imaging Measurement Report")
    LANGUAGE = _dcm("121049", "Language of Content Item and Descendants")
    COUNTRY_OF_LANGUAGE = _dcm("121046", "Country of Language")
    OBSERVER_TYPE = _dcm("121005", "Observer Type")
    PERSON_OBSERVER_NAME = _dcm("121008", "Person Observer Name")
    DEVICE_OBSERVER_UID = _dcm("121012", "Device Observer UID")
    DEVICE_OBSERVER_NAME = _dcm("121013", "Device Observer Name")
    PROCEDURE_REPORTED = _dcm("121058", "Procedure reported")
    IMAGE_LIBRARY = _dcm("111028", "Image Library")
    IMAGE_LIBRARY_GROUP = _dcm("126200", "Image Library Group")
    IMAGING_MEASUREMENTS = _dcm("126010", "Imaging Measurements")
    QUALITATIVE_EVALUATIONS = Code("C0034375", "UMLS", "Qualitative Evaluations")
    IMPRESSION = _dcm("121073", "Impression")
    MEASUREMENT_GROUP = _dcm("125007", "Measurement Group")
    TRACKING_IDENTIFIER = _dcm("112039", "Tracking Identifier")
    TRACKING_UID = _dcm("112040", "Tracking Unique Identifier")
    FINDING = _dcm("121071", "Finding")
    FINDING_SITE = _sct("363698007", "Finding Site")
    LATERALITY = _sct("272741003", "Laterality")
    PRESENCE = _dcm("121052", "Presence of property")
    CERTAINTY = _dcm("111012", "Certainty of Finding")
    VERTEBRAL_LEVEL = _local("DT001", "Vertebral level")
    DIAMETER = _sct("81827009", "Diameter")
    # Extents along the patient axes, when the input states them (a mask does; prose does not).
    WIDTH_LR = _sct("103355008", "Width")
    DEPTH_AP = _sct("131197000", "Depth")
    HEIGHT_CC = _dcm("121207", "Height")
    VOLUME = _sct("118565006", "Volume")
    T1_SIGNAL = _dcm("110804", "T1 Weighted MR Signal Intensity")
    T2_SIGNAL = _dcm("110805", "T2 Weighted MR Signal Intensity")
    RESTRICTED_DIFFUSION = Code("RID43349", "RADLEX", "Restricted diffusion")
    ADC = _dcm("113041", "Apparent Diffusion Coefficient")
    ENHANCEMENT_DEGREE = _local("DT002", "Degree of contrast enhancement")
    ENHANCEMENT_PATTERN = Code("RID6058", "RADLEX", "Enhancement pattern")
    CONTRAST_AGENT = _dcm("123011", "Contrast/Bolus Agent")
    RADIOPHARMACEUTICAL = _sct("349358000", "Radiopharmaceutical agent")
    RADIONUCLIDE = _sct("89457008", "Radionuclide")
    ADMINISTERED_ACTIVITY = _dcm("113507", "Administered activity")
    DERIVATION = _dcm("121401", "Derivation")
    MEASUREMENT_METHOD = _sct("370129005", "Measurement Method")
    REFERENCED_SEGMENT = _dcm("121191", "Referenced Segment")
    SOURCE_SERIES_FOR_SEGMENTATION = _dcm("121232", "Source series for segmentation")  # TID 1411 meaning
    CENTER_OF_MASS = _dcm("128138", "Center of Mass")


# CID 7464 derivations of a measurement over a region (ADC statistics).
DERIVATIONS: dict[str, Code] = {
    "mean": _sct("373098007", "Mean"),
    "minimum": _sct("255605001", "Minimum"),
    "median": _sct("373099004", "Median"),
}
SEGMENTATION_STORAGE = "1.2.840.10008.5.1.4.1.1.66.4"


# Observer type values (CID 270)
OBSERVER_PERSON = _dcm("121006", "Person")
OBSERVER_DEVICE = _dcm("121007", "Device")
LANGUAGE_ENGLISH = Code("en", "RFC5646", "English")
COUNTRY_US = Code("US", "ISO3166_1", "United States")

# ---------------------------------------------------------------------------------------
# Value sets: plain model term -> code. Order matters only for documentation.
# ---------------------------------------------------------------------------------------
LATERALITY: dict[str, Code] = {
    "left": _sct("7771000", "Left"),
    "right": _sct("24028007", "Right"),
    "bilateral": _sct("51440002", "Bilateral"),
}

PRESENCE: dict[bool | None, Code] = {
    True: _sct("52101004", "Present"),
    False: _sct("272519000", "Absent"),
    None: _sct("373068000", "Undetermined"),
}

# SNOMED CT qualifier values (children of 106230009 "Qualifier for certainty of diagnosis").
CERTAINTY: dict[str, Code] = {
    "definite": _sct("255545003", "Definite"),
    "possible": _sct("371930009", "Possible"),
}
# Local codes earlier versions wrote, still read (never written).
LEGACY_CODES: dict[Code, Code] = {
    _local("DT010", "Definite"): CERTAINTY["definite"],
    _local("DT011", "Possible"): CERTAINTY["possible"],
    _local("DT057", "Histopathological examination"): _sct("252416005", "Histopathology"),
}

FINDING_TYPES: dict[str, Code] = {
    "mass": _sct("4147007", "Mass"),
    "lesion": _sct("52988006", "Lesion"),
    "neoplasm": _sct("108369006", "Neoplasm"),
    "uptake": _local("DT020", "Tracer uptake"),
    "lymph node": _sct("59441001", "Lymph node"),
    "nodule": _sct("27925004", "Nodule"),
    "metastasis": _sct("128462008", "Metastasis"),
    # Histological diagnoses (pathology reports): ICD-O-3 morphology codes (IARC), scheme ICDO3
    # of PS3.16 Table 8-1; no SNOMED CT code for ganglioneuroma could be verified.
    "neuroblastoma": Code("9500/3", "ICDO3", "Neuroblastoma, NOS"),
    "ganglioneuroblastoma": Code("9490/3", "ICDO3", "Ganglioneuroblastoma"),
    "ganglioneuroma": Code("9490/0", "ICDO3", "Ganglioneuroma"),
}

# Anatomic sites. Vertebrae are not here: a lesion *in* a vertebra has site "vertebra" and
# its levels, written as Finding Site = the vertebra code(s); see levels.py.
SITES: dict[str, Code] = {
    "paravertebral": _local("DT030", "Paravertebral region"),
    "adrenal gland": _sct("23451007", "Adrenal gland"),
    "retroperitoneum": _sct("82849001", "Retroperitoneum"),
    "posterior mediastinum": _local("DT031", "Posterior mediastinum"),
    "mediastinum": _sct("72410000", "Mediastinum"),
    "whole body": _sct("38266002", "Entire body"),
    "thorax": _sct("816094009", "Thorax"),
    "abdomen": _sct("818981001", "Abdomen"),
    "pelvis": _sct("816092008", "Pelvis"),
    "neck": _sct("45048000", "Neck"),
    "kidney": _sct("64033007", "Kidney"),
    "liver": _sct("10200004", "Liver"),
    "bone marrow": _sct("14016003", "Bone marrow"),
    "spine": _sct("421060004", "Spine"),
    "sympathetic trunk": _sct("44909008", "Sympathetic trunk"),
    "vertebra": _sct("51282000", "Vertebra"),
    "spinal canal": _sct("61853006", "Vertebral canal"),
    "chest wall": _sct("78904004", "Chest wall"),
    "lung": _sct("39607008", "Lung"),
    "bone": _sct("272673000", "Bone"),
    "skull": _sct("89546000", "Skull"),
    "orbit": _sct("363654007", "Orbit"),
    "femur": _sct("71341001", "Femur"),
    "brain": _sct("12738006", "Brain"),
}

SIGNAL: dict[str, Code] = {
    "hyper": Code("RID35805", "RADLEX", "Hyperintense"),
    "iso": Code("RID6053", "RADLEX", "Isointense"),
    "hypo": Code("RID35804", "RADLEX", "Hypointense"),
}

YES_NO_PRESENCE: dict[bool, Code] = {True: PRESENCE[True], False: PRESENCE[False]}

# CID 3716 Severity. "strong" is written as SCT "Severe", the strongest degree in CID 3716.
ENHANCEMENT: dict[str, Code] = {
    "none": _sct("260413007", "None"),
    "mild": _sct("255604002", "Mild"),
    "moderate": _sct("6736007", "Moderate"),
    "strong": _sct("24484000", "Severe"),
}

ENHANCEMENT_PATTERN: dict[str, Code] = {
    "diffuse": _dcm("130603", "Diffuse Contrast Enhancement"),
    "focal": _dcm("130604", "Focal Contrast Enhancement"),
    "heterogeneous": Code("RID6060", "RADLEX", "Heterogeneous"),
    "homogeneous": _dcm("112160", "Homogeneous"),
}

CONTRAST_AGENTS: dict[str, Code] = {
    "gadolinium": _sct("768763008", "Gadolinium"),
    "gadobutrol": _sct("407976008", "Gadobutrol"),
    "gadoterate": _sct("712714000", "Gadoterate meglumine"),
}


@dataclass(frozen=True, slots=True)
class Tracer:
    """A radiopharmaceutical: its code, its radionuclide and the modality it is imaged with."""

    agent: Code
    nuclide: Code
    modality: str


_I123 = _sct("21572004", "^123^Iodine")
_I131 = _sct("1368003", "^131^Iodine")
_TC99M = _sct("72454006", "^99m^Technetium")
_GA68 = _sct("35337001", "^68^Gallium")
_F18 = _sct("77004003", "^18^Fluorine")

TRACERS: dict[str, Tracer] = {
    "I-123 mIBG": Tracer(_sct("395787009", "Iodine^123 3-Iodobenzylguanidine MIBG"), _I123, "NM"),
    "I-131 mIBG": Tracer(_sct("395789007", "Iodine^131 3-Iodobenzylguanidine MIBG"), _I131, "NM"),
    "99mTc-anti-GD2": Tracer(_local("DT040", "Tc-99m anti-GD2 monoclonal antibody"), _TC99M, "NM"),
    "99mTc-MDP": Tracer(_sct("96390006", "Technetium Tc^99m^ medronate"), _TC99M, "NM"),
    "68Ga-DOTATATE": Tracer(_sct("724025002", "Dotatate Ga^68^"), _GA68, "PT"),
    "68Ga-DOTANOC": Tracer(_local("DT041", "Ga-68 DOTANOC"), _GA68, "PT"),
    "18F-MFBG": Tracer(_local("DT042", "F-18 meta-fluorobenzylguanidine"), _F18, "PT"),
    "18F-FDG": Tracer(_sct("35321007", "Fluorodeoxyglucose F^18^"), _F18, "PT"),
}


@dataclass(frozen=True, slots=True)
class Procedure:
    """A procedure name of the model, its modality, its TID 1500 'Procedure reported' code
    (CID 100, which PixelMed checks) and the specific code kept in the SR header's Performed
    Procedure Code Sequence so the procedure name reads back exactly."""

    modality: str
    reported: Code
    performed: Code
    tracer: str | None = None


_NM_PROC = Code("49118-3", "LN", "NM unspecified body region")
_MR_PROC = Code("25056-3", "LN", "MRI unspecified body region")
_PET_PROC = Code("44139-4", "LN", "PET whole body")

# CID 100's generic code: what an SR whose procedure is unknown says (TID 1500 row 4 is required).
UNSPECIFIED_PROCEDURE = _sct("363679005", "Imaging procedure")

PROCEDURES: dict[str, Procedure] = {
    "whole-body MRI": Procedure(
        "MR", _dcm("126022", "Multiparametric MRI of whole body"),
        _sct("426252008", "Magnetic resonance imaging of whole body (procedure)")),
    "MRI": Procedure("MR", _MR_PROC, _MR_PROC),
    "CT": Procedure("CT", Code("25045-6", "LN", "CT unspecified body region"),
                    Code("25045-6", "LN", "CT unspecified body region")),
    # CID 100 has no ultrasound code; its generic "Imaging procedure" keeps PixelMed quiet.
    "ultrasound": Procedure("US", _sct("363679005", "Imaging procedure"),
                            _local("DT050", "Ultrasonography")),
    # RadLex Playbook RPID5987 "NM Whole Body MIBG" names no isotope: it codes the mIBG scan
    # whose isotope the report does not say (a bare "MIBG scan"); no tracer is implied.
    "mIBG scintigraphy": Procedure("NM", _NM_PROC, Code("RPID5987", "RADLEX", "NM Whole Body MIBG")),
    "I-123 mIBG scintigraphy": Procedure("NM", _NM_PROC, _local("DT051", "I-123 mIBG scintigraphy"),
                                         "I-123 mIBG"),
    "I-131 mIBG scintigraphy": Procedure("NM", _NM_PROC, _local("DT052", "I-131 mIBG scintigraphy"),
                                         "I-131 mIBG"),
    "99mTc anti-GD2 immunoscintigraphy": Procedure(
        "NM", _NM_PROC, _local("DT053", "Tc-99m anti-GD2 immunoscintigraphy"), "99mTc-anti-GD2"),
    # the bone-seeking agent (MDP, HDP, DPD) is whatever the report names: none is implied
    "bone scintigraphy": Procedure("NM", _NM_PROC, _local("DT054", "Bone scintigraphy")),
    "68Ga-DOTATATE PET/CT": Procedure("PT", _PET_PROC, _local("DT055", "Ga-68 DOTATATE PET/CT"),
                                      "68Ga-DOTATATE"),
    "68Ga-DOTANOC PET/CT": Procedure("PT", _PET_PROC, _local("DT058", "Ga-68 DOTANOC PET/CT"),
                                     "68Ga-DOTANOC"),
    "18F-MFBG PET": Procedure("PT", _PET_PROC, _local("DT056", "F-18 MFBG PET"), "18F-MFBG"),
    # Histopathology of a resected tumour: the reference standard of concordance. Slide
    # microscopy is imaging in DICOM (modality SM); CID 100 offers only the generic code.
    "histopathology": Procedure("SM", _sct("363679005", "Imaging procedure"),
                                _sct("252416005", "Histopathology")),
    "FDG PET/CT": Procedure("PT", _sct("443271005", "PET/CT FDG imaging of whole body"),
                            _sct("443271005", "PET/CT FDG imaging of whole body"), "18F-FDG"),
}

IMPRESSION: dict[str, Code] = {
    "normal": _sct("408573005", "Imaging result normal"),
    "abnormal": _sct("408574004", "Imaging result abnormal"),
    "equivocal": _sct("408379005", "Imaging result equivocal"),
}

# ---------------------------------------------------------------------------------------
# Units (UCUM)
# ---------------------------------------------------------------------------------------
UNIT_MM = _ucum("mm", "mm")
UNIT_CM3 = _ucum("cm3", "cubic centimeter")  # 1 mL; "ml" is not in CID 7462
UNIT_MBQ = _ucum("MBq", "megabecquerel")
# ADC units accepted by the model (CID 7277), value -> factor to um2/s for comparisons.
ADC_UNITS: dict[str, float] = {
    "um2/s": 1.0,
    "10-6.mm2/s": 1.0,
    "um2/ms": 1000.0,  # = 10^-3 mm2/s
    "10-3.mm2/s": 1000.0,
    "mm2/s": 1.0e6,
}
_LENGTH_TO_MM = {"mm": 1.0, "cm": 10.0, "m": 1000.0, "um": 0.001}
_VOLUME_TO_ML = {"cm3": 1.0, "ml": 1.0, "mL": 1.0, "mm3": 0.001, "l": 1000.0, "L": 1000.0}
_ACTIVITY_TO_MBQ = {"MBq": 1.0, "kBq": 0.001, "GBq": 1000.0, "mCi": 37.0, "uCi": 0.037, "Bq": 1e-6}


def length_to_mm(value: float, unit: str) -> float | None:
    """Convert a UCUM length to mm; None when the unit is not a length."""
    factor = _LENGTH_TO_MM.get(unit)
    return None if factor is None else value * factor


def volume_to_ml(value: float, unit: str) -> float | None:
    factor = _VOLUME_TO_ML.get(unit)
    return None if factor is None else value * factor


def activity_to_mbq(value: float, unit: str) -> float | None:
    factor = _ACTIVITY_TO_MBQ.get(unit)
    return None if factor is None else value * factor


LOCAL_CODES: tuple[Code, ...] = tuple(
    {c.key: c for c in [
        Concept.VERTEBRAL_LEVEL, Concept.ENHANCEMENT_DEGREE,
        *CERTAINTY.values(), *FINDING_TYPES.values(), *SITES.values(),
        *(t.agent for t in TRACERS.values()), *(p.performed for p in PROCEDURES.values()),
    ] if c.scheme == LOCAL_SCHEME}.values()
)


# Why each local code is still local (PS3.16 and the public terminologies searched; see
# ../shared/reference/anchors-2.md §3). docs/codes.md lists them.
LOCAL_REASONS: dict[str, str] = {
    "DT001": "no 'vertebral level' concept name in PS3.16; disc levels (CID 1003) and plane "
             "extents (CID 1010) mean other things",
    "DT002": "no concept name for the degree of enhancement; its values are CID 3716 Severity",
    "DT020": "no general 'tracer uptake' finding; SCT has only organ-specific uptake findings",
    "DT030": "no paravertebral region in CID 4/7151/8134 (DCM 112091 is a chest-film line)",
    "DT031": "PS3.16 has only the posterior mediastinal lymph node (SCT 25447008)",
    "DT040": "no Tc-99m antibody in CID 25/4021 (a CP would follow CID 4021's antibody codes)",
    "DT041": "DOTANOC is not in CID 4021 (NCIt lists it; C-code not verified offline)",
    "DT042": "18F-MFBG is not in CID 4021 (NCIt C120311 not verified offline)",
    "DT050": "no ultrasonography procedure in CID 100; SCT 310169008 is a service, not a procedure",
    "DT051": "RadLex Playbook RPID5987 names mIBG without the isotope; it codes 'mIBG scintigraphy'",
    "DT052": "RadLex Playbook RPID5987 names mIBG without the isotope; it codes 'mIBG scintigraphy'",
    "DT053": "RPID6180 'NM Tumor Localization Whole Body' is generic; no anti-GD2 procedure",
    "DT054": "no bone scintigraphy procedure in PS3.16's procedure CIDs",
    "DT055": "no Ga-68 DOTATATE PET/CT procedure code in PS3.16",
    "DT056": "no 18F-MFBG PET procedure code in PS3.16",
    "DT058": "no Ga-68 DOTANOC PET/CT procedure code in PS3.16",
}


def reverse(table: dict) -> dict[Code, object]:
    """Code -> model term for a value-set table (first term wins)."""
    out: dict[Code, object] = {}
    for term, code in table.items():
        out.setdefault(code, term)
    return out
