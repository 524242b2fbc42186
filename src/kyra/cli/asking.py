"""`kyra fixes show|approve` for a proposal that asks for a value only a person knows."""

from __future__ import annotations

from typing import Any

from rich.markup import escape
from rich.table import Table

from kyra.app import Kyra
from kyra.cli.common import console, fail, lang, t
from kyra.healing.asking import Ask, ask_of
from kyra.healing.candidates import required_message
from kyra.healing.lifecycle import FixStatus
from kyra.store import healing as heal_store
from kyra.store.healing import FixInfo


def print_ask(fix: FixInfo, ask: Ask) -> None:
    """The candidates Kyra found and the command that approves with a value."""
    if fix.status != FixStatus.PROPOSED:
        return
    if ask.candidates:
        table = Table(t("ask.value"), t("ask.source"), title=t("ask.candidates"))
        for c in ask.candidates:
            table.add_row(escape(str(c.get("value"))), escape(str(c.get("source"))))
        console.print(table)
    key = "ask.needed" if ask.value_needed else "ask.optional"
    console.print(t(key, fix=fix.id[:8], field=ask.value_needed or ""), markup=False)


def refuse_without_value(kyra: Kyra, fix_id: str, value: Any) -> None:
    """Exit 2 with one line (in the CLI's language, with the candidates) when a proposal
    still needs a value and none was given; the healer refuses the same for the API."""
    fix = heal_store.get_fix(kyra.store, fix_id, tenant_id=kyra.tenant.id)
    ask = ask_of(kyra.store, fix)
    empty = value is None or (isinstance(value, str) and not value.strip())
    if ask.value_needed is not None and empty:
        fail(escape(required_message(fix.id, ask.value_needed, ask.candidates, lang())))
