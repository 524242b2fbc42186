"""Cursor pagination for every list of the API: `?limit=N&cursor=C` in, `{"items": [...],
"next_cursor": C | null}` out. The cursor is opaque to callers: the sort key of the last
item served (see `kyra.store.paging`), so pages stay stable while new rows arrive."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Annotated, Any, TypeVar

from fastapi import Query

from kyra.api.errors import ApiError
from kyra.store.paging import Key

T = TypeVar("T")
MAX_CURSOR = 500

CursorParam = Annotated[
    str | None,
    Query(
        max_length=MAX_CURSOR,
        description="`next_cursor` of the previous page; omitted: the first page.",
    ),
]


def limit_param(default: int = 50, most: int = 1000) -> Any:
    """The `limit` query parameter of a list route."""
    return Query(default, ge=1, le=most, description=f"Items per page (at most {most}).")


def encode(key: Key) -> str:
    values = [{"t": v.isoformat()} if isinstance(v, datetime) else v for v in key]
    raw = json.dumps(values, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _invalid() -> ApiError:
    return ApiError(400, "invalid_cursor", "the cursor is not one this list handed out")


def decode(cursor: str | None, size: int) -> Key | None:
    """The sort key a cursor stands for; a 400 for anything this API did not hand out."""
    if not cursor:  # absent, or `cursor=` from a client that sends null as empty
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
    except (ValueError, binascii.Error) as exc:
        raise _invalid() from exc
    if not isinstance(values, list) or len(values) != size:
        raise _invalid()
    key: list[Any] = []
    for value in values:
        if isinstance(value, dict) and isinstance(value.get("t"), str) and len(value) == 1:
            try:
                key.append(datetime.fromisoformat(value["t"]))
            except ValueError as exc:
                raise _invalid() from exc
        elif isinstance(value, str | int) and not isinstance(value, bool):
            key.append(value)
        else:
            raise _invalid()
    return tuple(key)


def page(
    rows: Sequence[T], limit: int, key_of: Callable[[T], Key]
) -> tuple[Sequence[T], str | None]:
    """The first `limit` of `rows` (fetched as limit + 1) and the cursor of the next page,
    None when this is the last one."""
    if len(rows) <= limit:
        return rows, None
    return rows[:limit], encode(key_of(rows[limit - 1]))
