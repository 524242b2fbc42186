"""The `ErrorContext` fields of an exception raised by code that is not a Kyra workflow.

`ErrorContext.from_exception` calls `exception_fields`; one adapter a library reads the
status, headers, body, Retry-After and transport failure out of that library's exception:

    kyra StepError         its structured fields, as the engine records them
    httpx, requests        HTTPStatusError/HTTPError `.response`; timeouts, connect errors
    aiohttp                ClientResponseError (status, headers); connector errors, timeouts
    urllib3, urllib.error  MaxRetryError (its `.reason`); HTTPError (code, headers, body)
    botocore               ClientError `.response` (error code, HTTP status, headers)
    smtplib                reply code and text, as the `send_email` action maps them
    DB-API                 sqlite3, psycopg...: class name and SQLSTATE; SQLAlchemy's `.orig`

Libraries are recognised by the exception class's module name, never imported here, so
none of them has to be installed. An exception no adapter knows gives its attributes
`status_code`/`status`, `headers`, `retry_after` when it has them, else what its explicit
`__cause__` gives, else its class name and message. The context may be stored or sent to
an LLM, so it goes through `kyra.redaction` like a workflow's: credential-bearing headers
masked, URLs without their query string, and credential shapes in the message and body
(`postgresql://user:password@`, `Bearer ...`, `api_key=...`) masked.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from typing import Any

from kyra.redaction import redact, scrub_urls

Fields = dict[str, Any]
MAX_CAUSE_DEPTH = 5
_DB_MODULES = ("sqlite3", "psycopg", "psycopg2", "pymysql", "MySQLdb", "asyncpg", "oracledb")
_DB_ERRORS = frozenset(
    {
        "Error",
        "InterfaceError",
        "DatabaseError",
        "DataError",
        "OperationalError",
        "IntegrityError",
        "InternalError",
        "ProgrammingError",
        "NotSupportedError",
    }
)


def exception_fields(exc: BaseException, *, provider: str | None = None) -> Fields:
    """The context fields of `exc` (see the module docstring for what each library gives)."""
    fields = _fields(exc, 0)
    fields.setdefault("error_type", type(exc).__name__)
    fields.setdefault("error_message", str(exc))
    fields["error_message"] = redact(scrub_urls(str(fields["error_message"])))
    fields["headers"] = redact(dict(fields.get("headers") or {}))
    if fields.get("body") is not None:
        fields["body"] = redact(scrub_urls(str(fields["body"])))
    if provider is not None:
        fields["provider"] = provider
    return fields


def _fields(exc: BaseException, depth: int) -> Fields:
    exc = _unwrap(exc)
    adapter = _adapter(exc)
    if adapter is not None:
        return adapter(exc)
    found = _attributes(exc)
    if found.get("status_code") is None and depth < MAX_CAUSE_DEPTH:
        cause = exc.__cause__
        if cause is not None:
            inner = _fields(cause, depth + 1)
            inner.setdefault("error_type", type(cause).__name__)
            inner.setdefault("error_message", str(cause))
            return {**inner, **{k: v for k, v in found.items() if v not in (None, {})}}
    return found


def _unwrap(exc: BaseException) -> BaseException:
    """tenacity's RetryError holds the last attempt's exception: that is what failed."""
    if _module_root(exc) == "tenacity" and type(exc).__name__ == "RetryError":
        last = getattr(exc, "last_attempt", None)
        inner = last.exception() if last is not None and last.failed else None
        if isinstance(inner, BaseException):
            return inner
    return exc


def _module_root(exc: BaseException) -> str:
    return (type(exc).__module__ or "").split(".", 1)[0]


def _class_names(exc: BaseException) -> set[str]:
    return {cls.__name__ for cls in type(exc).__mro__}


def _adapter(exc: BaseException) -> Callable[[Any], Fields] | None:
    from kyra.errors import StepError

    if isinstance(exc, StepError):
        return _step_error
    root = _module_root(exc)
    by_module: dict[str, Callable[[Any], Fields]] = {
        "httpx": _httpx,
        "requests": _requests,
        "aiohttp": _aiohttp,
        "urllib3": _urllib3,
        "botocore": _botocore,
        "smtplib": _smtp,
        "sqlalchemy": _sqlalchemy,
    }
    if root in by_module:
        return by_module[root]
    if root == "urllib" and "HTTPError" in _class_names(exc):
        return _urllib_http_error
    if root in _DB_MODULES or (_class_names(exc) & _DB_ERRORS and hasattr(exc, "sqlstate")):
        return _dbapi
    return None


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    return None


def _status(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _attributes(exc: BaseException) -> Fields:
    """Duck typing for home-grown errors: `status_code`/`status`, `headers`, `retry_after`,
    or a `response` that looks like an HTTP response."""
    found: Fields = {}
    response = getattr(exc, "response", None)
    if response is not None and _status(getattr(response, "status_code", None)) is not None:
        found.update(_response_fields(response))
    status = _status(getattr(exc, "status_code", None)) or _status(getattr(exc, "status", None))
    if status is not None:
        found["status_code"] = status
    headers = getattr(exc, "headers", None)
    if isinstance(headers, Mapping):
        found["headers"] = {str(k): str(v) for k, v in headers.items()}
    retry_after = _number(getattr(exc, "retry_after", None))
    if retry_after is not None and retry_after >= 0:
        found["retry_after"] = retry_after
    if "retry_after" not in found and found.get("headers"):
        found["retry_after"] = _retry_after(found["headers"], None, found.get("status_code"))
    return found


def _retry_after(headers: Mapping[str, str], body: Any, status: int | None) -> float | None:
    from kyra.actions.httperrors import parse_retry_after

    return parse_retry_after(headers, body, status_code=status)


def _json_or_none(text: str | None) -> Any:
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def _http_fields(status: int | None, headers: Mapping[str, Any], body: str | None) -> Fields:
    plain = {str(k): str(v) for k, v in headers.items()}
    return {
        "status_code": status,
        "headers": plain,
        "body": body,
        "retry_after": _retry_after(plain, _json_or_none(body), status),
    }


def _response_fields(response: Any) -> Fields:
    """httpx and requests responses share `status_code`, `headers` and `text`."""
    try:
        body = response.text
    except Exception:
        body = None
    return _http_fields(_status(response.status_code), response.headers or {}, body)


def _transport(exc: BaseException, name: str | None = None) -> Fields:
    """No response: the class name (ConnectTimeout, ReadTimeout...) tells diagnosis what."""
    return {"error_type": name or type(exc).__name__, "error_message": str(exc)}


def _step_error(exc: Any) -> Fields:
    fields: Fields = exc.fields()
    fields["step_action"] = fields.pop("action") or None
    return fields


def _httpx(exc: Any) -> Fields:
    response = getattr(exc, "response", None) if "HTTPStatusError" in _class_names(exc) else None
    if response is None:
        return _transport(exc)
    return {**_response_fields(response), "error_type": type(exc).__name__}


def _requests(exc: Any) -> Fields:
    response = getattr(exc, "response", None)
    if response is not None and _status(getattr(response, "status_code", None)) is not None:
        return {**_response_fields(response), "error_type": type(exc).__name__}
    return _transport(exc)


def _aiohttp(exc: Any) -> Fields:
    status = _status(getattr(exc, "status", None))
    if status is None or "ClientResponseError" not in _class_names(exc):
        return _transport(exc)
    fields = _http_fields(status, getattr(exc, "headers", None) or {}, None)
    fields["error_type"] = type(exc).__name__
    fields["error_message"] = f"{status}, message={getattr(exc, 'message', '')!s}"
    return fields


def _urllib3(exc: Any) -> Fields:
    reason = getattr(exc, "reason", None)
    if type(exc).__name__ == "MaxRetryError" and isinstance(reason, BaseException):
        # The last underlying failure (NewConnectionError, ReadTimeoutError, ...).
        return {**_transport(reason), "error_message": str(exc)}
    return _transport(exc)


def _urllib_http_error(exc: Any) -> Fields:
    try:
        raw = exc.read()
    except Exception:
        raw = b""
    body = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else None
    fields = _http_fields(_status(exc.code), exc.headers or {}, body or None)
    fields["error_type"] = "HTTPError"
    return fields


def _botocore(exc: Any) -> Fields:
    response = getattr(exc, "response", None)
    if not isinstance(response, Mapping):
        return {**_transport(exc), "provider": "aws"}
    error = response.get("Error") or {}
    meta = response.get("ResponseMetadata") or {}
    headers = meta.get("HTTPHeaders") or {}
    body = json.dumps({"error": {k: v for k, v in error.items() if isinstance(v, str)}})
    fields = _http_fields(_status(meta.get("HTTPStatusCode")), headers, body)
    fields.update(provider="aws", error_type=type(exc).__name__)
    return fields


def _smtp(exc: Any) -> Fields:
    from kyra.actions.email import map_smtp_exception

    mapped = map_smtp_exception(exc, action="", provider="smtp", attempt=1, elapsed=0.0, where="")
    fields = _step_error(mapped)
    fields["error_message"] = str(exc)
    return fields


def _sqlalchemy(exc: Any) -> Fields:
    orig = getattr(exc, "orig", None)
    if isinstance(orig, BaseException):
        return {**_dbapi(orig), "error_message": str(orig)}
    return _transport(exc)


def _dbapi(exc: Any) -> Fields:
    """SQLSTATE, where the driver gives one, lands in the body as a provider code."""
    sqlstate = getattr(exc, "sqlstate", None) or getattr(exc, "pgcode", None)
    fields: Fields = {"error_type": type(exc).__name__, "provider": _module_root(exc)}
    if isinstance(sqlstate, str) and sqlstate:
        fields["body"] = json.dumps({"code": sqlstate})
    return fields
