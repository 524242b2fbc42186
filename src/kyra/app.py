"""The application object: everything a command, a worker or the API needs, built once
from `Settings` and passed around explicitly (no import-time globals). Its parts read
their section of the one settings tree (`app.settings.healing`, `.runtime`, `.notify`,
`.fleet`, `.llm`); none reads the environment.

The parts a run needs (actions, templating, the HTTP client, the executor) are built and
imported on first use: `kyra workflows list` reads the store and nothing else, and the
CLI's start-up time is what an operator feels on every command.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING

from kyra.clock import Clock, SystemClock
from kyra.settings import Settings
from kyra.store import Store, open_store
from kyra.store.tenants import TenantInfo, ensure_tenant

if TYPE_CHECKING:
    import httpx

    from kyra.actions.base import ActionRegistry
    from kyra.engine.events import ExecutorObserver
    from kyra.engine.executor import Executor
    from kyra.engine.fleet import FleetGuard
    from kyra.engine.lease import ProcessLease
    from kyra.healing.healer import Healer
    from kyra.notify.notifier import Notifier
    from kyra.predict.watch import CredentialWatch
    from kyra.store.crypto import SecretBox
    from kyra.telemetry.spans import Tracing
    from kyra.workflows.templating import TemplateRenderer

HTTP_MAX_CONNECTIONS = 100
HTTP_MAX_KEEPALIVE = 20


class Kyra:
    """One Kyra instance: store, secrets, actions, templating, HTTP client, clock."""

    def __init__(self, settings: Settings, store: Store, clock: Clock | None = None) -> None:
        self.settings = settings
        self.store = store
        self.clock = clock or SystemClock()
        self._queued_listeners: list[Callable[[], None]] = []
        self._parts_lock = threading.Lock()
        self._healer: Healer | None = None
        self._notifier: Notifier | None = None

    def on_work_queued(self, listener: Callable[[], None]) -> None:
        """Call `listener` whenever this process queues an execution (the API, a webhook):
        the embedded runtime's workers start it at once instead of at their next poll."""
        self._queued_listeners.append(listener)

    def work_queued(self) -> None:
        for listener in self._queued_listeners:
            listener()

    @cached_property
    def registry(self) -> ActionRegistry:
        from kyra.actions import default_registry

        return default_registry()

    @cached_property
    def renderer(self) -> TemplateRenderer:
        from kyra.workflows.templating import RenderLimits, TemplateRenderer

        return TemplateRenderer(
            limits=RenderLimits(
                timeout_seconds=self.settings.template_timeout_seconds,
                max_output_chars=self.settings.template_max_output_chars,
            )
        )

    @cached_property
    def http(self) -> httpx.Client:
        import httpx

        from kyra.actions.http import http_client

        limits = httpx.Limits(
            max_connections=HTTP_MAX_CONNECTIONS, max_keepalive_connections=HTTP_MAX_KEEPALIVE
        )
        return http_client(limits=limits)

    @cached_property
    def fleet(self) -> FleetGuard:
        """Shared per-host pacing and circuit breakers (one per process)."""
        from kyra.engine.fleet import FleetGuard

        return FleetGuard(self.store, self.clock, self.settings.fleet)

    @cached_property
    def box(self) -> SecretBox:
        from kyra.store.crypto import SecretBox, load_key

        key = self.settings.secret_key.get_secret_value() if self.settings.secret_key else None
        return SecretBox(load_key(key, self.settings.key_file))

    def derived_key(self, purpose: str) -> bytes:
        """A key for one purpose, derived from the secret key (made on demand in the key
        file, 0600, when neither `KYRA_SECRET_KEY` nor the file exists yet)."""
        from kyra.store.crypto import derive_key, load_key

        key = self.settings.secret_key.get_secret_value() if self.settings.secret_key else None
        return derive_key(load_key(key, self.settings.key_file, create=True), purpose)

    @cached_property
    def tenant(self) -> TenantInfo:
        return ensure_tenant(self.store, self.settings.tenant, tier=self.settings.default_tier)

    def secrets_of(self, tenant_id: str) -> Mapping[str, str]:
        """Decrypted secrets of a tenant; no key is needed while a tenant has none."""
        from kyra.store import secrets as secret_store

        encrypted = secret_store.encrypted_secrets(self.store, tenant_id)
        if not encrypted:
            return {}
        box = self.box
        return {name: box.decrypt(token) for name, token in encrypted}

    @property
    def notifier(self) -> Notifier:
        """The app's one notifier (`KYRA_NOTIFY_*`): healing events, at-risk alerts and
        `kyra notify` share it, and with it each channel's "kept failing just now" state.
        Built on first use, once, even when the API's threads ask at the same time."""
        with self._parts_lock:
            if self._notifier is None:
                from kyra.notify.notifier import Notifier

                self._notifier = Notifier(self)
            return self._notifier

    @property
    def healer(self) -> Healer:
        """The app's one healer: the runtime's healing handler, the API and the CLI use it
        (settings from `KYRA_HEALING_*`, the LLM tier from `KYRA_LLM_*`, events to the
        notifier and to tracing when on). Built on first use, once."""
        notifier = self.notifier
        with self._parts_lock:
            if self._healer is None:
                from kyra.healing.factory import make_healer

                self._healer = make_healer(self, [notifier])
            return self._healer

    @cached_property
    def tracing(self) -> Tracing | None:
        """OpenTelemetry tracing when an OTLP endpoint is configured (`kyra.telemetry`)."""
        from kyra.telemetry import tracing

        return tracing()

    @cached_property
    def inline_lease(self) -> ProcessLease:
        """The lease of executions this process runs itself (`kyra run`, the API's
        `run?wait=true`), on the runtime's lease and heartbeat settings."""
        from kyra.engine.lease import ProcessLease

        runtime = self.settings.runtime
        return ProcessLease(
            self.store,
            self.clock,
            lease=runtime.lease,
            heartbeat=timedelta(seconds=runtime.heartbeat),
        )

    def executor(
        self,
        observers: list[ExecutorObserver] | None = None,
        *,
        lease: ProcessLease | None = None,
    ) -> Executor:
        from kyra.actions.base import ResponseLimits
        from kyra.engine.executor import Executor

        observers = list(observers or [])
        if self.tracing is not None:
            observers.append(self.tracing.executions)
        if self.settings.trends:
            from kyra.predict.observer import TrendObserver

            observers.append(TrendObserver(self))
        if self.settings.incidents:
            from kyra.incidents.observer import IncidentObserver

            observers.append(IncidentObserver(self))
        watch = self.credential_watch
        if watch is not None:
            observers.append(watch.observer)  # announces new risks after the run
        return Executor(
            store=self.store,
            registry=self.registry,
            renderer=self.renderer,
            http=self.http,
            secrets=self.secrets_of,
            clock=self.clock,
            observers=observers,
            template_env=self.settings.template_env,
            response_limits=ResponseLimits(
                max_read_bytes=self.settings.http_max_response_bytes,
                max_stored_bytes=self.settings.http_max_stored_bytes,
            ),
            max_retry_sleep=self.settings.max_retry_sleep_seconds,
            guard=self.fleet,
            lease=lease,
            watch=watch,
        )

    @cached_property
    def credential_watch(self) -> CredentialWatch | None:
        """Credential-expiry checks on every run (`kyra.predict.watch`), or None when
        `KYRA_CREDENTIAL_EXPIRY_WARNING_DAYS` is 0."""
        days = self.settings.credential_expiry_warning_days
        if not days:
            return None
        from kyra.predict.alerts import Announcer
        from kyra.predict.watch import CredentialWatch

        return CredentialWatch(
            self.store, self.clock, warn=timedelta(days=days), announce=Announcer(self)
        )

    def close(self) -> None:
        if "http" in self.__dict__:
            self.http.close()
        self.store.close()

    def __enter__(self) -> Kyra:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> Kyra:
    settings = settings or Settings()
    store = open_store(
        settings.require_database_url(),
        run_migrations=settings.db_auto_migrate,
        write_turns=settings.sqlite_write_turns,
    )
    return Kyra(settings, store, clock=clock)
