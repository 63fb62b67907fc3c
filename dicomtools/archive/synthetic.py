"""A synthetic archive for tests and benchmarks: copies of template SRs (the seed-case SRs,
other tools' SRs) with new UIDs and new patients, written quickly with pydicom.

Copy ``i`` is template ``i % T`` for patient ``i // T``: each patient gets one copy of every
template, so a patient's work-up looks like a seed case's. Every copy has its own SOP
Instance, Series and Study Instance UIDs; the content tree is left as it is.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from pathlib import Path

from ..errors import InputError
from ..phi import printable

_PER_FOLDER = 1000  # files per folder: archives are trees, not one flat folder


def _uid(seed: str, *parts: object) -> str:
    """A deterministic 2.25 UID (a UUID-derived integer) from the parts."""
    digest = hashlib.sha256("/".join(map(str, (seed, *parts))).encode()).digest()[:16]
    return f"2.25.{int.from_bytes(digest, 'big')}"


def make_archive(templates: Iterable[str | os.PathLike[str]], out: str | os.PathLike[str],
                 count: int, *, seed: str = "dicomtools-synthetic") -> list[Path]:
    """Write ``count`` SR copies under ``out`` (``out/00000/000000-<name>.dcm``, 1,000 per
    folder); returns their paths. Each file appears under its name only when complete."""
    import pydicom
    from pydicom.uid import UID
    sources = [Path(t) for t in templates]
    if not sources:
        raise InputError("make_archive: give at least one template SR")
    datasets = []
    for path in sources:
        try:
            datasets.append(pydicom.dcmread(path))
        except Exception as exc:
            raise InputError(f"{printable(path)}: not a DICOM file ({type(exc).__name__})") from None
    root = Path(out)
    written: list[Path] = []
    for i in range(count):
        t = i % len(datasets)
        patient = i // len(datasets)
        ds = datasets[t]
        sop = UID(_uid(seed, "sop", i))
        ds.SOPInstanceUID = sop
        if getattr(ds, "file_meta", None) is not None:
            ds.file_meta.MediaStorageSOPInstanceUID = sop
        ds.SeriesInstanceUID = _uid(seed, "series", i)
        ds.StudyInstanceUID = _uid(seed, "study", patient, t)
        ds.PatientID = f"SYN{patient:07d}"
        ds.IssuerOfPatientID = "DICOMTOOLS-SYNTHETIC"  # one key per patient, whatever the template
        ds.PatientName = f"Synthetic^{patient:07d}"
        folder = root / f"{i // _PER_FOLDER:05d}"
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"{i:07d}-{sources[t].stem}.dcm"
        tmp = folder / f".{target.name}.tmp"
        ds.save_as(tmp, enforce_file_format=getattr(ds, "file_meta", None) is not None)
        os.replace(tmp, target)  # test data: atomic against a kill, not fsync'ed
        written.append(target)
    return written
