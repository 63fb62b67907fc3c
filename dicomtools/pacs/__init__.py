"""PACS pipelines: send, find, fetch and verify DICOM objects on a PACS over DIMSE
(pynetdicom: C-ECHO, C-STORE, C-FIND, C-GET, C-MOVE) or DICOMweb (dicomweb-client: STOW-RS,
QIDO-RS, WADO-RS).

Addresses: ``dicom://AET@host:port`` (called AE title; our calling AE title is a separate
``calling_aet``, default DICOMTOOLS) or ``http(s)://host:port/dicom-web``.

    from dicomtools import pacs
    result = pacs.send("dicom://ORTHANC@127.0.0.1:4242", ["out/"], concurrency=4,
                       manifest="send.jsonl")          # verified, resumable
    pacs.find("http://127.0.0.1:8042/dicom-web", "series", Modality="SR")
    reports = pacs.fetch_reports("dicom://ORTHANC@127.0.0.1:4242", StudyInstanceUID="1.2.3")

Errors are PacsError subclasses (CLI exit code 6), each naming host:port and AE titles or the
URL, and what the PACS said.
"""

from importlib import import_module

from .errors import PacsConnectionError, PacsError, PacsHTTPError, PacsRejected, PacsTimeout

# Loaded on first use (PEP 562): `dicomtools --help` and the non-PACS commands do not pay for
# importing pynetdicom, dicomweb-client and requests.
_LAZY = {
    "DimseAddress": "address", "WebAddress": "address", "parse_pacs": "address",
    "connect": "api", "echo": "api", "send": "api", "find": "api", "find_datasets": "api",
    "fetch": "api", "fetch_reports": "api",
    "BatchResult": "batch", "InstanceResult": "batch", "Manifest": "batch",
    "InstanceRef": "common", "StoreStatus": "common",
}


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [*_LAZY, "PacsError", "PacsConnectionError", "PacsTimeout", "PacsRejected", "PacsHTTPError"]
