"""A finding in words for people: one line that shows every field of the finding.

Light on purpose (model and levels only, no pydicom): ``dicomtools read`` and ``extract``
use it and must start fast. The line starts with the short form other tools' outputs and
the tests quote ("POSITIVE mass, left paravertebral T9/10, 26 x 11 x 22 mm"), then adds
the rest: certainty (always), volume, signal, diffusion, ADC, enhancement, segmentation,
extent, and the open part (measurements, evaluations, regions, other content).
"""

from __future__ import annotations

from collections import Counter

from .levels import format_levels
from .model import Finding
from .observations import Evaluation, Measurement
from .values import ContentNode, Num
from .vocab import Code

STATES = {True: "POSITIVE", False: "negative", None: "equivocal"}


def number(value: float) -> str:
    """A value as people write it: up to 4 significant digits, no trailing zeros, no
    exponent for large values (12345.6 -> '12346'). The same rule as masks.report.significant,
    without numpy (this module stays light)."""
    if abs(value) >= 1e4 and abs(value) < 1e16:
        return f"{value:.0f}"
    return f"{value:.4g}"


def _where(f: Finding) -> str:
    # a Code (a term of another tool's SR) is shown by its meaning, as str(code) gives
    return " ".join(str(x) for x in (f.laterality, f.site, format_levels(f.vertebral_levels or ()))
                    if x)


def _tracer(f: Finding) -> str:
    if f.tracer and f.activity_mbq is not None:
        return f"{f.tracer} {f.activity_mbq:g} MBq"
    if f.activity_mbq is not None:
        return f"{f.activity_mbq:g} MBq"
    return str(f.tracer or "")


def _adc(f: Finding) -> str:
    if f.adc_value is None:
        return ""
    parts = [f"ADC {number(f.adc_value)} {f.adc_unit}"]
    parts += [f"{name} {number(v)}" for name, v in (("min", f.adc_min), ("median", f.adc_median))
              if v is not None]
    return " ".join(parts[:1]) + (f" ({', '.join(parts[1:])})" if parts[1:] else "")


def _enhancement(f: Finding) -> str:
    if not (f.enhancement or f.enhancement_pattern or f.contrast_agent):
        return ""
    words = " ".join(x for x in (f.enhancement, f.enhancement_pattern) if x) or "stated"
    return f"enhancement {words}" + (f" ({f.contrast_agent})" if f.contrast_agent else "")


def _diffusion(f: Finding) -> str:
    return {True: "diffusion restricted", False: "diffusion not restricted",
            None: ""}[f.diffusion_restricted]


def describe_measurement(m: Measurement) -> str:
    """'long axis 26 mm' or 'SUVmax (maximum) 4.2 {SUVbw}g/ml at liver'."""
    text = f"{m.concept}" + (f" ({m.derivation})" if m.derivation else "")
    text += f" {number(m.value)} {m.unit.value}"
    return text + (f" at {m.site}" if m.site else "") + (f" by {m.method}" if m.method else "")


def describe_evaluation(e: Evaluation) -> str:
    """'margin = spiculated' (a coded value by its meaning, text quoted)."""
    value = str(e.value) if not isinstance(e.value, str) else repr(e.value)
    return f"{e.concept} = {value}"


def _count_types(nodes: tuple[ContentNode, ...]) -> str:
    counts = Counter(node.value_type for node in nodes)
    return ", ".join(f"{n} {kind}" if n > 1 else kind for kind, n in counts.items())


def describe_node(node: ContentNode) -> str:
    """'Finding Site = Mediastinum', 'Time Point = \'1\'', 'Volume = 3 ml'; other value
    types by their type ('SCOORD')."""
    name = node.concept.meaning if node.concept else node.value_type
    value = node.value
    if isinstance(value, Code):
        return f"{name} = {value.meaning}"
    if isinstance(value, str) and node.value_type in ("TEXT", "DATE", "TIME", "DATETIME", "UIDREF", "PNAME"):
        return f"{name} = {value!r}"
    if isinstance(value, Num):
        return f"{name} = {number(value.value)} {value.unit.value}"
    return node.value_type if node.concept is None else f"{node.value_type} {name}"


def _nodes(nodes: tuple[ContentNode, ...], most: int = 4) -> str:
    shown = ", ".join(describe_node(n) for n in nodes[:most])
    return shown + (f" and {len(nodes) - most} more" if len(nodes) > most else "")


def describe_finding(f: Finding) -> str:
    """One line for people: 'POSITIVE mass, left paravertebral T9/10, 26 x 11 x 22 mm,
    definite, T1 hyper, T2 hyper, diffusion restricted, enhancement strong diffuse
    (gadolinium)'. Every field of the finding except its modality and procedure (the
    report's) and its tracking identifiers (callers print the tracking id before it)."""
    state = f"{STATES[f.present]} {f.finding or ''}".strip()
    size = " x ".join(f"{d:.3g}" for d in f.dimensions_mm) + " mm" if f.dimensions_mm else ""
    volume = f"{number(f.volume_ml)} mL" if f.volume_ml is not None else ""
    certainty = f.certainty or "certainty not stated"
    signal = ", ".join(f"{name} {value}" for name, value in (("T1", f.t1_signal), ("T2", f.t2_signal))
                       if value)
    roi = (f"segment {f.roi.segment_number}" + (" with centroid" if f.roi.centroid_lps_mm else "")
           if f.roi else "")
    extent = ("extent " + " x ".join(f"{v:.3g}" for v in f.extent_mm) + " mm (LR x AP x CC)"
              if f.extent_mm else "")
    head = ", ".join(x for x in (state, _where(f), size, _tracer(f), volume, certainty, signal,
                                 _diffusion(f), _adc(f), _enhancement(f), roi, extent) if x)
    tail = []
    if f.measurements:
        tail.append("measurements: " + ", ".join(describe_measurement(m) for m in f.measurements))
    if f.evaluations:
        tail.append("evaluations: " + ", ".join(describe_evaluation(e) for e in f.evaluations))
    if f.regions:
        tail.append("regions: " + _count_types(f.regions))
    if f.other:
        tail.append("other content: " + _nodes(f.other))
    return "; ".join([head, *tail])
