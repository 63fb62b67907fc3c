"""The text values of one SR, decoded in its character set and cleaned (codec.py's
decoder, shared by the raw, pydicom and fast readers)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..values import HEADER, STRING, TEXT, clean_text
from ..vocab import Code

Decoder = Callable[[bytes], str]


class TextDecoder:
    """The text values of one SR, decoded in its character set.

    A value whose bytes are not valid in that character set is decoded with U+FFFD
    (``invalid`` counts such values), and each character its VR cannot hold (a NUL or other
    control character, a backslash in a person name) is shown as U+FFFD (``replaced`` counts
    them): a Report never holds text that cannot be written back. The reader names both in
    Report.warnings.
    """

    __slots__ = ("_decode", "encoding", "invalid", "replaced")

    def __init__(self, decode: Decoder | None = None, encoding: str = "ascii"):
        self._decode = decode
        self.encoding = encoding
        self.invalid = 0
        self.replaced = 0

    def decode(self, raw: bytes) -> str:
        if self._decode is not None:
            return self._decode(raw)
        try:
            return raw.decode(self.encoding)
        except UnicodeDecodeError:
            self.invalid += 1
            return raw.decode(self.encoding, "replace")
        except LookupError:  # a codec Python does not have
            self.invalid += 1
            return raw.decode("ascii", "replace")

    def __call__(self, raw: bytes, kind: str = STRING) -> str:
        value = self.decode(raw)
        value = value.rstrip(" \0") if kind == TEXT else value.strip(" \0\t\r\n\x0c")
        return self.clean(value, kind)

    def clean(self, value: str, kind: str = STRING) -> str:
        if value.isascii() and value.isprintable() and (kind != HEADER or "\\" not in value):
            return value  # the common case, nothing to replace: no regex (~5 % of a read)
        value, count = clean_text(value, kind)
        self.replaced += count
        return value


def _decoder(text: Any) -> TextDecoder:
    return text if isinstance(text, TextDecoder) else TextDecoder(text)


# -- pydicom values, cleaned as raw bytes are (codec_pydicom.py, render.py) --------------
def _pd_str(value: Any, texts: TextDecoder, kind: str = STRING) -> str:
    """A pydicom value as one string (values of a multi-valued element joined by a
    backslash, as DICOM stores them), cleaned as the raw path cleans it."""
    if isinstance(value, (bytes, bytearray)):
        return texts(bytes(value), kind)
    if isinstance(value, (list, tuple)) or (hasattr(value, "__iter__") and not isinstance(value, str)
                                            and value.__class__.__name__ == "MultiValue"):
        value = "\\".join(str(v) for v in value)
    text = str(value)
    text = text.rstrip(" \0") if kind == TEXT else text.strip(" \0\t\r\n\x0c")
    return texts.clean(text, kind)


def _pd_code(seq: Any, texts: TextDecoder | None = None) -> Code | None:
    texts = texts or TextDecoder()
    try:
        ds = seq[0] if seq else None
    except (TypeError, IndexError, KeyError):
        return None
    if ds is None or not hasattr(ds, "get"):
        return None
    value = ds.get("CodeValue") or ds.get("LongCodeValue") or ds.get("URNCodeValue")
    if value is None:
        return None
    return Code(_pd_str(value, texts), _pd_str(ds.get("CodingSchemeDesignator", ""), texts),
                _pd_str(ds.get("CodeMeaning", ""), texts))
