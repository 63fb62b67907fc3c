"""DICOM SR: write (Report -> SR), read (SR -> Report), validate."""

from .read import read_sr, report_from_dataset
from .write import assign_tracking, to_dataset, write_sr

__all__ = ["read_sr", "report_from_dataset", "write_sr", "to_dataset", "assign_tracking"]
