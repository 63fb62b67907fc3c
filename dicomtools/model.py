"""The common language: small frozen dataclasses for findings and reports, and their JSON form.

The JSON form of a finding is a public contract: every key below is always present, null when
unknown. No pydicom object lives in the model. Invalid values are refused at construction with
an :class:`~dicomtools.errors.InputError` that names the field and the value.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass, field, fields, replace
from typing import Any

from . import terms, vocab
from .errors import InputError
from .header import (  # re-exported: the header types are part of the model
    ImageRef,
    Patient,
    SRIdentity,
    Study,
    _check_study,
)
from .header import (
    field_error as _fail,
)
from .header import (
    header_part as _part,
)
from .header import (
    keys_text as _keys,
)
from .header import (
    plain_fields as _plain,
)
from .levels import CODE_LEVELS, expand_levels, normalise_level
from .observations import Evaluation, Measurement
from .values import HEADER, REGION_TYPES, TEXT, ContentNode, dicom_text, is_uid
from .vocab import Code, code_from_json, code_to_json

MODALITIES = ("MR", "CT", "NM", "PT", "US", "SM")  # SM: slide microscopy (histopathology)
CERTAINTIES = ("definite", "possible")
SIGNALS = tuple(vocab.SIGNAL)
ENHANCEMENTS = tuple(vocab.ENHANCEMENT)
IMPRESSIONS = tuple(vocab.IMPRESSION)

# Plausibility limits: values outside are almost surely a unit error (cm given as mm, etc.).
_MAX_DIAMETER_MM = 1000.0
_MAX_VOLUME_ML = 50_000.0
_MAX_ACTIVITY_MBQ = 20_000.0


def _choice(where: str, name: str, value: Any, allowed) -> Any:
    """A value of a closed list, matched ignoring case, spaces and hyphens; returns the
    list's own spelling."""
    if value is None:
        return None
    if isinstance(value, str):
        if value in allowed:
            return value
        key = terms.normalise(value)
        for option in allowed:
            if isinstance(option, str) and terms.normalise(option) == key:
                return option
    raise _fail(where, name, value, "one of " + ", ".join(map(str, allowed)) + " or null")


def _boolean(where: str, name: str, value: Any) -> None:
    if value is not None and not isinstance(value, bool):
        raise _fail(where, name, value, "true, false or null")


def _finite(value: Any) -> bool:
    """A JSON number that is a finite float (a huge integer is not: it overflows)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def _number(where: str, name: str, value: Any, low: float, high: float) -> float | None:
    if value is None:
        return None
    if not _finite(value):
        raise _fail(where, name, value, "a finite number or null")
    if not low < value <= high:
        raise _fail(where, name, value, f"a number in ({low:g}, {high:g}]")
    return float(value)


@dataclass(frozen=True, slots=True)
class Roi:
    """A lesion's segmentation: segment ``segment_number`` of DICOM SEG ``seg_instance_uid``
    derived from series ``source_series_uid``; optional centre of mass in patient coordinates
    (DICOM LPS, mm) in ``frame_of_reference_uid``. Written as a TID 1411 volumetric group."""

    seg_instance_uid: str
    segment_number: int
    source_series_uid: str
    centroid_lps_mm: tuple[float, float, float] | None = None
    frame_of_reference_uid: str | None = None

    def __post_init__(self) -> None:
        where = "finding.roi"
        for name in ("seg_instance_uid", "source_series_uid", "frame_of_reference_uid"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, str) or not is_uid(value)):
                raise _fail(where, name, value, "a DICOM UID")
        if isinstance(self.segment_number, bool) or not isinstance(self.segment_number, int) \
                or not 1 <= self.segment_number <= 65535:
            raise _fail(where, "segment_number", self.segment_number, "an integer 1-65535")
        if self.centroid_lps_mm is None and self.frame_of_reference_uid is not None:
            raise _fail(where, "frame_of_reference_uid", self.frame_of_reference_uid,
                        "null when there is no centroid (it only qualifies the centroid)")
        if self.centroid_lps_mm is not None:
            if not isinstance(self.centroid_lps_mm, (list, tuple)):
                raise _fail(where, "centroid_lps_mm", self.centroid_lps_mm, "three finite numbers")
            point = tuple(self.centroid_lps_mm)
            if len(point) != 3 or not all(_finite(v) and abs(v) <= 3.4e38 for v in point):
                raise _fail(where, "centroid_lps_mm", self.centroid_lps_mm, "three finite numbers")
            if self.frame_of_reference_uid is None:
                raise _fail(where, "frame_of_reference_uid", None,
                            "the frame of reference the centroid is given in")
            # SCOORD3D stores float32 (FL): hold exactly what an SR can carry.
            object.__setattr__(self, "centroid_lps_mm",
                               tuple(struct.unpack("<3f", struct.pack("<3f", *point))))


@dataclass(frozen=True, slots=True)
class Finding:
    """One imaging finding, positive (present=True), explicitly negative (False) or equivocal (None).

    ``dimensions_mm`` keep the order in which the report gave them; no anatomical axis is
    implied. ``vertebral_levels`` are expanded ("T11-L1" -> T11, T12, L1).
    """

    modality: str | None = None
    procedure: str | Code | None = None
    present: bool | None = True
    certainty: str | None = None
    finding: str | Code | None = None  # a term (vocab / generated tables) or any Code
    site: str | Code | None = None
    laterality: str | Code | None = None
    vertebral_levels: tuple[str, ...] | None = None
    dimensions_mm: tuple[float, ...] | None = None
    volume_ml: float | None = None
    t1_signal: str | None = None
    t2_signal: str | None = None
    diffusion_restricted: bool | None = None
    adc_value: float | None = None
    adc_unit: str | None = None
    adc_min: float | None = None  # over a segmented lesion (masks); same unit as adc_value
    adc_median: float | None = None
    enhancement: str | None = None
    enhancement_pattern: str | None = None
    contrast_agent: str | None = None
    tracer: str | Code | None = None
    activity_mbq: float | None = None
    tracking_id: str | None = None
    tracking_uid: str | None = None
    roi: Roi | None = None  # segmentation and centre of mass (volumetric findings)
    extent_mm: tuple[float, float, float] | None = None  # along left-right, antero-posterior, cranio-caudal
    # The open part: any coded measurement and evaluation; regions and references (SCOORD,
    # SCOORD3D, IMAGE) and any other content of the group, kept as it is.
    measurements: tuple[Measurement, ...] = ()
    evaluations: tuple[Evaluation, ...] = ()
    regions: tuple[ContentNode, ...] = ()
    other: tuple[ContentNode, ...] = ()

    def __post_init__(self) -> None:
        self.validate("finding")

    def validate(self, where: str) -> None:
        """Check every field; ``where`` prefixes the error (e.g. 'case1.json: findings[2]')."""
        set_ = object.__setattr__
        set_(self, "modality", _choice(where, "modality", self.modality, MODALITIES))
        set_(self, "procedure", _procedure(where, self.procedure))
        _boolean(where, "present", self.present)
        for name, allowed in (("certainty", CERTAINTIES), ("t1_signal", SIGNALS),
                              ("t2_signal", SIGNALS), ("enhancement", ENHANCEMENTS),
                              ("enhancement_pattern", vocab.ENHANCEMENT_PATTERN),
                              ("contrast_agent", vocab.CONTRAST_AGENTS)):
            set_(self, name, _choice(where, name, getattr(self, name), allowed))
        for name, kind in (("finding", "finding"), ("site", "site"),
                           ("laterality", "laterality"), ("tracer", "tracer")):
            set_(self, name, terms.resolve(kind, getattr(self, name), where, name))
        _boolean(where, "diffusion_restricted", self.diffusion_restricted)
        if isinstance(self.adc_unit, str):
            set_(self, "adc_unit", _adc_unit(where, self.adc_unit))
        elif self.adc_unit is not None:
            raise _fail(where, "adc_unit", self.adc_unit, "a UCUM ADC unit")
        self._open_parts(where)
        set_(self, "volume_ml", _number(where, "volume_ml", self.volume_ml, 0.0, _MAX_VOLUME_ML))
        set_(self, "adc_value", _number(where, "adc_value", self.adc_value, 0.0, 1e9))
        for name in ("adc_min", "adc_median"):
            set_(self, name, _number(where, name, getattr(self, name), -1e9, 1e9))
            if getattr(self, name) is not None and self.adc_value is None:
                raise _fail(where, name, getattr(self, name), "null unless adc_value (the mean) is given")
        set_(self, "activity_mbq",
             _number(where, "activity_mbq", self.activity_mbq, 0.0, _MAX_ACTIVITY_MBQ))
        if (self.adc_value is None) != (self.adc_unit is None):
            raise _fail(where, "adc_unit", self.adc_unit,
                        "a unit exactly when adc_value is given (one of "
                        + ", ".join(vocab.ADC_UNITS) + ")")
        set_(self, "vertebral_levels", self._levels(where))
        self._vertebra_site(where)
        set_(self, "dimensions_mm", self._dimensions(where))
        if self.extent_mm is not None:
            extent = tuple(_number(where, "extent_mm", v, 0.0, _MAX_DIAMETER_MM)
                           for v in self.extent_mm) if isinstance(self.extent_mm, (list, tuple)) else ()
            if len(extent) != 3:
                raise _fail(where, "extent_mm", self.extent_mm,
                            "three numbers in mm: left-right, antero-posterior, cranio-caudal")
            set_(self, "extent_mm", extent)
        self._tracking(where)
        if isinstance(self.roi, dict):
            try:
                set_(self, "roi", Roi(**self.roi))
            except TypeError as exc:
                raise _fail(where, "roi", self.roi, f"an object with keys of Roi ({exc})") from None
        elif self.roi is not None and not isinstance(self.roi, Roi):
            raise _fail(where, "roi", self.roi, "an Roi object or null")

    def with_tracking(self, tracking_id: str, tracking_uid: str) -> Finding:
        """A copy with these tracking fields; only they are checked again (the rest of the
        finding was checked when it was made), which keeps writing 1000 groups fast."""
        copy = object.__new__(Finding)
        for f in fields(self):
            object.__setattr__(copy, f.name, getattr(self, f.name))
        object.__setattr__(copy, "tracking_id", tracking_id)
        object.__setattr__(copy, "tracking_uid", tracking_uid)
        copy._tracking("finding")
        return copy

    def _tracking(self, where: str) -> None:
        # TID 1501 row 2: a TEXT item (UT), at most 64 characters
        object.__setattr__(self, "tracking_id", dicom_text(self.tracking_id, where, "tracking_id",
                                                           TEXT, required=True, limit=64))
        value = self.tracking_uid
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise _fail(where, "tracking_uid", value, "a non-empty string or null")
        if self.tracking_uid is not None and not is_uid(self.tracking_uid):
            raise _fail(where, "tracking_uid", self.tracking_uid, "a DICOM UID (digits and dots)")

    def _vertebra_site(self, where: str) -> None:
        """A vertebra named as the site ("L1 vertebra", or its code) is the project's
        site "vertebra" with that level, as the writer encodes it."""
        if self.site is None or self.site == "vertebra":
            return
        level = CODE_LEVELS.get(terms.code_for("site", self.site))
        if level is None:
            return
        if self.vertebral_levels not in (None, (level,)):
            raise _fail(where, "site", str(self.site), f"a site agreeing with vertebral_levels "
                        f"{list(self.vertebral_levels or ())} (or site 'vertebra')")
        object.__setattr__(self, "site", "vertebra")
        object.__setattr__(self, "vertebral_levels", (level,))

    def _open_parts(self, where: str) -> None:
        _open_lists(self, where, (("measurements", Measurement), ("evaluations", Evaluation),
                                  ("regions", ContentNode), ("other", ContentNode)))
        if self.other:
            self._sort_other()

    def _sort_other(self) -> None:
        """Content given as ``other`` that an SR reader takes as something more specific is
        that: a region (IMAGE, SCOORD, ...) or a CONTAINS CODE/TEXT evaluation. Written and
        read back, it would come back there; the model holds it there from the start."""
        regions, evaluations, other = list(self.regions), list(self.evaluations), []
        for node in self.other:
            if node.value_type in REGION_TYPES:
                regions.append(node)
                continue
            if node.value_type in ("CODE", "TEXT") and node.relationship in ("CONTAINS", None) \
                    and node.concept is not None and isinstance(node.value, (Code, str)):
                try:
                    evaluations.append(Evaluation(terms.term_for("any", node.concept), node.value,
                                                  node.children))
                    continue
                except InputError:
                    pass
            other.append(node)
        object.__setattr__(self, "regions", tuple(regions))
        object.__setattr__(self, "evaluations", tuple(evaluations))
        object.__setattr__(self, "other", tuple(other))

    def _levels(self, where: str) -> tuple[str, ...] | None:
        levels = self.vertebral_levels
        if levels is None:
            return None
        try:
            if isinstance(levels, str):
                out = expand_levels(levels)
            else:
                out = tuple(normalise_level(str(lvl)) for lvl in levels)
        except InputError as exc:
            raise _fail(where, "vertebral_levels", levels, str(exc)) from None
        if len(set(out)) != len(out):
            raise _fail(where, "vertebral_levels", levels, "no level repeated")
        return out or None

    def _dimensions(self, where: str) -> tuple[float, ...] | None:
        dims = self.dimensions_mm
        if dims is None:
            return None
        if isinstance(dims, (str, bytes, dict)) or not hasattr(dims, "__iter__"):
            raise _fail(where, "dimensions_mm", dims, "a list of 1-3 numbers in mm")
        out = tuple(_number(where, "dimensions_mm", d, 0.0, _MAX_DIAMETER_MM) for d in dims)
        if not 1 <= len(out) <= 3 or None in out:
            raise _fail(where, "dimensions_mm", dims, "a list of 1-3 numbers in mm")
        return out  # type: ignore[return-value]

    def to_json(self) -> dict[str, Any]:
        """The public JSON form: every key present, null when unknown."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, Roi):
                value = {k: list(v) if isinstance(v, tuple) else v for k, v in _plain(value).items()}
            elif isinstance(value, Code):
                value = code_to_json(value)
            elif f.name in ("measurements", "evaluations", "regions", "other"):
                value = [v.to_json() for v in value]
            out[f.name] = list(value) if isinstance(value, tuple) else value
        return out

    @classmethod
    def from_json(cls, data: Any, where: str = "finding") -> Finding:
        """Build from the JSON form; unknown keys are refused (a typo must not drop data)."""
        if not isinstance(data, dict):
            raise InputError(f"{where}: expected a JSON object, got {type(data).__name__}")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise InputError(f"{where}: unknown key(s) {_keys(unknown)}"
                             f"{_unit_hint(unknown)}; known keys: {', '.join(sorted(known))}")
        if "present" not in data:
            raise InputError(f"{where}: field 'present' is required "
                             "(true = found, false = explicitly absent, null = equivocal)")
        try:
            return cls(**data)
        except InputError as exc:
            raise InputError(str(exc).replace("finding:", f"{where}:", 1)) from None
        except (TypeError, ValueError, OverflowError, RecursionError) as exc:
            raise InputError(f"{where}: a value has the wrong type ({exc})") from None


def _unit_hint(keys: list[str]) -> str:
    for key in keys:
        if not isinstance(key, str):
            continue
        for stem, canonical in (("dimension", "dimensions_mm"), ("volume", "volume_ml"),
                                ("activity", "activity_mbq"), ("adc", "adc_value + adc_unit")):
            if key.startswith(stem):
                return f" (wrong unit? the model uses '{canonical}')"
    return ""


def _open_lists(obj: Any, where: str, parts: tuple[tuple[str, Any], ...]) -> None:
    """Each named field as a tuple of its type, built from JSON objects where needed."""
    for name, kind in parts:
        value = getattr(obj, name)
        if isinstance(value, (str, bytes, dict)) or not isinstance(value, (list, tuple)):
            raise _fail(where, name, value, "a list")
        object.__setattr__(obj, name, tuple(
            v if isinstance(v, kind) else kind.from_json(v, f"{where}: {name}[{i}]")
            for i, v in enumerate(value)))


def _procedure(where: str, value: Any) -> str | Code | None:
    """A procedure name of vocab.PROCEDURES, matched ignoring case, spaces and hyphens, or
    a Code: a procedure read from another tool's SR that has no name here."""
    if value is None or isinstance(value, Code) or (isinstance(value, str) and value in vocab.PROCEDURES):
        return value
    if isinstance(value, dict):
        code = code_from_json(value, f"{where}: procedure")
        return next((name for name, p in vocab.PROCEDURES.items() if p.performed == code), code)
    term = terms.lookup("procedure", value) if isinstance(value, str) else None
    if term is None:
        raise _fail(where, "procedure", value, "one of " + ", ".join(vocab.PROCEDURES) + " or null")
    return term


def _adc_unit(where: str, value: str) -> str:
    if value in vocab.ADC_UNITS:
        return value
    unit = terms.unit_code(value, f"{where}: adc_unit").value
    if unit in vocab.ADC_UNITS:
        return unit
    raise _fail(where, "adc_unit", value, "one of " + ", ".join(vocab.ADC_UNITS))


@dataclass(frozen=True, slots=True)
class Report:
    """One imaging report: one procedure on one patient, its findings and its source images."""

    modality: str | None
    procedure: str | Code | None  # a name of vocab.PROCEDURES, or the code of one we have no name for
    findings: tuple[Finding, ...] = ()
    impression: str | None = None
    observer: str | None = None
    indication: str | None = None  # chief complaint / reason for the examination (free text)
    patient: Patient = field(default_factory=Patient)
    study: Study = field(default_factory=Study)
    source_images: tuple[ImageRef, ...] = ()
    sr: SRIdentity | None = None
    # Report-level qualitative evaluations besides the impression (TID 1500 row 12), and
    # top-level content the model has no field for, kept as it is.
    evaluations: tuple[Evaluation, ...] = ()
    other: tuple[ContentNode, ...] = ()
    warnings: tuple[str, ...] = field(default=(), compare=False)

    def __post_init__(self) -> None:
        self.validate("report")

    def validate(self, where: str) -> None:
        # modality/procedure may be unknown only in reports read from foreign SRs.
        object.__setattr__(self, "modality", _choice(where, "modality", self.modality, MODALITIES))
        object.__setattr__(self, "procedure", _procedure(where, self.procedure))
        if isinstance(self.procedure, str):
            expected = vocab.PROCEDURES[self.procedure].modality
            if expected != self.modality:
                raise _fail(where, "modality", self.modality,
                            f"{expected} for procedure {self.procedure!r}")
        object.__setattr__(self, "impression",
                           _choice(where, "impression", self.impression, IMPRESSIONS))
        # Reason for Visit is UT (TAB, LF, FF, CR allowed); the observer a PNAME (PN: none)
        object.__setattr__(self, "indication", dicom_text(self.indication, where, "indication",
                                                          TEXT, required=True))
        object.__setattr__(self, "observer", dicom_text(self.observer, where, "observer", HEADER,
                                                        required=True))
        for name, kind in (("patient", Patient), ("study", Study)):
            if not isinstance(getattr(self, name), kind):
                raise _fail(where, name, getattr(self, name), f"a {kind.__name__}")
        object.__setattr__(self, "source_images", tuple(self.source_images))
        for i, ref in enumerate(self.source_images):
            if not isinstance(ref, ImageRef):
                raise InputError(f"{where}: source_images[{i}] is {type(ref).__name__}, not an ImageRef")
        object.__setattr__(self, "findings", tuple(self.findings))
        for i, f in enumerate(self.findings):
            if not isinstance(f, Finding):
                raise InputError(f"{where}: findings[{i}] is {type(f).__name__}, not a Finding")
            for name, value in (("modality", self.modality), ("procedure", self.procedure)):
                if getattr(f, name) not in (None, value):
                    raise _fail(f"{where}: findings[{i}]", name, getattr(f, name),
                                f"{value!r} (the report's) or null")
        # One order for the same set of images, whatever order they were found in.
        refs = {(r.study_instance_uid, r.series_instance_uid, r.sop_instance_uid): r
                for r in self.source_images}
        object.__setattr__(self, "source_images", tuple(refs[k] for k in sorted(refs)))
        # Findings may share a tracking UID: two groups (e.g. planar and volumetric) can
        # describe one tracked lesion (TID 1501 row 3).
        _open_lists(self, where, (("evaluations", Evaluation), ("other", ContentNode)))

    def with_findings_in_context(self) -> Report:
        """Findings with modality/procedure filled from the report (as the reader returns them)."""
        return replace(self, findings=tuple(
            replace(f, modality=self.modality, procedure=self.procedure) for f in self.findings))

    def to_json(self) -> dict[str, Any]:
        return {
            "modality": self.modality,
            "procedure": code_to_json(self.procedure) if isinstance(self.procedure, Code)
            else self.procedure,
            "impression": self.impression,
            "observer": self.observer,
            "indication": self.indication,
            "patient": _plain(self.patient),
            "study": _plain(self.study),
            "source_images": [_plain(ref) for ref in self.source_images],
            "sr": _plain(self.sr) if self.sr else None,
            "findings": [f.to_json() for f in self.findings],
            "evaluations": [e.to_json() for e in self.evaluations],
            "other": [c.to_json() for c in self.other],
            "warnings": list(self.warnings),
        }

    @classmethod
    def from_json(cls, data: Any, where: str = "report") -> Report:
        """Build from JSON: a full report, or a findings file (patient/study/images omitted)."""
        if not isinstance(data, dict):
            raise InputError(f"{where}: expected a JSON object with 'procedure' and 'findings'")
        allowed = {"modality", "procedure", "impression", "observer", "indication", "patient", "study",
                   "source_images", "sr", "findings", "evaluations", "other", "warnings", "case",
                   "description"}
        unknown = sorted(set(data) - allowed, key=str)
        if unknown:
            raise InputError(f"{where}: unknown key(s) {_keys(unknown)}; "
                             f"known keys: {', '.join(sorted(allowed))}")
        procedure = data.get("procedure")
        if procedure is None:
            raise _fail(where, "procedure", procedure, "one of " + ", ".join(vocab.PROCEDURES))
        procedure = _procedure(where, procedure)
        modality = data.get("modality") or (vocab.PROCEDURES[procedure].modality
                                            if isinstance(procedure, str) else None)
        raw_findings = data.get("findings", [])
        if not isinstance(raw_findings, list):
            raise _fail(where, "findings", raw_findings, "a list of finding objects")
        findings = tuple(Finding.from_json(f, f"{where}: findings[{i}]")
                         for i, f in enumerate(raw_findings))
        patient = _part(Patient, data.get("patient"), f"{where}: patient")
        study = _part(Study, data.get("study"), f"{where}: study")
        _check_study(study, where)
        observer = data.get("observer")
        if isinstance(observer, str) and len(observer.strip()) > 64:
            raise _fail(where, "observer", observer, "a person name of at most 64 characters")
        images = data.get("source_images")
        if images is not None and not isinstance(images, list):
            raise _fail(where, "source_images", images, "a list of image references")
        source_images = []
        for i, ref in enumerate(images or ()):
            image = _part(ImageRef, ref, f"{where}: source_images[{i}]", required=True)
            for f in fields(image):
                if not is_uid(getattr(image, f.name)):
                    raise _fail(f"{where}: source_images[{i}]", f.name, getattr(image, f.name),
                                "a DICOM UID")
            source_images.append(image)
        sr = _part(SRIdentity, data["sr"], f"{where}: sr", required=True) if data.get("sr") else None
        for name in ("evaluations", "other"):
            if data.get(name) is not None and not isinstance(data.get(name), list):
                raise _fail(where, name, data.get(name), "a list")
        try:
            return cls(
                modality=modality, procedure=procedure, findings=findings,
                impression=data.get("impression"), observer=observer,
                indication=data.get("indication"), patient=patient, study=study,
                source_images=tuple(source_images), sr=sr,
                evaluations=data.get("evaluations") or (), other=data.get("other") or (),
            )
        except (TypeError, ValueError, OverflowError, RecursionError) as exc:
            raise InputError(f"{where}: a value has the wrong type ({exc})") from None
        except InputError as exc:
            raise InputError(str(exc).replace("report:", f"{where}:", 1)) from None
