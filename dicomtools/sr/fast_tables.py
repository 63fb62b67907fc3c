"""Tables the fast reader needs from pydicom's UID dictionary, so that it runs without
importing pydicom (~0.2 s). tests/test_fast_read.py checks them against pydicom's."""

#: read.SR_STORAGE: every SR-based SOP class.
SR_CLASSES: frozenset[str] = frozenset((
    "1.2.840.10008.5.1.4.1.1.88.1",
    "1.2.840.10008.5.1.4.1.1.88.11",
    "1.2.840.10008.5.1.4.1.1.88.2",
    "1.2.840.10008.5.1.4.1.1.88.22",
    "1.2.840.10008.5.1.4.1.1.88.3",
    "1.2.840.10008.5.1.4.1.1.88.33",
    "1.2.840.10008.5.1.4.1.1.88.34",
    "1.2.840.10008.5.1.4.1.1.88.35",
    "1.2.840.10008.5.1.4.1.1.88.4",
    "1.2.840.10008.5.1.4.1.1.88.40",
    "1.2.840.10008.5.1.4.1.1.88.50",
    "1.2.840.10008.5.1.4.1.1.88.59",
    "1.2.840.10008.5.1.4.1.1.88.65",
    "1.2.840.10008.5.1.4.1.1.88.67",
    "1.2.840.10008.5.1.4.1.1.88.68",
    "1.2.840.10008.5.1.4.1.1.88.69",
    "1.2.840.10008.5.1.4.1.1.88.70",
    "1.2.840.10008.5.1.4.1.1.88.71",
    "1.2.840.10008.5.1.4.1.1.88.72",
    "1.2.840.10008.5.1.4.1.1.88.73",
    "1.2.840.10008.5.1.4.1.1.88.74",
    "1.2.840.10008.5.1.4.1.1.88.75",
    "1.2.840.10008.5.1.4.1.1.88.76",
    "1.2.840.10008.5.1.4.1.1.88.77",
))

#: The keyword of each SOP class whose keyword starts with a prefix of
#: read_map.MODALITY_BY_CLASS (the only keywords the mapping looks at).
MODALITY_CLASS_KEYWORDS: dict[str, str] = {
    "1.2.840.10008.5.1.4.1.1.128": "PositronEmissionTomographyImageStorage",
    "1.2.840.10008.5.1.4.1.1.130": "EnhancedPETImageStorage",
    "1.2.840.10008.5.1.4.1.1.2": "CTImageStorage",
    "1.2.840.10008.5.1.4.1.1.2.1": "EnhancedCTImageStorage",
    "1.2.840.10008.5.1.4.1.1.20": "NuclearMedicineImageStorage",
    "1.2.840.10008.5.1.4.1.1.200.1": "CTDefinedProcedureProtocolStorage",
    "1.2.840.10008.5.1.4.1.1.200.2": "CTPerformedProcedureProtocolStorage",
    "1.2.840.10008.5.1.4.1.1.3": "UltrasoundMultiFrameImageStorageRetired",
    "1.2.840.10008.5.1.4.1.1.3.1": "UltrasoundMultiFrameImageStorage",
    "1.2.840.10008.5.1.4.1.1.4": "MRImageStorage",
    "1.2.840.10008.5.1.4.1.1.4.1": "EnhancedMRImageStorage",
    "1.2.840.10008.5.1.4.1.1.4.2": "MRSpectroscopyStorage",
    "1.2.840.10008.5.1.4.1.1.4.3": "EnhancedMRColorImageStorage",
    "1.2.840.10008.5.1.4.1.1.5": "NuclearMedicineImageStorageRetired",
    "1.2.840.10008.5.1.4.1.1.6": "UltrasoundImageStorageRetired",
    "1.2.840.10008.5.1.4.1.1.6.1": "UltrasoundImageStorage",
    "1.2.840.10008.5.1.4.1.1.6.2": "EnhancedUSVolumeStorage",
    "1.2.840.10008.5.1.4.1.1.77.1.6": "VLWholeSlideMicroscopyImageStorage",
}
