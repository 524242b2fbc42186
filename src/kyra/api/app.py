"""`create_api(kyra)`: the REST API, the Health Center dashboard and `/metrics` on one
FastAPI app, over an existing `Kyra` object (the caller owns it and closes it).

    with create_app(settings) as kyra:
        uvicorn.run(create_api(kyra), host="127.0.0.1", port=8765)
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline

from kyra.api import (
    dashboard,
    executions,
    fixes,
    health,
    hooks,
    incidents,
    metrics,
    openapi,
    probes,
    risks,
    tenants,
    workflows,
)
from kyra.api.auth import Sessions
from kyra.api.body_limit import BodyLimit
from kyra.api.diagnose import router as diagnose_router
from kyra.api.errors import CatchAll, install_error_handlers
from kyra.api.probes import RuntimeCheck
from kyra.api.runs import InlineRuns
from kyra.app import Kyra

DESCRIPTION = """Kyra's REST API. Authenticate with `Authorization: Bearer <API key>`
(create one with `kyra apikeys create --tenant NAME`). Every request sees only the key's
tenant.

Errors are RFC 9457 problem details (`application/problem+json`): `type`, `title`,
`status`, `detail` (for people) and a stable `code` (for programs), plus `details`.

Lists are JSON arrays, paginated with `limit` and `cursor`: when there is more, the response
has a `Link: <...>; rel="next"` header (RFC 8288) and the cursor in `X-Next-Cursor`. Pages
stay stable while new items arrive."""


def create_api(
    kyra: Kyra,
    *,
    base_url: str | None = None,
    inline_workers: int = 2,
    runtime_check: RuntimeCheck | None = None,
) -> FastAPI:
    """The HTTP face of a Kyra app.

    Parameters:
        kyra: the app object (store, clock, executor); not closed by the API.
        base_url: public URL prefix for links the API hands out (webhook URLs); defaults
            to the URL each request arrived on.
        inline_workers: threads for `?wait=true` runs and approvals.
        runtime_check: the problems of the runtime serving alongside (`kyra serve`),
            for `/readyz`; None when there is none in this process.
    """
    runs = InlineRuns(workers=inline_workers, max_pending=inline_workers * 4)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        runs.close()

    # The machine Kyra runs on may be offline: the API docs page serves its Swagger UI
    # files from the package, not from a CDN.
    app = FastAPIOffline(
        title="Kyra",
        version="1",
        description=DESCRIPTION,
        docs_url="/docs",
        redoc_url=None,
        static_url="/docs-static",
        openapi_url="/openapi.json",
        lifespan=lifespan,
        generate_unique_id_function=openapi.operation_id,
    )
    openapi.install(app)
    app.state.kyra = kyra
    app.state.runtime_check = runtime_check
    app.state.base_url = base_url.rstrip("/") if base_url else None
    app.state.runs = runs
    app.state.sessions = Sessions(kyra)
    install_error_handlers(app)
    for module in (
        workflows,
        executions,
        fixes,
        hooks,
        tenants,
        health,
        risks,
        incidents,
        metrics,
        probes,
    ):
        app.include_router(module.router)
    app.include_router(dashboard.router)
    app.include_router(diagnose_router)
    app.mount("/static", StaticFiles(packages=[("kyra.api.dashboard", "static")]), name="static")

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("/dashboard", status_code=303)

    app.add_middleware(BodyLimit)  # inside CatchAll: the last added runs first
    app.add_middleware(CatchAll)
    return app
