"""Keyset pagination: a page starts strictly after the sort key of the last row the
caller saw, so rows inserted meanwhile (new executions, fixes, audit records) never shift
a page or show a row twice, and deep pages cost what the first one does (an index seek,
not an OFFSET scan)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, and_, or_

Q = TypeVar("Q", bound=Select[Any])

Key = tuple[Any, ...]
"""The sort-key values of one row, in the order of the query's ORDER BY."""


def after(query: Q, order: Sequence[tuple[ColumnElement[Any], bool]], key: Key | None) -> Q:
    """`query` ordered by `order` ((column, descending) pairs) and, when `key` is given,
    limited to the rows that come after `key` in that order."""
    query = query.order_by(*(column.desc() if desc else column.asc() for column, desc in order))
    if key is None:
        return query
    if len(key) != len(order):
        raise ValueError("the cursor does not fit this list")
    alternatives = []
    for i, (column, desc) in enumerate(order):
        same = [c == v for (c, _), v in zip(order[:i], key[:i], strict=True)]
        beyond = column < key[i] if desc else column > key[i]
        alternatives.append(and_(*same, beyond))
    return query.where(or_(*alternatives))
