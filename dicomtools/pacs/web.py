"""DICOMweb client over dicomweb-client: STOW-RS, QIDO-RS, WADO-RS, with the same methods as
DimseClient (echo, store, exists, find, retrieve). HTTP errors carry the PACS's own message
(Orthanc: its JSON "Message" and "Details"); requests exceptions never reach the user.

One client per thread: a requests.Session is not guaranteed thread-safe.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Callable, Iterator
from typing import Any

import requests
from dicomweb_client.api import DICOMwebClient
from pydicom.dataset import Dataset
from pynetdicom.status import STORAGE_SERVICE_CLASS_STATUS

from ..errors import InputError
from .address import WebAddress
from .common import InstanceRef, StoreStatus
from .dimse import status_text
from .errors import PacsConnectionError, PacsError, PacsHTTPError, PacsTimeout

# HTTP errors that concern the one instance sent, not the service: the batch records them and
# goes on. Any other 4xx (wrong URL 404, auth 401/403, 405) or 5xx stops it.
_PER_INSTANCE_HTTP = {400, 409, 413, 415, 422}
_STOW_BYTES = 32 * 2**20  # per STOW-RS request: one round trip for many small SRs


def _approx_size(ds: Dataset) -> int:
    """Bytes a dataset will take on the wire, near enough to split requests."""
    filename = getattr(ds, "filename", None)
    if isinstance(filename, str):
        try:
            return os.path.getsize(filename)
        except OSError:
            pass
    return 1 << 20


class WebClient:
    """A DICOMweb service root (e.g. http://127.0.0.1:8042/dicom-web)."""

    def __init__(self, address: WebAddress, *, timeout: float = 30.0,
                 headers: dict[str, str] | None = None):
        self.address = address
        self.timeout = timeout
        self._session = requests.Session()
        # chunk_size above any request we send: dicomweb-client switches a larger STOW body to
        # chunked transfer encoding, with which stores have been reported lost
        # (ImagingDataCommons/dicomweb-client#42); a plain Content-Length body avoids that.
        self._client = DICOMwebClient(address.url, session=self._session, timeout=timeout,
                                      headers=headers, chunk_size=2**30)
        # No silent retries with back-off: the caller sees the failure at once, and a batch
        # resumes from its manifest.
        self._client.set_http_retry_params(retry=False)

    def __enter__(self) -> WebClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._session.close()

    def _call(self, operation: str, fn: Callable, *args, **kwargs) -> Any:
        url = self.address.url
        try:
            return fn(*args, **kwargs)
        except requests.HTTPError as exc:
            raise http_error(url, operation, exc.response) from None
        except requests.Timeout:
            raise PacsTimeout(f"{url}: no answer to {operation} within {self.timeout:g} s") from None
        except requests.ConnectionError as exc:
            raise PacsConnectionError(f"{url}: {operation}: {_connection_reason(exc)}") from None
        except requests.RequestException as exc:
            raise PacsError(f"{url}: {operation} failed ({type(exc).__name__}: {exc})") from None
        except (ValueError, KeyError) as exc:  # dicomweb-client on an unparsable answer
            raise PacsError(f"{url}: unexpected answer to {operation} ({exc})") from None

    # -- services ------------------------------------------------------------------------
    def echo(self) -> None:
        """The DICOMweb counterpart of C-ECHO: a QIDO-RS study search limited to one answer."""
        self._call("QIDO-RS", self._client.search_for_studies, limit=1)

    def store(self, ds: Dataset) -> StoreStatus:
        """STOW-RS one dataset; judged by the instance's own entry in the response."""
        return self.store_many([ds])[0]

    def store_many(self, datasets: list[Dataset]) -> list[StoreStatus]:
        """STOW-RS several datasets in one request (a multipart body; up to ~32 MB each)."""
        out: list[StoreStatus] = []
        batch: list[Dataset] = []
        size = 0
        for ds in datasets:
            length = _approx_size(ds)
            if batch and size + length > _STOW_BYTES:
                out += self._stow(batch)
                batch, size = [], 0
            batch.append(ds)
            size += length
        if batch:
            out += self._stow(batch)
        return out

    def _stow(self, datasets: list[Dataset]) -> list[StoreStatus]:
        try:
            answer = self._call("STOW-RS", self._client.store_instances, datasets)
        except PacsHTTPError as exc:
            if exc.status not in _PER_INSTANCE_HTTP:
                raise
            if len(datasets) > 1:  # find out which instance the PACS objects to
                return [status for ds in datasets for status in self._stow([ds])]
            return [StoreStatus(False, exc.status, str(exc))]
        failed = {item.get("ReferencedSOPInstanceUID"): item for item in answer.get("FailedSOPSequence") or []}
        stored = {item.get("ReferencedSOPInstanceUID"): item for item in answer.get("ReferencedSOPSequence") or []}
        out = []
        for ds in datasets:
            sop = str(ds.SOPInstanceUID)
            if sop in failed:
                code = int(failed[sop].get("FailureReason", 0xC000))
                out.append(StoreStatus(False, code, "STOW-RS failure reason "
                                       + status_text(code, STORAGE_SERVICE_CLASS_STATUS)))
            elif sop in stored:
                code = int(stored[sop].get("WarningReason", 0))
                out.append(StoreStatus(True, code, "STOW-RS " + status_text(code, STORAGE_SERVICE_CLASS_STATUS)))
            elif len(datasets) > 1:
                # Orthanc stops at an instance that fails internally and answers for none of the
                # rest: send those alone, so each gets its own answer (re-sending is harmless).
                out.append(self._stow([ds])[0])
            else:
                out.append(StoreStatus(False, None, "STOW-RS answer lists the instance neither as "
                                                    "stored nor as failed"))
        return out

    def exists(self, ref: InstanceRef) -> bool:
        """Is this SOP instance on the PACS? (QIDO-RS within its study and series)"""
        found = self._call("QIDO-RS", self._client.search_for_instances,
                           study_instance_uid=ref.study_uid, series_instance_uid=ref.series_uid,
                           search_filters={"SOPInstanceUID": ref.sop_uid})
        return any(_first(item, "00080018") == ref.sop_uid for item in found)

    def find(self, level: str, identifier: Dataset) -> list[Dataset]:
        """QIDO-RS for a C-FIND-style identifier: non-empty keys match, empty keys are returned."""
        searches: dict[str, Callable[..., Any]] = {
            "study": self._client.search_for_studies, "series": self._client.search_for_series,
            "instance": self._client.search_for_instances}
        search = searches.get(level)
        if search is None:
            raise InputError("QIDO-RS has no patient level: query studies by PatientID instead")
        filters: dict[str, str] = {}
        fields: list[str] = []
        for elem in identifier:
            if elem.keyword in ("QueryRetrieveLevel", "SpecificCharacterSet"):
                continue
            if elem.value in (None, "", []):
                fields.append(elem.keyword)
            else:
                # UID list matching: PS3.18 accepts comma or backslash separated values.
                filters[elem.keyword] = ",".join(map(str, elem.value)) if elem.VM > 1 else str(elem.value)
        return [Dataset.from_json(item) for item in self._pages(search, fields, filters)]

    def _pages(self, search: Callable, fields: list[str], filters: dict[str, str]) -> list[dict]:
        """All answers, following offsets for a server that pages its results. Not
        dicomweb-client's get_remaining: Orthanc's DICOMweb plugin 1.7 ignores ``offset`` when it
        filters on ModalitiesInStudy, so that loop never ends. A page with nothing new ends ours."""
        found: list[dict] = []
        seen: set[str] = set()
        while True:
            page = self._call("QIDO-RS", search, fields=fields, search_filters=filters,
                              offset=len(found) or None)
            new = []
            for item in page:
                key = json.dumps(item, sort_keys=True)
                if key not in seen:
                    seen.add(key)
                    new.append(item)
            if not new:
                return found
            found += new

    def retrieve(self, refs: list[InstanceRef], *, move_port: int | None = None) -> Iterator[Dataset]:
        """WADO-RS, one instance at a time (move_port is a DIMSE option and is refused here)."""
        if move_port is not None:
            raise InputError("--move-port is for DIMSE C-MOVE, not for DICOMweb")
        for ref in refs:
            yield self._call("WADO-RS", self._client.retrieve_instance,
                             ref.study_uid, ref.series_uid, ref.sop_uid)


def _first(item: dict, tag: str) -> Any:
    values = (item.get(tag) or {}).get("Value") or [None]
    return values[0]


def http_error(url: str, operation: str, response: requests.Response | None) -> PacsHTTPError:
    """'URL: STOW-RS failed: HTTP 409 Conflict; PACS says: ...' from an error response."""
    if response is None:
        return PacsHTTPError(f"{url}: {operation} failed with an HTTP error and no response", 0)
    said = pacs_message(response)
    return PacsHTTPError(f"{url}: {operation} failed: HTTP {response.status_code} {response.reason}"
                         + (f"; PACS says: {said}" if said else ""), response.status_code)


def pacs_message(response: requests.Response) -> str:
    """The server's own explanation: Orthanc JSON (Message, Details), DICOM JSON failure
    reasons, or the first 300 characters of a text body."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and "Message" in body:
        details = body.get("Details")
        return f"{body['Message']}" + (f" ({details})" if details else "")
    if isinstance(body, dict):  # DICOM JSON (a STOW-RS response): the failure reasons
        reasons = [f"0x{int(_first(item, '00081197')):04X}"
                   for item in (body.get("00081198") or {}).get("Value") or []
                   if _first(item, "00081197") is not None]
        if reasons:
            return "failure reason(s) " + ", ".join(reasons)
    text = response.text.strip() if "text" in response.headers.get("Content-Type", "") or body else ""
    return " ".join(text.split())[:300]


def _connection_reason(exc: BaseException) -> str:
    """Why a connection failed, from the exception chain requests/urllib3 build."""
    seen: set[int] = set()
    stack: list[BaseException | None] = [exc]
    while stack:
        cause = stack.pop()
        if cause is None or id(cause) in seen:
            continue
        seen.add(id(cause))
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused (is the DICOMweb server running on that host and port?)"
        if isinstance(cause, socket.gaierror):
            return f"unknown host ({cause.strerror})"
        if isinstance(cause, ConnectionResetError):
            return "connection reset by the server"
        stack.extend([cause.__cause__, cause.__context__, getattr(cause, "reason", None)])
        stack.extend(a for a in cause.args if isinstance(a, BaseException))
    return f"cannot connect ({exc})"
