"""`kyra tenants ...` and `kyra apikeys ...`: a printed key works against the API."""

from __future__ import annotations

from pathlib import Path

import typer
from cryptography.fernet import Fernet
from fastapi.testclient import TestClient
from pydantic import SecretStr
from typer.testing import CliRunner

from kyra.api import create_api
from kyra.app import create_app
from kyra.cli import tenants
from kyra.settings import Settings

root = typer.Typer()
tenants.register(root)
root.command("noop", hidden=True)(lambda: None)  # keep Typer in sub-command mode


def test_tenant_and_key_lifecycle(tmp_path: Path) -> None:
    key_material = Fernet.generate_key().decode()
    env = {
        "KYRA_DATABASE_URL": f"sqlite:///{tmp_path / 'kyra.db'}",
        "KYRA_HOME": str(tmp_path / ".kyra"),
        "KYRA_SECRET_KEY": key_material,
        "KYRA_LANG": "en",
    }
    runner = CliRunner()

    def kyra(*args: str) -> str:
        result = runner.invoke(root, list(args), env=env, catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.stdout

    assert "created (pro)" in kyra("tenants", "create", "acme", "--tier", "pro")
    bad = runner.invoke(root, ["tenants", "create", "x", "--tier", "gold"], env=env)
    assert bad.exit_code == 2
    again = runner.invoke(root, ["tenants", "create", "acme"], env=env)
    assert again.exit_code == 2
    kyra("tenants", "set", "acme", "--tier", "enterprise", "--downtime-value", "90")
    assert '"tier": "enterprise"' in kyra("tenants", "list", "--json")

    key = kyra("apikeys", "create", "--tenant", "acme", "--name", "ci").strip()
    assert key.startswith("kyra_") and len(key.splitlines()) == 1
    assert '"name": "ci"' in kyra("apikeys", "list", "--tenant", "acme", "--json")

    settings = Settings(
        database_url=env["KYRA_DATABASE_URL"], home=tmp_path, secret_key=SecretStr(key_material)
    )
    with create_app(settings) as app, TestClient(create_api(app)) as http:
        headers = {"Authorization": f"Bearer {key}"}
        tenant = http.get("/api/v1/tenant", headers=headers).json()
        assert tenant["name"] == "acme" and tenant["downtime_value_per_hour"] == 90
        kyra("apikeys", "revoke", key.split("_")[1], "--tenant", "acme")
        assert http.get("/api/v1/tenant", headers=headers).status_code == 401
    es = runner.invoke(
        root, ["apikeys", "list", "--tenant", "acme"], env={**env, "KYRA_LANG": "es"}
    )
    assert "Revocada" in es.stdout
