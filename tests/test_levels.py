import pytest

from dicomtools.errors import InputError
from dicomtools.levels import ALL_LEVELS, LEVEL_CODES, expand_levels, format_levels


@pytest.mark.parametrize("text, expected", [
    ("T9/10", ("T9", "T10")),
    ("T 9/10", ("T9", "T10")),
    ("T11 to L1", ("T11", "T12", "L1")),
    ("T11-L1", ("T11", "T12", "L1")),
    ("C4–T1", ("C4", "C5", "C6", "C7", "T1")),
    ("l5-s1", ("L5", "S1")),
    ("T12", ("T12",)),
    ("C7 through T2", ("C7", "T1", "T2")),
])
def test_expand(text, expected):
    assert expand_levels(text) == expected


@pytest.mark.parametrize("text", ["T13", "L6", "X1", "T10/9", "", "T9/", "T" + "9" * 5000])
def test_bad_levels_are_refused_by_name(text):
    with pytest.raises(InputError, match="vertebral level"):
        expand_levels(text)


def test_all_29_levels_coded_and_distinct():
    assert len(ALL_LEVELS) == 29 and ALL_LEVELS[0] == "C1" and ALL_LEVELS[-1] == "S5"
    assert len({c.value for c in LEVEL_CODES.values()}) == 29


@pytest.mark.parametrize("levels, text", [
    (("T9", "T10"), "T9/10"), (("T11", "T12", "L1"), "T11-L1"), (("L2",), "L2"),
    (("T3", "T7"), "T3, T7"),
])
def test_format(levels, text):
    assert format_levels(levels) == text
