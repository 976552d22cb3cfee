"""`safeground keys create|list|revoke` and `safeground audit`: API keys and who did what."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from gis import db
from gis.access import audit_entries, create_key, list_keys, revoke_key
from gis.errors import SafeGroundError
from gis.settings import Settings
from gis.spec import Role

keys_app = typer.Typer(
    help="API keys (stored hashed; a key is shown once, when created).", no_args_is_help=True
)
console = Console()
err = Console(stderr=True)
ROLES = [r.name for r in Role if r != Role.public]


def _engine():  # type: ignore[no-untyped-def]
    return db.make_engine(Settings().database)


def _fail(message: str) -> None:
    err.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(1)


@keys_app.command("create")
def create(
    name: Annotated[str, typer.Option(help="who the key is for, e.g. 'Partner X'")],
    role: Annotated[str, typer.Option(help=f"one of {', '.join(ROLES)}")] = "partner",
) -> None:
    """Create a key and print it (this is the only time it is shown)."""
    if role not in ROLES:
        _fail(f"unknown role '{role}': use one of {', '.join(ROLES)}")
    if not name.strip():
        _fail("give the key a name")
    with _engine().begin() as conn:
        key = create_key(conn, name.strip(), Role[role])
    err.print(
        f"key for '{name.strip()}' ({role}); store it now, it is not shown again:", highlight=False
    )
    print(key)  # alone on stdout, for scripts


@keys_app.command("list")
def list_() -> None:
    """The keys: id, name, role, created, revoked (never the key itself)."""
    with _engine().connect() as conn:
        rows = list_keys(conn)
    table = Table("id", "name", "role", "created", "revoked")
    for r in rows:
        revoked = r["revoked_at"].isoformat(timespec="seconds") if r["revoked_at"] else ""
        table.add_row(
            str(r["id"]),
            r["name"],
            r["role"],
            r["created_at"].isoformat(timespec="seconds"),
            revoked,
        )
    console.print(table)


@keys_app.command("revoke")
def revoke(key_id: Annotated[int, typer.Argument(help="the key's id (see `keys list`)")]) -> None:
    """Revoke a key: requests with it are refused (within seconds on running servers)."""
    try:
        with _engine().begin() as conn:
            revoke_key(conn, key_id)
    except SafeGroundError as exc:
        _fail(exc.message)
    console.print(f"key {key_id} revoked")


def audit(
    limit: Annotated[
        int, typer.Option(min=1, max=100_000, help="how many entries, newest first")
    ] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON lines")] = False,
) -> None:
    """The audit log: every write and export through the API (who, what, when, how many)."""
    with _engine().connect() as conn:
        rows = audit_entries(conn, limit=limit)
    if as_json:
        for r in rows:
            print(json.dumps({**r, "at": r["at"].isoformat()}, ensure_ascii=False))
        return
    table = Table("at", "who", "action", "layer", "features", "detail")
    for r in rows:
        table.add_row(
            r["at"].isoformat(timespec="seconds"), r["actor"], r["action"], r["layer"] or "",
            "" if r["feature_count"] is None else f"{r['feature_count']:,}",
            json.dumps(r["detail"], ensure_ascii=False)[:120],
        )  # fmt: skip
    console.print(table)
