"""Vertebral levels in report prose: "T11-L1", "Th12/L1", "D12", "at the level of L4 and L5",
"the fifth lumbar vertebra"; a lone "T1"/"T2" is an MR sequence unless the words say level or
vertebra, and "T3N1M0", "pT3" are tumour stages."""

from __future__ import annotations

import re

from ..errors import InputError
from ..levels import expand_levels
from .mentions import Mention
from .patterns import _LEVEL_AS_SITE, _LEVEL_CONTEXT, _LEVEL_RANGE


def levels(clean: str) -> list[Mention]:
    out = []
    for m in _LEVEL_RANGE.finditer(clean):
        first, second = m.group(1), m.group(2)
        before = clean[max(0, m.start() - 40):m.start()]
        after = clean[m.end():m.end() + 12].lower()
        site_cue = _LEVEL_AS_SITE.search(before)
        # "a lesion at C7." names the vertebra; "a mass at T12-L1 left paravertebral" a place of its own
        as_site = site_cue is not None and not (re.search(r"\bat(?: the)? $", site_cue.group())
                                                and not re.match(r"\s*(?:[.,;:)]|$|vertebra)", clean[m.end():]))
        if second is None and not as_site and not _LEVEL_CONTEXT.search(before) and not after.startswith(
                (" vertebra", " level", " vertebral", "-level")) and not _LONE_LEVEL.fullmatch(first):
            continue  # a lone "T2" is a sequence unless the words say "level"/"vertebra"
        if (second is None and _TNM.match(clean, m.end())) or _TNM_PREFIX.search(before):
            continue  # "T3N1M0", "pT3": a tumour stage
        if second is not None and not second[0].isalpha() and "/" not in m.group() \
                and not _LEVEL_CONTEXT.search(before) and " and " in m.group():
            continue
        level_words = _LEVEL_CONTEXT.search(before) or after.startswith((" vertebra", " level", "-level"))
        if second is not None and _SEQUENCE_PAIR.fullmatch(m.group()) and not level_words:
            continue  # "signal on T1 and T2": two MR sequences
        joined = re.search(r"\band\b", m.group()) is not None  # "T9 and T11": two levels, no range
        text = first if second is None else f"{first}{',' if joined else '-'}{second}"
        text = _DORSAL.sub("T", text)
        try:
            levels = tuple(lv for part in text.split(",") for lv in expand_levels(_with_letter(part, first)))
        except InputError:
            continue
        if len(levels) > 12:
            continue
        out.append(Mention("levels", m.start(), m.end(), levels))
        if as_site:
            out.append(Mention("site", m.start(), m.end(), "vertebra"))
    return out


_DORSAL = re.compile(r"(?:^|(?<=-)|(?<=,))(?:Th|D)(?= ?\d)")
_SEQUENCE_PAIR = re.compile(r"T ?1 ?(?:/|-|and|,) ?T? ?2|T ?2 ?(?:/|-|and|,) ?T? ?1", re.IGNORECASE)


def _with_letter(part: str, first: str) -> str:
    """"L4 and 5": the second level takes the first one's region letter."""
    part = part.strip()
    return part if part[:1].isalpha() else _DORSAL.sub("T", first).rstrip("0123456789 ") + part
# A lone level that no MR sequence is called ("the T8 lesion", "L4", "Th12"; not T1, T2, D2).
_LONE_LEVEL = re.compile(r"(?:T ?(?:[3-9]|1[0-2])|C ?[1-7]|L ?[1-5]|S ?[1-5]|Th ?\d{1,2})")
_TNM = re.compile(r" ?[NM][0-3xX]")
_TNM_PREFIX = re.compile(r"\b[pcy]$|stage $|\bT-?stage $", re.IGNORECASE)


# "the 5th - 6th thoracic vertebra", "fifth lumbar vertebra": ordinal levels
_ORDINAL_LEVEL = re.compile(r"\b(\d{1,2})(?:st|nd|rd|th)(?: ?(?:-|to|and|/) ?(\d{1,2})(?:st|nd|rd|th))? "
                            r"(cervical|thoracic|dorsal|lumbar|sacral) (?:vertebra\w{0,2}|vertebral|level|spine)",
                            re.IGNORECASE)
_REGION_LETTER = {"cervical": "C", "thoracic": "T", "dorsal": "T", "lumbar": "L", "sacral": "S"}


def ordinal_levels(clean: str) -> list[Mention]:
    out = []
    for m in _ORDINAL_LEVEL.finditer(clean):
        letter = _REGION_LETTER[m.group(3).lower()]
        text = f"{letter}{m.group(1)}" + (f"-{letter}{m.group(2)}" if m.group(2) else "")
        try:
            levels = expand_levels(text)
        except InputError:
            continue
        out.append(Mention("levels", m.start(), m.end(), levels))
    return out


