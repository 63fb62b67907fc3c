"""Where a finding lies: site hierarchy, level-dependent sites, and the region schemes used
for neuroblastoma (Curie, SIOPEN).

Planar scintigraphy has no 3D frame of reference shared with MRI, so findings are matched by
coded site, laterality and vertebral level, never by coordinates (ecosystem.md §8).
"""

from __future__ import annotations

from functools import cache

from ..model import Finding
from ..vocab import Code

WHOLE_BODY = "whole body"

# Fixed part of the site hierarchy: child -> parent. "adrenal gland ⊂ retroperitoneum ⊂ abdomen".
PARENT: dict[str, str] = {
    "neck": WHOLE_BODY, "thorax": WHOLE_BODY, "abdomen": WHOLE_BODY, "pelvis": WHOLE_BODY,
    "mediastinum": "thorax", "posterior mediastinum": "mediastinum",
    "retroperitoneum": "abdomen", "adrenal gland": "retroperitoneum", "kidney": "retroperitoneum",
    "liver": "abdomen", "spine": WHOLE_BODY, "vertebra": "spine", "bone marrow": WHOLE_BODY,
}
# Sites whose place depends on the vertebral level: a paravertebral mass at T9/10 lies in the
# posterior mediastinum (thorax), at T12-L2 in the retroperitoneum (abdomen).
LEVEL_DEPENDENT = {"paravertebral", "sympathetic trunk"}
_LEVEL_PARENT = {"C": "neck", "T": "posterior mediastinum", "L": "retroperitoneum", "S": "pelvis"}
# T12 lies below the diaphragm's posterior attachment: its paravertebral space is retroperitoneal.
_RETROPERITONEAL_THORACIC = {"T12"}
# Paired organs take a plain adjective ("left adrenal gland"); regions take "left-sided".
PAIRED_ORGANS = {"adrenal gland", "kidney"}
SOFT_TISSUE = {"paravertebral", "sympathetic trunk", "adrenal gland", "kidney", "liver",
               "retroperitoneum", "mediastinum", "posterior mediastinum", "thorax", "abdomen",
               "pelvis", "neck", "lymph node"}


def _level_parent(level: str) -> str:
    if level in _RETROPERITONEAL_THORACIC:
        return "retroperitoneum"
    return _LEVEL_PARENT[level[0]]


@cache
def _chain(site: str) -> tuple[str, ...]:
    out = [site]
    while out[-1] in PARENT:
        out.append(PARENT[out[-1]])
    return tuple(out)


def ancestors(finding: Finding) -> frozenset[str | Code]:
    """The finding's site and every site containing it (whole body included). A coded site
    without a dicomtools name (read from another tool's SR) is outside the hierarchy: it
    contains, and is contained in, only itself."""
    site = finding.site
    if site is None or site == WHOLE_BODY:
        return frozenset({WHOLE_BODY})
    if isinstance(site, Code):
        return frozenset({site})
    if site in LEVEL_DEPENDENT:
        levels = finding.vertebral_levels or ("T1", "L1", "C1", "S1")  # unknown: anywhere along
        out = {site}
        for level in levels:
            out.update(_chain(_level_parent(level)))
        return frozenset(out)
    return frozenset(_chain(site))


def laterality_compatible(a: Finding, b: Finding) -> bool:
    sides = {a.laterality, b.laterality} - {None, "bilateral"}
    return len(sides) <= 1


def levels_overlap(a: Finding, b: Finding) -> bool:
    if not a.vertebral_levels or not b.vertebral_levels:
        return True
    return bool(set(a.vertebral_levels) & set(b.vertebral_levels))


def same_place(a: Finding, b: Finding) -> bool:
    """Could two findings be the same lesion? Equal or nested sites (through the hierarchy,
    levels included), compatible laterality, overlapping levels."""
    if not (laterality_compatible(a, b) and levels_overlap(a, b)):
        return False
    if a.site is None or b.site is None:
        return False
    return a.site == b.site or a.site in ancestors(b) or b.site in ancestors(a)


def covers(negative: Finding, lesion: Finding) -> bool:
    """Does a negative statement over ``negative``'s site speak for ``lesion``'s place?
    'No abnormal uptake in the whole body' covers everything; 'abdomen unremarkable' covers an
    adrenal mass but not a thoracic paravertebral one."""
    if negative.site in (None, WHOLE_BODY):
        return True
    return (negative.site in ancestors(lesion) and laterality_compatible(negative, lesion)
            and levels_overlap(negative, lesion))


# ---- region schemes -----------------------------------------------------------------
# Curie: nine skeletal sectors and a tenth for soft tissue (MIBG extent score).
CURIE_REGIONS = (
    "1 head and face", "2 cervical and thoracic spine", "3 ribs and sternum",
    "4 lumbar and sacral spine", "5 pelvis (bone)", "6 upper arms", "7 forearms and hands",
    "8 thighs", "9 legs and feet", "10 soft tissue",
)
# SIOPEN: twelve skeletal segments; soft tissue is not scored.
SIOPEN_REGIONS = (
    "skull", "thoracic cage", "proximal right upper limb", "distal right upper limb",
    "proximal left upper limb", "distal left upper limb", "spine", "pelvis",
    "proximal right lower limb", "distal right lower limb", "proximal left lower limb",
    "distal left lower limb",
)
SCHEMES = {"curie": CURIE_REGIONS, "siopen": SIOPEN_REGIONS}


def scheme_regions(finding: Finding, scheme: str) -> frozenset[str] | None:
    """Regions of a scheme a finding falls in; empty = outside the scheme (soft tissue in
    SIOPEN); None = cannot be placed (unknown site)."""
    site = finding.site
    if site == WHOLE_BODY:
        return frozenset(SCHEMES[scheme])
    if site in ("vertebra", "spine"):
        if scheme == "siopen":
            return frozenset({"spine"})
        levels = finding.vertebral_levels or ("C1", "L1")
        return frozenset("2 cervical and thoracic spine" if lvl[0] in "CT"
                         else "4 lumbar and sacral spine" for lvl in levels)
    if site in SOFT_TISSUE:
        return frozenset({"10 soft tissue"}) if scheme == "curie" else frozenset()
    return None
