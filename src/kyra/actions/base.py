"""The action (connector) interface and registry.

A new action is one small module: a pydantic `Params` model, a class with `name`,
`Params` and `run(params, ctx)`, and one line in `kyra.actions.BUILTIN_ACTIONS` (or a
`kyra.actions` entry point for a plug-in). `run` returns a JSON-able output and raises
a `kyra.errors.StepError` subclass on failure: foreign exceptions (httpx, smtplib) are
translated once, inside the action, with the cause kept (`raise ... from exc`).

Example::

    class EchoParams(BaseModel):
        text: str

    class Echo:
        name = "echo"
        Params = EchoParams

        def run(self, params: EchoParams, ctx: StepContext) -> dict[str, str]:
            return {"text": params.text}
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from importlib.metadata import entry_points
from typing import Annotated, Any, ClassVar, Protocol

import httpx
from pydantic import BaseModel, BeforeValidator

from kyra.workflows.model import WorkflowConfig

log = logging.getLogger("kyra.actions")


def scalar_text(value: Any) -> Any:
    """A number or boolean where text is expected, as text. `X-Id: "{{ inputs.n }}"`
    renders to the number itself (a lone expression keeps its type), but a header, a
    URL or a subject is text, so `7` means "7" (and `true` means "true")."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | Decimal):
        return str(value)
    return value


Text = Annotated[str, BeforeValidator(scalar_text)]
"""`str` for action parameters: a templated number or boolean becomes its text."""


class RequestPacer:
    """Enforces `config.request_delay` between HTTP requests of one workflow run."""

    def __init__(
        self,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._sleep = sleep
        self._monotonic = monotonic
        self._last: float | None = None
        self._before: float | None = None

    def wait(self, delay: float) -> float:
        """Sleep until `delay` seconds have passed since the previous request; returns the
        time slept."""
        now = self._monotonic()
        slept = 0.0
        if self._last is not None and delay > 0:
            remaining = self._last + delay - now
            if remaining > 0:
                self._sleep(remaining)
                slept = remaining
        self._before, self._last = self._last, self._monotonic()
        return slept

    def forget(self) -> None:
        """The request paced by the last `wait` did not go (the fleet made it wait): the
        next one is paced after the request before it, not after this non-event. Otherwise
        each return from a fleet wait would sleep `request_delay` again and come late for
        its slot, which sends it to the back of the line: a loop with no end."""
        self._last = self._before


class HostGuard(Protocol):
    """Fleet-wide protection of the upstreams a tenant calls (pacing, circuit breaking).

    `before_request` may sleep a little, raise `kyra.errors.WaitRequired` (a longer wait:
    the engine parks the run) or raise a `StepError` (a wait beyond what Kyra accepts);
    the two `after_*` calls report what happened so the guard can learn. Actions call these
    around every request with its URL; the engine supplies the implementation.
    """

    def before_request(self, url: str) -> None: ...

    def after_response(self, url: str, status: int, headers: Mapping[str, str]) -> None: ...

    def after_transport_error(self, url: str, error_type: str) -> None: ...

    def retry_slot(self) -> float | None: ...


class NoGuard:
    """The default guard: no shared state, nothing to learn."""

    def before_request(self, url: str) -> None:
        return None

    def after_response(self, url: str, status: int, headers: Mapping[str, str]) -> None:
        return None

    def after_transport_error(self, url: str, error_type: str) -> None:
        return None

    def retry_slot(self) -> float | None:
        return None


class ExchangeWatch(Protocol):
    """Sees every HTTP exchange that got a response, to warn before a credential
    expires: the response headers (a provider may announce the key's expiry) and, for
    HTTPS, a callable returning the peer certificate as DER (called only when wanted:
    it must be called before `after_exchange` returns, while the connection is open).
    It must be cheap and must never raise into the step; the engine supplies it."""

    def after_exchange(
        self, url: str, headers: Mapping[str, str], peer_certificate: Callable[[], bytes | None]
    ) -> None: ...


class NoWatch:
    """The default watch: looks at nothing."""

    def after_exchange(
        self, url: str, headers: Mapping[str, str], peer_certificate: Callable[[], bytes | None]
    ) -> None:
        return None


@dataclass(frozen=True)
class ResponseLimits:
    """Bounds on the response of one HTTP exchange, whatever the remote sends."""

    max_read_bytes: int = 10_000_000
    """`KYRA_HTTP_MAX_RESPONSE_BYTES`: reading stops (and the step fails) past this."""
    max_stored_bytes: int = 1_000_000
    """`KYRA_HTTP_MAX_STORED_BYTES`: a bigger body is not kept as a step's output."""


@dataclass
class StepContext:
    """What an action may use while it runs: the effective config and shared clients."""

    workflow_name: str
    step_name: str
    action: str
    config: WorkflowConfig
    http: httpx.Client
    pacer: RequestPacer
    attempt: int = 1
    provider: str | None = None
    """The step's explicit provider name; otherwise actions derive it from the URL host."""
    sleep: Callable[[float], None] = time.sleep
    guard: HostGuard = field(default_factory=NoGuard)
    """Shared per-host pacing and circuit breaking across the tenant's workflows."""
    limits: ResponseLimits = field(default_factory=ResponseLimits)
    watch: ExchangeWatch = field(default_factory=NoWatch)
    """Credential-expiry checks on each exchange (`kyra.predict.watch`)."""
    extra: dict[str, Any] = field(default_factory=dict)


def _peer_certificate(response: httpx.Response) -> Callable[[], bytes | None]:
    """The DER certificate the HTTPS peer presented on this response's connection."""

    def read() -> bytes | None:
        stream = response.extensions.get("network_stream")
        ssl_object = stream.get_extra_info("ssl_object") if stream is not None else None
        # Positional: httpcore hands out the C-level `_ssl._SSLSocket`, whose
        # getpeercert takes no keywords.
        return ssl_object.getpeercert(True) if ssl_object is not None else None

    return read


def watch_exchange(ctx: StepContext, url: str, response: httpx.Response) -> None:
    """Show the step's watch a response whose body is not read yet (its connection
    is still open, so the TLS session can still be asked for the peer certificate)."""
    try:
        ctx.watch.after_exchange(url, response.headers, _peer_certificate(response))
    except Exception:  # a warning about tomorrow must never fail today's request
        log.exception("the credential watch failed on step %s", ctx.step_name)


class Action(Protocol):
    """A step connector. `Params` validates the rendered `with` parameters."""

    name: ClassVar[str]
    Params: ClassVar[type[BaseModel]]

    def run(self, params: Any, ctx: StepContext) -> Any: ...


class UnknownActionError(KeyError):
    """No action is registered under this name."""


class ActionRegistry:
    """Maps action names to action instances; built explicitly, no import-time global."""

    def __init__(self, actions: Iterable[Action] = ()) -> None:
        self._actions: dict[str, Action] = {}
        for action in actions:
            self.register(action)

    def register(self, action: Action) -> None:
        if action.name in self._actions:
            raise ValueError(f"action {action.name!r} is registered twice")
        self._actions[action.name] = action

    def get(self, name: str) -> Action:
        try:
            return self._actions[name]
        except KeyError:
            raise UnknownActionError(name) from None

    def names(self) -> list[str]:
        return sorted(self._actions)

    def __contains__(self, name: object) -> bool:
        return name in self._actions

    def load_entry_points(self, group: str = "kyra.actions") -> None:
        """Register plug-in actions declared by installed packages."""
        for ep in entry_points(group=group):
            factory = ep.load()
            self.register(factory())
