"""The trend detector on its own: pure functions over a bounded state."""

from __future__ import annotations

import random

from kyra.predict import trends
from kyra.predict.trends import Sample, TrendState, update


def _jittered(rnd: random.Random, base: float, jitter: float) -> float:
    return base * (1 + jitter * (2 * rnd.random() - 1))


def test_healthy_jitter_and_spikes_never_raise_at_risk() -> None:
    for seed in range(5):
        rnd, state = random.Random(seed), TrendState()
        for number in range(1000):
            ratio = _jittered(rnd, 0.3, 0.3) * (1.8 if number % 50 == 49 else 1.0)
            assert update(state, Sample(ratio * 2.0, 2.0)).kind is None, (seed, number)


def test_a_latency_ramp_is_at_risk_at_least_five_runs_before_it_would_time_out() -> None:
    rnd, state = random.Random(7), TrendState()
    warned = None
    for number in range(1, 200):
        ratio = _jittered(rnd, 0.2 + max(0, number - 20) * 0.03, 0.2)
        if ratio >= 1.0:
            break
        verdict = update(state, Sample(ratio, 1.0))
        if verdict.kind and warned is None:
            warned = number
            assert verdict.kind == trends.LATENCY
            assert verdict.reason_key == "latency_rising"
            assert verdict.values["runs"] >= 1
    assert warned is not None
    assert number - warned >= 5


def test_p95_over_80_percent_of_the_timeout_proposes_raising_it() -> None:
    state = TrendState()
    verdicts = [update(state, Sample(0.85, 1.0)) for _ in range(trends.MIN_SAMPLES)]
    assert verdicts[-2].kind is None  # too few samples to judge
    last = verdicts[-1]
    assert (last.kind, last.reason_key, last.propose_timeout) == ("latency", "latency_p95", True)
    assert last.values == {"p95": 0.85, "timeout": 1.0, "percent": 85}


def test_one_slow_run_is_not_a_trend() -> None:
    state = TrendState()
    for _ in range(30):
        update(state, Sample(0.2, 1.0))
    assert update(state, Sample(0.95, 1.0)).kind is None
    assert update(state, Sample(0.2, 1.0)).kind is None


def test_an_error_burst_is_at_risk_and_isolated_errors_are_not() -> None:
    state = TrendState()
    for number in range(200):  # one failure in ten: the CUSUM decays between them
        assert update(state, Sample(0.1, 1.0, failed=number % 10 == 0)).kind is None
    update(state, Sample(0.1, 1.0, failed=True))
    update(state, Sample(0.1, 1.0, attempts=3))  # retried: an error even if it succeeded
    verdict = update(state, Sample(0.1, 1.0, failed=True))
    assert (verdict.kind, verdict.reason_key) == ("error_rate", "error_rate")
    assert verdict.values["errors"] >= 3


def test_a_warning_clears_after_calm_runs_only() -> None:
    state = TrendState()
    for _ in range(trends.MIN_SAMPLES):
        update(state, Sample(0.9, 1.0))
    assert state.at_risk == "latency"
    for _ in range(trends.WINDOW + trends.CALM_RUNS):  # the high ratios leave the window
        verdict = update(state, Sample(0.1, 1.0))
    assert verdict.kind is None
    # and the clearing run says so, once
    state = TrendState()
    for _ in range(trends.MIN_SAMPLES):
        update(state, Sample(0.9, 1.0))
    seen = []
    for _ in range(trends.WINDOW + 2 * trends.CALM_RUNS):
        verdict = update(state, Sample(0.1, 1.0))
        seen.append((verdict.kind, verdict.changed))
    assert seen.count((None, True)) == 1
    assert ("latency", False) in seen  # calm runs inside the hysteresis keep the warning


def test_a_raised_timeout_rescales_the_window() -> None:
    state = TrendState()
    for _ in range(trends.MIN_SAMPLES):
        update(state, Sample(0.9, 1.0))
    assert state.at_risk == "latency"
    verdicts = [update(state, Sample(0.9, 2.0)) for _ in range(trends.CALM_RUNS)]
    assert max(state.ratios) < 0.5
    assert verdicts[-1].kind is None


def test_the_state_is_bounded_and_survives_json() -> None:
    state = TrendState()
    for number in range(500):
        update(state, Sample(0.1 + (number % 7) / 100, 1.0, failed=number % 97 == 0))
    data = state.to_json()
    assert len(data["ratios"]) == trends.WINDOW and len(data["errors"]) == trends.WINDOW
    again = TrendState.from_json(data)
    assert again.to_json() == data
    assert TrendState.from_json(None).runs == 0


def test_fit_reads_a_line_and_ignores_one_outlier() -> None:
    level, slope, rise, _ = trends.fit([0.1 * x for x in range(10)])
    assert round(level, 6) == 0.9 and round(slope, 6) == 0.1 and rise > 1000
    values = [0.2] * 9 + [0.9]
    level, slope, _, _ = trends.fit(values)
    assert slope == 0.0 and level == 0.2
