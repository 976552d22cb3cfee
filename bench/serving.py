"""`safeground serve --workers N` in a subprocess, as the README tells production to run it."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import sqlalchemy as sa


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def served(url: sa.URL, workers: int, env: dict[str, str] | None = None) -> Iterator[str]:
    """`safeground serve --workers N` in a subprocess, as the README tells production to run it."""
    port = _free_port()
    exe = shutil.which("safeground", path=str(Path(sys.executable).parent)) or "safeground"
    env = {**os.environ, **(env or {}),
           "SAFEGROUND_DATABASE_URL": url.render_as_string(hide_password=False)}  # fmt: skip
    # The server's log goes to a file: a pipe nobody reads fills up and blocks the server.
    log = tempfile.TemporaryFile()
    process = subprocess.Popen(
        [exe, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)],
        env=env, stdout=subprocess.DEVNULL, stderr=log,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                tail = log.read().decode(errors="replace")[-2000:]
                raise RuntimeError(f"the server did not start: {tail}")
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(20)
        if process.poll() is None:
            process.kill()
        log.close()
