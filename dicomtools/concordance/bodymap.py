"""A picture of one patient's work-up: an SVG body map with the spine levels C1-S5, where
each lesion sits at its site or vertebral level, coloured by which procedures saw it.

Conventions (written on the map too): front view, the patient's right on the left of the
picture, as radiology displays images. Planar scintigraphy and MRI share no frame of
reference here (anatomy.py), so positions are schematic: a lesion is drawn where its coded
site, side and level put it, never from image coordinates.

Every lesion marker is a ``<rect class="lesion">`` carrying ``data-site``, ``data-side``,
``data-levels``, ``data-seen-by``, ``data-not-seen-by``, ``data-confirmed`` and
``data-certainty``, and a ``<title>`` for hover text, so tests and scripts can check a
position from the SVG's own coordinates. Vertebrae are ``<rect class="vertebra"
data-level="T9">``. No patient name or identifier enters the map: only the row label.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass

from ..levels import ALL_LEVELS
from ..model import Finding
from .anatomy import PARENT
from .match import PATHOLOGY, PatientConcordance
from .tables import format_diagnosis, format_location, hedged_result, html_text, term_text

WIDTH, BODY_HEIGHT = 360, 600
SCALE = 1.5  # drawn size per map unit in a page
MID = 180.0  # the midline; the patient's left is at x > MID
CONVENTION = "front view: patient's right on the left of the picture (radiological convention)"
BASE_ID = "dicomtools-bodymap-base"

# Vertebra boxes: (pitch, height, width) per spinal region, top of C1 at y=86.
_REGION_SIZE = {"C": (8.0, 7.0, 14.0), "T": (10.0, 9.0, 16.0), "L": (13.0, 12.0, 20.0),
                "S": (8.0, 7.0, 16.0)}


def _vertebrae() -> dict[str, tuple[float, float, float, float]]:
    """Level -> (x, y, width, height) of its box."""
    out, y = {}, 86.0
    for level in ALL_LEVELS:
        pitch, height, width = _REGION_SIZE[level[0]]
        if level[0] == "S":  # the sacrum narrows downwards
            width -= 1.5 * (int(level[1:]) - 1)
        out[level] = (MID - width / 2, y, width, height)
        y += pitch
    return out


VERTEBRAE = _vertebrae()


def level_centre(level: str) -> float:
    """y of the centre of a vertebra's box on the map."""
    _, y, _, h = VERTEBRAE[level]
    return y + h / 2


# Sites placed by their vertebral levels: (offset from the midline for a sided lesion).
_LEVEL_SITES = {"paravertebral": 19.0, "sympathetic trunk": 16.0, "vertebra": 6.0,
                "spine": 6.0, "spinal canal": 3.0, "spinal cord": 3.0, "cervical spine": 6.0}
# Organs and regions: centre (dx from the midline for a sided lesion, y), and the outline
# drawn for paired organs (rx, ry). dx=None: an unpaired organ with a fixed place.
@dataclass(frozen=True)
class Region:
    dx: float          # offset of a sided lesion from the midline (0: midline organ)
    y: float
    rx: float
    ry: float
    paired: bool = False
    fixed_x: float | None = None  # unpaired organ off the midline (liver: patient's right)
    outline: bool = True


REGIONS: dict[str, Region] = {
    "adrenal gland": Region(27, 254, 8, 6, paired=True),  # at T11-T12
    "kidney": Region(36, 280, 10, 18, paired=True),
    "lung": Region(36, 190, 22, 42, paired=True),
    "liver": Region(0, 236, 36, 20, fixed_x=MID - 32),
    "mediastinum": Region(9, 185, 13, 34),
    "posterior mediastinum": Region(10, 195, 12, 30, outline=False),
    "neck": Region(9, 112, 14, 18),
    "thorax": Region(34, 200, 60, 62, outline=False),
    "chest wall": Region(56, 195, 6, 40, paired=True, outline=False),
    "abdomen": Region(34, 300, 52, 38, outline=False),
    "retroperitoneum": Region(24, 290, 30, 30, outline=False),
    "pelvis": Region(30, 372, 48, 24),
    "bone marrow": Region(40, 352, 9, 9, paired=True, outline=False),  # iliac crests
    "bone": Region(40, 352, 9, 9, paired=True, outline=False),
    "skull": Region(14, 36, 20, 14, outline=False),
    "brain": Region(12, 44, 22, 16, outline=False),
    "orbit": Region(13, 52, 5, 4, paired=True, outline=False),
    "femur": Region(32, 450, 9, 40, paired=True, outline=False),
    "humerus": Region(96, 200, 6, 30, paired=True, outline=False),
    "ilium": Region(42, 352, 9, 9, paired=True, outline=False),
    "sacrum": Region(0, 355, 8, 16, outline=False),
    "rib": Region(52, 200, 6, 40, paired=True, outline=False),
    "clavicle": Region(45, 138, 20, 4, paired=True, outline=False),
    "scapula": Region(58, 165, 12, 16, paired=True, outline=False),
    "sternum": Region(0, 180, 6, 24, outline=False),
    "mandible": Region(12, 76, 16, 6, outline=False),
    "spleen": Region(0, 232, 12, 14, fixed_x=MID + 44, outline=False),
    "gallbladder": Region(0, 252, 5, 8, fixed_x=MID - 28, outline=False),
    "pancreas": Region(10, 262, 22, 6, outline=False),
    "bladder": Region(0, 388, 14, 9, outline=False),
    "spinal cord": Region(0, 200, 3, 100, outline=False),
    "cervical spine": Region(6, 112, 7, 26, outline=False),
}
MARKER = 14.0  # side of an organ marker (a circle: rect with rx = side/2)
PALETTE = ("#D55E00", "#0072B2", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#8C510A",
           "#5E3C99")  # Okabe-Ito and friends: told apart by colour-blind readers


_esc = html_text  # one escaping for the page and its maps


@dataclass
class Marker:
    """One lesion drawn on the map (a bilateral lesion gives two)."""

    x: float
    y: float
    w: float
    h: float
    site: str
    side: str
    levels: tuple[str, ...]
    placed_by: str  # "level" | "site" | "parent site"


def _site_name(f: Finding) -> str:
    return term_text(f.site) if f.site is not None else "unknown site"


def _sides(f: Finding) -> list[str]:
    if f.laterality == "bilateral":
        return ["right", "left"]
    if f.laterality in ("left", "right"):
        return [str(f.laterality)]
    return ["unspecified"]


def _sign(side: str) -> float:
    return 1.0 if side == "left" else -1.0 if side == "right" else 0.0


def _level_markers(site: str, levels: tuple[str, ...], f: Finding, dx: float,
                   placed_by: str) -> list[Marker]:
    top = VERTEBRAE[levels[0]][1]
    bottom = VERTEBRAE[levels[-1]][1] + VERTEBRAE[levels[-1]][3]
    width = 12.0
    return [Marker(MID + _sign(side) * dx - width / 2, top, width, bottom - top, site, side,
                   levels, placed_by) for side in _sides(f)]


def place(f: Finding) -> list[Marker]:
    """Where a finding goes on the map; [] when its site cannot be placed (a code from
    another tool's SR, the whole body, an unknown site without levels)."""
    site = _site_name(f)
    levels = tuple(lvl for lvl in ALL_LEVELS if lvl in (f.vertebral_levels or ()))
    if site in _LEVEL_SITES and levels:
        return _level_markers(site, levels, f, _LEVEL_SITES[site], "level")
    name, placed_by = site, "site"
    while name not in REGIONS and name in PARENT and isinstance(f.site, str):
        name, placed_by = PARENT[name], "parent site"
    if name not in REGIONS and isinstance(f.site, str):
        # a finer site of the open vocabulary names its region ("shaft of femur", "head of rib")
        named = [r for r in REGIONS if re.search(rf"\b{re.escape(r)}\b", site)]
        if named:
            name, placed_by = max(named, key=len), "site name"
    if name not in REGIONS:
        if levels:  # a site without a place of its own, but at a known level
            return _level_markers(site, levels, f, 19.0, "level")
        return []
    region = REGIONS[name]
    out = []
    for side in _sides(f):
        if region.fixed_x is not None:
            x = region.fixed_x
        else:
            x = MID + _sign(side) * region.dx
        y = region.y
        if levels and name in ("thorax", "abdomen", "retroperitoneum", "pelvis", "neck",
                               "mediastinum", "posterior mediastinum"):
            y = (level_centre(levels[0]) + level_centre(levels[-1])) / 2  # the level says more
        out.append(Marker(x - MARKER / 2, y - MARKER / 2, MARKER, MARKER, site, side, levels,
                          placed_by))
    return out


# ---- the silhouette ---------------------------------------------------------------------
def _silhouette() -> str:
    m = MID
    body = (f"M{m - 80},142 Q{m},124 {m + 80},142 L{m + 74},262 Q{m + 82},330 {m + 86},402 "
            f"L{m - 86},402 Q{m - 82},330 {m - 74},262 Z")
    arms = "".join(
        f"<path d='M{m + s * 80},142 L{m + s * 104},152 L{m + s * 124},330 L{m + s * 108},336 "
        f"L{m + s * 88},206 Z'/>" for s in (-1, 1))
    legs = "".join(
        f"<path d='M{m + s * 86},402 L{m + s * 4},402 L{m + s * 12},592 L{m + s * 44},592 Z'/>"
        for s in (-1, 1))
    parts = [f"<g class='silhouette' fill='#f3ede6' stroke='#9a8f84' stroke-width='1.2'>"
             f"<circle cx='{m}' cy='50' r='34'/><rect x='{m - 14}' y='82' width='28' height='52'/>"
             f"<path d='{body}'/>{arms}{legs}</g>"]
    organs = ["<g class='organs' fill='#e4dbe9' stroke='#b3a5bd' stroke-width='0.8'>"]
    for name, r in REGIONS.items():
        if not r.outline:
            continue
        centres = ([("right", m - r.dx), ("left", m + r.dx)] if r.paired else
                   [("", r.fixed_x if r.fixed_x is not None else m)])
        for side, cx in centres:
            organs.append(f"<ellipse class='organ' data-region='{_esc(name)}' data-side='{side}' "
                          f"cx='{cx}' cy='{r.y}' rx='{r.rx}' ry='{r.ry}'><title>{_esc(side)} "
                          f"{_esc(name)}</title></ellipse>")
    organs.append("</g>")
    spine = ["<g class='spine' font-size='5' text-anchor='middle' font-family='sans-serif'>"]
    for level, (x, y, w, h) in VERTEBRAE.items():
        spine.append(f"<rect class='vertebra' data-level='{level}' x='{x:g}' y='{y:g}' "
                     f"width='{w:g}' height='{h:g}' rx='1.5' fill='#d8d2c8' stroke='#7d746a' "
                     f"stroke-width='0.5'/><text x='{m}' y='{y + h / 2 + 1.8:g}' "
                     f"fill='#3d3833'>{level}</text>")
    spine.append("</g>")
    sides = (f"<g font-family='sans-serif' font-size='16' font-weight='bold' fill='#555'>"
             f"<text x='14' y='150'>R</text><text x='{WIDTH - 26}' y='150'>L</text></g>")
    return "".join(parts + organs + spine) + sides


def base_defs() -> str:
    """The silhouette and spine once, as an SVG ``<defs>`` block that every map of a page
    uses (``<use href>``): a 1000-patient page stays small."""
    return (f"<svg xmlns='http://www.w3.org/2000/svg' width='0' height='0' style='position:absolute'"
            f" aria-hidden='true'><defs><g id='{BASE_ID}'>{_silhouette()}</g></defs></svg>")


# ---- one patient's map ------------------------------------------------------------------
def _colour(key: str, used: dict[str, str]) -> str:
    if key in used:
        return used[key]
    start = zlib.crc32(key.encode()) % len(PALETTE)
    taken = set(used.values())
    for i in range(len(PALETTE)):  # keep a colour per map distinct
        colour = PALETTE[(start + i) % len(PALETTE)]
        if colour not in taken:
            break
    used[key] = colour
    return colour


def _wrap(text: str, width: int = 78) -> list[str]:
    lines, line = [], ""
    for word in text.split(" "):
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    return lines + ([line] if line else [])


def body_map(result: PatientConcordance, label: str, *, standalone: bool = True) -> str:
    """The SVG body map of one patient. ``standalone=False`` draws the silhouette with
    ``<use>`` of :func:`base_defs` (which the page must hold once)."""
    used: dict[str, str] = {}
    legend: list[tuple[str, str]] = []
    markers, unplaced = [], []
    for n, lesion in enumerate(result.lesions, start=1):
        seen = sorted(p for p, s in lesion.by_procedure.items() if s == "positive")
        missed = sorted(p for p, s in lesion.by_procedure.items() if s == "negative")
        doubtful = sorted(p for p, s in lesion.by_procedure.items() if s == "equivocal")
        key = ("positive on " + (", ".join(seen) if seen else "no imaging (pathology only)")
               + (f"; negative on {', '.join(missed)}" if missed else "")
               + (f"; equivocal on {', '.join(doubtful)}" if doubtful else ""))
        colour = _colour(key, used)
        if (key, colour) not in legend:
            legend.append((key, colour))
        confirmed = lesion.confirmed_by
        hedge = hedged_result([f for _, f in lesion.members])
        where = format_location(lesion.location)
        title = (f"Lesion {n}: {where}; {key}"
                 + (f"; confirmed by {PATHOLOGY}: {format_diagnosis(confirmed)}" if confirmed
                    else "; not confirmed by pathology")
                 + (f"; certainty: {hedge}" if hedge else ""))
        placed = place(lesion.location)
        if not placed:
            unplaced.append(f"{where} ({key})")
        for mk in placed:
            r = mk.w / 2 if mk.w == mk.h else 4
            dash = " stroke-dasharray='3 2'" if hedge else ""
            markers.append(
                f"<rect class='lesion' data-lesion='{n}' data-site='{_esc(mk.site)}' "
                f"data-side='{mk.side}' data-levels='{' '.join(mk.levels)}' "
                f"data-placed-by='{mk.placed_by}' data-seen-by='{_esc('|'.join(seen))}' "
                f"data-not-seen-by='{_esc('|'.join(missed))}' "
                f"data-confirmed='{'true' if confirmed else 'false'}' "
                f"data-certainty='{_esc(hedge or 'definite')}' x='{mk.x:.2f}' y='{mk.y:.2f}' "
                f"width='{mk.w:.2f}' height='{mk.h:.2f}' rx='{r:g}' fill='{colour}' "
                f"fill-opacity='0.9' stroke='{'#000' if confirmed else '#fff'}' "
                f"stroke-width='{2.5 if confirmed else 1}'{dash}><title>{_esc(title)}</title></rect>")
    lines: list[tuple[str, str | None, str]] = []  # (text, swatch colour, swatch style)
    for key, colour in legend:
        for i, text in enumerate(_wrap(key)):
            lines.append((text, colour if i == 0 else None, "plain"))
    lines.append(("black ring: confirmed by histopathology; white edge: not confirmed",
                  "#ffffff", "ring"))
    if any("stroke-dasharray" in m for m in markers):
        lines.append(("dashed edge: hedged finding (possible / probable)", "#ffffff", "dash"))
    if not result.lesions:
        lines.append(("no lesion reported by any procedure of the work-up", None, "plain"))
    for text in unplaced:
        lines.extend((part, None, "plain") for part in _wrap(f"not placed on the map: {text}"))
    height = BODY_HEIGHT + 24 + 13 * len(lines)
    out = [f"<svg xmlns='http://www.w3.org/2000/svg' class='bodymap' role='img' "
           f"viewBox='0 0 {WIDTH} {height}' width='{WIDTH * SCALE:g}' height='{height * SCALE:g}' "
           f"data-midline='{MID:g}' aria-label='{_esc(label)}: body map'>",
           f"<title>{_esc(label)}: body map, {CONVENTION}</title>",
           "<rect width='100%' height='100%' fill='#fff'/>"]
    out.append(f"<g class='base'>{_silhouette()}</g>" if standalone else f"<use href='#{BASE_ID}'/>")
    out.append(f"<text x='{MID:g}' y='14' text-anchor='middle' font-family='sans-serif' "
               f"font-size='11' font-weight='bold'>{_esc(label)}</text>"
               f"<text x='{MID:g}' y='26' text-anchor='middle' font-family='sans-serif' "
               f"font-size='7.5' fill='#444'>{_esc(CONVENTION)}</text>")
    out.extend(markers)
    y = BODY_HEIGHT + 20.0
    out.append("<g class='legend' font-family='sans-serif' font-size='8' fill='#222'>")
    for text, swatch, style in lines:
        if swatch:
            stroke = {"ring": "#000' stroke-width='2.5", "dash": "#333' stroke-dasharray='3 2"}.get(
                style, "#fff")
            out.append(f"<rect x='10' y='{y - 7:g}' width='9' height='9' rx='2' fill='{swatch}' "
                       f"stroke='{stroke}'/>")
        out.append(f"<text x='24' y='{y:g}'>{_esc(text)}</text>")
        y += 13
    out.append("</g></svg>")
    return "".join(out)

