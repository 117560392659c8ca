"""A PostgreSQL server on 127.0.0.1 that asks for a password and refuses it, as a misconfigured DATABASE_URL meets.

The team's PostgreSQL trusts local connections, so a wrong password cannot be produced against it; this speaks
just enough of the wire protocol (SSL refusal, startup, cleartext password, ErrorResponse 28P01) for libpq to
report the real error.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading

SSL_REQUEST, GSSENC_REQUEST = 80877103, 80877104


class PasswordRefusingPostgres:
    def __init__(self) -> None:
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._sock.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._stopped = False

    def start(self) -> PasswordRefusingPostgres:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopped = True
        self._sock.close()

    def _serve(self) -> None:
        while not self._stopped:
            try:
                client, _ = self._sock.accept()
            except OSError:
                return
            with client, contextlib.suppress(OSError, struct.error):
                self._refuse(client)

    @staticmethod
    def _read(client: socket.socket, size: int) -> bytes:
        data = b""
        while len(data) < size:
            chunk = client.recv(size - len(data))
            if not chunk:
                raise OSError("client went away")
            data += chunk
        return data

    def _refuse(self, client: socket.socket) -> None:
        while True:  # SSL and GSS encryption requests come first: decline them, then read the startup packet
            (length,) = struct.unpack("!i", self._read(client, 4))
            body = self._read(client, length - 4)
            (code,) = struct.unpack("!i", body[:4])
            if code in (SSL_REQUEST, GSSENC_REQUEST):
                client.sendall(b"N")
                continue
            break
        params = body[4:].split(b"\0")
        user = params[params.index(b"user") + 1].decode() if b"user" in params else "?"
        client.sendall(b"R" + struct.pack("!ii", 8, 3))  # AuthenticationCleartextPassword
        kind = self._read(client, 1)
        (length,) = struct.unpack("!i", self._read(client, 4))
        self._read(client, length - 4)
        if kind != b"p":
            return
        fields = b"".join(
            tag + value.encode() + b"\0"
            for tag, value in (
                (b"S", "FATAL"),
                (b"V", "FATAL"),
                (b"C", "28P01"),
                (b"M", f'password authentication failed for user "{user}"'),
            )
        )
        client.sendall(b"E" + struct.pack("!i", len(fields) + 5) + fields + b"\0")
