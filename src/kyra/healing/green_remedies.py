"""GREEN remedies, applied by the healer on its own when confident: pacing for a rate
limit, a longer timeout and retries, a retry plan for an unavailable service, a date
normaliser for a rejected date format."""

from __future__ import annotations

from typing import Any

from kyra.healing.patches import (
    AddDateNormaliser,
    ConfigPatch,
    SetRequestDelay,
    SetRetry,
    SetTimeout,
)
from kyra.healing.remedy_fields import date_format_for, field_path, sample_value
from kyra.healing.remedy_plan import Case, Remedy, RemedyFailed, RemedyPlan
from kyra.healing.taxonomy import ErrorClass
from kyra.workflows.dates import ambiguous_readings, parse_date
from kyra.workflows.model import Backoff

RECOVERED_RERUN_DELAY = 2.0
"""Seconds before re-running a 503 the upstream has since recovered from."""


def rate_limit(case: Case) -> Remedy:
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


def timeout(case: Case) -> Remedy:
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


def unavailable(case: Case) -> Remedy:
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


def date_format(case: Case) -> Remedy:
    path = field_path(case)
    if path is None:
        return RemedyFailed("fail.no_date_field")
    fmt = date_format_for(case, path)
    sample = sample_value(case, path)
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
