from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kyra.workflows.dates import (
    infer_strftime,
    normalise_date,
    parse_date,
    validate_strftime,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-26", datetime(2026, 11, 26)),
        ("2026-01-02", datetime(2026, 1, 2)),
        ("2026/01/02", datetime(2026, 1, 2)),
        ("26/11/2026", datetime(2026, 11, 26)),
        ("02/01/2026", datetime(2026, 1, 2)),
        ("26.11.2026", datetime(2026, 11, 26)),
        ("Nov 26, 2026", datetime(2026, 11, 26)),
        ("26 November 2026", datetime(2026, 11, 26)),
        ("26 de noviembre de 2026", datetime(2026, 11, 26)),
        ("jueves, 26 de noviembre de 2026", datetime(2026, 11, 26)),
        ("2026-11-26T10:00:00Z", datetime(2026, 11, 26, 10, tzinfo=UTC)),
        (
            str(int(datetime(2026, 11, 26, 10, tzinfo=UTC).timestamp())),
            datetime(2026, 11, 26, 10, tzinfo=UTC),
        ),
        ("  2026-11-26  ", datetime(2026, 11, 26)),
    ],
)
def test_parse_date(text: str, expected: datetime) -> None:
    assert parse_date(text) == expected


def test_month_first_when_asked() -> None:
    assert parse_date("02/01/2026", dayfirst=False) == datetime(2026, 2, 1)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "an empty string is not a date"),
        ("tomorrow", "is not a date Kyra can read"),
        ("hace 2 días", "is not a date Kyra can read"),
        ("banana", "is not a date Kyra can read"),
        ("November", "is not a complete date"),
        ("5", "is not a complete date"),
        ("2026-13-45", "is not a date Kyra can read"),
        ("9" * 200, "is too long to be a date"),
    ],
)
def test_parse_date_refuses_with_a_sentence(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_date(text)


def test_normalise_date() -> None:
    assert normalise_date("26/11/2026", "%Y-%m-%d") == "2026-11-26"
    assert normalise_date("2026-11-26T10:00:00+02:00", "%Y-%m-%dT%H:%M:%SZ") == (
        "2026-11-26T08:00:00Z"
    )
    with pytest.raises(ValueError):
        normalise_date("2026-11-26", "%Y and %m")


FORMATS = [
    "%Y-%m-%d",
    "%d/%m/%Y",
    "%m-%d-%Y",
    "%d.%m.%Y",
    "%Y%m%d",
    "%b %d, %Y",
    "%d %B %Y",
    "%Y-%m-%dT%H:%M:%SZ",
    "%Y-%m-%d %H:%M",
]


@given(
    st.dates(min_value=date(1971, 1, 1), max_value=date(2200, 12, 31)),
    st.sampled_from(FORMATS),
    st.sampled_from(FORMATS),
)
def test_format_then_parse_gives_the_same_date(day: date, first: str, second: str) -> None:
    text = day.strftime(first)
    assert parse_date(text, dayfirst=not first.startswith("%m")).date() == day
    if not first.startswith("%m"):  # normalise_date reads day-first, like most of the world
        assert normalise_date(text, second) == day.strftime(second)


@pytest.mark.parametrize(
    "fmt", ["%Y-%m-%d", "%d/%m/%Y %H:%M:%S", "%Y-%m-%dT%H:%M:%S.%fZ", "%a, %d %b %Y %T %z", "%F"]
)
def test_validate_strftime_accepts_whitelisted_formats(fmt: str) -> None:
    assert validate_strftime(fmt) == fmt


@pytest.mark.parametrize(
    "fmt",
    ["", "%Y-%m-%d; rm -rf /", "%n", "%%", "%Y%", "%c", "hello", "%Y-%m-%d" * 10, "{0}", "%s"],
)
def test_validate_strftime_refuses_everything_else(fmt: str) -> None:
    with pytest.raises(ValueError):
        validate_strftime(fmt)


@pytest.mark.parametrize(
    ("text", "fmt"),
    [
        ("YYYY-MM-DD", "%Y-%m-%d"),
        ("yyyy-mm-dd", "%Y-%m-%d"),
        ("DD/MM/YYYY", "%d/%m/%Y"),
        ("MM-DD-YYYY", "%m-%d-%Y"),
        ("DD.MM.YYYY HH:MM", "%d.%m.%Y %H:%M"),
        ("YYYY-MM-DDTHH:mm:ssZ", "%Y-%m-%dT%H:%M:%SZ"),
        ("ISO 8601", "%Y-%m-%d"),
        ("ISO-8601", "%Y-%m-%d"),
        ("iso8601", "%Y-%m-%d"),
        ("RFC 3339", "%Y-%m-%dT%H:%M:%SZ"),
        ("%d/%m/%Y", "%d/%m/%Y"),
        ("2026-11-26", "%Y-%m-%d"),
        ("26/11/2026", "%d/%m/%Y"),
        ("11/26/2026", "%m/%d/%Y"),
        ("2026-11-26T10:00:00Z", "%Y-%m-%dT%H:%M:%SZ"),
    ],
)
def test_infer_strftime(text: str, fmt: str) -> None:
    assert infer_strftime(text) == fmt


@pytest.mark.parametrize(
    "text", ["", "05/06/2026", "a date", "YYYY-MM-DD'T'", "D/M/YY", "%Y; DROP", "whatever"]
)
def test_infer_strftime_refuses_what_it_cannot_vouch_for(text: str) -> None:
    assert infer_strftime(text) is None
