"""Which database the command line uses, and one readable paragraph when it cannot reach it.

Without SAFEGROUND_DATABASE_URL, `safeground` run inside a checkout uses that checkout's private
cluster (`make db` writes its port to var/pg/port), so the commands work out of the box.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

ENV = "SAFEGROUND_DATABASE_URL"
PORT_FILE = Path("var/pg/port")
CLUSTER_SCRIPT = Path("scripts/pgcluster.sh")


@dataclass(frozen=True)
class DatabaseChoice:
    url: str | None  # None: the settings' default
    how: str  # said when the connection fails


def checkouts(start: Path) -> list[Path]:
    """Folders that may be a SafeGround checkout: `start` and its parents, then this package's."""
    here = [start, *start.parents]
    package_root = Path(__file__).resolve().parents[1]
    return [*here, package_root]


def choose_database(
    cwd: Path | None = None, environ: dict[str, str] | None = None
) -> DatabaseChoice:
    environ = dict(os.environ) if environ is None else environ
    if environ.get(ENV):
        return DatabaseChoice(environ[ENV], f"{ENV}")
    for root in checkouts(cwd or Path.cwd()):
        if (root / CLUSTER_SCRIPT).is_file() and (root / PORT_FILE).is_file():
            port = (root / PORT_FILE).read_text().strip()
            if port.isdigit():
                url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/safeground"
                return DatabaseChoice(url, f"the private cluster of the checkout {root} "
                                           f"(port {port} from {PORT_FILE})")  # fmt: skip
    return DatabaseChoice(None, f"the default address ({ENV} is not set and no checkout with a "
                                f"{PORT_FILE} was found here)")  # fmt: skip


def use(choice: DatabaseChoice) -> None:
    """Make the settings built later (by every command) read the chosen URL."""
    if choice.url is not None:
        os.environ[ENV] = choice.url


def cannot_connect(choice: DatabaseChoice, url: str, exc: BaseException) -> str:
    """One paragraph: what was tried, why it failed, what to do."""
    shown = make_url(url).render_as_string(hide_password=True)
    reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    why = reason[0][:300] if reason else type(exc).__name__
    if choice.how == ENV:
        fix = f"check {ENV} (a postgresql+psycopg:// URL of a PostGIS database), or unset it to use this checkout's private cluster (`make db`)."
    else:
        fix = f"start the private cluster with `make db` in the checkout, or set {ENV}=postgresql+psycopg://USER@HOST:PORT/DB to use another PostGIS database."  # fmt: skip
    return f"safeground: could not connect to the database at {shown} ({choice.how}): {why}. To fix it, {fix}"
