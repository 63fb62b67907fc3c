"""PACS addresses: ``dicom://AET@host:port`` (DIMSE) and ``http(s)://host:port/dicom-web`` (DICOMweb).

The called AE title is part of the address; the calling AE title (ours) is a separate setting
(``--aet``, default ``DICOMTOOLS``) because it is a property of this client, and the PACS must
know it (Orthanc: ``DicomModalities``) before it answers C-FIND, C-GET or C-MOVE.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from ..errors import InputError

DEFAULT_CALLING_AET = "DICOMTOOLS"
_DIMSE_FORM = "dicom://AET@host:port (e.g. dicom://ORTHANC@127.0.0.1:4242)"


def check_aet(aet: str, what: str = "AE title") -> str:
    """An AE title as DICOM allows it (PS3.5 AE VR): 1-16 chars, no backslash or control chars."""
    if not isinstance(aet, str) or not aet.strip():
        raise InputError(f"{what} is empty")
    if len(aet) > 16 or "\\" in aet or any(ord(c) < 32 or ord(c) > 126 for c in aet):
        raise InputError(f"{what} {aet!r} is not a valid AE title "
                         "(1-16 printable ASCII characters, no backslash)")
    return aet.strip()


@dataclass(frozen=True, slots=True)
class DimseAddress:
    """A DIMSE peer: called AE title, host, port; and the calling AE title we use."""

    called_aet: str
    host: str
    port: int
    calling_aet: str = DEFAULT_CALLING_AET

    def __str__(self) -> str:
        return f"dicom://{self.called_aet}@{self.host}:{self.port}"

    def describe(self) -> str:
        """For error messages: both AE titles and the endpoint."""
        return f"{self.host}:{self.port} (called AE {self.called_aet!r}, calling AE {self.calling_aet!r})"


@dataclass(frozen=True, slots=True)
class WebAddress:
    """A DICOMweb service root, e.g. http://127.0.0.1:8042/dicom-web (no trailing slash)."""

    url: str

    def __str__(self) -> str:
        return self.url

    def describe(self) -> str:
        return self.url


PacsAddress = DimseAddress | WebAddress


def parse_pacs(text: str | PacsAddress, calling_aet: str | None = None) -> PacsAddress:
    """Parse ``dicom://AET@host:port`` or an ``http(s)://`` DICOMweb root; InputError otherwise."""
    if isinstance(text, (DimseAddress, WebAddress)):
        if calling_aet and isinstance(text, DimseAddress):
            return DimseAddress(text.called_aet, text.host, text.port, check_aet(calling_aet, "calling AE title"))
        return text
    text = str(text).strip()
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme in ("http", "https"):
        if not parts.hostname:
            raise InputError(f"DICOMweb URL {text!r} has no host (expected e.g. http://host:8042/dicom-web)")
        _port(parts, text)
        return WebAddress(text.rstrip("/"))
    if scheme != "dicom":
        raise InputError(f"PACS address {text!r}: expected {_DIMSE_FORM} or an http(s):// DICOMweb URL")
    if parts.password is not None:
        raise InputError(f"PACS address {text!r}: give the calling AE title with --aet, "
                         f"not in the address; expected {_DIMSE_FORM}")
    if not parts.username or not parts.hostname or parts.path not in ("", "/") or parts.query:
        raise InputError(f"PACS address {text!r}: expected {_DIMSE_FORM}")
    port = _port(parts, text)
    if port is None:
        raise InputError(f"PACS address {text!r} has no port; expected {_DIMSE_FORM}")
    # urlsplit lowercases the hostname but keeps the user part (the AE title) as written.
    return DimseAddress(check_aet(parts.username, f"PACS address {text!r}: called AE title"),
                        parts.hostname, port,
                        check_aet(calling_aet or DEFAULT_CALLING_AET, "calling AE title"))


def _port(parts, text: str) -> int | None:
    try:
        port = parts.port
    except ValueError:
        raise InputError(f"PACS address {text!r}: the port is not a number in 1-65535") from None
    if port == 0:
        raise InputError(f"PACS address {text!r}: the port is not a number in 1-65535")
    return port
