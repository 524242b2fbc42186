"""Kyra's exception tree, grouped by who catches them.

    KyraError
    ├── WorkflowDefinitionError   bad workflow document (the CLI prints it, exit 2)
    │   └── RulesDefinitionError  bad custom-rules document (kyra.healing.rules_loader)
    ├── TemplateError             a parameter template failed to render or broke the sandbox
    ├── InputError                outside JSON unreadable, or beyond the depth/size limits
    ├── SecretError               an unknown secret, or a key that cannot decrypt
    ├── StoreError                database problems callers can act on
    │   ├── SchemaOutOfDateError  the schema is behind (or ahead of) this Kyra
    │   ├── NoProjectError        no kyra.toml found upward and no KYRA_DATABASE_URL
    │   ├── NotFoundError
    │   └── ConflictError         name clash, stale version
    │       └── WorkflowExistsError   a workflow of that name exists (and no replace)
    ├── IllegalTransitionError    a workflow state change the transition table forbids
    ├── WaitRequired              a request must wait longer than a worker should sleep
    ├── StepError                 an action failed; structured fields, read by diagnosis
    │   ├── TransportError        no HTTP response (connect, read timeout, TLS, DNS)
    │   ├── RemoteStatusError     the remote answered with an error status
    │   ├── ResponseTooLargeError the response body is over Kyra's read or stored limit
    │   └── ActionInputError      the step's own parameters are wrong (not retryable)
    └── HealingError              the healer could not act (never loses the execution)

Healing reads the fields of a `StepError`, never parses its message: the message may be
written by an attacker-controlled remote.
"""

from __future__ import annotations

from typing import Any


class KyraError(Exception):
    """Root of every error Kyra raises on purpose."""


class WorkflowDefinitionError(KyraError):
    """A workflow document is invalid; `problems` lists `location: message` lines."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        super().__init__(f"{source}: " + "; ".join(problems))


class TemplateError(KyraError):
    """A template could not be rendered, or tried to leave the sandbox."""


class InputError(KyraError):
    """JSON from outside (an API body, a webhook, a `kyra diagnose` line) is invalid or
    nested or sized beyond Kyra's limits (`kyra.inputs`); the reason is one sentence."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class ValueRequired(InputError):
    """Approving a proposal whose value only a person knows, without a value: refused,
    nothing changes (CLI exit 2, API 422 `value_required`)."""

    def __init__(self, fix_id: str, field: str, reason: str) -> None:
        self.fix_id = fix_id
        self.field = field
        super().__init__(reason)


class SecretError(KyraError):
    """A secret is unknown or cannot be decrypted with the configured key."""


class StoreError(KyraError):
    """A database operation failed in a way the caller can report."""


class SchemaOutOfDateError(StoreError):
    """The database schema is not the one this Kyra needs: behind with auto-migration
    off (`kyra db upgrade` fixes it), or `newer` than this version of Kyra."""

    def __init__(self, current: str | None, head: str, *, newer: bool = False) -> None:
        self.current = current
        self.head = head
        self.newer = newer
        where = current or "empty"
        if newer:
            super().__init__(f"the database schema ({where}) is newer than this Kyra ({head})")
        else:
            super().__init__(
                f"the database schema is at {where}, this Kyra needs {head}: run `kyra db upgrade`"
            )


class NoProjectError(StoreError):
    """No database is named: no `kyra.toml` here or above, and no `KYRA_DATABASE_URL`."""

    def __init__(self, where: object) -> None:
        self.where = where
        super().__init__(
            f"no kyra.toml in {where} or a parent directory, and KYRA_DATABASE_URL is not "
            "set: run `kyra init` here, or cd into your project"
        )


class NotFoundError(StoreError):
    """The named object does not exist in this tenant."""


class ConflictError(StoreError):
    """The object already exists, or was changed by someone else."""


class WorkflowExistsError(ConflictError):
    """A workflow of that name exists and the caller did not ask to replace it. Its own
    class so each face words the way out for its users (`--replace`, `replace=true`)."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"a workflow named {name!r} already exists; use --replace to update it")


class IllegalTransitionError(KyraError):
    """A workflow state change that the transition table does not allow."""

    def __init__(self, current: str, target: str) -> None:
        self.current = current
        self.target = target
        super().__init__(f"illegal workflow state transition {current} -> {target}")


class WaitRequired(KyraError):
    """A request may not go for `seconds` (a paced limit, a quota reset, an open circuit).

    Raised by a `HostGuard` instead of sleeping when the wait is longer than a worker
    should hold a thread for; the executor parks the execution until then (or sleeps, when
    it runs where nothing can be parked). Not an attempt: no retry is spent on it."""

    def __init__(self, seconds: float, kind: str, target: str, detail: str = "") -> None:
        self.seconds = seconds
        self.kind = kind
        """pacing | quota | retry_after | circuit | backoff (translated by the CLI)."""
        self.target = target
        """What is waited for: `host scope`."""
        self.detail = detail
        super().__init__(f"waiting {seconds:.1f} s for {target}: {self.reason}")

    @property
    def reason(self) -> str:
        """One English line for logs and the `wait_reason` of a parked execution."""
        return f"{self.kind}: {self.detail}" if self.detail else self.kind


class StepError(KyraError):
    """An action failed. Every field is structured so diagnosis never parses prose."""

    retryable_by_default = False

    def __init__(
        self,
        message: str,
        *,
        action: str = "",
        provider: str | None = None,
        status_code: int | None = None,
        headers: dict[str, str] | None = None,
        body_excerpt: str | None = None,
        error_type: str | None = None,
        retry_after: float | None = None,
        elapsed: float = 0.0,
        attempt: int = 1,
        retryable: bool | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.action = action
        self.provider = provider
        self.status_code = status_code
        self.headers = dict(headers or {})
        self.body_excerpt = body_excerpt
        self.error_type = error_type or type(self).__name__
        self.retry_after = retry_after
        self.elapsed = elapsed
        self.attempt = attempt
        self._retryable = retryable

    @property
    def retryable(self) -> bool:
        """Transport errors, 429 and 5xx are retried by the executor's retry policy."""
        if self._retryable is not None:
            return self._retryable
        if self.status_code is not None:
            return self.status_code == 429 or self.status_code >= 500
        return self.retryable_by_default

    def fields(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "provider": self.provider,
            "status_code": self.status_code,
            "headers": dict(self.headers),
            "body": self.body_excerpt,
            "error_type": self.error_type,
            "error_message": self.message,
            "retry_after": self.retry_after,
            "elapsed_seconds": self.elapsed,
            "attempt": self.attempt,
        }

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(action={self.action!r}, provider={self.provider!r}, "
            f"status_code={self.status_code!r}, error_type={self.error_type!r}, "
            f"message={self.message!r})"
        )


class TransportError(StepError):
    """No response came back: connection refused or timed out, DNS, TLS, SMTP session."""

    retryable_by_default = True


class RemoteStatusError(StepError):
    """The remote answered with an error status (HTTP 4xx/5xx, SMTP 4xx/5xx reply)."""


class ResponseTooLargeError(StepError):
    """A response body is over `KYRA_HTTP_MAX_RESPONSE_BYTES` (Kyra stopped reading it)
    or `KYRA_HTTP_MAX_STORED_BYTES` (too big to keep as the step's output). Retrying
    cannot shrink it; `limit_bytes` and `setting` say which bound was hit."""

    def __init__(self, message: str, *, limit_bytes: int, setting: str, **fields: Any) -> None:
        super().__init__(message, error_type="ResponseTooLarge", retryable=False, **fields)
        self.limit_bytes = limit_bytes
        self.setting = setting


class ActionInputError(StepError):
    """The step's own parameters are invalid; retrying the same input cannot help."""


class HealingError(KyraError):
    """The healer could not complete; the failed execution is kept for a later attempt."""
