"""The app is the composition root: one healer and one notifier per app, which the
runtime's healing handler, the API and the CLI all use."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from kyra.api.runs import healer_for
from kyra.app import Kyra
from kyra.cli.timeline import Timeline, cli_healer
from kyra.healing.healer import Healer
from kyra.notify import Notifier
from kyra.predict.alerts import Announcer
from tests.healing_loop.conftest import make_app


def test_threads_asking_at_once_get_one_healer_holding_the_one_notifier(kyra: Kyra) -> None:
    with ThreadPoolExecutor(8) as pool:
        healers = list(pool.map(lambda _: kyra.healer, range(16)))
    assert len({id(h) for h in healers}) == 1
    healer = healers[0]
    assert isinstance(healer, Healer) and isinstance(kyra.notifier, Notifier)
    assert [type(x) for x in healer.listeners] == [Notifier]
    assert healer.listeners[0] is kyra.notifier
    assert healer.ledger.listeners is healer.listeners  # a listener added later is heard


def test_the_api_the_cli_and_alerts_use_the_apps_parts(kyra: Kyra) -> None:
    assert healer_for(kyra) is kyra.healer
    assert Announcer(kyra).notifier is kyra.notifier
    healer = cli_healer(kyra)
    assert healer is kyra.healer
    assert [type(x) for x in healer.listeners] == [Timeline, Notifier]  # printed first


def test_each_app_has_its_own(kyra: Kyra, tmp_path_factory: pytest.TempPathFactory) -> None:
    other = make_app(tmp_path_factory.mktemp("other"))
    try:
        assert other.healer is not kyra.healer
        assert other.healer.store is other.store
        assert other.notifier is not kyra.notifier
    finally:
        other.close()
