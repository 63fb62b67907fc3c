"""Is a DICOM Part 10 file whole? ``check_complete`` walks the element headers of a whole
file and says where it ends early (pydicom reads a cut file without a word)."""

from __future__ import annotations

import struct
import zlib

from ..errors import SRReadError
from ..values import MAX_TREE_DEPTH
from .codec import _ITEM, _ITEM_END, _LONG_VRS, _SEQ_END, _U16, _U32, _UNDEFINED, _tag_text

_LONG_HEADER_VRS = _LONG_VRS


class Truncated(SRReadError):
    """The file ends inside an element, an item or a sequence."""


class _Walker:
    """Element headers of a whole dataset, values skipped: where does the file end early?

    Only undefined-length sequences and items are entered (their end is a delimiter); a
    defined-length element is checked to end inside the file, which covers everything it
    holds. Linear in the number of elements walked."""

    def __init__(self, buf: bytes | memoryview, little: bool, base: int = 0, what: str = "file"):
        self.buf = buf
        self.u16 = struct.Struct("<H" if little else ">H")
        self.u32 = struct.Struct("<I" if little else ">I")
        self.tag = struct.Struct("<HH" if little else ">HH")
        self.base = base  # offset of buf[0] in the file (for messages)
        self.what = what

    def fail(self, message: str) -> Truncated:
        return Truncated(f"truncated {self.what}: {message}")

    def dataset(self, pos: int, implicit: bool, undefined: bool, depth: int, inside: str) -> int:
        buf, end = self.buf, len(self.buf)
        while pos < end:
            if end - pos < 8:
                raise self.fail(f"it ends inside an element header at byte {self.base + pos}{inside}")
            group, elem = self.tag.unpack_from(buf, pos)
            tag = group << 16 | elem
            if tag == _ITEM_END:
                return pos + 8
            if group == 0xFFFE or implicit:  # a stray item or delimiter tag: no VR, 4-byte length
                vr, length, header = None, self.u32.unpack_from(buf, pos + 4)[0], 8
            else:
                vr = bytes(buf[pos + 4:pos + 6])
                if vr in _LONG_HEADER_VRS:
                    if end - pos < 12:
                        raise self.fail(f"it ends inside the header of element {_tag_text(tag)} "
                                        f"at byte {self.base + pos}{inside}")
                    length, header = self.u32.unpack_from(buf, pos + 8)[0], 12
                else:
                    length, header = self.u16.unpack_from(buf, pos + 6)[0], 8
            start = pos + header
            if length == _UNDEFINED:
                pos = self.sequence(start, implicit or vr == b"UN", depth + 1, tag)
                continue
            if start + length > end:
                raise self.fail(f"it ends inside element {_tag_text(tag)}{inside}: its value of "
                                f"{length:,} bytes starts at byte {self.base + start}, and "
                                f"{start + length - end:,} of them are missing")
            pos = start + length
        if undefined:
            raise self.fail(f"it ends inside an item{inside} (no item delimiter)")
        return pos

    def sequence(self, pos: int, implicit: bool, depth: int, tag: int) -> int:
        if depth > 2 * MAX_TREE_DEPTH + 8:
            raise SRReadError(f"sequences nested deeper than {MAX_TREE_DEPTH} levels")
        buf, end = self.buf, len(self.buf)
        inside = f" of sequence {_tag_text(tag)}"
        count = 0
        while pos < end:
            if end - pos < 8:
                raise self.fail(f"it ends inside an item header{inside} at byte {self.base + pos}")
            group, elem = self.tag.unpack_from(buf, pos)
            item_tag = group << 16 | elem
            length = self.u32.unpack_from(buf, pos + 4)[0]
            pos += 8
            if item_tag == _SEQ_END:
                return pos
            count += 1
            if item_tag != _ITEM:  # not an item: malformed rather than cut; pydicom decides
                return end
            if length == _UNDEFINED:
                pos = self.dataset(pos, implicit, True, depth, f" in item {count}{inside}")
            elif pos + length > end:
                raise self.fail(f"it ends inside item {count}{inside}: its {length:,} bytes start "
                                f"at byte {self.base + pos}, and {pos + length - end:,} of them are missing")
            else:
                pos += length
        raise self.fail(f"it ends inside sequence {_tag_text(tag)} (no sequence delimiter)")


_IMPLICIT_LE = "1.2.840.10008.1.2"
_BIG_ENDIAN = "1.2.840.10008.1.2.2"
_DEFLATE = "1.2.840.10008.1.2.1.99"


def check_complete(data: bytes, *, implicit: bool | None = None, little: bool | None = None,
                   deflated: bool | None = None) -> None:
    """Raise :class:`Truncated` naming where a Part 10 file ``data`` ends early: inside the
    file meta, an element, an item or a sequence (a deflated dataset: inside its deflate
    stream). The encoding is pydicom's reading of the file, or (None) the file meta's
    Transfer Syntax. A file cut exactly between two top-level elements cannot be told from a
    shorter file here; the reader then names the required attributes that are missing."""
    pos = 132 if data[128:132] == b"DICM" else 0
    meta = _Walker(data, True)
    syntax = ""
    while pos + 8 <= len(data) and data[pos:pos + 2] == b"\x02\x00":  # group 0002, explicit VR LE
        tag = 0x00020000 | _U16.unpack_from(data, pos + 2)[0]
        if data[pos + 4:pos + 6] in _LONG_HEADER_VRS:
            if pos + 12 > len(data):
                raise meta.fail(f"it ends inside the header of file meta element {_tag_text(tag)}")
            length, header = _U32.unpack_from(data, pos + 8)[0], 12
        else:
            length, header = _U16.unpack_from(data, pos + 6)[0], 8
        if pos + header + length > len(data):
            raise meta.fail(f"it ends inside file meta element {_tag_text(tag)}")
        if tag == 0x00020010:
            syntax = bytes(data[pos + header:pos + header + length]).decode("ascii", "replace").strip(" \0")
        pos += header + length
    if implicit is None:
        implicit = syntax == _IMPLICIT_LE
    if little is None:
        little = syntax != _BIG_ENDIAN
    if deflated is None:
        deflated = syntax == _DEFLATE
    if deflated:
        inflater = zlib.decompressobj(-zlib.MAX_WBITS)
        try:
            body = inflater.decompress(data[pos:])
        except zlib.error:
            raise SRReadError("the deflated dataset cannot be inflated (damaged)") from None
        if not inflater.eof:
            raise Truncated("truncated file: it ends inside the deflated dataset")
        _Walker(body, little, 0, "file (in the inflated dataset)").dataset(0, implicit, False, 0, "")
        return
    _Walker(memoryview(data)[pos:], little, pos).dataset(0, implicit, False, 0, "")
