"""The place a report's labelled section is about: "Right thyroid lobe: ...", "LIVER: ...",
"Left adrenal: ..." name the site of the findings under them that name none themselves
("Nodule 1: Solid. Measures 1.2 x 0.8 x 1.0 cm." is in the right thyroid lobe). A body
region ("Chest:", "Abdomen:") is a part of the report, not a finding's place: its findings
name their own.

A label naming only a part and a side ("RIGHT LOBE:", "Left lobe:", "ISTHMUS:") is that part
of the organ the examination is of: the one site its title or technique line names
("Realtime ultrasonography of the thyroid gland"). A label naming neither a place nor a
finding ("Bones:", "Vascularity:") ends the section; one naming a finding ("Nodule 2:") is
inside it; "Findings:" / "Impression:" end it.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from . import prose
from .frames import REGIONS, Draft
from .lists import own_laterality
from .mentions import find_mentions, places_in

# A part of an organ a label may name alone: the organ is the examination's.
_PART = re.compile(r"\W{0,3}(?:(right|left)\s+)?(?:lobes?|poles?|isthmus|segments?|sides?)\W{0,3}$",
                   re.IGNORECASE)
_TECHNIQUE = re.compile(r"\W{0,3}(?:technique|exam(?:ination)?|study|procedure|protocol)\W{0,3}$",
                        re.IGNORECASE)


class SectionPlaces:
    """Tracks the labelled section a sentence is in and fills its findings' site."""

    def __init__(self) -> None:
        self.organ: str | None = None  # what the examination is of (title, technique line)
        self.place: tuple[str, str | None] | None = None  # the section's (site, side)
        self._lines = 0

    def enter(self, clean: str, line_start: bool) -> None:
        """Read a sentence's label (if it opens a line) before its findings are read."""
        if not line_start:
            return
        self._lines += 1
        if self._lines <= 2 and self.organ is None:
            # a title line: "Thyroid Ultrasound Interpretation", "US: Thyroid gland"
            self.organ = _one_site(clean)
        label = prose.section_label(clean)
        if label is None:
            return
        kind, end = label
        name = clean[:end]
        if kind != "other":
            if _TECHNIQUE.match(name.rstrip(": ")) and self.organ is None:
                self.organ = _one_site(clean[end:])
            self.place = None
            return
        places = label_places(name)
        part = _PART.match(name.rstrip(": "))
        if places:
            self.place = places[0]
        elif part and self.organ is not None:
            self.place = (self.organ, part.group(1).lower() if part.group(1) else None)
        elif not any(m.kind == "anchor" for m in find_mentions(name)):
            self.place = None  # "Bones:", "Vascularity:": another section

    def fill(self, drafts: list[Draft]) -> None:
        """Give the section's place to the findings just read that name no site."""
        if self.place is None:
            return
        site, side = self.place
        for draft in drafts:
            if draft.values.get("site") is None:
                draft.fill("site", site)
                draft.fill("laterality", side)


def _one_site(text: str) -> str | None:
    places = label_places(text)
    sites = {site for site, _ in places}
    return sites.pop() if len(sites) == 1 else None


def label_places(text: str) -> list[tuple[str, str | None]]:
    """(site, side) of each site a label names: "Right thyroid lobe" -> (thyroid, right)."""
    sites, sides = places_in(text)
    return [(m.value, own_laterality(text, m, sides)) for m in sites if m.value not in REGIONS]


# A list line: "• Multiple bilateral ribs", "- Proximal left femur", "2) Right ilium".
_BULLET = re.compile(r"\W{0,2}(?:[\u2022*\u00b7\u25aa\u25e6-]|\d{1,2}[.)]|[a-h][.)])\s")


class PlaceList:
    """A finding told with a colon and no place ("focal areas of increased uptake involving:"),
    then one line per place ("• Multiple bilateral ribs", "• Proximal left femur"): one finding
    per line, with that line's place and side."""

    def __init__(self) -> None:
        self.template: Draft | None = None
        self.items = 0

    def item(self, clean: str, line_start: bool, drafts: list[Draft], evidence: Any) -> bool:
        """Read a line as an item of the open list; True when it was one (nothing else to read)."""
        if self.template is None:
            return False
        if not (line_start and _BULLET.match(clean)) or any(
                m.kind in ("anchor", "procedure") for m in find_mentions(clean)):
            self.template = None  # the list ended
            return False
        places = label_places(clean)
        if not places:
            return False
        if self.items == 0 and self.template in drafts:
            drafts.remove(self.template)  # the list names its places: the placeless one goes
        for site, side in places:
            copy = replace(self.template, values=dict(self.template.values),
                           evidence=[*self.template.evidence, evidence])
            copy.values["site"] = site
            copy.values["laterality"] = side or self.template.values.get("laterality")
            drafts.append(copy)
        self.items += 1
        return True

    def opens(self, clean: str, new: list[Draft]) -> None:
        """After a sentence: does it open a list of places for its (placeless) finding?"""
        if not clean.rstrip().endswith(":"):
            return
        found = [d for d in new if d.present is True and not d.study_level and not d.values.get("site")]
        if found:
            self.template, self.items = found[-1], 0
