"""Incidents across workflows: several workflows failing on one host within a window are
one incident with the host as the common cause (`observer.py` opens and resolves them;
`kyra.store.incidents` keeps them; `kyra incidents`, `/api/v1/incidents` and the Health
Center show them)."""
