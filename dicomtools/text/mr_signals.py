"""MR properties a sentence names: T1/T2 signal (with the sequence it is said of), diffusion
restriction and ADC values, enhancement degree and pattern, and the contrast agent.

Split from ``mentions`` (one module per kind of mention family); the same linear-time
patterns of ``patterns.py``.
"""

from __future__ import annotations

import re

from .mentions import Mention, _number
from .patterns import (
    _ADC_VALUE,
    _AGENT_TERM,
    _AGENTS,
    _DEGREE,
    _DIFF_NO,
    _DIFF_YES,
    _ENH_BARE,
    _ENH_NONE,
    _ENH_POST,
    _ENH_PRE,
    _NATIVE,
    _PATTERN,
    _POST_CONTRAST,
    _SEQ_FIRST,
    _SEQ_PAIR,
    _SEQ_VERB,
    _SIG_FIRST,
    _STIR_FIRST,
    _WORD_SEQ,
)


def signals(clean: str) -> list[Mention]:
    out = []

    def add(m: re.Match[str], seq: str, word: str, pos: int) -> None:
        value = _signal_value(word)
        if value is None:
            return
        field = "t1_signal" if seq.upper() == "T1" else "t2_signal"
        out.append(Mention(field, m.start(), m.end(), (value, pos)))

    for m in _SEQ_FIRST.finditer(clean):
        word = m.group(2) or m.group(3)
        if word:
            add(m, "T" + m.group(1), word, m.start())
    for m in _SIG_FIRST.finditer(clean):
        word = m.group(1) or m.group(2)
        seqs = [m.group(3)] + ([m.group(4)] if m.group(4) else [])
        for seq in seqs:
            seq = "T2" if seq.upper() in ("STIR", "TIRM") else seq
            add(m, seq, word, m.start(m.lastindex if m.lastindex else 0))
    for m in _SEQ_PAIR.finditer(clean):
        add(m, "T" + m.group(1), m.group(3), m.start())
        add(m, "T" + m.group(2), m.group(3), m.start())
    for m in _STIR_FIRST.finditer(clean):
        add(m, "T2", m.group(1), m.start())
    for m in _SEQ_VERB.finditer(clean):
        add(m, "T" + m.group(1), m.group(2), m.start())
    for m in _WORD_SEQ.finditer(clean):
        add(m, "T" + m.group(2), m.group(1), m.start())
    # "On the T2-weighted sequence, the lesion ... showed regions of hyperintensity",
    # "T2-weighted MR shows a mass with high signal intensity": a signal word without its
    # own sequence is the signal of the sequence named last before it in the sentence
    sequences = [(m.start(), "T" + m.group(1)) for m in _SEQUENCE.finditer(clean)]
    if sequences:
        for m in _BARE_SIGNAL.finditer(clean):
            if any(o.start <= m.start() < o.end or m.start() <= o.start < m.end() for o in out):
                continue
            before = [seq for pos, seq in sequences if pos < m.start()]
            if before and not _CONTRAST_SEQ.search(clean, max(0, m.start() - 60), m.start()):
                add(m, before[-1], m.group(1) or m.group(2), m.start())
    return out


_SEQUENCE = re.compile(r"\bT([12])(?:[- ]?(?:weighted|wieghted|w\b|wi\b)|(?= (?:images?|sequences?)\b)"
                       r"|(?= (?:hetero|homo)\w{0,10} (?:hyper|hypo|iso)))", re.IGNORECASE)
_BARE_SIGNAL = re.compile(r"\b(?:(hyper|hypo|iso)-? ?intens\w{0,5}|"
                          r"(high|low|intermediate|increased|decreased)(?:[- ]to[- ]\w{2,12})?[- ]signal)\b",
                          re.IGNORECASE)
# a post-contrast T1 image shows enhancement, not T1 signal
_CONTRAST_SEQ = re.compile(r"contrast|gadolinium|post-?gad|enhanc", re.IGNORECASE)


def _signal_value(word: str) -> str | None:
    word = word.lower()
    if word in ("hyper", "high", "bright", "increased"):
        return "hyper"
    if word in ("hypo", "low", "dark", "decreased"):
        return "hypo"
    if word in ("iso", "intermediate"):
        return "iso"
    return None


def is_post_contrast(clean: str, mention: Mention) -> bool:
    """Is a T1 brightness said of a post-contrast image (then it is enhancement, not signal)?
    Looks at the words just before the mention and after it up to the next 'and'/comma."""
    before = clean[max(0, mention.start - 25):mention.start]
    after = clean[mention.end:mention.end + 45]
    stop = re.search(r",|;|\.(?!\d)| and ", after)
    after = after[:stop.start()] if stop else after
    if _NATIVE.search(clean[max(0, mention.start - 25):mention.end]):
        return False
    return bool(_POST_CONTRAST.search(before) or _POST_CONTRAST.search(after))


_DIFF_PARTIAL = re.compile(r"\b(?:no|without|not) (?:strong|marked|much|major|severe|avid)(?: (?:or|and) \w+)? $",
                           re.IGNORECASE)


def diffusion(clean: str) -> list[Mention]:
    out = [Mention("diffusion_restricted", m.start(), m.end(), False) for m in _DIFF_NO.finditer(clean)]
    for m in _DIFF_YES.finditer(clean):
        if _DIFF_PARTIAL.search(clean, max(0, m.start() - 30), m.start()):
            continue  # "no strong diffusion restriction": a partial negative, neither yes nor no
        if not any(o.start <= m.start() < o.end or m.start() <= o.start < m.end() for o in out):
            out.append(Mention("diffusion_restricted", m.start(), m.end(), True))
    for m in _ADC_VALUE.finditer(clean):
        unit = m.group(3).replace("^", "").replace(" ", "").lower()
        unit = {"mm2s-1": "mm2/s"}.get(unit, unit)
        if m.group(2) and unit == "mm2/s":
            unit = f"10-{m.group(2)}.mm2/s"
        out.append(Mention("adc", m.start(), m.end(), (_number(m.group(1)), unit)))
    return out


def enhancement(clean: str) -> list[Mention]:
    out = [Mention("enhancement", m.start(), m.end(), ("none", None)) for m in _ENH_NONE.finditer(clean)]
    for rx in (_ENH_PRE, _ENH_POST):
        for m in rx.finditer(clean):
            if any(o.start <= m.start() < o.end for o in out):
                continue
            words = re.findall(r"[a-z]+", m.group(1).lower())
            degree = next((_DEGREE[w] for w in words if w in _DEGREE), None)
            pattern = next((_PATTERN[w] for w in words if w in _PATTERN), None)
            out.append(Mention("enhancement", m.start(), m.end(), (degree, pattern)))
    for m in _ENH_BARE.finditer(clean):
        if not any(o.start <= m.start() < o.end or m.start() <= o.start < m.end() for o in out):
            out.append(Mention("enhancement", m.start(), m.end(), (None, None)))
    for m in _AGENTS.finditer(clean):
        word = m.group(1).lower()
        if word == "gd" and not re.match(r" ?(?:-|contrast|based|chelate)", clean[m.end():m.end() + 10]):
            continue
        term = next((t for k, t in _AGENT_TERM.items() if word.startswith(k)), "gadolinium")
        out.append(Mention("contrast_agent", m.start(), m.end(), term))
    return out
