"""DIMSE client over pynetdicom: C-ECHO, C-STORE, C-FIND (patient/study/series/instance),
C-GET and C-MOVE. Every failure a user can meet becomes one PacsError naming host:port, both
AE titles and the PACS's status; pynetdicom exceptions and logs never reach the user.

A DimseClient holds one association (pynetdicom associations are not shareable across threads:
use one client per thread, as the batch sender does).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

from pydicom.dataset import Dataset
from pydicom.uid import UID, ExplicitVRLittleEndian, ImplicitVRLittleEndian
from pynetdicom import AE, build_role, evt
from pynetdicom.association import Association
from pynetdicom.sop_class import (  # type: ignore[attr-defined]  # made at import time
    PatientRootQueryRetrieveInformationModelFind,
    StudyRootQueryRetrieveInformationModelFind,
    StudyRootQueryRetrieveInformationModelGet,
    StudyRootQueryRetrieveInformationModelMove,
    Verification,
)
from pynetdicom.status import (
    QR_FIND_SERVICE_CLASS_STATUS,
    QR_GET_SERVICE_CLASS_STATUS,
    QR_MOVE_SERVICE_CLASS_STATUS,
    STORAGE_SERVICE_CLASS_STATUS,
    VERIFICATION_SERVICE_CLASS_STATUS,
)

from ..sr.read import SR_STORAGE
from .address import DimseAddress
from .common import InstanceRef, StoreStatus
from .errors import PacsConnectionError, PacsError, PacsRejected, PacsTimeout

SR_CLASSES = tuple(SR_STORAGE)
UNCOMPRESSED = [ExplicitVRLittleEndian, ImplicitVRLittleEndian]
_PENDING = (0xFF00, 0xFF01)
_MAX_STORAGE_CONTEXTS = 125  # 128 per association, minus Verification and two C-FIND models
_QUERY_HINT = ("the PACS may not accept queries/retrievals from calling AE title {aet!r} "
               "(Orthanc: list it in DicomModalities)")


def status_text(code: int, table: dict) -> str:
    """'0xA700 (Failure: Refused: Out of Resources)' from a pynetdicom status table."""
    category, description = table.get(code, ("Unknown", "status not defined by the standard"))
    return f"0x{code:04X} ({category}: {description})" if description else f"0x{code:04X} ({category})"


def _comment(status: Dataset) -> str:
    text = status.get("ErrorComment")
    return f"; PACS says: {text}" if text else ""


def _uid_name(uid: str) -> str:
    name = UID(uid).name
    return f"{uid} ({name})" if name and name != uid else uid


class DimseClient:
    """One association to a DIMSE PACS, opened on first use and re-opened after a change.

    ``sop_classes`` are the storage SOP classes to propose for C-STORE (SR classes by default;
    a dataset of another class adds its class and re-negotiates).
    """

    def __init__(self, address: DimseAddress, *, timeout: float = 30.0,
                 sop_classes: Iterable[str] = SR_CLASSES):
        self.address = address
        self.timeout = timeout
        self._contexts: dict[str, list[str]] = {}
        for uid in sop_classes:
            self._want(str(uid), None)
        self._assoc: Association | None = None

    # -- association ---------------------------------------------------------------------
    def __enter__(self) -> DimseClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Release the association (if any); never raises."""
        assoc, self._assoc = self._assoc, None
        if assoc is not None and assoc.is_established:
            try:
                assoc.release()
            except Exception:  # a dead peer: nothing left to release
                pass

    def _want(self, sop_class: str, transfer_syntax: str | None) -> bool:
        """Add a context to propose; True if it is new (the association must be re-opened)."""
        syntaxes = self._contexts.setdefault(sop_class, [])
        new = not syntaxes
        for ts in ([transfer_syntax] if transfer_syntax else []) + UNCOMPRESSED:
            if ts not in syntaxes:
                syntaxes.append(ts)
                new = True
        while len(self._contexts) > _MAX_STORAGE_CONTEXTS:  # drop the oldest, keep the new one
            del self._contexts[next(iter(self._contexts))]
        return new

    def _main(self) -> Association:
        if self._assoc is None or not self._assoc.is_established:
            contexts = {Verification: None, StudyRootQueryRetrieveInformationModelFind: None,
                        PatientRootQueryRetrieveInformationModelFind: None, **self._contexts}
            self._assoc = associate(self.address, self.timeout, contexts)
        return self._assoc

    def _accepted(self, assoc: Association, sop_class: str) -> bool:
        return any(cx.abstract_syntax == sop_class for cx in assoc.accepted_contexts)

    def _lost(self, operation: str, started: float, hint: str = "") -> PacsError:
        """The error for an empty status: the association timed out, was aborted or dropped."""
        self._assoc = None
        where = self.address.describe()
        if time.monotonic() - started >= self.timeout * 0.9:
            return PacsTimeout(f"{where}: no answer to {operation} within {self.timeout:g} s")
        try:  # the peer gone entirely (stopped, crashed) reads better than "aborted"
            probe(self.address, min(self.timeout, 5.0))
        except PacsError as exc:
            return PacsConnectionError(f"{where}: connection lost during {operation} ({exc.reason})")
        extra = f": {hint}" if hint else ""
        kind = PacsRejected if hint else PacsConnectionError
        return kind(f"{where}: the PACS aborted the association during {operation}{extra}")

    # -- services ------------------------------------------------------------------------
    def echo(self) -> None:
        """C-ECHO; raises PacsError unless the PACS answers Success."""
        started = time.monotonic()
        assoc = self._main()
        _settle(assoc)
        try:
            status = assoc.send_c_echo()
        except RuntimeError:  # the association died since _main() looked
            status = None
        if not status:
            raise self._lost("C-ECHO", started)
        if status.Status != 0x0000:
            raise PacsError(f"{self.address.describe()}: C-ECHO answered "
                            f"{status_text(status.Status, VERIFICATION_SERVICE_CLASS_STATUS)}")

    def store(self, ds: Dataset) -> StoreStatus:
        """C-STORE one dataset. A refusal is a StoreStatus (per instance); a lost association
        raises (nothing more can be sent on it)."""
        sop_class = str(ds.SOPClassUID)
        ts = getattr(getattr(ds, "file_meta", None), "TransferSyntaxUID", None)
        if self._want(sop_class, str(ts) if ts else None):
            self.close()  # re-negotiate with the new context
        assoc = self._main()
        if not self._accepted(assoc, sop_class):
            return StoreStatus(False, None, f"{self.address.describe()} accepted no presentation "
                               f"context for SOP Class {_uid_name(sop_class)}: the PACS does not "
                               "store this kind of object over DIMSE")
        started = time.monotonic()
        try:
            _settle(assoc)
            status = assoc.send_c_store(ds)
        except (ValueError, AttributeError) as exc:  # no usable transfer syntax / not encodable
            return StoreStatus(False, None, f"cannot send to {self.address.describe()}: {exc}")
        except RuntimeError:  # the association died since _main() looked
            status = None
        if not status:
            raise self._lost("C-STORE", started)
        code = int(status.Status)
        text = status_text(code, STORAGE_SERVICE_CLASS_STATUS) + _comment(status)
        category = STORAGE_SERVICE_CLASS_STATUS.get(code, ("Failure",))[0]
        return StoreStatus(category in ("Success", "Warning"), code, f"C-STORE {text}")

    def store_many(self, datasets: list[Dataset]) -> list[StoreStatus]:
        """C-STORE each dataset in turn on this association."""
        return [self.store(ds) for ds in datasets]

    def find(self, level: str, identifier: Dataset) -> list[Dataset]:
        """C-FIND with a ready identifier (see common.query_dataset); all pending answers."""
        model = (PatientRootQueryRetrieveInformationModelFind if level == "patient"
                 else StudyRootQueryRetrieveInformationModelFind)
        assoc = self._main()
        if not self._accepted(assoc, model):
            raise PacsRejected(f"{self.address.describe()} accepted no presentation context for "
                               f"{_uid_name(model)}: it does not answer C-FIND at {level} level")
        answers: list[Dataset] = []
        started = time.monotonic()
        _settle(assoc)
        try:
            responses: list[tuple[Any, Any]] = list(assoc.send_c_find(identifier, model))
        except RuntimeError:  # the association died since _main() looked
            responses = [(None, None)]
        for status, answer in responses:
            if not status:
                raise self._lost("C-FIND", started, _QUERY_HINT.format(aet=self.address.calling_aet))
            code = int(status.Status)
            if code in _PENDING:
                if answer is not None:
                    answers.append(answer)
            elif code != 0x0000:
                raise PacsError(f"{self.address.describe()}: C-FIND failed with status "
                                f"{status_text(code, QR_FIND_SERVICE_CLASS_STATUS)}{_comment(status)}")
        return answers

    def exists(self, ref: InstanceRef) -> bool:
        """Is this SOP instance on the PACS? (IMAGE-level C-FIND on its unique keys)"""
        q = Dataset()
        q.QueryRetrieveLevel = "IMAGE"
        q.StudyInstanceUID, q.SeriesInstanceUID, q.SOPInstanceUID = ref.study_uid, ref.series_uid, ref.sop_uid
        return any(a.get("SOPInstanceUID") == ref.sop_uid for a in self.find("instance", q))

    def retrieve(self, refs: list[InstanceRef], *, move_port: int | None = None) -> Iterator[Dataset]:
        """The instances, by C-GET (default) or by C-MOVE to our own Storage SCP on move_port.

        C-MOVE needs the PACS to know our calling AE title with this host and port.
        """
        if not refs:
            return iter(())
        if move_port is None:
            return _Retriever(self, refs).get()
        return _Retriever(self, refs).move(move_port)


class _Retriever:
    """C-GET / C-MOVE of a list of instances; received datasets are collected per SOP UID."""

    def __init__(self, client: DimseClient, refs: list[InstanceRef]):
        self.client = client
        self.refs = refs
        self.classes = sorted({r.sop_class_uid for r in refs if r.sop_class_uid} or set(SR_CLASSES))
        self.received: dict[str, Dataset] = {}
        self.lock = threading.Lock()

    def on_store(self, event) -> int:
        ds = event.dataset
        ds.file_meta = event.file_meta
        with self.lock:
            self.received[str(ds.SOPInstanceUID)] = ds
        return 0x0000

    def _run(self, assoc: Association, send: Callable, operation: str, table: dict,
             hint: str) -> Iterator[Dataset]:
        address = self.client.address
        for ref in self.refs:
            q = Dataset()
            q.QueryRetrieveLevel = "IMAGE"
            q.StudyInstanceUID, q.SeriesInstanceUID, q.SOPInstanceUID = ref.study_uid, ref.series_uid, ref.sop_uid
            started = time.monotonic()
            final = None
            _settle(assoc)
            try:
                responses = list(send(q))
            except RuntimeError:  # the association died (aborted by the PACS)
                responses = [(None, None)]
            for status, _ in responses:
                if not status:
                    raise self.client._lost(operation, started, hint)
                if int(status.Status) not in _PENDING:
                    final = status
            code = int(final.Status) if final is not None else None
            with self.lock:
                ds = self.received.pop(ref.sop_uid, None)
            if ds is None or code not in (0x0000, 0xB000):
                said = status_text(code, table) if code is not None else "no final status"
                parts = [f"{address.describe()}: {operation} of instance {ref.sop_uid} answered {said}"]
                failed = final.get("NumberOfFailedSuboperations") if final is not None else None
                if failed:
                    parts.append(f"{failed} failed sub-operation" + ("" if failed == 1 else "s"))
                if ds is None:
                    parts.append("nothing was delivered")
                raise PacsError("; ".join(parts) + (_comment(final) if final is not None else ""))
            yield ds

    def get(self) -> Iterator[Dataset]:
        address = self.client.address
        model = StudyRootQueryRetrieveInformationModelGet
        contexts = {model: None, **dict.fromkeys(self.classes, UNCOMPRESSED)}
        # C-GET delivers on the same association: we must offer the SCP role for each class.
        roles = [build_role(uid, scp_role=True) for uid in self.classes]
        assoc = associate(address, self.client.timeout, contexts, ext_neg=roles,
                          handlers=[(evt.EVT_C_STORE, self.on_store)])
        try:
            if not any(cx.abstract_syntax == model for cx in assoc.accepted_contexts):
                raise PacsRejected(f"{address.describe()} accepted no presentation context for "
                                   f"{_uid_name(model)}: it does not support C-GET (try C-MOVE)")
            yield from self._run(assoc, lambda q: assoc.send_c_get(q, model), "C-GET",
                                 QR_GET_SERVICE_CLASS_STATUS, _QUERY_HINT.format(aet=address.calling_aet))
        finally:
            if assoc.is_established:
                assoc.release()

    def move(self, port: int) -> Iterator[Dataset]:
        address = self.client.address
        model = StudyRootQueryRetrieveInformationModelMove
        scp = AE(ae_title=address.calling_aet)
        for uid in self.classes:
            scp.add_supported_context(uid, UNCOMPRESSED)
        # Listen on loopback only when the PACS is local: no port opened to the network for nothing.
        bind = "127.0.0.1" if address.host in ("127.0.0.1", "localhost", "::1") else ""
        try:
            server = scp.start_server((bind, port), block=False,
                                      evt_handlers=[(evt.EVT_CONN_OPEN, _no_delay),
                                                    (evt.EVT_C_STORE, self.on_store)])
        except OSError as exc:
            raise PacsError(f"cannot listen on port {port} for C-MOVE deliveries: "
                            f"{exc.strerror or exc}") from None
        try:
            assoc = associate(address, self.client.timeout, {model: None})
            try:
                hint = (f"the PACS must know calling AE title {address.calling_aet!r} as a C-MOVE "
                        f"destination at this host, port {port} (Orthanc: DicomModalities)")
                yield from self._run(assoc, lambda q: assoc.send_c_move(q, address.calling_aet, model),
                                     "C-MOVE", QR_MOVE_SERVICE_CLASS_STATUS, hint)
            finally:
                if assoc.is_established:
                    assoc.release()
        finally:
            if server is not None:
                server.shutdown()


def _settle(assoc: Association, limit: float = 1.0) -> None:
    """Park pynetdicom's reactor thread before a send_c_*() call.

    pynetdicom 3.0.4 pauses its reactor inside send_c_*() by clearing an Event and polling a
    flag the reactor sets *before* it blocks; when the reactor has just passed the Event, the
    flag is stale, the request goes out, and the reactor can take the first response off the
    queue and drop it ("Received unexpected C-FIND service message", pynetdicom#875). Measured
    against Orthanc: ~0.5% of C-FINDs lost their match and some C-STOREs hung until the DIMSE
    timeout. Here we clear the Event ourselves and wait until the reactor thread is really
    blocked on it (a waiter is registered on the Event's condition), so send_c_*() sees a true
    pause. If pynetdicom's internals change, this degrades to pynetdicom's own behaviour.
    """
    checkpoint = getattr(assoc, "_reactor_checkpoint", None)
    waiters = getattr(getattr(checkpoint, "_cond", None), "_waiters", None)
    if checkpoint is None or waiters is None or not assoc.is_alive():
        return
    checkpoint.clear()
    deadline = time.monotonic() + limit
    while not waiters and assoc.is_alive() and time.monotonic() < deadline:
        time.sleep(0.0001)


def _no_delay(event) -> None:
    """TCP_NODELAY on our end: pynetdicom writes a command and its dataset as separate PDUs, and
    Nagle's algorithm plus the peer's delayed ACK then add ~40 ms to every message (measured:
    C-FIND 50 ms -> 4 ms, C-STORE 52 ms -> 10 ms against Orthanc)."""
    sock = getattr(getattr(event.assoc.dul, "socket", None), "socket", None)
    if sock is not None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def probe(address: DimseAddress, timeout: float) -> None:
    """Open and close a TCP connection: pynetdicom only logs why a connect failed, and the user
    must be told whether the port is closed, the host unknown or the network silent."""
    where = address.describe()
    kind: type[PacsError]
    try:
        with socket.create_connection((address.host, address.port), timeout=timeout):
            return
    except ConnectionRefusedError:
        kind, reason = PacsConnectionError, (f"connection refused (is the PACS running and "
                                             f"listening on port {address.port}?)")
    except TimeoutError:
        kind, reason = PacsTimeout, f"no TCP connection within {timeout:g} s"
    except socket.gaierror as exc:
        kind, reason = PacsConnectionError, f"unknown host ({exc.strerror})"
    except OSError as exc:
        kind, reason = PacsConnectionError, f"cannot connect ({exc.strerror or exc})"
    error = kind(f"{where}: {reason}")
    error.reason = reason
    raise error


def _rejection(assoc: Association):
    """The A-ASSOCIATE-RJ primitive if one was received, else None."""
    primitive = getattr(assoc.acceptor, "primitive", None)
    return primitive if getattr(primitive, "result", None) in (0x01, 0x02) else None


def associate(address: DimseAddress, timeout: float, contexts: Mapping[str, Sequence[str] | None], *,
              ext_neg=None, handlers=None) -> Association:
    """An established association, or the PacsError saying why not (refused, rejected, timeout)."""
    ae = AE(ae_title=address.calling_aet)
    ae.acse_timeout = ae.dimse_timeout = ae.connection_timeout = timeout
    # No idle timeout: pynetdicom would abort an association left idle between calls (the
    # PACS closes idle ones itself; a closed association is simply re-opened).
    ae.network_timeout = None
    for uid, syntaxes in contexts.items():
        if syntaxes:
            ae.add_requested_context(uid, syntaxes)
        else:
            ae.add_requested_context(uid)
    probe(address, timeout)
    for _attempt in range(2):
        started = time.monotonic()
        assoc = ae.associate(address.host, address.port, ae_title=address.called_aet,
                             ext_neg=ext_neg,
                             evt_handlers=[(evt.EVT_CONN_OPEN, _no_delay), *(handlers or [])])
        if assoc.is_established or assoc.is_rejected or _rejection(assoc) is not None:
            break
        # A peer that rejects and closes at once (Orthanc/DCMTK) can be seen as an abort when
        # the close overtakes the A-ASSOCIATE-RJ (measured: 3 in 150 under CPU load). An
        # association request has no side effect, so ask once more for the real answer.
    if assoc.is_established:
        return assoc
    where = address.describe()
    if assoc.is_rejected or _rejection(assoc) is not None:
        rj = _rejection(assoc)
        reason = f"{rj.result_str}, {rj.source_str}: {rj.reason_str}" if rj is not None else "no reason given"
        hint = ""
        if rj is not None and rj.result_source == 1 and rj.diagnostic == 7:
            hint = f"; check the called AE title {address.called_aet!r} in the address"
        elif rj is not None and rj.result_source == 1 and rj.diagnostic == 3:
            hint = f"; the PACS does not know calling AE title {address.calling_aet!r} (use --aet)"
        raise PacsRejected(f"{where}: association rejected ({reason}){hint}")
    if time.monotonic() - started >= timeout * 0.9:
        raise PacsTimeout(f"{where}: no answer to the association request within {timeout:g} s")
    raise PacsConnectionError(f"{where}: the PACS closed the connection during association "
                              "negotiation (aborted)")
