import pytest

from devices_app.phone import InvalidNumber, display_number, normalize_number


@pytest.mark.parametrize(
    "raw",
    ["081234567890", "6281234567890", "+6281234567890", "+62 812-3456-7890", " 0812 3456 7890 "],
)
def test_indonesian_formats_normalize_to_one_number(raw):
    assert normalize_number(raw) == "6281234567890"


def test_other_countries_keep_their_code():
    assert normalize_number("+1 415 555 2671") == "14155552671"


@pytest.mark.parametrize("raw", ["", "   ", "abc", "12"])
def test_invalid_numbers_raise(raw):
    with pytest.raises(InvalidNumber):
        normalize_number(raw)


def test_display_number_is_readable():
    assert display_number("6281234567890") == "+62 812-3456-7890"
