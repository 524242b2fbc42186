"""`POST /api/v1/diagnose`: the `kyra diagnose` contract over HTTP, one error or a batch."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from kyra.api.diagnose import MAX_BATCH
from kyra.cli import app as cli
from tests.api.conftest import Tenant

RATE_LIMIT = {
    "provider": "stripe",
    "status_code": 429,
    "headers": {"Retry-After": "30"},
    "error_message": "Too many requests",
}
BAD_KEY = {"status_code": 401, "body": '{"error": "invalid_api_key"}', "error_message": "401"}


def _without_latency(output: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in output.items() if k != "latency_ms"}


def test_one_error_gives_the_same_object_as_kyra_diagnose(acme: Tenant) -> None:
    r = acme.post("/api/v1/diagnose", json=RATE_LIMIT)
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["error_class"], body["safety"]) == ("rate_limit_exceeded", "GREEN")
    assert body["facts"] == {"retry_after_seconds": 30.0}
    printed = CliRunner().invoke(cli, ["diagnose", "--lang", "en"], input=json.dumps(RATE_LIMIT))
    assert printed.exit_code == 0
    assert _without_latency(json.loads(printed.stdout)) == _without_latency(body)


def test_a_batch_answers_in_order_with_errors_in_place(acme: Tenant) -> None:
    r = acme.post("/api/v1/diagnose", json=[RATE_LIMIT, "not an object", BAD_KEY])
    assert r.status_code == 200, r.text
    first, second, third = r.json()
    assert first["error_class"] == "rate_limit_exceeded"
    assert second == {"error": "each line must be a JSON object"}
    assert (third["error_class"], third["safety"]) == ("invalid_credentials", "RED")


def test_the_explanation_follows_lang(acme: Tenant) -> None:
    english = acme.post("/api/v1/diagnose", json=RATE_LIMIT).json()["explanation"]
    spanish = acme.post("/api/v1/diagnose?lang=es", json=RATE_LIMIT).json()["explanation"]
    assert english.startswith("The service") and spanish.startswith("El servicio")


def test_bad_input_is_a_4xx_never_a_500(acme: Tenant) -> None:
    r = acme.post("/api/v1/diagnose", json={"status_code": "four hundred"})
    assert r.status_code == 422 and "status_code" in r.json()["detail"]
    r = acme.post("/api/v1/diagnose", json=[RATE_LIMIT] * (MAX_BATCH + 1))
    assert r.status_code == 413 and str(MAX_BATCH) in r.json()["detail"]
    r = acme.post(
        "/api/v1/diagnose", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 422
    r = acme.post("/api/v1/diagnose", json=42)
    assert r.status_code == 422


def test_it_needs_an_api_key(http: TestClient) -> None:
    r = http.post("/api/v1/diagnose", json=RATE_LIMIT)
    assert r.status_code == 401
