"""`dicomtools measure MASK.nii[.gz] [--adc ADC.nii[.gz]] --source DICOM_DIR [-o OUT_DIR]`."""

from __future__ import annotations

import argparse


def add_parsers(sub, epilog: str) -> None:
    p = sub.add_parser("measure", help="NIfTI lesion mask (+ ADC map) -> SEG + SR",
                       epilog=epilog, formatter_class=argparse.RawDescriptionHelpFormatter,
                       description="Measure every label of a NIfTI label map lying on a DICOM "
                                   "series (volume, extents, in-plane diameter, centre of mass, "
                                   "ADC statistics) and write a DICOM SEG plus an SR with one "
                                   "TID 1411 group per lesion.")
    p.add_argument("mask", help="label map (.nii / .nii.gz) on the source series' grid")
    p.add_argument("--adc", help="ADC map on the same grid")
    p.add_argument("--adc-unit", help="ADC unit if the map's header does not declare it "
                                      "(um2/s, 10-6.mm2/s, um2/ms, 10-3.mm2/s, mm2/s); a unit "
                                      "that disagrees with the header's is an error")
    p.add_argument("--force", action="store_true",
                   help="use --adc-unit even where the header declares another unit")
    p.add_argument("--source", required=True, help="folder of the DICOM series the mask is on")
    p.add_argument("--labels", help="JSON: per label the fields a mask cannot know, e.g. "
                                    '{"1": {"site": "adrenal gland", "laterality": "left"}}')
    p.add_argument("--procedure", default="whole-body MRI", help="default: whole-body MRI")
    p.add_argument("-o", "--out", default="out-measure", help="output folder (default out-measure)")
    p.set_defaults(func=_cmd_measure)


def _cmd_measure(args) -> int:
    from .report import load_label_fields, measure_to_sr, significant
    result = measure_to_sr(args.mask, args.source, args.out, adc=args.adc, adc_unit=args.adc_unit,
                           label_fields=load_label_fields(args.labels), procedure=args.procedure,
                           force=args.force)
    for m, f in zip(result.measurements, result.report.findings, strict=True):
        adc = (f", ADC mean {significant(m.adc.mean)} min {significant(m.adc.minimum)} median "
               f"{significant(m.adc.median)} {m.adc.unit}" if m.adc else "")
        print(f"label {m.label}: {m.voxel_count} voxels, {m.volume_ml:.3f} mL, extent "
              + " x ".join(f"{v:.1f}" for v in m.extent_mm) + " mm (LR x AP x CC), in-plane "
              f"diameter {m.max_inplane_diameter_mm:.1f} mm{adc} -> {f.tracking_id}")
    print(f"wrote {result.seg_path} and {result.sr_path}")
    return 0
