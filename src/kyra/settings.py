"""One typed settings tree for the whole process (`KYRA_` environment prefix).

Built once by the entry point (the CLI's `settings()`, `create_app()`, the Celery app)
and passed down explicitly; nothing else reads the environment, and nothing reads it at
import time. Process-wide knobs are fields of `Settings`; each part with knobs of its own
has a section, a plain model read from `KYRA_<SECTION>_<FIELD>` (or a `[section]` table,
or `section_field`, in `kyra.toml`):

    Settings
    ├── healing   HealingSettings   KYRA_HEALING_*   limits, cooldowns, quotas, bounds
    ├── llm       LLMSettings|None  KYRA_LLM_*       the LLM tier (None: no model named)
    ├── runtime   RuntimeSettings   KYRA_RUNTIME_*   workers, scheduler, Celery
    ├── notify    NotifySettings    KYRA_NOTIFY_*    channel timeouts and retries
    └── fleet     FleetSettings     KYRA_FLEET_*     pacing, circuits, waits

Where a project lives: the nearest `kyra.toml` in the current directory or a parent
(`kyra init` writes one). Relative paths (`home`, a SQLite file) are relative to that
file's directory, so `kyra` run from a subdirectory uses the project's database instead
of silently creating a new `kyra.db` wherever it runs. Without a `kyra.toml`, the
database must be named (`KYRA_DATABASE_URL`); commands that need it say so.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from kyra.engine.fleet_settings import FleetSettings
from kyra.errors import NoProjectError
from kyra.healing.settings import HealingSettings, LLMSettings
from kyra.i18n import Lang
from kyra.notify.settings import NotifySettings
from kyra.runtime.settings import RuntimeSettings

CONFIG_FILE = "kyra.toml"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
DEFAULT_PUBLIC_URL = f"http://{DEFAULT_HOST}:{DEFAULT_PORT}"
_SQLITE_FILE = re.compile(r"^(sqlite(?:\+\w+)?:///)([^?]*)(\?.*)?$")
SECTIONS = ("healing", "llm", "runtime", "notify", "fleet")


def find_config(start: Path | None = None) -> Path | None:
    """The nearest `kyra.toml` in `start` (default: the current directory) or a parent."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / CONFIG_FILE
        if candidate.is_file():
            return candidate
    return None


class Settings(BaseSettings):
    """Process settings; every field maps to `KYRA_<FIELD>` in the environment."""

    # `KYRA_HEALING_MAX_FIXES_PER_HOUR` -> healing.max_fixes_per_hour: after the section
    # name the rest is one field name, underscores and all (split once).
    model_config = SettingsConfigDict(
        env_prefix="KYRA_", extra="ignore", env_nested_delimiter="_", env_nested_max_split=1
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Explicit arguments, then the environment, then the project's kyra.toml, then
        # defaults.
        config = find_config()
        if config is None:
            return (init_settings, env_settings)
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls, config))

    project_dir: Path | None = Field(default=None, exclude=True)
    """The directory of the `kyra.toml` in use (found upward from the current one)."""
    database_url: str = ""
    """SQLAlchemy URL; `postgresql+psycopg://...` for production. Default: `kyra.db` next
    to the project's `kyra.toml`."""
    db_auto_migrate: bool = True
    """Upgrade a schema that is behind when a process opens the database. Off, a process
    refuses an out-of-date database and says to run `kyra db upgrade` (do that when
    several processes start at once against PostgreSQL)."""
    home: Path = Path(".kyra")
    """Where `kyra init` keeps the key file and example workflows (relative: to the
    project directory)."""
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
    public_url: str = DEFAULT_PUBLIC_URL
    """Where people reach this Kyra (`https://kyra.example.com`): links in notifications
    point at `<public_url>/dashboard/workflows/<name>`. Default: what `kyra serve` listens
    on (it sets this from --host/--port when unset)."""
    retention_days: float | None = Field(default=None, gt=0)
    """Delete finished executions (and their steps) older than this many days, except
    those a fix or an audit record names (`kyra db prune`; `kyra serve` and `kyra
    scheduler` prune hourly). Unset: keep everything."""
    log_format: Literal["text", "json"] = "text"
    """`json`: one JSON object per line on stderr (level, logger, message, execution and
    workflow ids), for every process and the API's access log."""
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    """Default level of `kyra serve`, `kyra worker` and `kyra scheduler` (`--log-level`)."""
    broker_url: str | None = None
    """Celery broker (Redis or RabbitMQ) for the scale-out runtime."""
    metrics_token: SecretStr | None = None
    """Operator token for `/metrics` (`Authorization: Bearer <token>`): one scrape covers
    every tenant, each series labelled `tenant`, plus the runtime and process series.
    Unset: `/metrics` answers tenant API keys only, each for its own tenant."""
    trends: bool = True
    """Watch step latency and error trends after every run and warn ("at risk") before
    runs fail (`kyra.predict`); off saves one read and one write per run."""
    credential_expiry_warning_days: float = Field(default=7.0, ge=0, le=365)
    """Warn this many days before a credential a workflow uses expires (JWT and OAuth
    secrets, TLS certificates of the hosts it calls, expiry headers such as GitHub's):
    the workflow is "at risk" (`kyra status`, the Health Center) and the tenant's
    channels get an `at_risk` notification. 0 turns the checks off."""
    incidents: bool = True
    """Group failures of several workflows on one host into one incident (`kyra.incidents`)."""
    incident_window_seconds: float = Field(default=900.0, gt=0, le=86_400)
    """Failures on one host this close together belong to the same incident."""
    incident_min_workflows: int = Field(default=2, ge=2, le=1000)
    """How many different workflows must fail on a host to open an incident."""
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

    healing: HealingSettings = Field(default_factory=HealingSettings)
    llm: LLMSettings | None = None
    """The LLM tier of diagnosis; None (off) unless a model is named (`KYRA_LLM_MODEL`)."""
    runtime: RuntimeSettings = Field(default_factory=RuntimeSettings)
    notify: NotifySettings = Field(default_factory=NotifySettings)
    fleet: FleetSettings = Field(default_factory=FleetSettings)

    @field_validator("llm", mode="before")
    @classmethod
    def _llm_needs_a_model(cls, value: Any) -> Any:
        # KYRA_LLM_API_KEY alone does not turn the tier on: it needs a model.
        if isinstance(value, dict) and not value.get("model"):
            return None
        return value

    @field_validator("template_env", mode="before")
    @classmethod
    def _names(cls, value: Any) -> Any:
        # `KYRA_TEMPLATE_ENV=REGION,STAGE`: a comma-separated list at the edge.
        if isinstance(value, str):
            return [name.strip() for name in value.split(",") if name.strip()]
        return value

    @field_validator("log_level", "log_format", mode="before")
    @classmethod
    def _any_case(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        return value.lower() if value.lower() in ("text", "json") else value.upper()

    @model_validator(mode="before")
    @classmethod
    def _project(cls, data: Any) -> Any:
        if isinstance(data, dict):
            data = _fold_sections(data)
        if isinstance(data, dict) and data.get("project_dir") is None:
            config = find_config()
            data = {**data, "project_dir": config.parent if config is not None else None}
        return data

    @model_validator(mode="after")
    def _resolve_paths(self) -> Settings:
        base = self.project_dir or Path.cwd()
        if not self.home.is_absolute():
            self.home = base / self.home
        if not self.database_url and self.project_dir is not None:
            self.database_url = f"sqlite:///{self.project_dir / 'kyra.db'}"
        elif match := _SQLITE_FILE.match(self.database_url):
            prefix, path, query = match.groups()
            if path and path != ":memory:" and not Path(path).is_absolute():
                self.database_url = f"{prefix}{base / path}{query or ''}"
        return self

    def require_database_url(self) -> str:
        """The database URL, or a `NoProjectError` saying how to name one."""
        if not self.database_url:
            raise NoProjectError(Path.cwd())
        return self.database_url

    @property
    def key_file(self) -> Path:
        return self.home / "secret.key"


def _fold_sections(data: dict[str, Any]) -> dict[str, Any]:
    """`healing_max_fixes_per_hour = 5` at the top of `kyra.toml` (the environment name
    without its prefix) into the `healing` section; a value already in the section (from
    the environment, or a `[healing]` table) wins."""
    flat = {
        k for k in data if isinstance(k, str) and k.startswith(tuple(f"{s}_" for s in SECTIONS))
    }
    if not flat:
        return data
    data = dict(data)
    for key in flat:
        section, _, field = key.partition("_")
        nested = data.get(section)
        nested = nested.model_dump() if isinstance(nested, BaseModel) else dict(nested or {})
        nested.setdefault(field, data.pop(key))
        data[section] = nested
    return data
