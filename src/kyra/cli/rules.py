"""`kyra rules apply|list|test`: a tenant's custom healing rules (enterprise tier).

`test` answers "what would Kyra do with this error?": which rule matched, the diagnosis,
the typed patch the remedy would write (against a default one-step workflow) and the
bounds in force. Exit codes: 0 ok, 2 bad input, invalid rules or a tier without rules.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import typer
from rich.table import Table
from rich.text import Text

from kyra.cli.common import EXIT_USAGE, console, fail, kyra_app, lang, print_json
from kyra.engine.error_context import ErrorContext
from kyra.healing.diagnosis.batch import parse_line
from kyra.healing.diagnosis.engine import Diagnoser, default_diagnoser
from kyra.healing.lifecycle import AuditKind
from kyra.healing.remedies import RemedyPlan, plan_remedy
from kyra.healing.rules import RuleSet, disposition, global_bounds, rules_for_tenant
from kyra.healing.rules_loader import load_rules_file
from kyra.healing.settings import HealingSettings
from kyra.healing.taxonomy import Safety
from kyra.i18n import Catalog, Lang, translate
from kyra.store import healing as heal_store
from kyra.store import rules as rules_store
from kyra.store.workflows import WorkflowRecord
from kyra.workflows.model import STEP_NAME_PATTERN, Step, Workflow

app = typer.Typer(
    help="Custom healing rules (enterprise). / Reglas de reparación propias (enterprise).",
    no_args_is_help=True,
)

TEXT: Catalog = {
    "tier": {
        "en": "custom rules are an enterprise feature; tenant '{tenant}' is on the {tier} tier",
        "es": "las reglas personalizadas son del plan enterprise; el tenant '{tenant}' está "
        "en el plan {tier}",
    },
    "inactive": {
        "en": "Note: custom rules are not active on the {tier} tier; this is a preview.",
        "es": "Nota: las reglas personalizadas no están activas en el plan {tier}; esto es "
        "una vista previa.",
    },
    "applied": {
        "en": "Rules v{version} applied: {count} rule(s) from {source}.",
        "es": "Reglas v{version} aplicadas: {count} regla(s) de {source}.",
    },
    "unchanged": {
        "en": "Rules unchanged (still v{version}).",
        "es": "Reglas sin cambios (siguen en v{version}).",
    },
    "none": {
        "en": "No custom rules yet. Add them with: kyra rules apply FILE",
        "es": "Aún no hay reglas propias. Añádelas con: kyra rules apply ARCHIVO",
    },
    "header": {
        "en": "Rules v{version}, applied by {author} on {when} from {source}",
        "es": "Reglas v{version}, aplicadas por {author} el {when} desde {source}",
    },
    "bad_input": {
        "en": "the error must be one JSON object (fields as for kyra diagnose): {reason}",
        "es": "el error debe ser un objeto JSON (campos como en kyra diagnose): {reason}",
    },
    "col.name": {"en": "Rule", "es": "Regla"},
    "col.priority": {"en": "Priority", "es": "Prioridad"},
    "col.match": {"en": "Match", "es": "Condiciones"},
    "col.remedy": {"en": "Remedy", "es": "Remedio"},
    "col.safety": {"en": "Safety", "es": "Seguridad"},
    "t.rule": {"en": "Rule", "es": "Regla"},
    "t.no_rule": {"en": "(no rule matched)", "es": "(ninguna regla coincide)"},
    "t.diagnosis": {"en": "Diagnosis", "es": "Diagnóstico"},
    "t.final": {"en": "Decision", "es": "Decisión"},
    "t.remedy": {"en": "Remedy", "es": "Remedio"},
    "t.ops": {"en": "Patch", "es": "Parche"},
    "t.bounds": {"en": "Bounds", "es": "Límites"},
    "t.none": {"en": "none: a person must act", "es": "ninguno: debe actuar una persona"},
    "action.auto": {"en": "applied automatically", "es": "se aplica automáticamente"},
    "action.propose": {"en": "proposed to a person", "es": "se propone a una persona"},
    "action.never": {"en": "no change (diagnose only)", "es": "sin cambios (solo diagnóstico)"},
}


def _t(key: str, **values: object) -> str:
    return translate(TEXT, key, lang(), **values)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="rules")


def simulate(
    ctx: ErrorContext,
    rules: RuleSet,
    settings: HealingSettings,
    diagnoser: Diagnoser,
    language: Lang = "en",
) -> dict[str, Any]:
    """What the healer would do with `ctx`: the same steps as `Healer._heal` (diagnose,
    rules, RED stop, plan, clamp), against a default one-step workflow."""
    step = ctx.step_name if ctx.step_name and STEP_NAME_PATTERN.match(ctx.step_name) else "step"
    ctx = ctx.model_copy(update={"step_name": step})
    diagnosis = diagnoser.diagnose(ctx, lang=language)
    decision = rules.decide(ctx, diagnosis, settings, language)
    final = decision.diagnosis if decision else diagnosis
    effective = decision.settings if decision else settings
    remedy: dict[str, Any] | None = None
    if final.safety is not Safety.RED:
        planned = plan_remedy(final, ctx, _one_step(ctx, step), effective, lambda _name: [])
        if decision is not None:
            planned = decision.constrain(planned)
        if isinstance(planned, RemedyPlan):
            remedy = {
                "summary": planned.summary(language),
                "ops": [op.model_dump(mode="json", exclude_none=True) for op in planned.patch.ops],
                "rerun_delay": planned.rerun_delay,
            }
        else:
            remedy = {"failed": planned.reason(language)}
    return {
        "rule": decision.rule_name if decision else None,
        "matched": list(decision.matched) if decision else [],
        "diagnosis": {
            "error_class": diagnosis.error_class.value,
            "safety": diagnosis.safety.value,
            "confidence": diagnosis.confidence,
            "tier": diagnosis.tier.value,
        },
        "final": {
            "error_class": final.error_class.value,
            "safety": final.safety.value,
            "action": disposition(final, settings),
            "explanation": final.explanation,
        },
        "remedy": remedy,
        "bounds": (decision.bounds if decision else global_bounds(settings)).as_dict(),
    }


def _one_step(ctx: ErrorContext, step: str) -> WorkflowRecord:
    workflow = Workflow.model_validate(
        {
            "name": ctx.workflow_name or "rules-test",
            "steps": [
                Step.model_validate(
                    {
                        "name": step,
                        "action": ctx.step_action or "http_request",
                        "with": {"url": "https://example.invalid/"},
                    }
                )
            ],
        }
    )
    now = datetime.now(UTC)
    return WorkflowRecord("-", "-", workflow.name, workflow, "failed", "", 1, now, now)


def read_error(text: str) -> ErrorContext:
    """One error as JSON: the `kyra diagnose` fields plus `step_name`/`workflow_name`
    (so step and workflow conditions can be tested)."""
    ctx = parse_line(text.strip())
    raw = json.loads(text)
    where = {k: raw[k] for k in ("step_name", "workflow_name") if isinstance(raw.get(k), str)}
    return ctx.model_copy(update=where) if where else ctx


@app.command("apply")
def apply(
    file: Path = typer.Argument(..., help="Rules YAML or JSON file."),
    author: str = typer.Option("user", "--author", help="Who applies them (audit)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Validate a rules file and make it the tenant's rules in force (version N+1)."""
    with kyra_app() as kyra:
        settings = kyra.settings.healing
        tenant = kyra.tenant
        if not settings.tier(tenant.tier).custom_rules:
            fail(_t("tier", tenant=tenant.name, tier=tenant.tier), EXIT_USAGE)
        document, text = load_rules_file(file, settings)
        version, created = rules_store.save_rules(
            kyra.store,
            tenant.id,
            text=text,
            document=document.to_json(),
            author=author,
            source=str(file),
        )
        if created:
            heal_store.add_audit(
                kyra.store,
                kind=AuditKind.RULES_APPLIED,
                actor=author,
                tenant_id=tenant.id,
                summary=f"rules v{version.version}: {version.rule_count} rule(s) from {file}",
                details={"version": version.version, "digest": version.digest},
            )
    if as_json:
        print_json({**_version_json(version), "created": created})
        return
    if created:
        console.print(_t("applied", version=version.version, count=version.rule_count, source=file))
    else:
        console.print(_t("unchanged", version=version.version))


@app.command("list")
def list_(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Show the rules in force, in the order they are tried."""
    with kyra_app() as kyra:
        settings = kyra.settings.healing
        tenant = kyra.tenant
        current = rules_store.current_rules(kyra.store, tenant.id)
    active = settings.tier(tenant.tier).custom_rules
    if as_json:
        print_json({**(_version_json(current) if current else {"version": 0}), "active": active})
        return
    if not active:
        console.print(_t("inactive", tier=tenant.tier))
    if current is None:
        console.print(_t("none"))
        return
    when = current.created_at.strftime("%Y-%m-%d %H:%M")
    console.print(
        _t(
            "header",
            version=current.version,
            author=current.author,
            when=when,
            source=current.source,
        ),
        markup=False,
    )
    table = Table(
        _t("col.name"), _t("col.priority"), _t("col.match"), _t("col.remedy"), _t("col.safety")
    )
    for rule in _ordered(current.document):
        match = ", ".join(f"{k}={_short(v)}" for k, v in rule["match"].items())
        remedy = ", ".join(f"{k}={v}" for k, v in rule["remedy"].items())
        cells = (
            rule["name"],
            str(rule.get("priority", 0)),
            match,
            remedy,
            rule.get("safety", "auto"),
        )
        table.add_row(*(Text(cell) for cell in cells))
    console.print(table)


@app.command("test")
def test_error(
    input_file: Path | None = typer.Option(
        None, "--input", "-i", help="The error as JSON (default: stdin)."
    ),
    rules_file: Path | None = typer.Option(
        None, "--rules", help="Test a rules file instead of the rules in force."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Show which rule and remedy an error would get."""
    try:
        text = input_file.read_text(encoding="utf-8") if input_file else sys.stdin.read()
        ctx = read_error(text)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        fail(_t("bad_input", reason=exc), EXIT_USAGE)
    with kyra_app() as kyra:
        settings = kyra.settings.healing
        tenant = kyra.tenant
        active = settings.tier(tenant.tier).custom_rules
        if rules_file is not None:
            document, _ = load_rules_file(rules_file, settings)
            rules = RuleSet(tuple(document.rules))
        else:
            preview = settings.model_copy(update={"tiers": _all_with_rules(settings)})
            rules = rules_for_tenant(kyra.store, tenant, preview)
    result = {**simulate(ctx, rules, settings, default_diagnoser(), lang()), "active": active}
    if as_json:
        print_json(result)
        return
    if not active:
        console.print(_t("inactive", tier=tenant.tier))
    _render(result)


def _render(result: dict[str, Any]) -> None:
    rows: list[tuple[str, str]] = []
    rule = result["rule"] or _t("t.no_rule")
    if result["matched"]:
        rule += f"  ({', '.join(result['matched'])})"
    rows.append((_t("t.rule"), rule))
    d, f = result["diagnosis"], result["final"]
    rows.append(
        (_t("t.diagnosis"), f"{d['error_class']} ({d['safety']}, {d['confidence']}%, {d['tier']})")
    )
    rows.append(
        (_t("t.final"), f"{f['error_class']} ({f['safety']}): {_t('action.' + f['action'])}")
    )
    remedy = result["remedy"]
    if remedy is None:
        rows.append((_t("t.remedy"), _t("t.none")))
    elif "failed" in remedy:
        rows.append((_t("t.remedy"), remedy["failed"]))
    else:
        rows.append((_t("t.remedy"), remedy["summary"]))
        rows.append((_t("t.ops"), "\n".join(json.dumps(op) for op in remedy["ops"])))
    rows.append((_t("t.bounds"), ", ".join(f"{k}={v:g}" for k, v in result["bounds"].items())))
    table = Table(show_header=False)
    for label, value in rows:
        table.add_row(Text(label), Text(value))
    console.print(table)


def _version_json(version: rules_store.RulesVersion) -> dict[str, Any]:
    return {
        "version": version.version,
        "author": version.author,
        "source": version.source,
        "digest": version.digest,
        "created_at": version.created_at.isoformat(),
        "rules": version.document.get("rules", []),
    }


def _ordered(document: dict[str, Any]) -> list[dict[str, Any]]:
    rules = list(enumerate(document.get("rules") or []))
    return [rule for _, rule in sorted(rules, key=lambda p: (-p[1].get("priority", 0), p[0]))]


def _short(value: Any) -> str:
    text = "|".join(map(str, value)) if isinstance(value, list) else str(value)
    return text if len(text) <= 40 else text[:39] + "…"


def _all_with_rules(settings: HealingSettings) -> dict[str, Any]:
    """The tiers with custom rules switched on: `test` previews stored rules on any tier."""
    return {
        name: limits.model_copy(update={"custom_rules": True})
        for name, limits in settings.tiers.items()
    }
