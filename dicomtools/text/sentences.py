"""Report text -> sentences with character offsets, and each sentence's normalised form.

Published report text is hard-wrapped, hyphenated at line ends ("scin-\\ntigraphy"), broken
by page columns in mid-sentence ("did not\\n\\nreveal"), and full of abbreviations that end
in a full stop ("Fig. 1", "et al.", "e.g."). A sentence keeps its offsets into the original
text so every extracted finding can point back at the words it came from; the matching is
done on a normalised copy (see :func:`normalise`).

Everything here is linear in the input: one left-to-right scan with simple regexes, and a
sentence is never longer than :data:`MAX_SENTENCE` characters (longer runs are cut), so the
per-sentence matching that follows is bounded too.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

#: A run of text without any sentence boundary is cut after this many characters. Real
#: sentences are far shorter; the cap bounds the cost of every per-sentence regex.
MAX_SENTENCE = 1500

# Candidate boundaries: terminal punctuation followed by white space, or a newline.
_CANDIDATE = re.compile(r"[.!?](?=[\s\"')\]]{1,4})|\n")
# Words whose full stop does not end a sentence ("Fig. 1", "et al. [3]", "approx. 2 cm").
_ABBREVIATIONS = frozenset(["fig", "figs", "tab", "no", "nr", "vs", "ca", "approx", "resp", "incl", "e.g", "i.e",
                            "al", "et", "dr", "mr", "mrs", "ms", "prof", "st", "cf", "ref", "refs", "vol", "pp", "p",
                            "min", "max", "sec", "inj", "i.v", "iv", "mo", "yr", "yrs", "wk", "wks"])
_WORD_BEFORE = re.compile(r"([A-Za-z][A-Za-z.]{0,11})$")
_BULLET = re.compile(r"[ \t]{0,8}(?:[-*\u2013\u2014\u2022\u2023\u2043\u25aa\u25cf\u25e6\u00b7]|\d{1,2}[.)])[ \t]")
_LINE_END = (".", "!", "?", ":", ";")


@dataclass(frozen=True, slots=True)
class Sentence:
    """One sentence: ``text[start:end] == raw``; ``clean`` is what the matchers read."""

    start: int
    end: int
    raw: str
    # computed once: the matchers read it several times per sentence
    clean: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "clean", normalise(self.raw))


# Characters mapped one to one before matching; why: reports mix typographic symbols
# (2.6 × 1.1 cm, T11–L1, 10⁻³ mm²/s, μl) with their ASCII forms, the patterns know ASCII.
_TRANSLATE = str.maketrans({
    "\u00d7": "x", "\u2715": "x", "\u2716": "x", "\u22c5": ".", "\u00b7": ".",
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2212": "-",
    "\u207b": "-", "\u00b2": "2", "\u00b3": "3", "\u00b5": "u", "\u03bc": "u",
    "\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u00a0": " ", "\u2009": " ",
    "\u202f": " ", "\u200b": "", "\ufeff": "", "\u00ad": "", "\t": " ", "\r": " ",
})
# A hyphen at a line end between lower-case letters joins a word ("scin-\ntigraphy");
# elsewhere ("I-\n123", "Recovery-\nMagnitude", "T2-\nhyperintense") the hyphen is real.
_SOFT_HYPHEN = re.compile(r"(?<=[a-z])-[ \t]{0,4}\n[ \t\n]{0,20}(?=[a-z])")
_HARD_HYPHEN = re.compile(r"-[ \t]{0,4}\n[ \t\n]{0,20}")
_SPACES = re.compile(r"\s+")
# Isotopes written as a bracket or a parenthesised mass ("[18F]DOPA", "[123I]I-mIBG", "(123)I-MIBG")
# are read as the hyphenated form the patterns know ("18F-DOPA", "123I-mIBG").
_BRACKET_ISOTOPE = re.compile(r"\[(\d{1,3}m?) ?([A-Z][a-z]?)\] ?-?(?:\2-)?(?=\w)")  # "[68Ga]Ga-DOTATATE"
_PAREN_ISOTOPE = re.compile(r"\((\d{1,3}m?)\) ?([A-Z][a-z]?)\b")


def normalise(raw: str) -> str:
    """ASCII-ish single-spaced text: line-end hyphenation undone, symbols mapped."""
    text = unicodedata.normalize("NFKC", raw).translate(_TRANSLATE)
    text = _SOFT_HYPHEN.sub("", text)
    text = _HARD_HYPHEN.sub("-", text)
    if "[" in text or "(" in text:
        text = _PAREN_ISOTOPE.sub(r"\1\2", _BRACKET_ISOTOPE.sub(r"\1\2-", text))
    return _SPACES.sub(" ", text).strip()


def _is_boundary(text: str, pos: int, char: str) -> bool:
    """Is the candidate at ``pos`` (a full stop etc. or a newline) a sentence end?"""
    if char == "\n":
        return _newline_boundary(text, pos)
    after = text[pos + 1:pos + 40].lstrip(" \t\"')]\n")
    if not after:
        return True
    if char == "." :
        match = _WORD_BEFORE.search(text, max(0, pos - 12), pos)
        if match and match.group(1).lower().rstrip(".") in _ABBREVIATIONS:
            return False
        if match and len(match.group(1)) == 1 and match.group(1).isupper():
            return False  # an initial: "J. Smith", "L. = liver"
    # A new sentence starts with a capital, a digit, a bracket or a quote; after a full stop
    # and a paragraph break, or before a short line of its own ("ct", "mri": a lower-case
    # section heading), in any case.
    if char == "." and _HEADING_AFTER.match(text, pos + 1):
        return True
    return _starts_sentence(after) or after[0] in "[(\"'"


# Words that start a sentence in lower case: "mIBG", "iPET", "mpMRI" (lower-case prefix,
# then capitals).
_MIXED_CASE = re.compile(r"[a-z]{1,3}[A-Z]{2}")


def _starts_sentence(after: str) -> bool:
    return after[0].isupper() or after[0].isdigit() or bool(_MIXED_CASE.match(after))


def _newline_boundary(text: str, pos: int) -> bool:
    """A line break ends a sentence after a heading, before a bullet, or at a paragraph
    break whose next line starts with a capital (page breaks inside a sentence continue
    in lower case: "did not\\n\\nreveal")."""
    line_start = text.rfind("\n", max(0, pos - MAX_SENTENCE), pos) + 1
    line = text[line_start:pos].strip()
    rest = text[pos + 1:pos + 200]
    if _BULLET.match(rest):
        return True
    nxt = rest.lstrip()
    if not nxt or not line:
        return False
    if line.endswith("-"):
        return False
    starts_upper = _starts_sentence(nxt)
    if starts_upper and _LABEL_LINE.match(nxt):
        return True  # "CT Abdomen: ..." on its own line: a new labelled report line
    if line.endswith(_LINE_END):
        return starts_upper or line.endswith(":")
    if line.isupper() and len(line) <= 60:
        return True  # an upper-case heading ("FINDINGS", "IMPRESSION")
    blank_line = "\n" in rest[:len(rest) - len(nxt)]
    if blank_line and starts_upper and len(line) <= 60:
        return True
    if starts_upper and len(line) <= 30:
        return True  # a short heading line ("Case 1")
    # a caption title or a heading line without punctuation ("MRI of neuroblastoma invading
    # the spinal canal"), then a capitalised line: a prose line that wraps ends in the middle
    # of a phrase (an article, a preposition, a conjunction, a verb waiting for its object)
    return nxt[0].isupper() and line[-1].isalpha() and len(line) <= 80 \
        and not _OPEN_END.search(line) and not _CONTINUES.match(nxt)


# After a sentence end: a blank line, or a line of at most 30 characters ended by a line break.
_HEADING_AFTER = re.compile(r"[ \t]{0,8}\n(?:[ \t]{0,8}\n|[ \t]{0,8}[^\n.]{1,30}\n)")


_OPEN_END = re.compile(r"(?:\b(?:the|a|an|of|in|on|at|to|for|with|by|from|and|or|but|as|than|"
                       r"is|are|was|were|be|been|has|have|had|shows?|showed|reveal(?:s|ed)?|"
                       r"demonstrat(?:es|ed)|including|within|into|both|no|not)|[,(/-])$",
                       re.IGNORECASE)
# A proper name or an acronym carried over from the line before ("... seen on\nCT").
_CONTINUES = re.compile(r"[A-Z]{2,}\b(?! [A-Z]?[a-z])")


# A report line opening with a label of a few words and a colon ("USG Abdomen:", "MIBG:").
_LABEL_LINE = re.compile(r"[A-Za-z][\w/()+.-]{0,20}(?: [\w/()+.-]{1,20}){0,3} ?: ")


def split_sentences(text: str) -> list[Sentence]:
    """Sentences of ``text`` in order, each with its offsets; empty ones are dropped."""
    out: list[Sentence] = []
    start = 0
    for match in _CANDIDATE.finditer(text):
        pos = match.start()
        if pos < start:
            continue
        if _is_boundary(text, pos, match.group()):
            end = pos if match.group() == "\n" else pos + 1
            _emit(text, start, end, out)
            start = end
        elif pos - start > MAX_SENTENCE:
            _emit(text, start, pos, out)
            start = pos
    _emit(text, start, len(text), out)
    return out


def _emit(text: str, start: int, end: int, out: list[Sentence]) -> None:
    while start < end:
        piece_end = min(end, start + MAX_SENTENCE)
        if piece_end < end:  # cut a runaway "sentence" at a space when there is one
            space = text.rfind(" ", start + MAX_SENTENCE // 2, piece_end)
            piece_end = space if space > start else piece_end
        raw = text[start:piece_end]
        stripped = raw.strip()
        if stripped:
            lead = len(raw) - len(raw.lstrip())
            s = start + lead
            out.append(Sentence(s, s + len(stripped), stripped))
        start = piece_end
