"""PACS errors. Each message names the PACS (host:port and AE title, or URL) and what the PACS
itself said (DIMSE status, rejection reason, HTTP status and body); never a patient identifier."""

from __future__ import annotations

from ..errors import DicomToolsError


class PacsError(DicomToolsError):
    """Any failure talking to a PACS (CLI exit code 6). ``reason``: the cause alone, without
    the address (set where a message is built from it)."""

    exit_code = 6
    reason = ""


class PacsConnectionError(PacsError):
    """No connection: refused, unreachable host, or the peer closed/aborted the association."""


class PacsTimeout(PacsError):
    """The PACS accepted the connection but did not answer in time."""


class PacsRejected(PacsError):
    """The PACS rejected the association or the request (AE titles, missing authorisation)."""


class PacsHTTPError(PacsError):
    """A DICOMweb request got an HTTP 4xx/5xx; ``status`` is the HTTP status code."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.status = status
