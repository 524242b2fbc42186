"""From a diagnosis to a remedy: a bounded config patch plus a re-run plan.

Each remedy reads typed facts (validated by diagnosis) and the workflow's own config and
history; error text never becomes config except through those narrow, validated facts.
GREEN remedies are applied by the healer; YELLOW ones become proposals for a person.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from kyra.engine.error_context import ErrorContext
from kyra.healing.candidates import as_json, expected_format, for_missing_field
from kyra.healing.diagnosis.types import Diagnosis
from kyra.healing.patches import (
    AddDateNormaliser,
    ConfigPatch,
    SetFieldDefault,
    SetFieldValue,
    SetHeader,
    SetRequestDelay,
    SetRetry,
    SetTimeout,
)
from kyra.healing.settings import HealingSettings
from kyra.healing.taxonomy import ErrorClass
from kyra.i18n import Catalog, Lang, translate
from kyra.redaction import MASK
from kyra.store.workflows import WorkflowRecord
from kyra.workflows.dates import ambiguous_readings, infer_strftime, parse_date
from kyra.workflows.model import Backoff, Step, WorkflowConfig, effective_config
from kyra.workflows.params import get_path

ISO_DATE = "%Y-%m-%d"
PROVIDER_VERSION_HEADERS = {
    "stripe": "Stripe-Version",
    "notion": "Notion-Version",
    "github": "X-GitHub-Api-Version",
    "anthropic": "anthropic-version",
    "shopify": "X-Shopify-Api-Version",
}
DEFAULT_VERSION_HEADER = "X-API-Version"

StepHistory = Callable[[str], list[dict[str, Any]]]
RECOVERED_RERUN_DELAY = 2.0
"""Seconds before re-running a 503 the upstream has since recovered from."""
"""Step name → rendered params of its recent successful runs, newest first."""


@dataclass(frozen=True)
class RemedyPlan:
    """What to change and when to re-run. The summary (`key` + `values`, see `TEXT`) is
    a sentence for audits and notifications; `suggestions` are alternative values a
    person may pick on approval."""

    error_class: ErrorClass
    patch: ConfigPatch
    rerun_delay: float
    key: str
    values: dict[str, Any] = field(default_factory=dict)
    suggestions: list[Any] = field(default_factory=list)
    candidates: list[dict[str, Any]] = field(default_factory=list)
    """Where each suggestion came from (`kyra.healing.candidates`), shown on approval."""

    def summary(self, lang: Lang = "en") -> str:
        return translate(TEXT, self.key, lang, **self.values)


@dataclass(frozen=True)
class RemedyFailed:
    """No bounded change can help; the reason is shown to the person asked to act."""

    key: str
    values: dict[str, Any] = field(default_factory=dict)

    def reason(self, lang: Lang = "en") -> str:
        return translate(TEXT, self.key, lang, **self.values)


TEXT: Catalog = {
    "rate_limit": {
        "en": "request_delay {before:g} s → {after:g} s, exponential retries; re-run after "
        "the rate-limit window ({window:g} s)",
        "es": "request_delay {before:g} s → {after:g} s, reintentos exponenciales; nueva "
        "ejecución tras la ventana del límite ({window:g} s)",
    },
    "timeout_raise": {
        "en": "timeout {before:g} s → {after:g} s and retries with exponential backoff on "
        "step '{step}' (at most {retries})",
        "es": "timeout {before:g} s → {after:g} s y reintentos con espera exponencial en el "
        "paso '{step}' (como máximo {retries})",
    },
    "timeout_retry": {
        "en": "retries with exponential backoff on step '{step}' (at most {retries})",
        "es": "reintentos con espera exponencial en el paso '{step}' (como máximo {retries})",
    },
    "unavailable": {
        "en": "retry plan {initial:g} s → {max:g} s ×{mult:g}, up to {retries} retries; "
        "re-run in {delay:g} s",
        "es": "plan de reintentos {initial:g} s → {max:g} s ×{mult:g}, hasta {retries} "
        "reintentos; nueva ejecución en {delay:g} s",
    },
    "date": {
        "en": "normalise {step}.{path} to {fmt}",
        "es": "normalizar {step}.{path} al formato {fmt}",
    },
    "missing_field": {
        "en": "the field '{name}' is required: use a default for {step}.{path}",
        "es": "el campo '{name}' es obligatorio: usar un valor por defecto en {step}.{path}",
    },
    "missing_field_ask": {
        "en": "the field '{name}' is required and only a person knows its value{expect}: "
        "approve with --value to set {step}.{path}",
        "es": "el campo '{name}' es obligatorio y solo una persona conoce su valor{expect}: "
        "aprueba con --value para fijar {step}.{path}",
    },
    "replace_value": {
        "en": "use the last value that worked for {step}.{path}",
        "es": "usar el último valor que funcionó en {step}.{path}",
    },
    "api_version": {
        "en": "send {header}: {version} on step '{step}'",
        "es": "enviar {header}: {version} en el paso '{step}'",
    },
    "fail.step_gone": {
        "en": "the failed step '{step}' is no longer in the workflow",
        "es": "el paso fallido '{step}' ya no está en el workflow",
    },
    "fail.chain": {
        "en": "step '{step}' returned the bad value ({path}): fix that step or the service "
        "it calls; the failing step is left unchanged",
        "es": "el paso '{step}' devolvió el valor erróneo ({path}): corrige ese paso o el "
        "servicio al que llama; el paso que falló no se cambia",
    },
    "fail.never": {
        "en": "{error_class} is never changed automatically",
        "es": "{error_class} nunca se cambia automáticamente",
    },
    "fail.delay_max": {
        "en": "request_delay is already at its maximum ({limit:g} s); the rate limit needs a "
        "higher quota or fewer runs",
        "es": "request_delay ya está en su máximo ({limit:g} s); el límite exige más cuota "
        "o menos ejecuciones",
    },
    "fail.timeout_cap": {
        "en": "the step timeout is already at its cap ({cap:g} s)",
        "es": "el timeout del paso ya está en su máximo ({cap:g} s)",
    },
    "fail.retries_in_place": {
        "en": "retries with backoff are already in place; the endpoint seems down",
        "es": "ya hay reintentos con espera; el servicio parece caído",
    },
    "fail.no_date_field": {
        "en": "could not tell which parameter holds the rejected date",
        "es": "no se pudo saber qué parámetro contiene la fecha rechazada",
    },
    "fail.unreadable_date": {
        "en": "the value at {path} is not a date Kyra can read",
        "es": "el valor en {path} no es una fecha que Kyra sepa leer",
    },
    "fail.ambiguous_date": {
        "en": "the value at {path} ({value}) reads as {first} or as {second}: a person must "
        "say which before it is normalised",
        "es": "el valor en {path} ({value}) se lee como {first} o como {second}: una persona "
        "debe decir cuál antes de normalizarlo",
    },
    "fail.no_field": {
        "en": "the error does not say which field is missing",
        "es": "el error no indica qué campo falta",
    },
    "fail.no_param": {
        "en": "the error does not name a parameter of this step to correct",
        "es": "el error no nombra ningún parámetro de este paso que corregir",
    },
    "fail.no_good_value": {
        "en": "no earlier successful value of {path} to propose; fix the input data",
        "es": "no hay un valor anterior correcto de {path} que proponer; corrige los datos",
    },
    "fail.no_version": {
        "en": "the error does not name the API version to use",
        "es": "el error no indica qué versión de la API usar",
    },
}


Remedy = RemedyPlan | RemedyFailed


@dataclass(frozen=True)
class _Case:
    diagnosis: Diagnosis
    ctx: ErrorContext
    record: WorkflowRecord
    step: Step
    config: WorkflowConfig
    """The failing step's effective config."""
    settings: HealingSettings
    history: StepHistory
    upstream_recovered: bool = False
    """The upstream answered other requests well since the failure (see
    `FleetGuard.recovered_since`)."""


def plan_remedy(
    diagnosis: Diagnosis,
    ctx: ErrorContext,
    record: WorkflowRecord,
    settings: HealingSettings,
    history: StepHistory,
    *,
    upstream_recovered: bool = False,
) -> Remedy:
    """The remedy for a diagnosed failure (GREEN and YELLOW classes); RED has none."""
    try:
        step = record.workflow.step(ctx.step_name or "")
    except KeyError:
        return RemedyFailed("fail.step_gone", {"step": ctx.step_name})
    cause = diagnosis.root_cause
    if cause is not None and cause.step != step.name:
        # Patching the step that only used a bad value would hide the fault: point at its source.
        return RemedyFailed("fail.chain", {"step": cause.step, "path": cause.path})
    case = _Case(
        diagnosis,
        ctx,
        record,
        step,
        effective_config(record.workflow.config, step),
        settings,
        history,
        upstream_recovered,
    )
    planner = _PLANNERS.get(diagnosis.error_class)
    if planner is None:
        return RemedyFailed("fail.never", {"error_class": diagnosis.error_class.value})
    return planner(case)


# -- GREEN ------------------------------------------------------------------------------


def _rate_limit(case: _Case) -> Remedy:
    limit = case.settings.max_request_delay_seconds
    current = case.record.workflow.config.request_delay
    if current >= limit:
        return RemedyFailed("fail.delay_max", {"limit": limit})
    new = min(max(current * 2, 1.0), limit)
    retry = case.config.retry
    ops: list[Any] = [SetRequestDelay(seconds=new)]
    if retry.max_retries < 3 or retry.backoff is not Backoff.EXPONENTIAL:
        ops.append(
            SetRetry(
                max_retries=max(3, retry.max_retries),
                initial_delay=max(retry.initial_delay, new),
                max_delay=max(retry.max_delay, 60.0),
            )
        )
    window = case.diagnosis.facts.retry_after_seconds or case.ctx.retry_after or new
    return RemedyPlan(
        ErrorClass.RATE_LIMIT_EXCEEDED,
        ConfigPatch(ops=tuple(ops)),
        rerun_delay=window,
        key="rate_limit",
        values={"before": current, "after": new, "window": window},
    )


def _timeout(case: _Case) -> Remedy:
    cap = case.settings.max_timeout_seconds
    current = case.config.timeout
    retry = case.config.retry
    raise_timeout = case.diagnosis.error_class is ErrorClass.TIMEOUT_ERROR
    if raise_timeout and current >= cap:
        return RemedyFailed("fail.timeout_cap", {"cap": cap})
    ops: list[Any] = []
    new = min(current * 2, cap)
    if raise_timeout:
        ops.append(SetTimeout(step=case.step.name, seconds=new))
    if retry.max_retries < 3:
        ops.append(
            SetRetry(
                step=case.step.name,
                max_retries=3,
                initial_delay=max(retry.initial_delay, 2.0),
                max_delay=60.0,
            )
        )
    if not ops:
        return RemedyFailed("fail.retries_in_place")
    return RemedyPlan(
        case.diagnosis.error_class,
        ConfigPatch(ops=tuple(ops)),
        rerun_delay=0.0 if raise_timeout else max(retry.initial_delay, 2.0),
        key="timeout_raise" if raise_timeout else "timeout_retry",
        values={
            "before": current,
            "after": new,
            "step": case.step.name,
            "retries": max(3, retry.max_retries),
        },
    )


def _unavailable(case: _Case) -> Remedy:
    s = case.settings
    plan = SetRetry(
        max_retries=s.unavailable_max_retries,
        initial_delay=s.unavailable_initial_delay_seconds,
        max_delay=s.unavailable_max_delay_seconds,
        multiplier=s.unavailable_multiplier,
    )
    # The host's own Retry-After is the best estimate of its window; the spec's 30 s
    # plan start is for when it says nothing and nothing else is known. When the same
    # upstream has answered other requests well since (its circuit closed), the 503 was
    # a blip: the re-run goes after a short pause, not as if the host were down.
    announced = case.diagnosis.facts.retry_after_seconds or case.ctx.retry_after
    if announced:
        delay = announced
    elif case.upstream_recovered:
        delay = min(RECOVERED_RERUN_DELAY, s.unavailable_initial_delay_seconds)
    else:
        delay = s.unavailable_initial_delay_seconds

    return RemedyPlan(
        ErrorClass.SERVICE_TEMPORARILY_UNAVAILABLE,
        ConfigPatch(ops=(plan,)),
        rerun_delay=delay,
        key="unavailable",
        values={
            "initial": plan.initial_delay,
            "max": plan.max_delay,
            "mult": plan.multiplier,
            "retries": plan.max_retries,
            "delay": delay,
        },
    )


def _date_format(case: _Case) -> Remedy:
    path = _field_path(case)
    if path is None:
        return RemedyFailed("fail.no_date_field")
    fmt = _expected_format(case, path)
    sample = _sample_value(case, path)
    readings = ambiguous_readings(sample) if isinstance(sample, str) else None
    if readings is not None:
        values = {"path": path, "value": sample, "first": readings[0], "second": readings[1]}
        return RemedyFailed("fail.ambiguous_date", values)
    if isinstance(sample, str):
        try:
            parse_date(sample)
        except ValueError:
            return RemedyFailed("fail.unreadable_date", {"path": path})
    return RemedyPlan(
        ErrorClass.INVALID_DATE_FORMAT,
        ConfigPatch(ops=(AddDateNormaliser(step=case.step.name, field=path, format=fmt),)),
        rerun_delay=0.0,
        key="date",
        values={"step": case.step.name, "path": path, "fmt": fmt},
    )


# -- YELLOW (proposals) --------------------------------------------------------------------


def _missing_field(case: _Case) -> Remedy:
    name = case.diagnosis.facts.field
    if name is None:
        return RemedyFailed("fail.no_field")
    path = _field_path(case) or _new_field_path(case.step, name)
    found = for_missing_field(case.ctx, case.record.workflow.inputs, name, _suggestions(case, path))
    values: dict[str, Any] = {"name": name, "step": case.step.name, "path": path}
    if not found:  # no empty default: the proposal asks a person for the value
        fmt = expected_format(case.ctx.error_message, case.diagnosis.facts.expected_format)
        values["expect"] = f" ({fmt})" if fmt else ""
    return RemedyPlan(
        ErrorClass.MISSING_REQUIRED_FIELD,
        ConfigPatch(
            ops=(
                SetFieldDefault(
                    step=case.step.name, field=path, value=found[0].value if found else None
                ),
            )
        ),
        rerun_delay=0.0,
        key="missing_field" if found else "missing_field_ask",
        values=values,
        suggestions=[c.value for c in found],
        candidates=as_json(found),
    )


def _replace_value(case: _Case) -> Remedy:
    path = _field_path(case)
    if path is None:
        return RemedyFailed("fail.no_param")
    suggestions = [v for v in _suggestions(case, path) if v != _sample_value(case, path)]
    if not suggestions:
        return RemedyFailed("fail.no_good_value", {"path": path})
    return RemedyPlan(
        case.diagnosis.error_class,
        ConfigPatch(ops=(SetFieldValue(step=case.step.name, field=path, value=suggestions[0]),)),
        rerun_delay=0.0,
        key="replace_value",
        values={"step": case.step.name, "path": path},
        suggestions=suggestions,
    )


def _api_version(case: _Case) -> Remedy:
    version = case.diagnosis.facts.api_version
    if version is None:
        return RemedyFailed("fail.no_version")
    header = PROVIDER_VERSION_HEADERS.get(case.ctx.provider or "", DEFAULT_VERSION_HEADER)
    return RemedyPlan(
        ErrorClass.API_VERSION_MISMATCH,
        ConfigPatch(ops=(SetHeader(step=case.step.name, name=header, value=version),)),
        rerun_delay=0.0,
        key="api_version",
        values={"header": header, "version": version, "step": case.step.name},
    )


_PLANNERS: dict[ErrorClass, Callable[[_Case], Remedy]] = {
    ErrorClass.RATE_LIMIT_EXCEEDED: _rate_limit,
    ErrorClass.TIMEOUT_ERROR: _timeout,
    ErrorClass.CONNECTION_TIMEOUT: _timeout,
    ErrorClass.SERVICE_TEMPORARILY_UNAVAILABLE: _unavailable,
    ErrorClass.INVALID_DATE_FORMAT: _date_format,
    ErrorClass.MISSING_REQUIRED_FIELD: _missing_field,
    ErrorClass.INVALID_PARAMETER_FORMAT: _replace_value,
    ErrorClass.DATA_VALIDATION_ERROR: _replace_value,
    ErrorClass.API_VERSION_MISMATCH: _api_version,
}


# -- helpers ------------------------------------------------------------------------------


def _leaf_paths(value: Any, prefix: str = "", depth: int = 0) -> Iterator[str]:
    if depth > 6:
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                continue
            path = f"{prefix}.{key}" if prefix else key
            yield path
            yield from _leaf_paths(item, path, depth + 1)


def _field_path(case: _Case) -> str | None:
    """The step parameter path whose last key is the field the error names. Only keys
    that exist in the step's own parameters can be chosen: the error text picks among
    them, it cannot invent a path."""
    name = case.diagnosis.facts.field
    params = case.ctx.execution_context.get("params") or case.step.with_
    candidates = list(_leaf_paths(params))
    if name:
        last = name.split(".")[-1].split("[")[0]
        matching = [p for p in candidates if p.split(".")[-1] == last]
        if matching:
            return min(matching, key=len)
    if case.diagnosis.error_class is ErrorClass.INVALID_DATE_FORMAT:
        dated = [p for p in candidates if _looks_like_date(_sample_value(case, p))]
        if len(dated) == 1:
            return dated[0]
    return None


def _new_field_path(step: Step, name: str) -> str:
    last = name.split(".")[-1].split("[")[0]
    for container in ("json", "form", "query"):
        if isinstance(step.with_.get(container), dict):
            return f"{container}.{last}"
    return f"json.{last}" if step.action == "http_request" else last


def _sample_value(case: _Case, path: str) -> Any:
    """The value the failed call sent at `path` (rendered, redacted)."""
    params = case.ctx.execution_context.get("params")
    if isinstance(params, dict):
        return get_path(params, path, None)
    return None


def _looks_like_date(value: Any) -> bool:
    if not isinstance(value, str) or not 6 <= len(value) <= 40 or "{{" in value:
        return False
    try:
        parse_date(value)
    except ValueError:
        return False
    return True


def _expected_format(case: _Case, path: str) -> str:
    """The format the service wants: what the error says (validated), else what worked
    in earlier successful runs, else the step's configured date_format, else ISO 8601."""
    if case.diagnosis.facts.expected_format:
        return case.diagnosis.facts.expected_format
    for params in case.history(case.step.name):
        value = get_path(params, path, None)
        if isinstance(value, str):
            fmt = infer_strftime(value)
            if fmt:
                return fmt
    return case.config.date_format or ISO_DATE


def _suggestions(case: _Case, path: str) -> list[Any]:
    """Candidate values: the step's configured default, then values that worked before."""
    found: list[Any] = []
    default = case.config.defaults.get(path)
    if default is not None:
        found.append(default)
    for params in case.history(case.step.name):
        value = get_path(params, path, None)
        if isinstance(value, str | int | float | bool) and value not in found and value != MASK:
            found.append(value)
    return found[:5]
