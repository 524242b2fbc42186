"""Diagnosis of failed steps: which error class, how dangerous, how to fix, how sure.

    diagnose(ctx) -> Diagnosis            tiers: signatures -> local model -> LLM (optional)

Public API: `Diagnoser`, `diagnose`, `Diagnosis`, `Facts`, `Tier`, `LLMSettings`, `redact`.
"""

from kyra.healing.diagnosis.engine import Diagnoser, default_diagnoser, diagnose
from kyra.healing.diagnosis.types import Diagnosis, Evidence, Facts, Tier
from kyra.healing.settings import LLMSettings, ModelPrice
from kyra.redaction import redact

__all__ = [
    "Diagnoser",
    "Diagnosis",
    "Evidence",
    "Facts",
    "LLMSettings",
    "ModelPrice",
    "Tier",
    "default_diagnoser",
    "diagnose",
    "redact",
]
