"""Viewer compatibility (OHIF, Slicer): the seed SRs, the foreign corpus (SRs written by
highdicom, dcmqi, DCMTK, pydicom) and mutated copies that each trip exactly one reason."""

from __future__ import annotations

import json
from pathlib import Path

import foreign_corpus
import pydicom
import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from dicomtools.errors import SRReadError
from dicomtools.sr.viewers import viewer_problems

GEOMETRY_OHIF = "has no SCOORD or SCOORD3D"
GEOMETRY_SLICER = "no measurement group has an Image Region"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    built = foreign_corpus.build_corpus(tmp_path_factory.mktemp("viewers_corpus"))
    if not built:
        pytest.skip(f"no foreign SR could be built: {built.skipped}")
    return {e.name: e for e in built}


def _one_line_reasons(problems: list[str]) -> None:
    for line in problems:
        assert "\n" not in line and line.split(":")[0] in ("OHIF", "Slicer", "OHIF, Slicer"), line


def test_seed_srs_display_as_text_only(seed_srs):
    """Our seed SRs are TID 1500 with titles, templates and tracking UIDs, but carry no
    image coordinates (they come from report text): both viewers show them without drawing."""
    assert len(seed_srs) == 12
    for key, path in seed_srs.items():
        problems = viewer_problems(path)
        _one_line_reasons(problems)
        assert any(GEOMETRY_OHIF in p for p in problems), key
        assert [p for p in problems if GEOMETRY_SLICER in p], key
        others = [p for p in problems if GEOMETRY_OHIF not in p and GEOMETRY_SLICER not in p]
        assert others == [], (key, others)


def test_every_foreign_sr_is_checked(corpus):
    assert len(corpus) >= 30
    for name, entry in corpus.items():
        problems = viewer_problems(entry.path)
        _one_line_reasons(problems)
        assert len(problems) == len(set(problems)), name


def _reasons(corpus, name):
    if name not in corpus:
        pytest.skip(f"{name} was not built")
    return viewer_problems(corpus[name].path)


def test_foreign_files_get_the_reasons_their_structure_gives(corpus):
    assert _reasons(corpus, "hd_planar") == []  # TID 1410 groups with images: both viewers draw
    basic = _reasons(corpus, "dcmtk_basic_text")
    assert any("document title is (11528-7, LN" in p for p in basic)
    assert any("no ContentTemplateSequence" in p for p in basic)
    assert any("SOP class 1.2.840.10008.5.1.4.1.1.88.11" in p for p in basic)
    srt = _reasons(corpus, "dcmtk_comprehensive_srt")
    assert any("finding site coded as (G-C0E3, SRT" in p for p in srt)
    assert any("shares its Tracking UID" in p for p in _reasons(corpus, "hd_shared_tracking_uid"))
    kos = _reasons(corpus, "dcmtk_key_object")
    assert any("Modality is 'KO'" in p for p in kos)
    for name in ("dcmqi_mr_wb", "hd_volumetric_segment"):
        seg = _reasons(corpus, name)  # SEG-based: Slicer loads it, OHIF draws nothing
        assert any(GEOMETRY_OHIF in p for p in seg) and not any(p.startswith("Slicer") for p in seg)
    nested = _reasons(corpus, "hd_coordinates")  # SCOORD under NUMs: OHIF draws, Slicer does not
    assert not any(p.startswith("OHIF") for p in nested) and any(GEOMETRY_SLICER in p for p in nested)


def test_files_that_are_not_sr_are_refused(corpus, tmp_path):
    junk = tmp_path / "junk.dcm"
    junk.write_bytes(b"not dicom at all")
    with pytest.raises(SRReadError):
        viewer_problems(junk)
    with pytest.raises(SRReadError, match="not a Structured Report"):
        viewer_problems(foreign_corpus._ct_path())
    with pytest.raises(SRReadError, match="no such file"):
        viewer_problems(tmp_path / "missing.dcm")


# ---- mutations: each trips exactly one reason ------------------------------------------
def _code(value: str, scheme: str, meaning: str) -> Dataset:
    ds = Dataset()
    ds.CodeValue, ds.CodingSchemeDesignator, ds.CodeMeaning = value, scheme, meaning
    return ds


def _concept(item: Dataset) -> str:
    return item.ConceptNameCodeSequence[0].CodeValue if "ConceptNameCodeSequence" in item else ""


def _container(ds: Dataset) -> Dataset:
    return next(i for i in ds.ContentSequence if _concept(i) == "126010")


def _groups(ds: Dataset) -> list[Dataset]:
    return [g for g in _container(ds).ContentSequence if _concept(g) == "125007"]


def _item(group: Dataset, concept: str | None = None, value_type: str | None = None) -> Dataset:
    return next(i for i in group.ContentSequence
                if (concept is None or _concept(i) == concept)
                and (value_type is None or i.ValueType == value_type))


def _drop(group: Dataset, item: Dataset) -> None:
    group.ContentSequence = Sequence([i for i in group.ContentSequence if i is not item])


def _title(ds):
    ds.ConceptNameCodeSequence = Sequence([_code("18748-4", "LN", "Diagnostic imaging report")])


def _no_template(ds):
    del ds.ContentTemplateSequence


def _other_template(ds):
    ds.ContentTemplateSequence[0].TemplateIdentifier = "1501"


def _basic_text(ds):
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.88.11"


def _modality(ds):
    ds.Modality = "OT"


def _no_container(ds):
    ds.ContentSequence = Sequence([i for i in ds.ContentSequence if _concept(i) != "126010"])


def _no_groups(ds):
    _container(ds).ContentSequence = Sequence([])


def _no_uid(ds):
    group = _groups(ds)[0]
    _drop(group, _item(group, "112040"))


def _no_tracking_id(ds):
    group = _groups(ds)[0]
    _drop(group, _item(group, "112039"))


def _no_scoord(ds):
    group = _groups(ds)[1]
    _drop(group, _item(group, value_type="SCOORD"))


def _no_image(ds):
    _item(_groups(ds)[0], value_type="SCOORD").ContentSequence = Sequence([])


def _srt_site(ds):
    _item(_groups(ds)[0], "363698007").ConceptNameCodeSequence = Sequence(
        [_code("G-C0E3", "SRT", "Finding Site")])


def _text_site(ds):
    site = _item(_groups(ds)[0], "363698007")
    site.ValueType = "TEXT"
    site.TextValue = "left adrenal"
    del site.ConceptCodeSequence


def _shared_uid(ds):
    first, second = _groups(ds)[:2]
    _item(second, "112040").UID = _item(first, "112040").UID


def _no_image_region(ds):
    for group in _groups(ds):
        _item(group, value_type="SCOORD").ConceptNameCodeSequence = Sequence(
            [_code("121055", "DCM", "Path")])


def _no_evidence(ds):
    del ds.CurrentRequestedProcedureEvidenceSequence


def _bare_num(ds):
    group = next(g for g in _groups(ds) if sum(i.ValueType == "NUM" for i in g.ContentSequence) >= 2)
    del _item(group, value_type="NUM").ContentSequence


def _no_frame_of_reference(ds):
    for group in _groups(ds):
        for item in group.ContentSequence:
            if item.ValueType == "SCOORD3D":
                del item.ReferencedFrameOfReferenceUID
                return
    raise AssertionError("no SCOORD3D in the base file")


MUTATIONS = [
    ("hd_planar", _title, "OHIF: document title is (18748-4, LN"),
    ("hd_planar", _no_template, "Slicer: no ContentTemplateSequence"),
    ("hd_planar", _other_template, "Slicer: TemplateIdentifier '1501'"),
    ("hd_planar", _basic_text, "Slicer: SOP class 1.2.840.10008.5.1.4.1.1.88.11"),
    ("hd_planar", _modality, "Slicer: Modality is 'OT'"),
    ("hd_planar", _no_container, "OHIF, Slicer: no Imaging Measurements container"),
    ("hd_planar", _no_groups, "OHIF, Slicer: the Imaging Measurements container holds no"),
    ("hd_planar", _no_uid, "OHIF: measurement group 1 ('HD planar polyline') has no Tracking Unique"),
    ("hd_planar", _no_tracking_id, "OHIF: measurement group 1 has no Tracking Identifier"),
    ("hd_planar", _no_scoord, "OHIF: measurement group 2 ('HD planar point') has no SCOORD"),
    ("hd_planar", _no_image, "a SCOORD has no selected-from IMAGE"),
    ("hd_planar", _srt_site, "finding site coded as (G-C0E3, SRT"),
    ("hd_planar", _text_site, "finding site is TEXT, not CODE"),
    ("hd_planar", _shared_uid, "measurement group 2 ('HD planar point') shares its Tracking UID"),
    ("hd_planar", _no_image_region, "Slicer: no measurement group has an Image Region"),
    ("hd_planar", _no_evidence, "Slicer: 2D Image Region groups but no series"),
    ("hd_coordinates", _bare_num, "has no content items"),
    ("hd_volumetric_3d", _no_frame_of_reference, "a SCOORD3D has no Referenced Frame of Reference"),
]


@pytest.mark.parametrize("base, mutate, expected", MUTATIONS,
                         ids=[m[1].__name__.lstrip("_") for m in MUTATIONS])
def test_each_mutation_trips_exactly_one_reason(corpus, tmp_path, base, mutate, expected):
    if base not in corpus:
        pytest.skip(f"{base} was not built")
    source: Path = corpus[base].path
    before = viewer_problems(source)
    ds = pydicom.dcmread(source)
    mutate(ds)
    out = tmp_path / f"{base}_{mutate.__name__.lstrip('_')}.dcm"
    ds.save_as(out)
    after = viewer_problems(out)
    new = [p for p in after if p not in before]
    assert set(before) <= set(after), set(before) - set(after)
    assert len(new) == 1, new
    assert expected in new[0], new[0]


def test_damaged_files_give_reasons_or_one_error_and_no_warnings(corpus, tmp_path):
    """Random byte damage: either a list of one-line reasons or SRReadError, never another
    exception, and no pydicom warning (it may quote a value such as a name) escapes."""
    import random
    import warnings
    rng = random.Random(5)
    sources = [corpus[n].path for n in ("hd_planar", "hd_volumetric_3d", "dcmqi_mr_wb") if n in corpus]
    damaged = tmp_path / "damaged.dcm"
    outcomes = {"reasons": 0, "error": 0}
    for _ in range(300):
        data = bytearray(rng.choice(sources).read_bytes())
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(132, len(data))] = rng.randrange(256)
        damaged.write_bytes(bytes(data))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                problems = viewer_problems(damaged)
            except SRReadError as exc:
                assert "\n" not in str(exc)
                outcomes["error"] += 1
            else:
                _one_line_reasons(problems)
                outcomes["reasons"] += 1
        assert not caught, [str(w.message)[:80] for w in caught]
    assert outcomes["reasons"] and outcomes["error"]  # both paths were exercised


def test_validate_viewers_warns_and_keeps_the_exit_code(seed_srs, corpus, capsys):
    """`dicomtools validate --viewers`: the reasons as warnings (text and JSON); a report that
    displays says so; the exit code is the validation's."""
    from dicomtools.cli import main
    skip = ["--skip", "dciodvfy", "--skip", "dsrdump", "--skip", "pixelmed"]
    seed = seed_srs["case1/wbmri"] if "case1/wbmri" in seed_srs else next(iter(seed_srs.values()))
    assert main(["validate", "--viewers", *skip, str(seed)]) == 0
    out = capsys.readouterr().out
    assert "warning viewers    OHIF:" in out and "warning viewers    Slicer:" in out
    assert main(["validate", "--viewers", "--json", *skip, str(seed)]) == 0
    assert json.loads(capsys.readouterr().out)["viewers"] == viewer_problems(seed)
    clean = [e.path for e in corpus.values() if not viewer_problems(e.path)]
    if not clean:
        pytest.skip("no foreign SR displays in both viewers")
    main(["validate", "--viewers", *skip, str(clean[0])])
    assert "viewers: displays as measurements in OHIF and Slicer" in capsys.readouterr().out
    assert main(["validate", *skip, str(seed)]) == 0
    assert "viewers" not in capsys.readouterr().out
