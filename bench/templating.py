"""Rough renders-per-second of cached templates; run with `.venv/bin/python bench/templating.py`.

Not a test: timings depend on the machine. Use it to spot regressions by eye.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from kyra.workflows.templating import TemplateContext, TemplateRenderer

N = 20_000


def measure(label: str, render: Callable[[], Any]) -> None:
    render()  # compile once, outside the timing
    start = time.perf_counter()
    for _ in range(N):
        render()
    elapsed = time.perf_counter() - start
    print(f"{label:<34} {N / elapsed:>12,.0f} renders/s")


def main() -> None:
    renderer = TemplateRenderer()
    context = TemplateContext(
        now=datetime.now(UTC),
        inputs={"id": 42, "name": "Ana"},
        steps={"fetch": {"output": {"json": {"id": 7, "items": [1, 2, 3]}}}},
        secrets={"TOKEN": "t0k3n"}.get,
    )
    params = {
        "url": "https://api.example/orders/{{ inputs.id }}",
        "method": "POST",
        "headers": {"Authorization": "Bearer {{ secrets.TOKEN }}", "Accept": "application/json"},
        "json": {"order": "{{ steps.fetch.output.json.id }}", "who": "{{ inputs.name }}"},
    }
    measure("plain string", lambda: renderer.render("no template here", context))
    measure("native {{ expr }}", lambda: renderer.render("{{ inputs.id }}", context))
    measure("text with expression", lambda: renderer.render("id={{ inputs.id }}", context))
    measure("params dict (4 templates)", lambda: renderer.render_params(params, context))


if __name__ == "__main__":
    main()
