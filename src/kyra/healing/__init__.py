"""Healing: diagnosis of failed steps, then (later) remedies, gates, verification.

`kyra.healing.taxonomy` holds the error classes and fix-step vocabulary;
`kyra.healing.diagnosis` turns an `ErrorContext` into a `Diagnosis`.
"""

from kyra.healing.taxonomy import ErrorClass, FixStep, Safety

__all__ = ["ErrorClass", "FixStep", "Safety"]
