"""Bridges to other formats: FHIR R5 (HL7 DICOM SR IG) in :mod:`.fhir`, dcmqi TID 1500 JSON
in :mod:`.dcmqi`; ``dicomtools export`` / ``import`` in :mod:`.cli`. Importing this package
loads nothing heavy."""
