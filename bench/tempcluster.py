"""A throw-away PostgreSQL cluster in a temporary folder, for runs that stop and start the server
(the fault test, the mixed-load bench).

The shared test server is never restarted: a fault test gets its own cluster (initdb + pg_ctl,
as the `postgres` OS user when we are root, as scripts/pgcluster.sh does), migrated, and removed.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa

PGBIN = Path(os.environ.get("SAFEGROUND_PGBIN", "/usr/lib/postgresql/15/bin"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class TempCluster:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.data = folder / "data"
        self.log = folder / "postgres.log"
        self.port = _free_port()
        self.url = sa.make_url(f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres")

    def _run(self, *args: str) -> None:
        command = [str(PGBIN / args[0]), *args[1:]]
        if os.getuid() == 0:  # initdb refuses root; the server runs as postgres, like pgcluster.sh
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120, cwd="/")

    def init(self) -> None:
        if os.getuid() == 0:
            entry = pwd.getpwnam("postgres")
            os.chown(self.folder, entry.pw_uid, entry.pw_gid)
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                  "--locale=C.UTF-8")  # fmt: skip

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c fsync=off"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "-t",
                  "60", "-s", "start")  # fmt: skip

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t", "60", "-s", "stop")

    def running(self) -> bool:
        result = subprocess.run(
            [str(PGBIN / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(self.port)],
            check=False,
            timeout=30,
        )
        return result.returncode == 0


@contextmanager
def temp_cluster() -> Iterator[TempCluster]:
    """A started cluster with a `safeground` database (PostGIS, migrated); stopped and removed after."""
    from layers import migrations

    folder = Path(tempfile.mkdtemp(prefix="safeground-pgtemp-"))
    os.chmod(folder, 0o755)
    cluster = TempCluster(folder)
    try:
        cluster.init()
        cluster.start()
        admin = sa.create_engine(cluster.url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql("CREATE DATABASE safeground")
        admin.dispose()
        cluster.url = cluster.url.set(database="safeground")
        engine = sa.create_engine(cluster.url)
        with engine.begin() as conn:
            conn.exec_driver_sql("CREATE EXTENSION postgis")
        migrations.upgrade(engine)
        engine.dispose()
        yield cluster
    finally:
        if cluster.data.exists() and cluster.running():
            cluster.stop()
        shutil.rmtree(folder, ignore_errors=True)
