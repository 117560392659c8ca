"""An ASGI app behind uvicorn in this process, on a free port of 127.0.0.1 (the suite's server and the benches')."""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

import uvicorn


def serve(asgi: Any, *, lifespan: str = "off") -> tuple[uvicorn.Server, threading.Thread, int]:
    """Start `asgi` and wait until it listens: (server, its thread, port). Stop: `server.should_exit = True`."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(asgi, log_level="warning", lifespan=lifespan))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    return server, thread, sock.getsockname()[1]
