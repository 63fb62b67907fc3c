"""DICOM SR -> Report, in one pass over the content tree.

Reads dicomtools' own SRs losslessly, and SRs of any origin and SOP class without raising:
every TID 1500 measurement group comes back through the row table (rows.py) and what no row
takes is kept in the open part of the Finding (measurements, evaluations, regions, other) or
of the Report (``evaluations``, ``other``). What is kept as plain content is named in
``Report.warnings``. Only a file that is not a readable DICOM SR at all raises SRReadError:
not DICOM, not an SR, larger than MAX_SR_BYTES, content nested deeper than
values.MAX_TREE_DEPTH, or cut short: it ends inside an element, an item or a sequence
(pydicom reads such a file silently, so open_dicom walks the element headers of the whole
file), or it has no Content Sequence (cut between two top-level elements: the content comes
last). Other required attributes missing are named in a warning.
Text a DICOM value cannot hold (a NUL, a control character in a name, bytes invalid in the
character set) is shown as U+FFFD, with a warning.

This module is the pydicom half (opening, the header as a pydicom Dataset); the mapping to a
Report is read_map.py, shared with the fast reader (fast.py: the same Report, without pydicom,
for most small SRs).
"""

from __future__ import annotations

import io
import os
import warnings as _warnings
from pathlib import Path

import pydicom
from pydicom.charset import convert_encodings, decode_bytes
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError
from pydicom.uid import UID, UID_dictionary

from ..errors import SRReadError
from ..model import Report
from .codec import CONTENT_SEQ, TextDecoder, decode_content_value
from .codec_pydicom import items_from_pydicom
from .codec_walk import Truncated, check_complete
from .content import Item
from .read_map import Source, _present, build_report, finish, node_from_item

__all__ = ["read_sr", "open_dicom", "report_from_dataset", "node_from_item", "SR_STORAGE",
           "MAX_SR_BYTES"]

# Every SR-based SOP class (PS3.4 B.5): Basic Text, Enhanced, Comprehensive (3D), Extensible,
# Key Object Selection, the dose SRs, CAD, procedure logs and the retired trial classes, taken
# from pydicom's UID dictionary, so a class added to the standard needs no code here.
SR_STORAGE: frozenset[str] = frozenset(
    uid for uid in UID_dictionary if uid.startswith("1.2.840.10008.5.1.4.1.1.88."))


def _is_sr_class(uid: str) -> bool:
    return uid in SR_STORAGE


#: Largest file read as an SR: an SR of 20,000 findings is ~40 MB.
MAX_SR_BYTES = 1 << 30
_DEFLATED = "1.2.840.10008.1.2.1.99"
# Where a pydicom Dataset came from, for the mapping (read_map.py).
_PYDICOM = Source(is_dataset=lambda item: isinstance(item, Dataset),
                  uid_keyword=lambda uid: UID(uid).keyword)


def read_sr(path: str | os.PathLike) -> Report:
    """Read an SR file into a Report. Raises SRReadError for files that are not readable SR."""
    return report_from_dataset(open_dicom(path), source=str(path))


def open_dicom(path: str | os.PathLike) -> Dataset:
    """pydicom.dcmread with one clear SRReadError per kind of unreadable file, including a
    file that ends inside an element, an item or a sequence (which pydicom reads silently).
    pydicom's warnings while reading are kept for report_from_dataset (they may quote
    values: names, IDs) instead of reaching stderr."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if path.is_dir():
            raise IsADirectoryError
        if size > MAX_SR_BYTES:
            raise SRReadError(f"{path}: {size:,} bytes is larger than the {MAX_SR_BYTES:,}-byte "
                              "limit of an SR file")
        data = path.read_bytes()
    except FileNotFoundError:
        raise SRReadError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise SRReadError(f"{path}: is a directory, not an SR file") from None
    except OSError as exc:
        raise SRReadError(f"{path}: cannot be read ({exc.strerror or type(exc).__name__})") from None
    with _warnings.catch_warnings(record=True) as caught:
        _warnings.simplefilter("always")
        try:
            ds = pydicom.dcmread(io.BytesIO(data))
        except InvalidDicomError:
            _truncated_meta(path, data)
            raise SRReadError(f"{path}: not a DICOM file (no DICM preamble or recognisable header)") from None
        except Exception as exc:  # pydicom raises many types on damaged files
            _truncated_meta(path, data)
            raise SRReadError(f"{path}: not a readable DICOM file ({type(exc).__name__}: "
                              f"{str(exc)[:200]})") from None
        ds.filename = str(path)
        try:
            implicit, little = ds.original_encoding
            transfer_syntax = str(ds.file_meta.get("TransferSyntaxUID", "") or "")
        except Exception:
            implicit, little, transfer_syntax = False, True, ""
    try:
        check_complete(data, implicit=bool(implicit), little=little is not False,
                       deflated=transfer_syntax == _DEFLATED)
    except SRReadError as exc:
        raise SRReadError(f"{path}: {exc}") from None
    object.__setattr__(ds, "_dicomtools_warnings", [w.category.__name__ for w in caught])
    return ds


def _truncated_meta(path: Path, data: bytes) -> None:
    """A DICOM file pydicom could not read at all: say so if it is cut short."""
    if data[128:132] != b"DICM":
        return
    try:
        check_complete(data)  # the encoding the file meta declares
    except Truncated as exc:
        raise SRReadError(f"{path}: {exc}") from None
    except Exception:
        pass


def _text_decoder(ds: Dataset) -> TextDecoder:
    """The decoder of the dataset's text values, in its Specific Character Set."""
    try:
        charset = ds.get("SpecificCharacterSet")
        encodings = convert_encodings(charset)
    except Exception:  # a damaged character set: the default repertoire
        encodings = ["iso8859"]
    if len(encodings) == 1:
        return TextDecoder(encoding=encodings[0])
    return TextDecoder(lambda raw: decode_bytes(bytes(raw), encodings, set()))


def _content_items(ds: Dataset, texts: TextDecoder | None = None) -> list[Item]:
    texts = texts if texts is not None else _text_decoder(ds)
    elem = ds.get_item(CONTENT_SEQ)
    if elem is None:
        return []
    if elem.VR not in (None, "SQ", "UN"):
        raise SRReadError(f"the Content Sequence (0040,A730) has VR {elem.VR}, not SQ")
    implicit, little = ds.original_encoding
    if getattr(elem, "is_raw", False) and little and implicit is not None:
        # UN: a sequence another tool did not know, encoded in implicit VR (PS3.5 §6.2.2)
        return decode_content_value(bytes(elem.value or b""), implicit or elem.VR == "UN", texts)
    try:
        return items_from_pydicom(ds.ContentSequence, texts=texts)
    except SRReadError:
        raise
    except RecursionError:
        raise
    except Exception as exc:
        raise SRReadError(f"content sequence cannot be parsed ({type(exc).__name__})") from None


def report_from_dataset(ds: Dataset, source: str = "dataset") -> Report:
    """Map an SR dataset (from a file, a PACS, or highdicom) to a Report."""
    with _warnings.catch_warnings(record=True) as caught:
        _warnings.simplefilter("always")
        try:
            sop_class = str(ds.get("SOPClassUID", "")).strip()
        except Exception:
            sop_class = ""
        if not _is_sr_class(sop_class):
            name = UID(sop_class).name if sop_class else "none"
            shown = sop_class if name in (sop_class, "none") else f"{sop_class} {name}"
            raise SRReadError(f"{source}: not a DICOM SR (SOP Class {shown[:160] or 'none'})")
        if not _present(ds, "ContentSequence"):
            # Every SR document holds its content there (Type 1C: required when the root
            # container has children, which every report has); it is the last top-level
            # element, so a file cut anywhere between two top-level elements lacks it.
            raise SRReadError(f"{source}: no Content Sequence (0040,A730): the SR holds no "
                              "content (a truncated or empty file)")
        texts = _text_decoder(ds)
        try:
            root_children = _content_items(ds, texts)
            report, missing = build_report(ds, source, _PYDICOM, texts, root_children)
        except SRReadError as exc:
            raise SRReadError(f"{source}: {exc}") from None
        except RecursionError:
            raise SRReadError(f"{source}: content nested too deeply") from None
        except Exception as exc:  # a damaged header must not leak a pydicom traceback
            raise SRReadError(f"{source}: SR header cannot be read ({type(exc).__name__})") from None
    kinds = [w.category.__name__ for w in caught] + list(getattr(ds, "_dicomtools_warnings", ()))
    return finish(report, texts, missing, kinds)
