"""Reports rebuilt from an index (for concordance over an index, no SR file read).

A report comes back from its ``reports`` row (header, study, patient as stored: the keyed
patient hash as Patient ID unless the index kept the IDs) and the whole JSON form of each of
its findings. The image list is not in the index; concordance does not need it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator

from ..errors import DicomToolsError
from ..model import Finding, Patient, Report, SRIdentity, Study
from ..phi import printable
from .store import connect

_COLUMNS = ("report_id, source_path, report_json, patient_key, patient_id, "
            "issuer_of_patient_id, patient_name, patient_birth_date, patient_sex, warnings")


def iter_reports(index: str | os.PathLike[str], warnings: list[str] | None = None) -> Iterator[Report]:
    """Every report of the index (one per SOP Instance UID), with its findings. A row that
    no longer builds a Report (an index of another version) is a warning, not an error."""
    con = connect(index)
    try:
        findings: dict[str, list[str]] = {}
        for report_id, text in con.execute(
                "SELECT report_id, finding_json FROM findings ORDER BY report_id, finding_index"
                ).fetchall():
            findings.setdefault(report_id, []).append(text)
        rows = con.execute(f"SELECT {_COLUMNS} FROM reports ORDER BY source_path").fetchall()
    finally:
        con.close()
    for (report_id, path, header, key, pid, issuer, name, birth, sex, remarks) in rows:
        try:
            yield _report(json.loads(header), findings.get(report_id, []), key, pid, issuer, name,
                          birth, sex, tuple(remarks or ()))
        except (DicomToolsError, ValueError, TypeError, KeyError) as exc:
            if warnings is not None:
                warnings.append(f"{printable(path)}: index row does not rebuild a report "
                                f"({type(exc).__name__}); skipped")


def write_labs(index: str | os.PathLike[str], folder: str | os.PathLike[str]) -> int:
    """The index's labs results as labs.json files under ``folder`` (one per patient, keyed
    as the index keys the patient's reports), for concordance's collector; returns how many."""
    from pathlib import Path

    from ..files import write_text
    con = connect(index)
    try:
        rows = con.execute("SELECT patient_key, patient_id, issuer_of_patient_id, test, result, "
                           "strftime(date, '%Y%m%d') FROM labs ORDER BY source_path").fetchall()
    finally:
        con.close()
    patients: dict[tuple, list[dict]] = {}
    for key, pid, issuer, test, result, date in rows:
        ident = (pid, issuer or "") if pid is not None else (key, "")
        patients.setdefault(ident, []).append({"test": test, "result": result, "date": date})
    for n, ((pid, issuer), results) in enumerate(patients.items()):
        doc = {"patient": {"id": pid, "issuer": issuer}, "results": results}
        write_text(Path(folder) / f"{n:06d}.labs.json", json.dumps(doc))
    return len(patients)


def _report(header: dict, findings: list[str], key: str | None, pid: str | None,
            issuer: str | None, name: str | None, birth: str | None, sex: str | None,
            remarks: tuple[str, ...]) -> Report:
    # With hashed IDs the key stands in for the Patient ID: it groups exams exactly as the
    # ID and issuer would (one key per ID + issuer).
    patient = Patient(id=pid if pid is not None else key, issuer=issuer if pid is not None else None,
                      name=name, birth_date=birth, sex=sex)
    sr = header.get("sr")
    return Report(
        modality=header.get("modality"), procedure=header.get("procedure"),
        findings=tuple(Finding.from_json(json.loads(f)) for f in findings),
        impression=header.get("impression"), observer=header.get("observer"),
        indication=header.get("indication"), patient=patient,
        study=Study(**(header.get("study") or {})), sr=SRIdentity(**sr) if sr else None,
        evaluations=header.get("evaluations") or (), other=header.get("other") or (),
        warnings=remarks)
