"""The REST API, the Workflow Health Center and `/metrics` (`create_api(kyra)`)."""

from kyra.api.app import create_api

__all__ = ["create_api"]
