"""Loading and validating NIfTI label maps and ADC maps.

Every problem becomes an :class:`~dicomtools.errors.InputError` that names the file, the
problem and the offending value; nibabel's own exceptions never reach the user.

Images are checked once here so that :mod:`dicomtools.masks.measure` can trust the grid:
3-D (trailing singleton dimensions are dropped), a finite, oriented, non-degenerate affine,
integer non-negative labels with at least one lesion voxel.
"""

from __future__ import annotations

import os
import re
import weakref
from typing import Any, cast

import nibabel as nib
import numpy as np

from ..errors import InputError
from ..vocab import ADC_UNITS

__all__ = ["load_label_map", "load_adc_map", "adc_unit_from_text", "normalise_adc_unit",
           "header_adc_unit", "resolve_adc_unit", "one_unit", "source_name", "checked_affine",
           "volume_array", "label_array", "adc_array", "float32_decimals"]

_UNIT_HELP = ("declare it: pass the unit explicitly (one of " + ", ".join(ADC_UNITS)
              + ") or write it in the NIfTI header description, e.g. "
              "img.header['descrip'] = 'ADC [10^-6 mm2/s]'")

# A unit as people write it in a header: "um2/s", "µm²/s", "10^-6 mm2/s", "x10-3 mm^2/s",
# "1e-3 mm2/s", "[10-6.mm2/s]" (UCUM), "mm2/s x 10^-3". The scale is optional; a scale we
# cannot read is an error rather than a silent factor of 1000.
_SCALE = (r"(?:10\s*\^?\s*\(?\s*(?P<{0}sign>[-+]?)\s*(?P<{0}10>\d+)\s*\)?"
          r"|1(?:\.0+)?\s*e\s*(?P<{0}esign>[-+]?)\s*(?P<{0}e>\d+))")
_UNIT_RE = re.compile(
    r"(?:(?:x|\*)?\s*" + _SCALE.format("p") + r"\s*\.?\s*)?"
    r"(?<![a-z])(?P<area>mm|um)\s*\^?\s*2\s*/\s*(?P<time>ms|sec|s)(?![a-z])"
    r"(?:\s*(?:x|\*)\s*" + _SCALE.format("s") + ")?")
_UNIT_CODES = {("mm", "s", ""): "mm2/s", ("mm", "s", "-6"): "10-6.mm2/s",
               ("mm", "s", "-3"): "10-3.mm2/s", ("um", "s", ""): "um2/s",
               ("um", "ms", ""): "um2/ms"}
_GLYPHS = str.maketrans({"µ": "u", "μ": "u", "²": "2", "³": "3", "⁶": "6", "⁻": "-",
                         "×": "x", "·": ".", "−": "-"})


# Source files of rebuilt images that nibabel cannot name itself (.hdr/.img pairs).
_SOURCES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def source_name(img: nib.Nifti1Image, role: str) -> str:
    """The file an image came from, for messages; a description for in-memory images."""
    try:
        name = _SOURCES.get(img) or img.get_filename()
    except Exception:  # images without a file map: still worth a readable message
        name = None
    return str(name) if name else f"{role} (in-memory image)"


def _load(path: str | os.PathLike, role: str) -> nib.Nifti1Image:
    path = os.fspath(path)
    if not os.path.exists(path):
        raise InputError(f"{path}: {role} file does not exist")
    if os.path.isdir(path):
        raise InputError(f"{path}: {role} is a directory, expected a .nii or .nii.gz file")
    try:
        img = nib.load(path)
    except Exception as exc:  # nibabel raises many types (ImageFileError, OSError, EOFError...)
        raise InputError(f"{path}: {role} is not a readable NIfTI file "
                         f"(expected .nii or .nii.gz): {exc}") from None
    if not isinstance(img, nib.Nifti1Pair):  # Nifti1/2 images and .hdr/.img pairs
        raise InputError(f"{path}: {role} is a {type(img).__name__}, not NIfTI; "
                         "convert it to .nii or .nii.gz")
    return cast(nib.Nifti1Image, img)  # a .hdr/.img pair is read the same way


def checked_affine(img: nib.Nifti1Image, source: str) -> np.ndarray:
    """The voxel-to-RAS+ affine (4×4, float64), refusing grids that cannot be measured."""
    header = img.header
    if isinstance(header, nib.Nifti1Header) and int(header["sform_code"]) == 0 \
            and int(header["qform_code"]) == 0:
        # nibabel would fall back to a pixdim-only affine whose orientation is a guess.
        raise InputError(f"{source}: the image has no orientation (sform_code = qform_code = 0);"
                         " its voxels cannot be placed in patient space")
    if img.affine is None:
        raise InputError(f"{source}: the image has no affine")
    affine = np.asarray(img.affine, dtype=np.float64)
    if affine.shape != (4, 4) or not np.all(np.isfinite(affine)):
        raise InputError(f"{source}: the affine is not finite: {affine.tolist()}")
    linear = affine[:3, :3]
    spacing = np.linalg.norm(linear, axis=0)
    det = abs(float(np.linalg.det(linear)))
    # Relative test: axes that are nearly coplanar give voxels of (almost) no volume too.
    if not np.all(spacing > 0) or det <= 1e-6 * float(np.prod(spacing)):
        raise InputError(f"{source}: zero-volume voxels (voxel spacing "
                         f"{np.round(spacing, 6).tolist()} mm, |det(affine)| = {det:g} mm3)")
    return affine


def volume_array(img: nib.Nifti1Image, source: str, *, fdata: bool = False,
                 unscaled: bool = False) -> np.ndarray:
    """The image data as one 3-D volume; trailing singleton dimensions are dropped.

    ``fdata`` returns nibabel's scaled float64 values (``get_fdata``), ``unscaled`` the stored
    numbers before scl_slope/scl_inter (file-backed images), else the stored (scaled) array.
    Read errors (truncated files) become InputError.
    """
    shape = tuple(int(n) for n in img.shape)
    if len(shape) > 3 and any(n != 1 for n in shape[3:]):
        raise InputError(f"{source}: a {len(shape)}-D image of shape {shape}; expected one "
                         "3-D volume (a 4th dimension of size 1 is accepted)")
    if len(shape) < 2:
        raise InputError(f"{source}: a {len(shape)}-D image of shape {shape}; expected 3-D")
    try:
        if fdata:
            data = img.get_fdata(dtype=np.float64)
        elif unscaled:
            proxy: Any = img.dataobj
            data = np.asanyarray(proxy.get_unscaled())
        else:
            data = np.asanyarray(img.dataobj)
    except Exception as exc:  # truncated or corrupt data block
        raise InputError(f"{source}: cannot read the image data: {exc}") from None
    if not (np.issubdtype(data.dtype, np.number) or data.dtype == np.bool_) \
            or np.iscomplexobj(data):
        raise InputError(f"{source}: unsupported data type {data.dtype} (expected real numbers)")
    # A 2-D NIfTI is one slice: give it a slice axis so the grid is always 3-D.
    return data.reshape(shape[:3] if len(shape) >= 3 else (*shape, 1))


def label_array(img: nib.Nifti1Image, source: str) -> np.ndarray:
    """Validated integer labels (3-D): finite, integral, non-negative, at least one non-zero."""
    data = volume_array(img, source)
    if data.dtype == np.bool_:
        data = data.astype(np.uint8)
    if not np.issubdtype(data.dtype, np.integer):
        bad = ~np.isfinite(data)
        if not bad.any():
            bad = data != np.round(data)
        if bad.any():
            where = tuple(int(i) for i in np.argwhere(bad)[0])
            raise InputError(f"{source}: labels must be whole numbers; voxel {where} holds "
                             f"{data[where]!r} ({int(bad.sum())} such voxels; resample label "
                             "maps with nearest-neighbour interpolation)")
    if data.size and data.min() < 0:
        where = tuple(int(i) for i in np.argwhere(data < 0)[0])
        raise InputError(f"{source}: labels must be >= 0; voxel {where} holds "
                         f"{data[where]!r} ({int((data < 0).sum())} negative voxels)")
    if not np.any(data):
        raise InputError(f"{source}: empty mask: no non-zero voxel (shape {data.shape})")
    if not np.issubdtype(data.dtype, np.integer):
        top = float(data.max())
        if top > 2**53:  # floats above this cannot carry exact integers
            raise InputError(f"{source}: label value {top:g} is too large")
        data = data.astype(_label_dtype(int(top)))
    return data


def adc_array(img: nib.Nifti1Image, source: str) -> np.ndarray:
    """ADC values, 3-D, header scaling applied: float32 as stored when the file holds unscaled
    float32 (or float16) voxels, else float64.

    Numbers stored with float32 precision stand for decimals: callers read float32 voxels
    with :func:`float32_decimals` (0.8, not 0.800000011920929; measurement does so for the
    lesion voxels only, which is fast), and NIfTI-1 scl_slope/scl_inter (float32 fields) are
    read that way here. Float64 voxels and unscaled integers are taken as they are.
    """
    proxy: Any = img.dataobj  # an ArrayProxy (slope, inter) for file-backed images
    slope, inter = 1.0, 0.0
    if nib.is_proxy(proxy) and hasattr(proxy, "get_unscaled"):
        slope, inter = float(proxy.slope), float(proxy.inter)
        raw = volume_array(img, source, unscaled=True)
    else:
        raw = volume_array(img, source)
    scaled = slope != 1.0 or inter != 0.0
    if raw.dtype in (np.float32, np.float16) and not scaled:
        return raw.astype(np.float32, copy=False)
    values = float32_decimals(raw) if raw.dtype in (np.float32, np.float16) else \
        np.asarray(raw, dtype=np.float64)
    if scaled:
        if not isinstance(img.header, nib.Nifti2Header):  # NIfTI-1 keeps them as float32
            slope, inter = (float(v) for v in float32_decimals(np.array([slope, inter], np.float32)))
        values = values * slope + inter
    return values


def float32_decimals(values: np.ndarray) -> np.ndarray:
    """float32 numbers as float64 holding the shortest decimal (at most 9 significant digits)
    that rounds to the same float32: what was written before the value was stored as float32.
    NaN and infinities stay. The nearest float64 to that decimal for magnitudes 1e-22..1e22
    (within a float64 ulp of it beyond); always a value that rounds back to the float32."""
    x32 = np.asarray(values, dtype=np.float32)
    flat32 = x32.ravel()
    out = flat32.astype(np.float64)
    todo = np.flatnonzero(np.isfinite(out) & (out != 0))
    exponent = np.floor(np.log10(np.abs(out[todo]))).astype(np.int64)
    for digits in range(1, 10):  # 9 significant digits always round-trip a float32
        if not todo.size:
            break
        v, shift = out[todo], digits - 1 - exponent  # shift: decimal places kept
        rounded = np.empty_like(v)
        up = shift >= 0  # powers of ten above 1 are exact in float64: scale by those
        rounded[up] = np.round(v[up] * 10.0 ** shift[up]) / 10.0 ** shift[up]
        rounded[~up] = np.round(v[~up] / 10.0 ** -shift[~up]) * 10.0 ** -shift[~up]
        same = rounded.astype(np.float32) == flat32[todo]
        out[todo[same]] = rounded[same]
        todo, exponent = todo[~same], exponent[~same]
    return out.reshape(x32.shape)


def _label_dtype(top: int) -> type:
    for dtype in (np.uint8, np.uint16, np.int32):
        if top <= np.iinfo(dtype).max:
            return dtype
    return np.int64


def _rebuild(img: nib.Nifti1Image, data: np.ndarray, path: str) -> nib.Nifti1Image:
    """An in-memory copy of ``img`` holding ``data``; header (orientation, descrip) kept."""
    cls = nib.Nifti2Image if isinstance(img.header, nib.Nifti2Header) else nib.Nifti1Image
    header = img.header.copy()
    header.set_slope_inter(None, None)  # data is already scaled
    header.set_data_dtype(data.dtype)
    out = cls(data, img.affine, header=header)
    try:
        out.set_filename(path)  # lets later messages (and callers) name the file
    except Exception:  # a .hdr/.img pair cannot be named as a single-file image
        _SOURCES[out] = path
    return out


def load_label_map(path: str | os.PathLike) -> nib.Nifti1Image:
    """Read and validate a NIfTI lesion label map (0 = background, 1..N = lesions).

    Returns an in-memory 3-D image with integer data (uint8/uint16/int32/int64, smallest that
    fits) on the file's grid and affine. Raises InputError for a missing or non-NIfTI file,
    unreadable data, more than one volume, a non-finite/unoriented/degenerate affine,
    non-integer or negative labels, or a mask without any non-zero voxel.
    """
    path = os.fspath(path)
    img = _load(path, "label map")
    checked_affine(img, path)
    data = label_array(img, path)
    return _rebuild(img, np.array(data, copy=True), path)


def adc_unit_from_text(text: str) -> set[str]:
    """UCUM ADC unit codes (keys of ``vocab.ADC_UNITS``) written in free text.

    Raises InputError for a recognisable but unsupported unit (e.g. "10^-9 mm2/s").
    """
    return set(_units_in_text(text))


def _units_in_text(text: str) -> list[str]:
    """The unit codes in ``text``, in the order written (repeats kept)."""
    found = []
    text = text.translate(_GLYPHS).lower()
    for match in _UNIT_RE.finditer(text):
        scales = [(match[f"{side}sign"] or match[f"{side}esign"] or "+")
                  + (match[f"{side}10"] or match[f"{side}e"])
                  for side in ("p", "s") if match[f"{side}10"] or match[f"{side}e"]]
        before, after = text[:match.start()].rstrip(), text[match.end():].lstrip()
        unread = (not scales and before[-1:].isdigit()) or re.match(r"(?:x|\*)\s*\d", after)
        time = "s" if match["time"] == "sec" else match["time"]
        code = None if unread or len(scales) > 1 else _UNIT_CODES.get(
            (match["area"], time, scales[0] if scales else ""))
        if code is None:
            shown = text[max(0, match.start() - 8) if unread else match.start():match.end()]
            raise InputError(f"unsupported ADC unit {shown.strip()!r}; {_UNIT_HELP}")
        found.append(code)
    return found


def one_unit(codes: list[str]) -> str | None:
    """The unit when ``codes`` name one unit, however spelled ("um2/s (1e-6 mm2/s)" is one
    unit: the same factor); the first spelling is kept. None for no code; InputError-free:
    callers decide what several units mean."""
    if not codes:
        return None
    factors = {ADC_UNITS[c] for c in codes}
    return codes[0] if len(factors) == 1 else None


def normalise_adc_unit(unit: str, source: str) -> str:
    """An explicitly given ADC unit as its UCUM code (a key of ``vocab.ADC_UNITS``)."""
    if unit in ADC_UNITS:
        return unit
    try:
        found = _units_in_text(unit)
    except InputError as exc:
        raise InputError(f"{source}: {exc}") from None
    code = one_unit(found)
    if code is None:
        raise InputError(f"{source}: unknown ADC unit {unit!r}; expected one of "
                         + ", ".join(ADC_UNITS))
    return code


def _decode(raw: bytes) -> str:
    # Header strings are bytes; tools write UTF-8 or Latin-1 (where µ is one byte, 0xB5).
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def header_adc_unit(img: nib.Nifti1Image, source: str) -> str | None:
    """The ADC unit declared in the header (descrip, intent_name, aux_file), or None. One
    unit written two ways ("um2/s (1e-6 mm2/s)") is one unit; units of different size are an
    InputError."""
    found: list[str] = []
    for field in ("descrip", "intent_name", "aux_file"):
        try:
            raw = img.header[field]
        except (KeyError, ValueError):
            continue
        text = _decode(bytes(np.asarray(raw).item()))
        try:
            found += _units_in_text(text)
        except InputError as exc:
            raise InputError(f"{source}: header {field} {text!r}: {exc}") from None
    code = one_unit(found)
    if found and code is None:
        raise InputError(f"{source}: the header declares several ADC units "
                         f"({', '.join(dict.fromkeys(found))}); {_UNIT_HELP}")
    return code


def resolve_adc_unit(img: nib.Nifti1Image, source: str, unit: str | None = None, *,
                     force: bool = False) -> str:
    """The unit of an ADC map: the header's, or ``unit`` given explicitly.

    An explicit unit must agree with the header's (the same factor: "um2/s" and
    "10-6.mm2/s" agree); a disagreement, or a header unit that cannot be read, is an
    InputError unless ``force``, when the explicit unit wins. Neither -> InputError.
    """
    explicit = normalise_adc_unit(unit, f"{source}: ADC unit") if unit is not None else None
    try:
        declared = header_adc_unit(img, source)
    except InputError as exc:
        if explicit is None:
            raise
        if force:
            return explicit
        raise InputError(f"{exc}; the header disagrees with the unit given ({unit!r}): fix "
                         "the header, or force the given unit (--force)") from None
    if explicit is None:
        if declared is None:
            raise InputError(f"{source}: the ADC map does not declare its unit; {_UNIT_HELP}")
        return declared
    if declared is not None and ADC_UNITS[declared] != ADC_UNITS[explicit] and not force:
        ratio = ADC_UNITS[explicit] / ADC_UNITS[declared]
        raise InputError(f"{source}: ADC unit {unit!r} ({explicit}) disagrees with the unit the "
                         f"header declares ({declared}): a factor of {ratio:g}; leave the unit "
                         "out to use the header's, or force the given unit (--force)")
    return explicit


def load_adc_map(path: str | os.PathLike, unit: str | None = None, *, force: bool = False
                 ) -> tuple[nib.Nifti1Image, str]:
    """Read and validate an ADC map; return it with its UCUM unit.

    The unit is the one declared in the header description (e.g. ``ADC [10^-6 mm2/s]``,
    ``um2/s``, ``x10-3 mm2/s``), or ``unit`` given explicitly, which must agree with the
    header unless ``force`` (see :func:`resolve_adc_unit`). Neither -> InputError naming the
    file and how to declare it. The data is read here, so truncated files fail now rather
    than during measurement.
    """
    path = os.fspath(path)
    img = _load(path, "ADC map")
    checked_affine(img, path)
    resolved = resolve_adc_unit(img, path, unit, force=force)
    # Hold the values read (3-D, scaled): measured without reading the file again.
    return _rebuild(img, adc_array(img, path), path), resolved
