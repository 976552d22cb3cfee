"""The README's screenshots (`make screenshots`): the demo served on a loopback port, the national
overview at desktop size (plain and shaded by hazard area) and a visit map at phone size
(390 x 844), written to docs/screenshots/.

Reads SAFEGROUND_DATABASE_URL (the demo loaded, as `make demo` leaves it). Tests never write
into docs/; this script does, on purpose.
"""

from __future__ import annotations

import socket
import sys
import threading
import time
from pathlib import Path

import sqlalchemy as sa
import uvicorn

from api.app import create_app
from bench.browser import chromium
from gis.access import create_key, list_keys, revoke_key
from gis.settings import Settings
from gis.spec import Role

KEY_NAME = "README screenshots"
OUT = Path(__file__).resolve().parents[1] / "docs" / "screenshots"
SHOTS = (
    ("overview.png", "/maps/overview", (1280, 800)),
    ("visit-phone.png", "/maps/visit?village={village}&radius_m=5000", (390, 844)),
    ("overview-shaded.png", "/maps/overview?shade=hazard_km2", (1280, 800)),
)


def main() -> int:
    settings = Settings()
    engine = sa.create_engine(settings.database.url)
    with engine.begin() as conn:
        village = conn.scalar(
            sa.text(
                "SELECT id FROM villages WHERE district_name = 'Aghdam' AND deleted_at IS NULL "
                "ORDER BY population DESC NULLS LAST, id LIMIT 1"
            )
        )
        if village is None:
            print("no demo in this database: run `safeground demo load` first", file=sys.stderr)
            return 2
        key = create_key(conn, KEY_NAME, Role.partner)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(settings), log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    try:
        OUT.mkdir(parents=True, exist_ok=True)
        with chromium() as browser:
            for name, path, (width, height) in SHOTS:
                context = browser.new_context(
                    viewport={"width": width, "height": height},
                    extra_http_headers={"X-API-Key": key},
                )
                page = context.new_page()
                page.goto(f"http://127.0.0.1:{port}{path.format(village=village)}")
                page.wait_for_function("document.documentElement.dataset.sgReady === '1'")
                page.wait_for_load_state("networkidle")  # the vector tiles too
                page.screenshot(path=str(OUT / name))
                context.close()
                print(OUT / name)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        with engine.begin() as conn:  # the key was for these pages only
            for row in list_keys(conn):
                if row["name"] == KEY_NAME and not row.get("revoked_at"):
                    revoke_key(conn, int(row["id"]))
        engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
