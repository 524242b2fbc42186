"""`GET /healthz` and `GET /readyz`: probes for orchestrators and load balancers, with no
key (they reveal nothing about any tenant).

Liveness answers 200 whenever the process can serve HTTP: restarting a process because
its database is down would not bring the database back. Readiness answers 503 with the
reason when requests would fail: the database does not answer, or (in `kyra serve`) the
embedded runtime's workers, lease keeper or scheduler stopped beating.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from kyra.api import schemas as s
from kyra.api.auth import kyra_of

router = APIRouter(tags=["probes"])

RuntimeCheck = Callable[[], list[str]]
"""What is wrong with the runtime serving alongside the API; empty when it is alive."""

_PROBE = {200: {"model": s.ProbeOut}, 503: {"model": s.ProbeOut, "description": "Not ready"}}


@router.get("/healthz", response_model=s.ProbeOut, responses={200: {"model": s.ProbeOut}})
def healthz() -> s.ProbeOut:
    """Liveness: the process is up and serving HTTP."""
    return s.ProbeOut(status="ok", checks={"process": "ok"})


def _database(request: Request) -> str:
    try:
        with kyra_of(request).store.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # any driver error means "not reachable"; say which
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return f"unreachable: {first[:200]}"
    return "ok"


@router.get("/readyz", response_model=s.ProbeOut, responses=_PROBE)  # type: ignore[arg-type]
def readyz(request: Request) -> JSONResponse:
    """Readiness: the database answers and, in `kyra serve`, the runtime is alive."""
    checks = {"database": _database(request)}
    runtime: RuntimeCheck | None = request.app.state.runtime_check
    if runtime is not None:
        problems = runtime()
        checks["runtime"] = "; ".join(problems) if problems else "ok"
    ready = all(v == "ok" for v in checks.values())
    body = s.ProbeOut(status="ok" if ready else "unavailable", checks=checks)
    return JSONResponse(body.model_dump(), status_code=200 if ready else 503)
