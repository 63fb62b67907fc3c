"""dicomtools: imaging findings -> DICOM Structured Reports -> findings.

The data path: text -> findings (model) -> SR (sr.write) -> findings (sr.read) -> concordance.
"""

__version__ = "0.1.0"

from typing import TYPE_CHECKING

from .errors import DicomToolsError, InputError, SourceError, SRReadError

if TYPE_CHECKING:
    from .model import Finding, ImageRef, Patient, Report, Study
    from .sr import read_sr, to_dataset, write_sr

__all__ = [
    "DicomToolsError", "InputError", "SourceError", "SRReadError",
    "Finding", "ImageRef", "Patient", "Report", "Study",
    "read_sr", "write_sr", "to_dataset",
]


_MODEL = ("Finding", "ImageRef", "Patient", "Report", "Study")


def __getattr__(name: str):
    # Loaded on first use: the SR functions import pydicom, and the model its vocabulary
    # (~40 ms), which `dicomtools --help` does not need.
    if name in ("read_sr", "write_sr", "to_dataset"):
        from . import sr
        return getattr(sr, name)
    if name in _MODEL:
        from . import model
        return getattr(model, name)
    raise AttributeError(name)
