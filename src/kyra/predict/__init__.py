"""Predictive healing: warn that a workflow is at risk before its runs fail.

`kyra.predict.risk` is the shared model (raise, refresh, clear, list); detectors feed it:
credential expiry (`credentials`, `watch`), step trends, incidents.
"""
