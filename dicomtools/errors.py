"""Error types. Every message names the problem: file, field and value, on one line."""

from __future__ import annotations

import re
import reprlib
from typing import Any

#: Longest message an error keeps (the middle of a longer one is cut): a value quoted in a
#: message is shown short (see :func:`show`), so only a message quoting foreign text gets here.
MAX_MESSAGE = 1000
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def _escape(match: re.Match) -> str:
    return match.group().encode("unicode_escape", "backslashreplace").decode("ascii")


def one_line(text: str, limit: int = MAX_MESSAGE) -> str:
    """``text`` with control characters and lone surrogates escaped (``\\n``, ``\\x00``,
    ``\\ud800``) and cut in the middle beyond ``limit`` characters."""
    text = _CONTROL.sub(_escape, text)
    if len(text) > limit:
        keep = (limit - 5) // 2
        text = f"{text[:keep]} ... {text[-keep:]}"
    return text


class _Short(reprlib.Repr):
    def __init__(self, limit: int):
        super().__init__()
        self.maxlevel, self.maxstring, self.maxother = 3, limit, limit
        self.maxlist = self.maxtuple = self.maxdict = self.maxset = 6
        self.maxlong = limit

    def repr_int(self, x: int, level: int) -> str:
        if x.bit_length() > 3000:  # str() of such an int raises (PS: sys.int_info)
            return f"<an integer of about {int(x.bit_length() * 0.30103)} digits>"
        return super().repr_int(x, level)


def show(value: Any, limit: int = 60) -> str:
    """A short, one-line repr of a value for an error message: long strings, deep or long
    lists and huge numbers are abbreviated, so a message stays one readable line."""
    try:
        text = _Short(limit).repr(value)
    except Exception:  # a value whose repr fails (recursion, huge ints in containers...)
        text = f"<{type(value).__name__}>"
    return one_line(text, limit * 2)


class DicomToolsError(Exception):
    """Base class of every error dicomtools raises on purpose. The message is kept on one
    line (control characters escaped) and at most MAX_MESSAGE characters."""

    exit_code = 1

    def __init__(self, message: Any = "", *args: Any) -> None:
        super().__init__(one_line(str(message)), *args)


class InputError(DicomToolsError):
    """Bad user input: a findings JSON, a value outside a vocabulary, a wrong unit."""

    exit_code = 2


class SourceError(DicomToolsError):
    """The source DICOM images cannot give patient/study context."""

    exit_code = 3


class SRReadError(DicomToolsError):
    """A file is not a readable DICOM SR (truncated, not DICOM, not SR)."""

    exit_code = 4


class ValidationFailed(DicomToolsError):
    """Validation found errors (raised by the CLI, not by the library)."""

    exit_code = 5
