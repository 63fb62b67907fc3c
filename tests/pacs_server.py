"""A private, real Orthanc for the PACS tests (recipe: shared/reference/infrastructure.md).

One Orthanc per test session, on free 127.0.0.1 ports, with its own configuration and storage
in a temporary directory; stopped by PID (SIGTERM, wait, SIGKILL on timeout). Never the system
service, its ports 4242/8042 or /etc/orthanc.

Test modules import the fixture: ``from pacs_server import orthanc  # noqa: F401``. pytest
makes one fixture definition per importing module, so the server itself is a module-level
singleton: every module gets the same Orthanc and stopping it twice is harmless.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
import requests

from conftest import require_tool

PLUGIN = "/usr/share/orthanc/plugins/libOrthancDicomWeb.so"
AET = "ORTHANC"
SCU_AET = "DICOMTOOLS"        # our calling AE title; listed in DicomModalities (C-FIND/GET/MOVE)
UNKNOWN_AET = "STRANGER"      # not listed: Orthanc aborts its C-FIND
REFUSE = "dicomtools-test: refuse"   # SeriesDescription the PACS refuses to store
CRASH = "dicomtools-test: crash"     # SeriesDescription on which the PACS fails internally
LUA_FILTER = f"""
function ReceivedInstanceFilter(dicom, origin, info)
  local d = dicom["SeriesDescription"]
  if d == "{REFUSE}" then return false end
  if d == "{CRASH}" then error("simulated storage failure") end
  return true
end

function IncomingHttpRequestFilter(method, uri, ip, username, headers)
  if string.find(uri, "^/crash/") then error("simulated internal failure") end
  return true
end
"""


def free_port() -> int:
    """A port nobody listens on right now (it may be taken again before use: see start())."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Orthanc:
    """A private Orthanc process. start(keep_ports=True) after stop()/crash() brings it back on
    the same ports and storage, so addresses (and manifests naming them) stay valid."""

    def __init__(self, workdir: Path, executable: str, **extra_config):
        self.workdir = workdir
        self.executable = executable
        self.extra_config = extra_config
        self.proc: subprocess.Popen | None = None
        self._log = None
        self._new_ports()

    def _new_ports(self) -> None:
        ports: set[int] = set()
        while len(ports) < 3:
            ports.add(free_port())
        self.http_port, self.dicom_port, self.move_port = sorted(ports)

    # -- addresses -----------------------------------------------------------------------
    @property
    def pacs(self) -> str:
        return f"dicom://{AET}@127.0.0.1:{self.dicom_port}"

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def dicomweb(self) -> str:
        return f"{self.http_url}/dicom-web"

    @property
    def log_path(self) -> Path:
        return self.workdir / "orthanc.log"

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    # -- life cycle ----------------------------------------------------------------------
    def _write_config(self) -> Path:
        config = {
            "Name": "dicomtools-pytest",
            "StorageDirectory": str(self.workdir / "db"),
            "IndexDirectory": str(self.workdir / "db"),
            "HttpPort": self.http_port,
            "DicomPort": self.dicom_port,
            "DicomAet": AET,
            # A wrong called AE title must be rejected, as a strict PACS does (default: false).
            "DicomCheckCalledAet": True,
            "RemoteAccessAllowed": False,
            "AuthenticationEnabled": False,
            "DicomAlwaysAllowEcho": True,
            "DicomAlwaysAllowStore": True,
            "OverwriteInstances": False,
            # C-MOVE destination = our AE title at move_port (where dicomtools listens).
            "DicomModalities": {"dicomtools": [SCU_AET, "127.0.0.1", self.move_port]},
            "SaveJobs": False,
            # Test hooks: refuse (or fail on) instances by SeriesDescription, as a PACS
            # with a full disk or a routing rule would; see LUA_FILTER.
            "LuaScripts": [str(self._write_lua())],
            "Plugins": [PLUGIN],
            "DicomWeb": {"Enable": True, "Root": "/dicom-web/",
                         "Host": f"127.0.0.1:{self.http_port}"},
        }
        config.update(self.extra_config)
        path = self.workdir / "orthanc.json"
        path.write_text(json.dumps(config, indent=2))
        return path

    def _write_lua(self) -> Path:
        path = self.workdir / "filter.lua"
        path.write_text(LUA_FILTER)
        return path

    def start(self, attempts: int = 3, keep_ports: bool = False) -> None:
        """Start and wait until both ports answer. A lost port race (another process took a
        port between free_port() and Orthanc's bind: Orthanc exits 255) is retried on new
        ports, or on the same ones with ``keep_ports`` (a restart, once the old sockets close)."""
        for attempt in range(1, attempts + 1):
            if attempt > 1 and not keep_ports:
                self._new_ports()
            config = self._write_config()
            self._log = open(self.log_path, "ab")
            # TCP_NODELAY=1: DCMTK (Orthanc's DICOM layer) then disables Nagle's algorithm;
            # without it every DIMSE answer waits ~40 ms for a delayed ACK (20 C-ECHO: 1.1 s -> 0.04 s).
            env = {**os.environ, "TCP_NODELAY": "1"}
            self.proc = subprocess.Popen([self.executable, str(config)], stdout=self._log,
                                         stderr=subprocess.STDOUT, start_new_session=True, env=env)
            if self._wait_ready(timeout=30):
                return
            self.stop()
            if attempt == attempts:
                raise RuntimeError(f"Orthanc did not start after {attempts} attempts; log:\n"
                                   + self.log_text()[-3000:])
            time.sleep(0.5 * attempt)  # a restart may race the old sockets' release

    def _wait_ready(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False  # exited: port taken (code 255) or bad config
            try:
                requests.get(f"{self.http_url}/system", timeout=1).raise_for_status()
                with socket.create_connection(("127.0.0.1", self.dicom_port), timeout=1):
                    return True
            except (requests.RequestException, OSError):
                time.sleep(0.05)
        return False

    def stop(self, timeout: float = 20) -> None:
        """SIGTERM the Orthanc we started (by PID), wait, SIGKILL if it hangs. Idempotent."""
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        if self._log is not None:
            self._log.close()
            self._log = None

    def crash(self) -> None:
        """SIGKILL our Orthanc (by PID): it stops at once, as in a crash or power loss. SIGTERM
        is no use to interrupt a busy client: Orthanc keeps serving open associations for
        several seconds while it shuts down."""
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.stop()

    @contextlib.contextmanager
    def frozen(self):
        """SIGSTOP the server for the block: connects succeed (kernel backlog), nothing answers."""
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGSTOP)
        try:
            yield
        finally:
            os.kill(self.proc.pid, signal.SIGCONT)

    # -- REST helpers (test-side oracle, independent of dicomtools) -----------------------
    def rest(self, method: str, path: str, **kwargs):
        response = requests.request(method, f"{self.http_url}{path}", timeout=30, **kwargs)
        response.raise_for_status()
        return response.json() if response.content else None

    def instance_uids_in_study(self, study_uid: str) -> list[str]:
        """SOP Instance UIDs Orthanc holds for a study, one entry per stored instance."""
        found = self.rest("POST", "/tools/find", json={
            "Level": "Instance", "Query": {"StudyInstanceUID": study_uid}, "Expand": True})
        return [item["MainDicomTags"]["SOPInstanceUID"] for item in found]

    def has_instance(self, sop_uid: str) -> bool:
        return bool(self.rest("POST", "/tools/lookup", data=sop_uid))

    def delete_study(self, study_uid: str) -> None:
        for hit in self.rest("POST", "/tools/lookup", data=study_uid) or []:
            if hit["Type"] == "Study":
                self.rest("DELETE", f"/studies/{hit['ID']}")


_SERVER: Orthanc | None = None


@pytest.fixture(scope="session")
def orthanc(tmp_path_factory):
    """The session's Orthanc (skipped locally / failed under CI when not installed)."""
    global _SERVER
    executable = require_tool("Orthanc", "/usr/sbin/Orthanc")
    require_tool("libOrthancDicomWeb.so", PLUGIN)
    if _SERVER is None:
        server = Orthanc(tmp_path_factory.mktemp("orthanc"), executable)
        server.start()
        _SERVER = server
    yield _SERVER
    _SERVER.stop()


# -- test data -----------------------------------------------------------------------------
def small_report(study_uid: str | None = None):
    """A one-finding whole-body MRI report (synthetic patient) for generated SRs."""
    from pydicom.uid import generate_uid

    from dicomtools.model import Finding, Patient, Report, Study

    return Report(modality="MR", procedure="whole-body MRI",
                  findings=(Finding(present=True, finding="mass", site="liver",
                                    dimensions_mm=(12.0,)),),
                  patient=Patient(id="PACS-TEST-1", name="Pacstest^Synthetic"),
                  study=Study(instance_uid=study_uid or generate_uid(), date="20240101"))


def make_sr(path: Path, *, study_uid: str | None = None, series_description: str | None = None,
            sop_class: str | None = None) -> Path:
    """One small SR file; optionally with a SeriesDescription the test PACS reacts to
    (REFUSE, CRASH) or another SOP Class UID (to meet a class the PACS does not accept)."""
    from dicomtools.sr import write_sr
    from dicomtools.sr.write import to_dataset

    if series_description is None and sop_class is None:
        return write_sr(small_report(study_uid), path)
    ds = to_dataset(small_report(study_uid))
    if series_description is not None:
        ds.SeriesDescription = series_description
    if sop_class is not None:
        ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = sop_class
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)
    return path


def make_batch(folder: Path, count: int) -> tuple[str, list[Path]]:
    """``count`` small SRs in one new study (each its own series): (study UID, paths)."""
    from pydicom.uid import generate_uid

    from dicomtools.sr import write_sr

    study_uid = generate_uid()
    report = small_report(study_uid)
    paths = [write_sr(report, folder / f"sr{i:04d}.dcm", instance_number=i + 1) for i in range(count)]
    return study_uid, paths
