"""DICOM SR: write (Report -> SR), read (SR -> Report), validate.

The row table (``rows``) and the templates (``templates``) import no pydicom, so the text
extractor can consult them without paying for it; the readers and writers load it lazily,
and the fast reader (``fast.read_report``) only for a file it leaves to ``read_sr``.
"""

__all__ = ["read_sr", "read_report", "report_from_dataset", "write_sr", "to_dataset",
           "assign_tracking"]


def __getattr__(name: str):
    if name in ("read_sr", "report_from_dataset"):
        from . import read
        return getattr(read, name)
    if name == "read_report":  # read_sr's Report without pydicom for most small SRs
        from . import fast
        return fast.read_report
    if name in ("write_sr", "to_dataset", "assign_tracking"):
        from . import write
        return getattr(write, name)
    raise AttributeError(name)
