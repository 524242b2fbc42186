"""Cursor pagination for every list of the API: `?limit=N&cursor=C` in; out, the items as a
JSON array and, when there are more, the next page in a `Link: <...>; rel="next"` header
(RFC 8288, as GitHub and GitLab do) and its cursor in `X-Next-Cursor`.

The body stays a plain array so that a client written for the first, unpaginated API
(which returned arrays) keeps working: a list that changed shape would break every script
that reads it. The cursor is opaque to callers: the sort key of the last item served (see
`kyra.store.paging`), so pages stay stable while new rows arrive."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Annotated, Any, TypeVar

from fastapi import Query, Request, Response

from kyra.api.errors import ApiError
from kyra.store.paging import Key

T = TypeVar("T")
MAX_CURSOR = 500

CursorParam = Annotated[
    str | None,
    Query(
        max_length=MAX_CURSOR,
        description="`X-Next-Cursor` of the previous page (or follow its `Link` header); "
        "omitted: the first page.",
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


PAGE_HEADERS: dict[int | str, dict[str, Any]] = {
    200: {
        "headers": {
            "Link": {
                "description": 'The next page, `<URL>; rel="next"` (RFC 8288); absent on the '
                "last page.",
                "schema": {"type": "string"},
            },
            "X-Next-Cursor": {
                "description": "Pass as `cursor` for the next page; absent on the last page.",
                "schema": {"type": "string"},
            },
        }
    }
}
"""The `responses=` of a list route: documents the paging headers in the OpenAPI."""


def paged(request: Request, response: Response, items: list[T], next_cursor: str | None) -> list[T]:
    """`items` as the body, with the next page's `Link` and `X-Next-Cursor` when there is
    one. The link is relative (RFC 3986 reference): right behind any proxy."""
    if next_cursor is not None:
        url = request.url.include_query_params(cursor=next_cursor)
        response.headers["Link"] = f'<{url.path}?{url.query}>; rel="next"'
        response.headers["X-Next-Cursor"] = next_cursor
    return items
