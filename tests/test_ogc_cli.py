"""`safeground keys create|list|revoke` and `safeground audit` against the test database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from api.cli import app
from gis.access import Principal, audit, principal_for
from gis.errors import Unauthorized
from gis.settings import Settings
from gis.spec import Role


@pytest.fixture
def cli(settings: Settings, engine: sa.Engine) -> Iterator[tuple[CliRunner, dict[str, str]]]:
    yield CliRunner(), {"SAFEGROUND_DATABASE_URL": settings.database.url}
    with engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM api_keys; DELETE FROM audit_log")


def test_keys_create_prints_the_key_once_then_list_and_revoke(cli, engine: sa.Engine) -> None:
    runner, env = cli
    created = runner.invoke(
        app, ["keys", "create", "--name", "Partner X", "--role", "partner"], env=env
    )
    assert created.exit_code == 0, created.output
    key = created.stdout.strip().splitlines()[-1]
    with engine.connect() as conn:
        assert principal_for(conn, key) == Principal("Partner X", Role.partner)
        key_id = conn.execute(
            sa.text("SELECT id FROM api_keys WHERE name = 'Partner X'")
        ).scalar_one()
    listed = runner.invoke(app, ["keys", "list"], env=env)
    assert "Partner X" in listed.stdout and key not in listed.stdout
    assert runner.invoke(app, ["keys", "revoke", str(key_id)], env=env).exit_code == 0
    with engine.connect() as conn, pytest.raises(Unauthorized):
        principal_for(conn, key)
    again = runner.invoke(app, ["keys", "revoke", str(key_id)], env=env)
    assert again.exit_code == 1


def test_keys_create_refuses_an_unknown_role(cli) -> None:
    runner, env = cli
    result = runner.invoke(app, ["keys", "create", "--name", "X", "--role", "king"], env=env)
    assert result.exit_code == 1


def test_audit_shows_the_newest_entries(cli, engine: sa.Engine) -> None:
    runner, env = cli
    with engine.begin() as conn:
        for i in range(3):
            audit(conn, Principal("Editor Y", Role.editor), "create", "villages", {"n": i}, i)
    result = runner.invoke(app, ["audit", "--limit", "2", "--json"], env=env)
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 2 and '"n": 2' in lines[0] and "Editor Y" in lines[0]
    assert "Editor Y" in runner.invoke(app, ["audit"], env=env).stdout
