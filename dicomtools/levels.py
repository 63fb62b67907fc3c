"""Vertebral levels: parse "T9/10", "T 9/10", "T11 to L1", "T11-L1", "C4–T1" into expanded
level lists, and map each level C1..S5 to its SNOMED CT vertebra code.

A *level* says where along the spine something lies. Whether a finding lies *in* a vertebra or
merely *at the level of* it is the finding's site ("vertebra" vs e.g. "paravertebral"), not a
property of the level list.
"""

from __future__ import annotations

import re
from itertools import pairwise

from .errors import InputError
from .vocab import Code

_COUNTS = {"C": 7, "T": 12, "L": 5, "S": 5}
ALL_LEVELS: tuple[str, ...] = tuple(
    f"{region}{n}" for region in "CTLS" for n in range(1, _COUNTS[region] + 1)
)
_INDEX = {name: i for i, name in enumerate(ALL_LEVELS)}

# C1-L5 are in CID 7603 (checked against pydicom in tests); S1-S5 are SNOMED CT body
# structures outside PS3.16 (two independent public lists agree; see sr-coding.md §3.5).
_SCT = {
    "C1": "14806007", "C2": "39976000", "C3": "113205007", "C4": "5329002", "C5": "36978003",
    "C6": "36054005", "C7": "87391001", "T1": "64864005", "T2": "53733008", "T3": "1626008",
    "T4": "73071006", "T5": "56401006", "T6": "45296009", "T7": "62487009", "T8": "11068009",
    "T9": "82687006", "T10": "7610001", "T11": "12989004", "T12": "23215003", "L1": "66794005",
    "L2": "14293000", "L3": "36470004", "L4": "11994002", "L5": "49668003", "S1": "65985001",
    "S2": "11808007", "S3": "49967005", "S4": "69950008", "S5": "21452006",
}
_MEANING = {lvl: (f"{lvl} vertebra" if lvl[0] != "S" else
                  f"Structure of {['first', 'second', 'third', 'fourth', 'fifth'][int(lvl[1:]) - 1]}"
                  " sacral vertebra") for lvl in ALL_LEVELS}
LEVEL_CODES: dict[str, Code] = {lvl: Code(_SCT[lvl], "SCT", _MEANING[lvl]) for lvl in ALL_LEVELS}
CODE_LEVELS: dict[Code, str] = {code: lvl for lvl, code in LEVEL_CODES.items()}

# One level: region letter, optional space, number. Bounded quantifiers keep matching linear.
_ONE = r"([CTLS])\s?(\d{1,2})"
_RANGE = re.compile(
    rf"^\s*{_ONE}\s?(?:(?:/|-|–|—|to|through|till|until)\s?(?:([CTLS])\s?)?(\d{{1,2}}))?\s*$",
    re.IGNORECASE,
)


# "Th12" (thoracic, as European reports write it) is T12.
_TH = re.compile(r"\bth(?=\s?\d)", re.IGNORECASE)


def normalise_level(text: str) -> str:
    """'t 9' -> 'T9', 'Th12' -> 'T12'; raises InputError for anything that is not C1..S5."""
    match = re.fullmatch(_ONE, _TH.sub("T", text.strip()), re.IGNORECASE)
    if not match:
        raise InputError(f"vertebral level {text!r} is not a level such as T9 or L1")
    name = f"{match.group(1).upper()}{int(match.group(2))}"
    if name not in _INDEX:
        raise InputError(f"vertebral level {text!r} does not exist (valid: C1-C7, T1-T12, L1-L5, S1-S5)")
    return name


def expand_levels(text: str) -> tuple[str, ...]:
    """Expand a level or range: 'T9/10' -> ('T9', 'T10'); 'T11 to L1' -> ('T11', 'T12', 'L1')."""
    match = _RANGE.match(_TH.sub("T", text).replace("Th", "T").replace("TH", "T"))
    if not match:
        raise InputError(f"vertebral level range {text!r} is not understood (e.g. 'T9/10', 'T11-L1')")
    first = normalise_level(f"{match.group(1)}{match.group(2)}")
    if match.group(4) is None:
        return (first,)
    last_region = match.group(3) or match.group(1)
    last = normalise_level(f"{last_region}{match.group(4)}")
    lo, hi = _INDEX[first], _INDEX[last]
    if hi < lo:
        raise InputError(f"vertebral level range {text!r} runs upwards ({first} is below {last})")
    return ALL_LEVELS[lo:hi + 1]


def is_contiguous(levels: tuple[str, ...]) -> bool:
    """True when the levels are consecutive and in cranio-caudal order."""
    idx = [_INDEX[lvl] for lvl in levels]
    return all(b == a + 1 for a, b in pairwise(idx))


def format_levels(levels: tuple[str, ...]) -> str:
    """('T11', 'T12', 'L1') -> 'T11-L1'; ('T9', 'T10') -> 'T9/10'; others joined by ', '."""
    if not levels:
        return ""
    if len(levels) == 1:
        return levels[0]
    if is_contiguous(levels):
        first, last = levels[0], levels[-1]
        if len(levels) == 2 and first[0] == last[0]:
            return f"{first}/{last[1:]}"
        return f"{first}-{last}"
    return ", ".join(levels)
