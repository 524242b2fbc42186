"""Credential expiry, checked on use: the executor's `WatchFactory` (built once per
process by `Kyra.credential_watch`).

At the start of every run it reads the expiry of the secrets the workflow's templates
name (JWTs, OAuth token objects: `kyra.predict.credentials`); during the run it sees
each HTTP exchange (`ExchangeWatch`): the TLS certificate the host presented and any
header in which the provider announces the key's expiry. A credential that expires
within `warn` (`KYRA_CREDENTIAL_EXPIRY_WARNING_DAYS`) raises a `credential_expiry` risk;
one that no longer does (rotated, renewed) clears it.

Cost, bounded: per exchange a few dictionary lookups; a certificate is parsed once per
host and certificate (its SHA-256 is the cache key); the store is written only when a
verdict changes, when the reason's day count changes, or hourly (a refresh). The caches
hold at most `MAX_ENTRIES` entries each, oldest dropped first.

A new risk is announced (the `at_risk` notification) when a run finishes
(`CredentialWatch.observer`), never in the middle of a request: a slow channel must not
eat the step's timeout.

Nothing here logs, stores or sends a secret's value: reasons carry the secret's name,
the host and a date.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from kyra.actions.http import host_key
from kyra.clock import Clock
from kyra.engine.events import ExecutorObserver, RunInfo, RunResult
from kyra.predict.credentials import Expiry, certificate_expiry, header_expiry, secret_expiry
from kyra.predict.risk import (
    CREDENTIAL_EXPIRY,
    Reason,
    Risk,
    active_risks,
    clear_risk,
    raise_risk,
)
from kyra.store.db import Store
from kyra.store.workflows import WorkflowRecord
from kyra.workflows.references import secret_references

log = logging.getLogger("kyra.predict")
MAX_ENTRIES = 4096
MAX_PENDING = 1000
REFRESH_SECONDS = 3600.0
"""A standing risk is written again at most this often (its `updated_at`)."""

Announce = Callable[[Risk], None]


class _Bounded(OrderedDict[object, object]):
    def put(self, key: object, value: object) -> None:
        self[key] = value
        self.move_to_end(key)
        while len(self) > MAX_ENTRIES:
            self.popitem(last=False)


@dataclass(frozen=True)
class _Verdict:
    reason: Reason | None
    """None: not at risk."""
    written: float


class CredentialWatch:
    """Process-wide state of the credential checks; call it to watch one run."""

    def __init__(
        self, store: Store, clock: Clock, *, warn: timedelta, announce: Announce | None = None
    ) -> None:
        self.store = store
        self.clock = clock
        self.warn = warn
        self.announce = announce
        self._lock = threading.Lock()
        self._certs = _Bounded()
        self._verdicts = _Bounded()
        self._references = _Bounded()
        self._pending: list[Risk] = []
        self.observer = _AnnounceAfterRuns(self)
        """Add to the executor's observers: it announces new risks when a run finishes."""

    def __call__(
        self, info: RunInfo, record: WorkflowRecord, secrets: Mapping[str, str]
    ) -> RunWatch:
        run = RunWatch(self, info)
        for name in self._secret_names(record):
            value = secrets.get(name)
            expiry = secret_expiry(value) if value else None
            run.judge(f"secret:{name}", expiry, {"secret": name})
        return run

    def _secret_names(self, record: WorkflowRecord) -> frozenset[str]:
        key = (record.id, record.updated_at)  # a new definition updates the row
        with self._lock:
            names = self._references.get(key)
        if not isinstance(names, frozenset):
            names = frozenset(name for _where, name in secret_references(record.workflow))
            with self._lock:
                self._references.put(key, names)
            self._forget_unnamed(record, names)
        return names

    def _forget_unnamed(self, record: WorkflowRecord, names: frozenset[str]) -> None:
        """A definition this process had not seen: clear the risks of secrets it no longer
        names (one read per workflow and definition, not per run)."""
        now = self.clock.now()
        for risk in active_risks(self.store, record.tenant_id, workflow_id=record.id):
            secret = risk.subject.removeprefix("secret:")
            if risk.kind == CREDENTIAL_EXPIRY and secret != risk.subject and secret not in names:
                clear_risk(
                    self.store,
                    tenant_id=record.tenant_id,
                    workflow_id=record.id,
                    kind=CREDENTIAL_EXPIRY,
                    subject=risk.subject,
                    now=now,
                )
                with self._lock:
                    self._verdicts.pop((record.tenant_id, record.id, risk.subject), None)

    def certificate(self, host: str, read: Callable[[], bytes | None]) -> datetime | None:
        """`notAfter` of the certificate `host` presented (parsed once per certificate)."""
        der = read()
        if not der:
            return None
        digest = hashlib.sha256(der).digest()
        with self._lock:
            cached = self._certs.get(host)
        if isinstance(cached, tuple) and cached[0] == digest:
            return cached[1]  # type: ignore[no-any-return]
        not_after = certificate_expiry(der)
        with self._lock:
            self._certs.put(host, (digest, not_after))
        return not_after

    def judge(
        self, info: RunInfo, subject: str, expiry: Expiry | None, params: dict[str, str]
    ) -> None:
        """Raise, refresh or clear the risk of one credential, writing only on change."""
        now = self.clock.now()
        reason = _reason(expiry, params, now) if expiry and expiry.at - now <= self.warn else None
        key = (info.tenant_id, info.workflow_id, subject)
        mono = self.clock.monotonic()
        with self._lock:
            known = self._verdicts.get(key)
        fresh = isinstance(known, _Verdict) and mono - known.written < REFRESH_SECONDS
        if isinstance(known, _Verdict) and known.reason == reason and (reason is None or fresh):
            return
        where = {"tenant_id": info.tenant_id, "workflow_id": info.workflow_id}
        if reason is None:
            clear_risk(self.store, **where, kind=CREDENTIAL_EXPIRY, subject=subject, now=now)
        else:
            new = raise_risk(
                self.store, **where, kind=CREDENTIAL_EXPIRY, subject=subject, reason=reason, now=now
            )
            if new and self.announce is not None:
                self._queue(
                    Risk(
                        tenant_id=info.tenant_id,
                        workflow_id=info.workflow_id,
                        workflow=info.workflow_name,
                        kind=CREDENTIAL_EXPIRY,
                        subject=subject,
                        reason=reason,
                        since=now,
                        updated_at=now,
                    )
                )
        with self._lock:
            self._verdicts.put(key, _Verdict(reason, mono))

    def _queue(self, risk: Risk) -> None:
        with self._lock:
            self._pending.append(risk)
            del self._pending[:-MAX_PENDING]

    def flush(self) -> None:
        """Announce the risks raised since the last flush."""
        with self._lock:
            pending, self._pending = self._pending, []
        for risk in pending:
            try:
                if self.announce is not None:
                    self.announce(risk)
            except Exception:  # one channel's trouble must not stop the other risks
                log.exception("announcing the risk of %s failed", risk.workflow)


class _AnnounceAfterRuns(ExecutorObserver):
    def __init__(self, watch: CredentialWatch) -> None:
        self.watch = watch

    def on_run_finished(self, run: RunInfo, result: RunResult) -> None:
        self.watch.flush()


def _reason(expiry: Expiry, params: dict[str, str], now: datetime) -> Reason:
    key = f"credential.{expiry.form}"
    values: dict[str, str | int] = {**params, "expires": f"{expiry.at:%Y-%m-%d %H:%M}"}
    if expiry.form == "header":
        values["header"] = expiry.header
    if expiry.at <= now:
        return Reason(f"{key}.expired", values)
    # Whole days, to the nearest (the exact time is in `expires`): "in 2 day(s)" for a
    # certificate issued for two days a moment ago, never "in 0 day(s)".
    values["days"] = max(1, round((expiry.at - now) / timedelta(days=1)))
    return Reason(key, values)


class RunWatch:
    """The `ExchangeWatch` of one run: TLS certificates and expiry headers."""

    def __init__(self, watch: CredentialWatch, info: RunInfo) -> None:
        self.watch = watch
        self.info = info

    def judge(self, subject: str, expiry: Expiry | None, params: dict[str, str]) -> None:
        self.watch.judge(self.info, subject, expiry, params)

    def after_exchange(
        self, url: str, headers: Mapping[str, str], peer_certificate: Callable[[], bytes | None]
    ) -> None:
        host = host_key(url)
        if not host:
            return
        self.judge(f"key:{host}", header_expiry(headers), {"host": host})
        if url[:8].lower() == "https://":
            not_after = self.watch.certificate(host, peer_certificate)
            expiry = Expiry(not_after, "tls") if not_after is not None else None
            self.judge(f"tls:{host}", expiry, {"host": host})
