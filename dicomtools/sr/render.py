"""Any DICOM SR drawn as its whole content tree, as text or HTML.

Read with pydicom straight from the dataset, not through the Report: the point is to show
what the file holds, whatever its SOP class or template (TID 1500, Basic Text, Enhanced,
Comprehensive, Key Object Selection, dose SRs). Every content item becomes one :class:`Node`
in document order, numbered as DCMTK's ``dsrdump +Pn`` numbers them (root = ``1``), so the
two can be compared item by item (tests/test_render.py does).

Patient name and ID are left out of the header unless asked for (``show_patient``).
"""

from __future__ import annotations

import html
import string
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from pydicom.dataset import Dataset
from pydicom.multival import MultiValue
from pydicom.uid import UID

from ..errors import SRReadError
from ..phi import printable
from ..values import MAX_TREE_DEPTH
from ..vocab import Code
from .codec import _pd_code as code_of  # the one reader of a code sequence item

FORMATS = ("text", "html")
TEMPLATE = "render.html"


@dataclass(frozen=True, slots=True)
class Node:
    """One content item as shown. ``value`` is the value in words; the other value fields keep
    its parts for comparisons: ``code`` (a CODE's value or a NUM's unit), ``number`` (a NUM's
    Numeric Value as stored), ``text`` (TEXT, UIDREF, PNAME, DATE, TIME, DATETIME),
    ``uids`` (the instances an IMAGE/COMPOSITE/WAVEFORM references), ``graphic`` (SCOORD,
    SCOORD3D graphic type or TCOORD range type). ``reference`` is the position of the target
    of a by-reference relationship (then ``value_type`` is empty)."""

    position: str
    depth: int
    relationship: str | None
    value_type: str
    concept: Code | None
    value: str
    code: Code | None = None
    number: str | None = None
    text: str | None = None
    uids: tuple[str, ...] = ()
    graphic: str | None = None
    reference: str | None = None
    template: str | None = None
    observed: str | None = None


def _str(value: Any) -> str:
    """A pydicom value as one string (multi-valued: joined by a backslash, as DICOM stores it)."""
    if value is None:
        return ""
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("latin-1")
    if isinstance(value, (list, tuple, MultiValue)):  # not a PersonName: it iterates too
        return "\\".join(str(v) for v in value)
    return str(value)


def show_code(code: Code | None) -> str:
    """'Diameter (81827009, SCT)'; '-' for none."""
    if code is None:
        return "-"
    return f"{printable(code.meaning) or '(no meaning)'} ({printable(code.value)}, {printable(code.scheme)})"


def _class_name(uid: str) -> str:
    name = UID(uid).name if uid else ""
    return name if name and name != uid else (f"class {uid}" if uid else "no class")


def _references(ds: Dataset) -> tuple[str, tuple[str, ...]]:
    """IMAGE/COMPOSITE/WAVEFORM value: each referenced instance with its class, frames,
    segments, channels and presentation state."""
    parts, uids = [], []
    for ref in ds.get("ReferencedSOPSequence") or ():
        uid = _str(ref.get("ReferencedSOPInstanceUID"))
        uids.append(uid)
        words = [f"{_class_name(_str(ref.get('ReferencedSOPClassUID')))} {uid}"]
        for keyword, label in (("ReferencedFrameNumber", "frames"), ("ReferencedSegmentNumber", "segments"),
                               ("ReferencedWaveformChannels", "channels")):
            if ref.get(keyword) is not None:
                words.append(f"{label} {_str(ref.get(keyword)).replace(chr(92), ',')}")
        for state in ref.get("ReferencedSOPSequence") or ():  # a presentation state (PS3.3 C.18.3)
            state_uid = _str(state.get("ReferencedSOPInstanceUID"))
            uids.append(state_uid)
            words.append(f"with {_class_name(_str(state.get('ReferencedSOPClassUID')))} {state_uid}")
        parts.append(", ".join(words))
    return "; ".join(parts) or "(no referenced instance)", tuple(uids)


def _points(ds: Dataset, per_point: int) -> str:
    data = ds.get("GraphicData")
    count = len(data) // per_point if data is not None and hasattr(data, "__len__") else 0
    return f"{count} point{'s' if count != 1 else ''}"


def _tcoord(ds: Dataset) -> str:
    for keyword, label in (("ReferencedSamplePositions", "sample positions"),
                           ("ReferencedTimeOffsets", "time offsets"),
                           ("ReferencedDateTime", "date/times")):
        values = ds.get(keyword)
        if values is not None:
            count = len(values) if hasattr(values, "__len__") and not isinstance(values, str) else 1
            return f"{count} {label}"
    return "no temporal positions"


def _num(ds: Dataset) -> tuple[str, Code | None, str | None]:
    measured = ds.get("MeasuredValueSequence") or ()
    qualifier = code_of(ds.get("NumericValueQualifierCodeSequence"))
    if not measured:
        return (f"no value ({show_code(qualifier)})" if qualifier else "no value"), None, None
    mv = measured[0]
    unit = code_of(mv.get("MeasurementUnitsCodeSequence"))
    number = _str(mv.get("NumericValue")).strip()
    if not number and mv.get("FloatingPointValue") is not None:
        number = repr(float(mv.FloatingPointValue))
    text = f"{number or '(empty)'} {show_code(unit) if unit else '(no unit)'}"
    if qualifier:
        text += f", {show_code(qualifier)}"
    return text, unit, number


class _Cache:
    """Values decoded once per distinct raw bytes: an SR repeats the same few dozen codes
    (and many NUM values) thousands of times, and pydicom parses each nested sequence anew
    (this makes a 2,000-group SR render several times faster)."""

    def __init__(self) -> None:
        self.seen: dict[tuple[int, bytes], Any] = {}

    def get(self, ds: Dataset, tag: int, decode: Any) -> Any:
        """``decode(ds)`` for the element ``tag`` of ``ds``, cached by its raw bytes."""
        try:
            raw = ds.get_item(tag)
        except Exception:
            raw = None
        value = getattr(raw, "value", None)
        if raw is None or not isinstance(value, bytes) or raw.__class__.__name__ != "RawDataElement":
            return decode(ds)  # absent, or converted already: nothing to share
        key = (tag, value)
        if key not in self.seen:
            self.seen[key] = decode(ds)
        return self.seen[key]


_NAME, _CODE_SEQ, _MEASURED, _TEMPLATE = 0x0040A043, 0x0040A168, 0x0040A300, 0x0040A504
_NO_CACHE = _Cache()


def _template_id(ds: Dataset) -> str | None:
    templates = ds.get("ContentTemplateSequence")
    return _str(templates[0].get("TemplateIdentifier")) or None if templates else None


_TEXT_KEYWORDS = {"TEXT": "TextValue", "UIDREF": "UID", "PNAME": "PersonName", "DATE": "Date",
                  "TIME": "Time", "DATETIME": "DateTime"}


def _node(ds: Dataset, position: str, depth: int, cache: _Cache = _NO_CACHE) -> Node:
    relationship = _str(ds.get("RelationshipType")).strip() or None
    observed = _str(ds.get("ObservationDateTime")).strip() or None
    reference = ds.get("ReferencedContentItemIdentifier")
    if reference is not None and "ValueType" not in ds:
        target = ".".join(str(int(n)) for n in (reference if hasattr(reference, "__iter__") else [reference]))
        return Node(position, depth, relationship, "", None, f"-> {target}", reference=target)
    vt = _str(ds.get("ValueType")).strip()
    concept = cache.get(ds, _NAME, lambda d: code_of(d.get("ConceptNameCodeSequence")))
    template = cache.get(ds, _TEMPLATE, _template_id)
    parts: dict[str, Any] = {}
    if vt == "CONTAINER":
        value = _str(ds.get("ContinuityOfContent")) or "(continuity not given)"
    elif vt == "CODE":
        parts["code"] = cache.get(ds, _CODE_SEQ, lambda d: code_of(d.get("ConceptCodeSequence")))
        value = show_code(parts["code"])
    elif vt == "NUM":
        # the qualifier is read with the value: a NUM with a qualifier is not shared
        value, parts["code"], parts["number"] = (_num(ds) if "NumericValueQualifierCodeSequence" in ds
                                                 else cache.get(ds, _MEASURED, _num))
    elif vt in _TEXT_KEYWORDS:
        raw = ds.get(_TEXT_KEYWORDS[vt])
        parts["text"] = None if raw is None else _str(raw)
        value = "(empty)" if raw is None else (f'"{printable(parts["text"])}"' if vt in ("TEXT", "PNAME")
                                               else printable(parts["text"]))
    elif vt in ("IMAGE", "COMPOSITE", "WAVEFORM"):
        value, parts["uids"] = _references(ds)
    elif vt in ("SCOORD", "SCOORD3D"):
        parts["graphic"] = _str(ds.get("GraphicType")) or None
        value = f"{parts['graphic'] or '(no graphic type)'}, {_points(ds, 2 if vt == 'SCOORD' else 3)}"
        if vt == "SCOORD3D" and ds.get("ReferencedFrameOfReferenceUID"):
            value += f", frame of reference {_str(ds.ReferencedFrameOfReferenceUID)}"
    elif vt == "TCOORD":
        parts["graphic"] = _str(ds.get("TemporalRangeType")) or None
        value = f"{parts['graphic'] or '(no range type)'}, {_tcoord(ds)}"
    else:
        value = f"(value type {printable(vt) or 'missing'})"
    return Node(position, depth, relationship, vt, concept, value, template=template,
                observed=observed, **parts)


def walk(ds: Dataset) -> list[Node]:
    """Every content item of the SR in document order, the root container first (``1``).
    A damaged item is kept, its value said to be unreadable; content nested deeper than
    values.MAX_TREE_DEPTH is an SRReadError (as the reader)."""
    out: list[Node] = []
    cache = _Cache()

    def visit(item: Any, position: str, depth: int) -> None:
        if depth > MAX_TREE_DEPTH:
            raise SRReadError(f"content nested deeper than {MAX_TREE_DEPTH} levels")
        if not isinstance(item, Dataset):
            out.append(Node(position, depth, None, "?", None, "(not a dataset: unreadable item)"))
            return
        try:
            out.append(_node(item, position, depth, cache))
        except Exception as exc:  # a damaged value (pydicom raises many types): keep the item
            out.append(Node(position, depth, None, _str(item.get("ValueType", "?")), None,
                            f"(unreadable value: {type(exc).__name__})"))
        try:
            children = list(item.get("ContentSequence") or ())
        except Exception:
            children = []
        for n, child in enumerate(children, start=1):
            visit(child, f"{position}.{n}", depth + 1)

    visit(ds, "1", 0)
    return out


def header(ds: Dataset, *, show_patient: bool = False) -> list[tuple[str, str]]:
    """(label, value) rows above the tree: class, title, template, flags, dates."""
    sop_class = _str(ds.get("SOPClassUID")).strip()
    rows = [("SOP class", f"{_class_name(sop_class)} ({sop_class or 'none'})"),
            ("Title", show_code(code_of(ds.get("ConceptNameCodeSequence"))))]
    templates = ds.get("ContentTemplateSequence")
    if templates:
        t = templates[0]
        rows.append(("Template", f"TID {_str(t.get('TemplateIdentifier'))} "
                                 f"({_str(t.get('MappingResource')) or 'no mapping resource'})"))
    for label, keyword in (("Completion", "CompletionFlag"), ("Verification", "VerificationFlag"),
                           ("Modality", "Modality"), ("Content date", "ContentDate"),
                           ("Content time", "ContentTime"), ("Series", "SeriesDescription")):
        value = _str(ds.get(keyword)).strip()
        if value:
            rows.append((label, printable(value)))
    if show_patient:
        rows.append(("Patient", f"{printable(_str(ds.get('PatientName')))} "
                                f"(ID {printable(_str(ds.get('PatientID')))})"))
    return rows


def _line(node: Node) -> str:
    if node.reference is not None:
        return f"{'  ' * node.depth}{node.position} {node.relationship or '(no relationship)'} {node.value}"
    words = [node.relationship] if node.relationship else []
    words += [node.value_type, show_code(node.concept) if node.concept else "(no concept name)"]
    if node.template:
        words.append(f"[TID {printable(node.template)}]")
    text = f"{'  ' * node.depth}{node.position} {' '.join(words)} = {node.value}"
    return text + (f" {{observed {printable(node.observed)}}}" if node.observed else "")


def render_text(ds: Dataset, *, show_patient: bool = False) -> str:
    """The header, then one line per content item, indented by depth."""
    nodes = walk(ds)
    lines = [f"{label}: {value}" for label, value in header(ds, show_patient=show_patient)]
    lines.append(f"Content items: {len(nodes)}")
    lines.append("")
    lines += [_line(node) for node in nodes]
    return "\n".join(lines) + "\n"


def _template() -> string.Template:
    # A source checkout's own templates/ first, else the installed package data (as sr/templates.py).
    source = Path(__file__).resolve().parents[2] / "templates" / TEMPLATE
    text = (source.read_text("utf-8") if source.is_file()
            else resources.files("dicomtools.templates").joinpath(TEMPLATE).read_text("utf-8"))
    return string.Template(text)


def _e(text: str) -> str:
    return html.escape(printable(text), quote=True)


def _html_node(node: Node) -> str:
    concept = (f'<span class="concept">{_e(node.concept.meaning)}</span> <span class="code">'
               f'({_e(node.concept.value)}, {_e(node.concept.scheme)})</span>' if node.concept
               else '<span class="concept none">(no concept name)</span>')
    if node.reference is not None:
        concept = ""
    extra = f' <span class="template">TID {_e(node.template)}</span>' if node.template else ""
    extra += f' <span class="observed">observed {_e(node.observed)}</span>' if node.observed else ""
    value = (f'<a href="#item-{_e(node.reference)}">{_e(node.value)}</a>' if node.reference is not None
             else _e(node.value))  # a by-reference item links to its target
    return (f'<span class="pos">{_e(node.position)}</span> '
            f'<span class="rel">{_e(node.relationship or "")}</span> '
            f'<span class="vt vt-{_e(node.value_type or "REF")}">{_e(node.value_type or "by reference")}</span> '
            f'{concept}{extra} <span class="value">{value}</span>')


def _html_tree(nodes: list[Node]) -> str:
    """Nested lists, one <li> per item; the nesting follows the depth of each node."""
    out, depth = [], -1
    for node in nodes:
        if node.depth > depth:
            out.append('<ul class="tree">' * (node.depth - depth))
        else:
            out.append("</li>" + "</ul></li>" * (depth - node.depth))
        out.append(f'<li id="item-{_e(node.position)}">{_html_node(node)}')
        depth = node.depth
    out.append("</li></ul>" * (depth + 1))
    return "".join(out)


def render_html(ds: Dataset, *, show_patient: bool = False, source: str = "SR") -> str:
    """A standalone HTML page from templates/render.html; every value escaped."""
    nodes = walk(ds)
    rows = "".join(f"<tr><th>{_e(label)}</th><td>{_e(value)}</td></tr>"
                   for label, value in header(ds, show_patient=show_patient))
    title = code_of(ds.get("ConceptNameCodeSequence"))
    return _template().substitute(
        title=_e(title.meaning if title else "DICOM SR"), source=_e(source), header=rows,
        count=str(len(nodes)), tree=_html_tree(nodes))


def render_file(path: str | Path, fmt: str = "text", *, show_patient: bool = False) -> str:
    """Open an SR file (SRReadError if it is not a readable SR) and render it."""
    from .read import SR_STORAGE, open_dicom
    ds = open_dicom(path)
    sop_class = _str(ds.get("SOPClassUID")).strip()
    if sop_class not in SR_STORAGE:
        raise SRReadError(f"{printable(path)}: not a DICOM SR (SOP Class {printable(sop_class) or 'none'})")
    try:
        if fmt == "html":
            return render_html(ds, show_patient=show_patient, source=Path(path).name)
        return render_text(ds, show_patient=show_patient)
    except SRReadError as exc:
        raise SRReadError(f"{printable(path)}: {exc}") from None
