"""``dicomtools export FORMAT ...`` and ``dicomtools import FORMAT ...`` (registered by
dicomtools.cli). Only argparse here: fhir.resources and pydicom load inside the commands, so
``dicomtools --help`` stays fast."""

from __future__ import annotations

import argparse
import importlib
import textwrap
from typing import Any

_FORMATTER = argparse.RawDescriptionHelpFormatter
_DR_NOTE = ("--diagnostic-report adds one DiagnosticReport per SR (procedure, impression, "
            "results). It is outside the HL7 DICOM SR IG, which maps measurements and "
            "evaluations only and leaves report resources out of its scope.")


def _cmd_export_fhir(args: argparse.Namespace) -> int:
    from ..phi import printable
    from .fhir import export_fhir
    done = export_fhir(args.sr, args.output, diagnostic_report=args.diagnostic_report)
    kinds = ", ".join(f"{n} {kind}" for kind, n in done.resources.items())
    print(f"wrote {printable(done.path)} ({done.reports} SR{'s' if done.reports != 1 else ''}: "
          f"{kinds})")
    return 0


def _cmd_import_fhir(args: argparse.Namespace) -> int:
    import json

    from ..files import write_text
    from ..phi import printable
    from .fhir import import_fhir
    reports = import_fhir(args.bundle)
    data: Any = reports[0].to_json() if len(reports) == 1 else [r.to_json() for r in reports]
    text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    if args.output:
        path = write_text(args.output, text)
        findings = sum(len(r.findings) for r in reports)
        print(f"wrote {printable(path)} ({len(reports)} report{'s' if len(reports) != 1 else ''}, "
              f"{findings} finding{'s' if findings != 1 else ''})")
    else:
        print(text, end="")
    return 0


def _dcmqi(name: str) -> Any:
    """A command of dicomtools.interop.dcmqi, loaded only when asked for."""
    from ..errors import InputError
    try:
        module = importlib.import_module("dicomtools.interop.dcmqi")
    except ModuleNotFoundError as exc:
        if exc.name != "dicomtools.interop.dcmqi":
            raise
        raise InputError("dcmqi JSON is not available in this installation "
                         "(module dicomtools.interop.dcmqi is missing)") from None
    return getattr(module, name)


def _cmd_export_dcmqi(args: argparse.Namespace) -> int:
    return int(_dcmqi("export_command")(args))


def _cmd_import_dcmqi(args: argparse.Namespace) -> int:
    return int(_dcmqi("import_command")(args))


def _wrap(text: str) -> str:
    return textwrap.fill(text, width=88)


def add_parsers(sub: Any, epilog: str) -> None:
    """Register ``export`` and ``import`` (each with ``fhir`` and ``dcmqi``)."""
    p = sub.add_parser("export", help="SR -> FHIR R5 bundle or dcmqi JSON", epilog=epilog,
                       formatter_class=_FORMATTER)
    formats = p.add_subparsers(dest="export_format", required=True, metavar="FORMAT",
                               help="fhir (R5 Bundle, HL7 DICOM SR IG) or dcmqi (TID 1500 JSON)")
    f = formats.add_parser(
        "fhir", help="SRs -> FHIR R5 transaction Bundle (HL7 DICOM SR IG)", epilog=epilog,
        formatter_class=_FORMATTER,
        description=_wrap("Map TID 1500 SRs to one FHIR R5 transaction Bundle following the HL7 "
                    "'DICOM SR to FHIR Resource Mapping' IG (hl7.fhir.uv.dicom-sr 1.0.0): "
                    "Observations per measurement group, measurement and qualitative "
                    "evaluation (negative findings included), BodyStructure for sites with "
                    "laterality or vertebral levels, ImagingSelection for segments, regions "
                    "and images; Patient and ImagingStudy referenced by identifier. Every "
                    "resource is validated with the fhir.resources R5 models; fullUrls derive "
                    "from the SR UIDs, so the output is reproducible. " + _DR_NOTE))
    f.add_argument("sr", nargs="+", metavar="SR", help="DICOM SR files")
    f.add_argument("-o", "--output", required=True, metavar="BUNDLE.json",
                   help="bundle file to write (atomically)")
    f.add_argument("--diagnostic-report", action="store_true",
                   help="also write a DiagnosticReport per SR (outside the IG)")
    f.set_defaults(func=_cmd_export_fhir)
    d = formats.add_parser("dcmqi", help="SR -> dcmqi TID 1500 JSON", epilog=epilog,
                           formatter_class=_FORMATTER)
    d.add_argument("sr", metavar="SR", help="DICOM SR file")
    d.add_argument("-o", "--output", required=True, metavar="META.json", help="JSON file to write")
    d.add_argument("--source", metavar="DIR",
                   help="folder of the source images (tid1500writer --inputImageLibraryDirectory); "
                        "the JSON then names their files, else their SOP Instance UIDs")
    d.add_argument("--context", metavar="DIR",
                   help="folder of the SEG files (--inputCompositeContextDirectory; default: --source)")
    d.add_argument("--placeholder-segments", action="store_true",
                   help="a finding without segmentation gets a placeholder segment reference "
                        "(dcmqi requires one; it names no real SEG) instead of an error")
    d.set_defaults(func=_cmd_export_dcmqi)

    p = sub.add_parser("import", help="FHIR R5 bundle or dcmqi JSON -> findings / SR",
                       epilog=epilog, formatter_class=_FORMATTER)
    formats = p.add_subparsers(dest="import_format", required=True, metavar="FORMAT",
                               help="fhir (R5 Bundle) or dcmqi (TID 1500 JSON + its files)")
    f = formats.add_parser(
        "fhir", help="FHIR R5 Bundle -> report JSON", epilog=epilog, formatter_class=_FORMATTER,
        description=_wrap("Read a FHIR R5 Bundle of the HL7 DICOM SR IG (as `export fhir` writes "
                    "it) back into reports: one per SR, printed as `read --json` prints one "
                    "(a list when there are several). The output holds the patient ID."))
    f.add_argument("bundle", metavar="BUNDLE.json", help="FHIR Bundle (JSON)")
    f.add_argument("-o", "--output", metavar="REPORT.json",
                   help="write the JSON here instead of printing it")
    f.set_defaults(func=_cmd_import_fhir)
    d = formats.add_parser("dcmqi", help="dcmqi TID 1500 JSON + source images -> SR",
                           epilog=epilog, formatter_class=_FORMATTER)
    d.add_argument("meta", metavar="META.json", help="dcmqi TID 1500 JSON")
    d.add_argument("--source", required=True, metavar="DIR", help="DICOM folder of the images")
    d.add_argument("-o", "--output", required=True, metavar="SR.dcm", help="SR file to write")
    d.set_defaults(func=_cmd_import_dcmqi)
