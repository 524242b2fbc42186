"""OpenTelemetry traces, optional (`pip install kyra-autofix[otel]`).

Tracing turns on when the standard OTLP endpoint variable is set
(`OTEL_EXPORTER_OTLP_ENDPOINT`, or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) and is off under
`OTEL_SDK_DISABLED=true` or `OTEL_TRACES_EXPORTER=none`. The exporter reads the other
standard variables itself (headers, timeout, `OTEL_SERVICE_NAME`...).

This module imports nothing of OpenTelemetry: the core install never loads it. The
spans come from two thin observers in `kyra.telemetry.spans`, attached where executors
and healers are built (`Kyra.executor`, `make_healer`), so no engine or healing code
calls a tracer.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kyra.telemetry.spans import Tracing

log = logging.getLogger("kyra.telemetry")

ENDPOINT_VARS = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")

_lock = threading.Lock()
_shared: dict[tuple[str, str], Tracing | None] = {}


def endpoint(environ: Mapping[str, str]) -> str | None:
    """The OTLP endpoint traces go to, or None when tracing is off."""
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return None
    if environ.get("OTEL_TRACES_EXPORTER", "otlp").strip().lower() == "none":
        return None
    for name in ENDPOINT_VARS:
        if environ.get(name, "").strip():
            return environ[name].strip()
    return None


def tracing(environ: Mapping[str, str] | None = None) -> Tracing | None:
    """The process's tracing for the configured endpoint (one exporter per endpoint and
    process), or None when off, or when the `otel` extra is not installed (logged once)."""
    env = os.environ if environ is None else environ
    target = endpoint(env)
    if target is None:
        return None
    key = (target, env.get("OTEL_SERVICE_NAME", "kyra"))
    with _lock:
        if key not in _shared:
            try:
                from kyra.telemetry.spans import Tracing
            except ImportError:
                log.warning(
                    "%s is set but OpenTelemetry is not installed: "
                    "pip install 'kyra-autofix[otel]'; no traces are exported",
                    ENDPOINT_VARS[1],
                )
                _shared[key] = None
            else:
                _shared[key] = Tracing(service_name=key[1])
        return _shared[key]
