"""Measurements in prose ("SUVmax 8.2", "SUV max = 38", "28 HU"), read through the report
templates' own spellings (``says`` of each template measurement), never a hand list.

A spelling is the name of a measurement; what it adds to the shortest spelling of the same
measurement names the derivation ("SUV" + "max" -> maximum, "SUVpeak" -> peak value within
ROI) through the generated derivation table. A spelling that is itself a unit ("HU") is read
after the number ("28 HU"); any other before it ("SUVmax 8.2", "SUV max of 4.07"). The value
takes the template's first unit. ADC has fields of its own (mentions.py) and is left out.

Linear: one compiled alternation per measurement, bounded gaps, run on one sentence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from .. import terms
from ..errors import InputError

_NUM = r"(\d{1,5}(?:[.,]\d{1,3})?)"
_SKIP = {"apparent diffusion coefficient"}  # the finding's own ADC fields hold it


@dataclass(frozen=True, slots=True)
class _Spec:
    pattern: re.Pattern[str]
    concept: terms.Term
    unit: str
    derivations: dict[str, terms.Term | None]  # lower-cased spelling -> derivation
    after_number: bool


@cache
def _specs() -> tuple[_Spec, ...]:
    from ..sr.templates import report_templates  # the templates name what a report measures
    out: list[_Spec] = []
    seen: set[tuple[str, str]] = set()
    for template in report_templates():
        for m in template.measurements:
            if not m.says or str(m.concept) in _SKIP:
                continue
            base = min(m.says, key=len)
            derivations: dict[str, terms.Term | None] = {}
            for say in m.says:
                rest = say[len(base):].strip(" -") if say.lower().startswith(base.lower()) else ""
                derivation = terms.lookup("derivation", rest) if rest else None
                if derivation is not None and m.derivations and derivation not in m.derivations:
                    derivation = None
                derivations[re.sub(r"[\s-]", "", say.lower())] = derivation
            key = (str(m.concept), base.lower())
            if key in seen:
                continue
            seen.add(key)
            unit = m.units[0]
            unit_words = [s for s in m.says if _is_unit(s, m.units) or s.lower().endswith(("unit", "units"))]
            names = list(m.says)
            if names:
                alternation = "|".join(_spelling(s, base) for s in sorted(names, key=len, reverse=True))
                out.append(_Spec(re.compile(
                    rf"\b({alternation})\b(?:\s?(?:=|:|of|was|is|were|measured|measuring|value of|"
                    rf"up to|approximately|about|~))*\s?\(?\s?{_NUM}(?!\s?(?:%|mm|cm|x))",
                    re.IGNORECASE), m.concept, unit, derivations, False))
            if unit_words:
                alternation = "|".join(_spelling(s, s) for s in sorted(unit_words, key=len, reverse=True))
                out.append(_Spec(re.compile(rf"(?<![\w.,]){_NUM}\s?({alternation})\b", re.IGNORECASE),
                                 m.concept, unit, {}, True))
    return tuple(out)


def _spelling(say: str, base: str) -> str:
    """'SUVmax' also matches 'SUV max' and 'SUV-max' (a space or hyphen may follow the base
    spelling and stand between words)."""
    if say.lower().startswith(base.lower()) and len(say) > len(base):
        say = f"{say[:len(base)]} {say[len(base):]}"
    return r"[\s-]?".join(re.escape(part) for part in re.split(r"[\s-]+", say) if part)


def _is_unit(say: str, units: tuple[str, ...]) -> bool:
    try:
        return terms.unit_code(say).value in units
    except InputError:  # not a unit spelling at all
        return False


@dataclass(frozen=True, slots=True)
class Measured:
    """A measurement read in a sentence: what the Measurement of a finding is made from."""

    concept: terms.Term
    value: float
    unit: str
    derivation: terms.Term | None


def find_measurements(clean: str) -> list[tuple[int, int, Measured]]:
    """(start, end, measurement) for every measurement a normalised sentence states."""
    out: list[tuple[int, int, Measured]] = []
    for spec in _specs():
        for m in spec.pattern.finditer(clean):
            if spec.after_number:
                number, derivation = m.group(1), None
            else:
                number = m.group(2)
                derivation = spec.derivations.get(re.sub(r"[\s-]", "", m.group(1).lower()))
            value = float(number.replace(",", "."))
            if any(s < m.end() and m.start() < e for s, e, _ in out):
                continue
            out.append((m.start(), m.end(), Measured(spec.concept, value, spec.unit, derivation)))
    out.sort(key=lambda t: t[0])
    return out


GATE = ("suv", "hu", "hounsfield", "axis", "mtv", "metabolic")
