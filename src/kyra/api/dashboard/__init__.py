"""The Workflow Health Center (server-rendered pages)."""

from kyra.api.dashboard.pages import router

__all__ = ["router"]
