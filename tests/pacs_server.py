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


def free_port() -> int:
    """A port nobody listens on right now (it may be taken again before use: see start())."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Orthanc:
    """A private Orthanc process. Ports stay fixed across restart() so an address stays valid."""

    def __init__(self, workdir: Path, executable: str):
        self.workdir = workdir
        self.executable = executable
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
            "Plugins": [PLUGIN],
            "DicomWeb": {"Enable": True, "Root": "/dicom-web/",
                         "Host": f"127.0.0.1:{self.http_port}"},
        }
        path = self.workdir / "orthanc.json"
        path.write_text(json.dumps(config, indent=2))
        return path

    def start(self, attempts: int = 3) -> None:
        """Start and wait until both ports answer; retry on a lost port race."""
        for attempt in range(1, attempts + 1):
            config = self._write_config()
            self._log = open(self.log_path, "ab")
            self.proc = subprocess.Popen([self.executable, str(config)], stdout=self._log,
                                         stderr=subprocess.STDOUT, start_new_session=True)
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

    def restart(self) -> None:
        """Stop and start again on the same ports and storage (what an admin's restart does)."""
        self.stop()
        self.start(attempts=5)

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
