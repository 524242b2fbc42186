"""Cross-workflow learning against the fault server: how a remedy fared on one host in
the tenant's other workflows moves the next fix's confidence, bounded, and is shown
with the diagnosis; a poor record makes a GREEN fix wait for a person, never the
reverse for a YELLOW one."""

from __future__ import annotations

from urllib.parse import urlsplit

from kyra.demo import FaultServer
from kyra.healing.learning import MAX_SHIFT
from kyra.healing.reasons import diagnosis_text
from kyra.healing.settings import HealingSettings
from kyra.store.healing import FixInfo
from tests.healing_loop.conftest import Loop, http


def _dates(loop: Loop, name: str, fault_server: FaultServer) -> FixInfo:
    loop.apply(
        {
            "name": name,
            "inputs": {"due": "26/11/2026"},
            "steps": [
                http(
                    "create",
                    f"{fault_server.url}/dates?format=%Y-%m-%d&field=due",
                    method="POST",
                    json={"due": "{{ inputs.due }}"},
                )
            ],
        }
    )
    loop.run(name)
    [fix] = loop.fixes(name)
    return fix


def test_a_track_record_moves_confidence_within_bounds(
    loop: Loop, fault_server: FaultServer
) -> None:
    loop.healer.settings = HealingSettings(confidence_threshold=90)
    host = urlsplit(fault_server.url).netloc
    first = _dates(loop, "a", fault_server)
    assert (first.status, first.outcome) == ("applied", "succeeded")
    learned = first.diagnosis["learning"]
    assert (learned["host"], learned["remedy"], learned["total"]) == (host, "date", 0)
    base = learned["base_confidence"]
    assert first.confidence == base  # no record yet: nothing moves
    for name in ("b", "c"):
        assert _dates(loop, name, fault_server).outcome == "succeeded"

    fourth = _dates(loop, "d", fault_server)
    learned = fourth.diagnosis["learning"]
    assert (learned["worked"], learned["total"]) == (3, 3)
    assert base < fourth.confidence <= min(99, base + MAX_SHIFT)
    assert f"This remedy worked 3 of 3 times on {host}." in diagnosis_text(fourth.diagnosis, "en")
    assert f"funcionó 3 de 3 veces en {host}" in diagnosis_text(fourth.diagnosis, "es")
    assert fourth.safety == "GREEN" and fourth.patch == first.patch  # the fix is not widened

    for fix in (first, *(loop.fixes(n)[0] for n in ("b", "c", "d"))):
        loop.healer.rollback(fix.id, actor="ana", tenant_id=fix.tenant_id)
    fifth = _dates(loop, "e", fault_server)
    learned = fifth.diagnosis["learning"]
    assert (learned["worked"], learned["total"]) == (0, 4)
    assert fifth.confidence == max(0, base - 7) and fifth.confidence >= base - MAX_SHIFT
    # Below the tenant's threshold now: the GREEN fix waits for a person.
    assert fifth.safety == "GREEN" and fifth.status == "proposed"
    assert "lowered" in diagnosis_text(fifth.diagnosis, "en")
