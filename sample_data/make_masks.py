"""Make the sample lesion mask and ADC map for the case-1 WB-MRI stand-in series.

    python sample_data/make_masks.py          # (re)write sample_data/masks/*.nii
    python sample_data/make_masks.py --check  # regenerate in a temp dir and compare bytes

The label map (uint8, label 1 = one ellipsoidal "lesion") and the ADC map (float32, in
10^-6 mm2/s, declared in the NIfTI header description) lie exactly on the voxel grid of
sample_data/cases/case1/wbmri (3 slices of 64 x 64): NIfTI RAS affine = diag(-1,-1,1) x the
series' LPS affine. Values use integer arithmetic only, so the bytes are the same anywhere.
Uncompressed .nii because gzip headers carry a timestamp. Licence: CC0, like the NM phantoms.
"""

from __future__ import annotations

import filecmp
import sys
import tempfile
from pathlib import Path

import nibabel as nib
import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from dicomtools.masks.seg import load_series  # noqa: E402

SERIES = HERE / "cases" / "case1" / "wbmri"
CENTRE_INDEX = (40.0, 26.0, 1.0)  # column, row, slice
SEMI_AXES_MM = (4.0, 3.0, 6.0)  # along the series' row, column and slice directions


def make(out: Path) -> list[Path]:
    series = load_series(SERIES)
    affine_lps = series.affine_lps
    affine_ras = np.diag([-1.0, -1.0, 1.0, 1.0]) @ affine_lps
    slices, rows, cols = series.shape
    c, r, s = np.meshgrid(np.arange(cols), np.arange(rows), np.arange(slices), indexing="ij")
    spacing = np.linalg.norm(affine_lps[:3, :3], axis=0)  # mm per index along c, r, s
    d2 = sum(((idx - centre) * step / semi) ** 2 for idx, centre, step, semi
             in zip((c, r, s), CENTRE_INDEX, spacing, SEMI_AXES_MM))
    labels = (d2 <= 1.0).astype(np.uint8)
    background = 1400 + ((c * 7 + r * 13 + s * 3) % 17) * 5
    lesion = 650 + ((c * 5 + r * 11 + s * 7) % 13) * 10
    adc = np.where(labels == 1, lesion, background).astype(np.float32)
    out.mkdir(parents=True, exist_ok=True)
    mask_img = nib.Nifti1Image(labels, affine_ras)
    mask_img.header["descrip"] = b"dicomtools sample lesion mask (label 1)"
    adc_img = nib.Nifti1Image(adc, affine_ras)
    adc_img.header["descrip"] = b"ADC [10^-6 mm2/s]"
    paths = [out / "case1_wbmri_lesion.nii", out / "case1_wbmri_adc.nii"]
    for img, path in zip((mask_img, adc_img), paths):
        img.set_qform(affine_ras, code=1)
        img.set_sform(affine_ras, code=1)
        nib.save(img, path)
    return paths


def main(argv: list[str]) -> int:
    target = HERE / "masks"
    if "--check" in argv:
        with tempfile.TemporaryDirectory() as tmp:
            fresh = make(Path(tmp))
            bad = [p.name for p in fresh if not filecmp.cmp(p, target / p.name, shallow=False)]
        print("OK: masks are up to date" if not bad else f"differ: {', '.join(bad)}")
        return 1 if bad else 0
    for path in make(target):
        print(path.relative_to(HERE))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
