"""dicomtools: imaging findings -> DICOM Structured Reports -> findings.

The data path: text -> findings (model) -> SR (sr.write) -> findings (sr.read) -> concordance.
"""

__version__ = "0.1.0"

from .errors import DicomToolsError, InputError, SourceError, SRReadError
from .model import Finding, ImageRef, Patient, Report, Study

__all__ = [
    "DicomToolsError", "InputError", "SourceError", "SRReadError",
    "Finding", "ImageRef", "Patient", "Report", "Study",
    "read_sr", "write_sr", "to_dataset",
]


def __getattr__(name: str):
    # The SR functions import pydicom; keep `import dicomtools` light for model-only users.
    if name in ("read_sr", "write_sr", "to_dataset"):
        from . import sr
        return getattr(sr, name)
    raise AttributeError(name)
