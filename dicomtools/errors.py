"""Error types. Every message names the problem: file, field and value."""


class DicomToolsError(Exception):
    """Base class of every error dicomtools raises on purpose."""

    exit_code = 1


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
