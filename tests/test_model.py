import json

import pytest

from dicomtools.errors import InputError
from dicomtools.model import Finding, Report


def test_json_form_has_every_contract_key_null_when_unknown():
    data = Finding(present=False).to_json()
    contract = ["modality", "procedure", "present", "certainty", "finding", "site", "laterality",
                "vertebral_levels", "dimensions_mm", "volume_ml", "t1_signal", "t2_signal",
                "diffusion_restricted", "adc_value", "adc_unit", "enhancement",
                "enhancement_pattern", "contrast_agent", "tracer", "activity_mbq", "tracking_id",
                "tracking_uid"]
    extensions = ["adc_min", "adc_median", "roi", "extent_mm"]  # segmented lesions (masks)
    open_part = ["measurements", "evaluations", "regions", "other"]  # lists, empty when none
    assert [k for k in data if k not in extensions + open_part] == contract
    assert set(data) == set(contract) | set(extensions) | set(open_part)
    assert data["present"] is False
    assert all(data[k] is None for k in data if k not in ["present"] + open_part)
    assert all(data[k] == [] for k in open_part)


def test_json_roundtrip_of_a_full_report():
    report = Report(modality="MR", procedure="whole-body MRI", impression="abnormal", findings=(
        Finding(finding="mass", site="paravertebral", laterality="left", vertebral_levels="T 9/10",
                dimensions_mm=[26, 11, 22], adc_value=0.8, adc_unit="um2/ms"),))
    again = Report.from_json(json.loads(json.dumps(report.to_json())))
    assert again == report
    assert again.findings[0].vertebral_levels == ("T9", "T10")


@pytest.mark.parametrize("field, value, phrase", [
    ("laterality", "lft", "'laterality' has value 'lft'"),
    ("site", "brain stemm", "'site' has value 'brain stemm'"),
    ("t2_signal", "bright", "'t2_signal'"),
    ("dimensions_mm", [26, -1], "'dimensions_mm'"),
    ("dimensions_mm", [1, 2, 3, 4], "1-3 numbers"),
    ("dimensions_mm", [2600], "(0, 1000]"),  # 2.6 m: a unit error
    ("volume_ml", "3 ml", "finite number"),
    ("activity_mbq", 1e9, "'activity_mbq'"),
    ("vertebral_levels", "T13", "does not exist"),
    ("present", "yes", "true, false or null"),
    ("adc_unit", "mm2", "one of"),
    ("tracking_uid", "abc", "DICOM UID"),
])
def test_invalid_values_are_refused_naming_field_and_value(field, value, phrase):
    with pytest.raises(InputError) as info:
        Finding.from_json({"present": True, field: value}, where="f.json: findings[0]")
    assert phrase in str(info.value) and "f.json: findings[0]" in str(info.value)


def test_adc_value_needs_its_unit():
    with pytest.raises(InputError, match="adc_unit"):
        Finding(adc_value=850)


def test_unknown_key_is_refused_with_a_unit_hint():
    with pytest.raises(InputError, match="wrong unit.*dimensions_mm"):
        Finding.from_json({"present": True, "dimensions_cm": [2.6, 1.1]})


def test_present_must_be_stated_in_json():
    with pytest.raises(InputError, match="'present' is required"):
        Finding.from_json({"finding": "mass"})


def test_report_checks_procedure_and_finding_consistency():
    with pytest.raises(InputError, match="procedure"):
        Report.from_json({"procedure": "PET-MRI", "findings": []})
    with pytest.raises(InputError, match="'modality' has value 'NM'"):
        Report(modality="NM", procedure="whole-body MRI")
    with pytest.raises(InputError, match=r"findings\[0\].*'procedure'"):
        Report(modality="MR", procedure="whole-body MRI",
               findings=(Finding(procedure="I-123 mIBG scintigraphy"),))


def test_open_part_json_roundtrip():
    finding = Finding(
        site="clavicle", finding={"code": "4147007", "scheme": "SCT", "meaning": "Mass"},
        measurements=[{"concept": "long axis", "value": 12.5, "unit": "cm", "derivation": "max",
                       "children": [{"value_type": "NUM", "relationship": "HAS PROPERTIES",
                                     "concept": {"code": "121414", "scheme": "DCM",
                                                 "meaning": "Standard deviation of population"},
                                     "value": {"value": 0.5, "unit": "cm"}}]}],
        evaluations=[{"concept": "t2 weighted mr signal intensity",
                      "value": {"code": "RID35805", "scheme": "RADLEX", "meaning": "Hyperintense"}},
                     {"concept": {"code": "121106", "scheme": "DCM", "meaning": "Comment"},
                      "value": "lobulated margin"}],
        regions=[{"value_type": "SCOORD", "relationship": "CONTAINS",
                  "concept": {"code": "111030", "scheme": "DCM", "meaning": "Image Region"},
                  "value": {"graphic_type": "POINT", "data": [10.0, 20.0]}}])
    assert finding.finding == "mass" and finding.measurements[0].derivation == "maximum"
    again = Finding.from_json(json.loads(json.dumps(finding.to_json())))
    assert again == finding


@pytest.mark.parametrize("bad, phrase", [
    ({"measurements": [{"concept": "long axis", "value": float("nan"), "unit": "mm"}]}, "finite"),
    ({"measurements": [{"concept": "long axis", "value": 1}]}, "'unit' is required"),
    ({"measurements": "long axis"}, "a list"),
    ({"evaluations": [{"concept": "nosuchconcept", "value": "x"}]}, "'concept'"),
    ({"regions": [{"value_type": "BLOB"}]}, "value_type"),
    ({"site": ["liver"]}, "'site'"),
])
def test_open_part_errors_name_the_field(bad, phrase):
    with pytest.raises(InputError, match=phrase):
        Finding.from_json({"present": True, **bad})


def test_a_vertebra_named_as_site_is_site_vertebra_with_its_level():
    finding = Finding(site="L1 vertebra")
    assert (finding.site, finding.vertebral_levels) == ("vertebra", ("L1",))
    with pytest.raises(InputError, match="agreeing with vertebral_levels"):
        Finding(site="L1 vertebra", vertebral_levels=["T9"])
