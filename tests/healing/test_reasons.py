"""Diagnosis text as language-neutral reasons: one diagnosis reads in either language,
whatever language it was made in; the LLM path never blames a threshold it met."""

from __future__ import annotations

import json

from kyra.engine.error_context import ErrorContext
from kyra.healing.diagnosis import Diagnoser, Diagnosis, Tier
from kyra.healing.reasons import NAMESPACES, Reason, diagnosis_text, localise, render
from kyra.healing.reasons import _catalog as catalog_of
from kyra.healing.taxonomy import AUTO_FIX_MIN_CONFIDENCE, ErrorClass
from kyra.i18n import missing_translations
from tests.healing.llm_server import FakeLLM
from tests.healing.test_llm import UNRECOGNISABLE, VALID, settings


def test_an_llm_answer_at_90_percent_is_advice_not_below_the_threshold(
    diagnoser: Diagnoser, fake_llm: FakeLLM
) -> None:
    fake_llm.content = json.dumps({**VALID, "confidence": 95})
    result = diagnoser.diagnose(UNRECOGNISABLE, llm=settings(fake_llm))
    assert result.tier is Tier.LLM and result.confidence == 90
    assert result.confidence >= AUTO_FIX_MIN_CONFIDENCE and not result.auto_reparable
    keys = [r.key for r in result.reasons]
    assert "fact.not_auto_llm" in keys and "fact.not_auto" not in keys
    assert "below the auto-fix threshold" not in result.explanation
    assert "advice" in result.explanation
    spanish = diagnosis_text(result.to_output(), "es")
    assert "consejo" in spanish and "umbral" not in spanish


def test_low_confidence_names_the_confidence_and_the_threshold() -> None:
    text = render([Reason.of("fact.not_auto", confidence=64, threshold=80)], "en")
    assert "64%" in text and "80%" in text


def test_an_english_diagnosis_reads_in_spanish(diagnoser: Diagnoser) -> None:
    ctx = ErrorContext(status_code=429, headers={"Retry-After": "30"}, error_message="slow down")
    made_in_english = diagnoser.diagnose(ctx, lang="en")
    assert made_in_english.error_class is ErrorClass.RATE_LIMIT_EXCEEDED
    stored = json.loads(json.dumps(made_in_english.to_output()))
    spanish = diagnosis_text(stored, "es")
    assert spanish == diagnoser.diagnose(ctx, lang="es").explanation
    assert "limitando la frecuencia" in spanish and "30 s" in spanish
    assert "rate limiting" not in spanish
    assert diagnosis_text(stored, "en") == made_in_english.explanation
    # A row written before reasons existed keeps its stored text.
    assert diagnosis_text({"explanation": "old text"}, "es") == "old text"


def test_stored_reasons_round_trip_through_the_model(diagnoser: Diagnoser) -> None:
    ctx = ErrorContext(status_code=503, error_message="upstream down")
    result = diagnoser.diagnose(ctx)
    again = Diagnosis.model_validate(
        {**result.model_dump(mode="json"), "reasons": result.to_output()["reasons"]}
    )
    assert again.reasons == result.reasons


def test_event_values_render_in_each_language() -> None:
    values = {
        "explanation": "The service is rate limiting this workflow (too many requests).",
        "l10n": {"explanation": [{"key": "class.rate_limit_exceeded", "values": {}}]},
    }
    assert localise(values, "es")["explanation"].startswith("El servicio está limitando")
    assert "l10n" not in localise(values, "en")


def test_every_reason_catalog_is_complete() -> None:
    for namespace in NAMESPACES:
        catalog = catalog_of(namespace)
        assert catalog, namespace
        assert missing_translations(catalog) == [], namespace
