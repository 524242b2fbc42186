from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kyra.workflows.model import DateNormaliser
from kyra.workflows.params import (
    MISSING,
    DateChange,
    apply_date_normalisers,
    apply_defaults,
    get_path,
    parse_path,
    set_path,
)

segments = st.text(alphabet="abcxyz_-0123", min_size=1, max_size=6).filter(
    lambda s: not s.isdigit()
)
paths = st.lists(segments, min_size=1, max_size=10).map(".".join)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.text(alphabet="abc_", min_size=1, max_size=3), children, max_size=3)
    ),
    max_leaves=10,
)
documents = st.dictionaries(segments, json_values, max_size=4)


@given(documents, paths, json_values)
def test_set_then_get_returns_the_value_and_leaves_the_input_alone(
    document: dict[str, Any], path: str, value: Any
) -> None:
    before = copy.deepcopy(document)
    try:
        updated = set_path(document, path, value)
    except ValueError:
        return  # the path runs through a scalar: refused, never silently overwritten
    assert get_path(updated, path) == value
    assert document == before


@given(documents, paths, paths, json_values)
def test_set_path_changes_nothing_outside_its_path(
    document: dict[str, Any], path: str, other: str, value: Any
) -> None:
    try:
        updated = set_path(document, path, value)
    except ValueError:
        return
    if other.split(".")[0] != path.split(".")[0]:
        assert get_path(updated, other, MISSING) == get_path(document, other, MISSING)


def test_get_path_indexes_lists() -> None:
    params = {"items": [{"date": "a"}, {"date": "b"}], "json": {"customer": {"email": "e"}}}
    assert get_path(params, "items.1.date") == "b"
    assert get_path(params, "json.customer.email") == "e"
    assert get_path(params, "items.5.date", None) is None
    with pytest.raises(KeyError):
        get_path(params, "json.nope")


def test_set_path_creates_mappings_and_appends() -> None:
    assert set_path({}, "query.date", "d") == {"query": {"date": "d"}}
    assert set_path({"items": [1]}, "items.1", 2) == {"items": [1, 2]}
    assert set_path({"a": None}, "a.b", 1) == {"a": {"b": 1}}
    with pytest.raises(ValueError, match="index 5 is past the end"):
        set_path({"items": [1]}, "items.5", 2)
    with pytest.raises(ValueError, match="'json' holds a str"):
        set_path({"json": "text"}, "json.email", "x")


@pytest.mark.parametrize(
    "path",
    [
        "",
        "a..b",
        ".a",
        "a.",
        "a b",
        "a[0]",
        "__class__.__init__.x/y",
        "a.b.c.d.e.f.g.h.i.j.k",
        "x" * 201,
        "ok.{{ secrets.X }}",
        "a\nb",
        "ñ",
    ],
)
def test_invalid_paths_are_value_errors(path: str) -> None:
    with pytest.raises(ValueError):
        parse_path(path)


def test_apply_defaults_fills_missing_none_and_empty_only() -> None:
    params: dict[str, Any] = {"json": {"currency": "", "email": None, "name": "Ana"}, "n": 0}
    defaults: dict[str, Any] = {
        "json.currency": "EUR",
        "json.email": "x@example.test",
        "json.name": "other",
        "json.tags": ["a"],
        "n": 5,
    }
    result, applied = apply_defaults(params, defaults)
    assert result == {
        "json": {"currency": "EUR", "email": "x@example.test", "name": "Ana", "tags": ["a"]},
        "n": 0,
    }
    assert applied == ["json.currency", "json.email", "json.tags"]
    assert params["json"]["currency"] == ""
    result["json"]["tags"].append("b")
    assert defaults["json.tags"] == ["a"]


def test_apply_date_normalisers_rewrites_dates_and_reports() -> None:
    params: dict[str, Any] = {
        "query": {"date": "26/11/2026"},
        "items": [{"date": "Nov 26, 2026"}, {"date": "2026-11-26"}],
        "json": {"when": "whenever", "n": 5},
    }
    normalisers = [
        DateNormaliser(field="query.date", format="%Y-%m-%d"),
        DateNormaliser(field="items.0.date", format="%Y-%m-%d"),
        DateNormaliser(field="items.1.date", format="%Y-%m-%d"),
        DateNormaliser(field="json.when", format="%Y-%m-%d"),
        DateNormaliser(field="json.n", format="%Y-%m-%d"),
        DateNormaliser(field="json.absent", format="%Y-%m-%d"),
    ]
    result, changes = apply_date_normalisers(params, normalisers)
    assert result["query"]["date"] == "2026-11-26"
    assert result["items"][0]["date"] == "2026-11-26"
    assert result["json"] == {"when": "whenever", "n": 5}
    assert changes == [
        DateChange("query.date", "26/11/2026", "2026-11-26"),
        DateChange("items.0.date", "Nov 26, 2026", "2026-11-26"),
    ]
    assert params["query"]["date"] == "26/11/2026"


def test_apply_date_normalisers_refuses_untrusted_formats() -> None:
    with pytest.raises(ValueError, match="date format"):
        apply_date_normalisers({"d": "2026-11-26"}, [DateNormaliser(field="d", format="%Y %n")])
