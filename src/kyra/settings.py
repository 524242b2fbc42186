"""One typed settings object for the whole process (`KYRA_` environment prefix).

Built once by the caller and passed in explicitly (`create_app(settings)`); nothing reads
the environment at import time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from kyra.i18n import Lang


class Settings(BaseSettings):
    """Process settings; every field maps to `KYRA_<FIELD>` in the environment."""

    model_config = SettingsConfigDict(env_prefix="KYRA_", extra="ignore", toml_file="kyra.toml")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Explicit arguments, then the environment, then ./kyra.toml, then defaults.
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls))

    database_url: str = "sqlite:///./kyra.db"
    """SQLAlchemy URL; `postgresql+psycopg://...` for production."""
    home: Path = Path(".kyra")
    """Where `kyra init` keeps the key file and example workflows."""
    secret_key: SecretStr | None = None
    """Fernet key for secrets at rest; otherwise read from `<home>/secret.key`."""
    tenant: str = "default"
    """The tenant the CLI works in."""
    default_tier: str = "enterprise"
    """Tier of tenants created implicitly (a self-hosted install is enterprise)."""
    lang: Lang | None = None
    """Language of CLI output; defaults to the locale."""
    sqlite_write_turns: bool = False
    """SQLite: processes take write turns (see `kyra.store.sqlite_turn`). Worth it when
    several processes write at once (`kyra serve --processes N` turns it on); a single
    process is a little faster without."""
    broker_url: str | None = None
    """Celery broker (Redis or RabbitMQ) for the scale-out runtime."""
    max_retry_sleep_seconds: float = Field(default=300.0, ge=0)
    """Longest in-process wait between retries; longer waits become scheduled re-runs."""
    min_trigger_interval_seconds: float = Field(default=1.0, gt=0, le=86_400)
    """Shortest `interval` trigger accepted when a workflow is applied (CLI and API); the
    scheduler also never fires a stored trigger more often than this."""
    template_env: Annotated[list[str], NoDecode] = Field(default_factory=list)
    """Environment variables templates may read as `env.NAME` (comma-separated in
    `KYRA_TEMPLATE_ENV`); empty by default, because the operator's environment holds
    database URLs and keys. `KYRA_*` names are never visible."""
    template_timeout_seconds: float = Field(default=1.0, gt=0, le=60)
    """Longest time rendering one step's parameters may take."""
    template_max_output_chars: int = Field(default=1_000_000, ge=1_000, le=100_000_000)
    """Largest text one template may produce (characters)."""
    http_max_response_bytes: int = Field(default=10_000_000, ge=1_000, le=1_000_000_000)
    """Largest HTTP response body a step reads; a bigger one fails the step mid-stream."""
    http_max_stored_bytes: int = Field(default=1_000_000, ge=1_000, le=1_000_000_000)
    """Largest HTTP response body kept as a step's output (the run record stores it)."""

    @field_validator("template_env", mode="before")
    @classmethod
    def _names(cls, value: Any) -> Any:
        # `KYRA_TEMPLATE_ENV=REGION,STAGE`: a comma-separated list at the edge.
        if isinstance(value, str):
            return [name.strip() for name in value.split(",") if name.strip()]
        return value

    @property
    def key_file(self) -> Path:
        return self.home / "secret.key"
