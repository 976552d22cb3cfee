"""Running the app under uvicorn, with a workaround for uvicorn's multi-worker listening socket.

With `--workers N` uvicorn binds the socket itself without naming the protocol (`proto` 0);
asyncio turns TCP_NODELAY on only for sockets whose `proto` is IPPROTO_TCP, so every keep-alive
response waits ~40 ms for the client's delayed ACK (uvicorn issue #3149). The same socket,
re-labelled with IPPROTO_TCP, gets TCP_NODELAY on every accepted connection.
"""

from __future__ import annotations

import socket

import uvicorn
from uvicorn.config import Config

_original_bind_socket = Config.bind_socket


def _bind_tcp_socket(self: Config) -> socket.socket:
    sock = _original_bind_socket(self)
    if sock.family in (socket.AF_INET, socket.AF_INET6) and sock.proto == 0:
        sock = socket.socket(sock.family, sock.type, socket.IPPROTO_TCP, fileno=sock.detach())
    return sock


def run(host: str, port: int, workers: int) -> None:
    Config.bind_socket = _bind_tcp_socket  # type: ignore[method-assign]
    uvicorn.run("api.app:create_app", factory=True, host=host, port=port, workers=workers)
