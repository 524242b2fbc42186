"""Demo pieces that ship with Kyra: the fault-injecting HTTP server (`FaultServer`)."""

from __future__ import annotations

from kyra.demo._server import FaultApp, FaultServer

__all__ = ["FaultApp", "FaultServer"]
