"""Lesion masks: NIfTI label maps (and ADC maps) -> per-lesion measurements.

``load_label_map`` / ``load_adc_map`` read and validate the NIfTI files (``nifti``);
``measure_labels`` returns one :class:`LesionMeasurement` per non-zero label (``measure``):
volume, extents along LR/AP/CC, maximum in-plane diameter, LPS centroid, ADC statistics.
"""

from .measure import AdcStats, LesionMeasurement, load_adc_map, load_label_map, measure_labels, ras_to_lps, slice_axis

__all__ = ["AdcStats", "LesionMeasurement", "load_adc_map", "load_label_map",
           "measure_labels", "ras_to_lps", "slice_axis"]
