"""The diagnosis engine: signatures and provider codes, then the local model, then
(optionally) the LLM.

`Diagnoser` loads the signatures once and the compiled code tables and model (the shipped
`data/diagnosis_model.json.gz`, see `build.py`) at first need; call
`Diagnoser().diagnose(ctx)` or the module-level `diagnose(ctx)`. The class an answer
names is the only thing a tier decides: safety, classification, auto-repair and the
allowed fix steps come from `kyra.healing.taxonomy`, so no tier (least of all the LLM)
can make a dangerous error look safe.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from functools import cache

from kyra.engine.error_context import ErrorContext
from kyra.healing.diagnosis import artifact
from kyra.healing.diagnosis.advice import default_steps, not_auto
from kyra.healing.diagnosis.arbiter import overrules, red_lean
from kyra.healing.diagnosis.chains import attach_root_cause
from kyra.healing.diagnosis.code_match import code_match
from kyra.healing.diagnosis.codes import CodeTables
from kyra.healing.diagnosis.facts import extract
from kyra.healing.diagnosis.llm import ask_llm, build_prompt
from kyra.healing.diagnosis.model import LocalModel, ModelAnswer, decide
from kyra.healing.diagnosis.observe import Observed, observe
from kyra.healing.diagnosis.safety import demoted_green, raised_yellow
from kyra.healing.diagnosis.signatures import Match, SignatureSet
from kyra.healing.diagnosis.structure import choose, network_errno, quota_match, red_from_body
from kyra.healing.diagnosis.texts import explain_reasons
from kyra.healing.diagnosis.types import Diagnosis, Evidence, Tier
from kyra.healing.diagnosis.vocab import errno_match, type_token_match
from kyra.healing.reasons import Reason, render
from kyra.healing.settings import LLMSettings
from kyra.healing.taxonomy import (
    AUTO_FIX_MIN_CONFIDENCE,
    ErrorClass,
    FixStep,
    Safety,
    allowed_steps,
    info,
)
from kyra.i18n import Lang

RULE_TRUST = 70
"""A signature at or above this confidence answers alone."""
LLM_THRESHOLD = 70
"""Below this confidence (or for `unknown`) the LLM is consulted, when configured."""
LLM_MAX_CONFIDENCE = 90
MODEL_MAX_CONFIDENCE = 92


@dataclass
class _Verdict:
    """A tier's answer before it is dressed as a `Diagnosis`."""

    error_class: ErrorClass
    confidence: int
    tier: Tier
    evidence: Evidence = field(default_factory=Evidence)
    signature: str | None = None
    code: str | None = None
    probability: float | None = None
    steps: list[FixStep] | None = None


class Diagnoser:
    """Holds the signatures, the provider code tables and the local model (both loaded
    from the shipped artifact at first need, unless given)."""

    def __init__(
        self,
        *,
        signatures: SignatureSet | None = None,
        model: LocalModel | None = None,
        codes: CodeTables | None = None,
        use_model: bool = True,
        llm: LLMSettings | None = None,
    ) -> None:
        self.signatures = signatures or SignatureSet()
        self._model = model
        self._codes = codes
        self._loading = threading.Lock()
        self.use_model = use_model
        self.llm = llm

    def _load(self) -> None:
        """Read the artifact once, even when many worker threads fail at the same moment."""
        with self._loading:
            if self._model is not None and self._codes is not None:
                return
            data = artifact.load()
            if self._codes is None:
                self._codes = CodeTables.from_json(data["codes"])
            if self._model is None:
                self._model = LocalModel(data["model"])

    @property
    def model(self) -> LocalModel:
        """The local model (shipped parameters, loaded on first use)."""
        if self._model is None:
            self._load()
        assert self._model is not None
        return self._model

    @property
    def codes(self) -> CodeTables:
        """The provider code tables (shipped, loaded on first use)."""
        if self._codes is None:
            self._load()
        assert self._codes is not None
        return self._codes

    def diagnose(
        self,
        ctx: ErrorContext,
        *,
        lang: Lang = "en",
        llm: LLMSettings | None = None,
        budget: float | None = None,
        secrets: tuple[str, ...] = (),
        explain_model: bool = False,
    ) -> Diagnosis:
        """Diagnose one failed step.

        Parameters:
            ctx: the failed step's context (already redacted by the engine).
            lang: language of the explanation (`en` or `es`).
            llm: LLM settings for this call; defaults to the diagnoser's, None disables.
            budget: USD the tenant may still spend; the LLM is skipped when its worst-case
                cost exceeds it (or `max_cost_per_diagnosis`).
            secrets: known secret values, redacted from anything sent to the LLM.
        """
        _ = self.codes  # load before the clock starts: latency is per diagnosis
        if self.use_model:
            _ = self.model
        started = time.perf_counter()
        obs = observe(ctx)
        verdict = self._local(obs, explain_model)
        settings = llm if llm is not None else self.llm
        tokens = (0, 0)
        cost = 0.0
        extra: Reason | None = None
        if settings is not None and (
            verdict.error_class is ErrorClass.UNKNOWN or verdict.confidence < LLM_THRESHOLD
        ):
            verdict, tokens, cost, extra = self._ask_llm(
                ctx, obs, verdict, settings, lang, budget, secrets
            )
        diagnosis = self._dress(ctx, obs, verdict, lang, tokens, cost, extra, started)
        return attach_root_cause(diagnosis, ctx, lang)  # an earlier step's output to blame

    # -- tiers -------------------------------------------------------------------------

    def matches(self, obs: Observed) -> list[Match]:
        """Signature matches and known provider codes, best first (score, danger, order)."""
        found = self.signatures.matches(obs)
        hits = [code_match(hit) for hit in self.codes.lookup(obs)]
        extras = (quota_match(obs), type_token_match(obs), errno_match(obs, network_errno(obs)))
        for extra in extras:
            if extra is not None:
                hits.append(extra)
        if not hits:
            return found
        ordered = sorted(
            enumerate([*hits, *found]), key=lambda item: (-item[1].score, -item[1].danger, item[0])
        )
        return [match for _, match in ordered]

    def _local(self, obs: Observed, explain_model: bool) -> _Verdict:
        """The tiers' answer, then the safety side's last word on it (`safety.py`)."""
        verdict, answer = self._tiers(obs, explain_model)
        was = verdict.error_class.value
        red = demoted_green(verdict.error_class, obs, answer)
        if red is not None:
            verdict.evidence.notes.append(f"{was} set aside: the error says it is out of service")
            return _Verdict(
                red, 60, verdict.tier, verdict.evidence, probability=verdict.probability
            )
        matched = verdict.evidence.matched
        red = raised_yellow(
            verdict.error_class, verdict.confidence, verdict.signature, matched, answer
        )
        if red is None or answer is None:
            return verdict
        verdict.evidence.notes.append(f"{was} is a soft guess; the safety head leans RED: {red}")
        return _Verdict(red, 50, Tier.MODEL, verdict.evidence, probability=answer.red_probability)

    def _tiers(self, obs: Observed, explain_model: bool) -> tuple[_Verdict, ModelAnswer | None]:
        matches = self.matches(obs)
        best, notes = choose(matches, obs)
        vetoed = any(m.signature.veto_green for m in matches) or red_from_body(matches) is not None
        rule = self._rule_verdict(best, matches, notes) if best else None
        if rule is not None and rule.confidence >= RULE_TRUST:
            if not self.use_model:
                return rule, None
            answer = self.model.predict(obs, explain=explain_model)
            rule.evidence.model_scores = answer.scores
            if overrules(rule.error_class, rule.signature, rule.evidence.matched, answer):
                confidence = min(MODEL_MAX_CONFIDENCE, round(answer.probability * 100))
                evidence = self._model_evidence(answer, rule)
                evidence.notes.append(f"the model overrules {rule.signature}")
                overruled = _Verdict(
                    answer.error_class,
                    confidence,
                    Tier.MODEL,
                    evidence,
                    probability=answer.probability,
                )
                return overruled, answer
            return rule, answer
        if not self.use_model:
            return rule or _Verdict(ErrorClass.UNKNOWN, 0, Tier.RULES), None
        answer = self.model.predict(obs, explain=explain_model)
        chosen = decide(answer, obs, green_allowed=not vetoed)
        confidence = min(MODEL_MAX_CONFIDENCE, round(answer.probability * 100))
        if chosen is not ErrorClass.UNKNOWN and (rule is None or confidence > rule.confidence):
            evidence = self._model_evidence(answer, rule)
            return _Verdict(
                chosen, confidence, Tier.MODEL, evidence, probability=answer.probability
            ), answer
        if rule is not None:
            rule.evidence.model_scores = answer.scores
            rule.evidence.model_features = answer.features
            leaning = red_lean(rule.error_class, rule.signature, answer.scores)
            if leaning is not None:
                evidence = self._model_evidence(answer, rule)
                evidence.notes.append(f"{rule.signature} is a guess the model doubts: RED")
                leaned = _Verdict(leaning, 50, Tier.MODEL, evidence, probability=answer.probability)
                return leaned, answer
            return rule, answer
        confidence = confidence if answer.error_class is ErrorClass.UNKNOWN else 0
        evidence = self._model_evidence(answer, None)
        evidence.notes.append("below the model's confidence threshold: unknown")
        unsure = _Verdict(
            ErrorClass.UNKNOWN, confidence, Tier.MODEL, evidence, probability=answer.probability
        )
        return unsure, answer

    @staticmethod
    def _rule_verdict(best: Match, matches: list[Match], notes: list[str]) -> _Verdict:
        cls = best.signature.error_class
        others = [m for m in matches if m is not best]
        agreeing = sum(1 for m in others if m.signature.error_class is cls)
        confidence = min(99, best.signature.confidence + (2 if agreeing else 0))
        code = next((c.split("=", 1)[1] for c in best.matched if c.startswith("code=")), None)
        evidence = Evidence(
            signature=best.signature.id,
            matched=list(best.matched),
            other_matches=[f"{m.signature.id} ({m.score})" for m in others[:5]],
            notes=list(notes),
        )
        return _Verdict(
            cls, confidence, Tier.RULES, evidence, signature=best.signature.id, code=code
        )

    @staticmethod
    def _model_evidence(answer: ModelAnswer, rule: _Verdict | None) -> Evidence:
        evidence = Evidence(model_scores=answer.scores, model_features=answer.features)
        if rule is not None:
            evidence.other_matches = [f"{rule.signature} ({rule.confidence})"]
        return evidence

    def _ask_llm(
        self,
        ctx: ErrorContext,
        obs: Observed,
        prior: _Verdict,
        settings: LLMSettings,
        lang: Lang,
        budget: float | None,
        secrets: tuple[str, ...],
    ) -> tuple[_Verdict, tuple[int, int], float, Reason | None]:
        _, user = build_prompt(ctx, lang, secrets)
        worst = settings.worst_case_cost(len(user))
        limit = (
            settings.max_cost_per_diagnosis
            if budget is None
            else min(budget, settings.max_cost_per_diagnosis)
        )
        if worst > limit:
            prior.evidence.notes.append(f"LLM skipped: worst-case cost ${worst:.4f} > ${limit:.4f}")
            return prior, (0, 0), 0.0, None
        result = ask_llm(ctx, settings, lang, secrets)
        usage = (result.tokens_in, result.tokens_out)
        evidence = Evidence(
            notes=[
                f"before the LLM: {prior.error_class.value} "
                f"({prior.tier.value}, {prior.confidence})"
            ]
        )
        if result.answer is None:
            reason = result.reason or "no answer"
            evidence.notes.append(f"LLM answer rejected: {reason}")
            extra = Reason.of("fact.llm_failed", reason=reason)
            return _Verdict(ErrorClass.UNKNOWN, 0, Tier.LLM, evidence), usage, result.cost, extra
        answer = result.answer
        cls = answer.error_class
        matches = self.matches(obs)
        vetoed = any(m.signature.veto_green for m in matches) or red_from_body(matches) is not None
        if vetoed and info(cls).safety is Safety.GREEN:
            evidence.notes.append(f"LLM said {cls.value}, but the error's evidence forbids GREEN")
            cls = (
                prior.error_class
                if prior.error_class is not ErrorClass.UNKNOWN
                else (ErrorClass.UNKNOWN)
            )
        confidence = min(LLM_MAX_CONFIDENCE, round(answer.confidence))
        verdict = _Verdict(cls, confidence, Tier.LLM, evidence, steps=list(answer.fix_steps))
        return verdict, usage, result.cost, None

    # -- answer ------------------------------------------------------------------------

    def _dress(
        self,
        ctx: ErrorContext,
        obs: Observed,
        verdict: _Verdict,
        lang: Lang,
        tokens: tuple[int, int],
        cost: float,
        extra: Reason | None,
        started: float,
    ) -> Diagnosis:
        row = info(verdict.error_class)
        facts = extract(ctx, obs, verdict.error_class, verdict.code)
        # The LLM read attacker-reachable text: its answer is advice, never an auto-fix.
        auto = (
            row.auto_reparable
            and verdict.confidence >= AUTO_FIX_MIN_CONFIDENCE
            and verdict.tier is not Tier.LLM
        )
        safety = row.safety
        if facts.date_candidates:
            # `03/12/2026` is 3 December or 12 March: a person picks, nothing is auto-fixed
            safety, auto = Safety.YELLOW, False
            verdict.evidence.notes.append(
                "ambiguous date: " + " or ".join(facts.date_candidates) + "; not GREEN"
            )
        elif facts.relative_date:
            safety, auto = Safety.YELLOW, False
            verdict.evidence.notes.append("the rejected value is a relative date; not GREEN")
        steps = allowed_steps(
            verdict.error_class, verdict.steps or default_steps(verdict.error_class, facts)
        )
        reasons = explain_reasons(
            verdict.error_class,
            facts,
            tier=verdict.tier,
            signature=verdict.signature,
            probability=verdict.probability,
            not_auto=None
            if auto
            else not_auto(row.auto_reparable, verdict.tier, verdict.confidence, facts),
            extra=extra,
        )
        return Diagnosis(
            error_class=verdict.error_class,
            safety=safety,
            classification=row.classification,
            severity=row.severity,
            auto_reparable=auto,
            confidence=max(0, min(100, verdict.confidence)),
            fix_steps=steps,
            estimated_cost=round(cost, 6),
            explanation=render(reasons, lang),
            reasons=reasons,
            tier=verdict.tier,
            tokens_in=tokens[0],
            tokens_out=tokens[1],
            latency_ms=(time.perf_counter() - started) * 1000,
            facts=facts,
            evidence=verdict.evidence,
        )


@cache
def default_diagnoser() -> Diagnoser:
    """A process-wide `Diagnoser` built on first call (signatures parsed, model trained once)."""
    return Diagnoser()


def diagnose(
    ctx: ErrorContext,
    *,
    lang: Lang = "en",
    llm: LLMSettings | None = None,
    budget: float | None = None,
    secrets: tuple[str, ...] = (),
) -> Diagnosis:
    """Diagnose `ctx` with the default `Diagnoser` (see `Diagnoser.diagnose`)."""
    return default_diagnoser().diagnose(ctx, lang=lang, llm=llm, budget=budget, secrets=secrets)
