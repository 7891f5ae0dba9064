"""Slack's Socket Mode end: a WebSocket server on 127.0.0.1 that sends envelopes and collects the app's acks.

`slack.offer_socket_mode(FakeSocketMode().start().url, app_token=...)` makes apps.connections.open hand it
out. Only the parts of RFC 6455 that slack_sdk's built-in client uses: the handshake, text frames, ping/pong, close.
"""
from __future__ import annotations

import base64
import hashlib
import json
import socket
import struct
import threading
import uuid
from typing import Any

_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455, section 1.3
TEXT, CLOSE, PING, PONG = 0x1, 0x8, 0x9, 0xA


class FakeSocketMode:
    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._connections: list[socket.socket] = []
        self._acks: dict[str, dict[str, Any]] = {}
        self._changed = threading.Condition()
        self._send_lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self._listener.getsockname()[1]}/link/?ticket=fake"

    def start(self) -> FakeSocketMode:
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def stop(self) -> None:
        self._listener.close()
        for connection in list(self._connections):
            connection.close()

    def wait_connected(self, timeout: float = 15.0) -> None:
        with self._changed:
            if not self._changed.wait_for(lambda: self._connections, timeout):
                raise AssertionError(f"the app did not open a Socket Mode connection in {timeout} s")

    def send(self, kind: str, payload: dict[str, Any]) -> str:
        """Deliver an envelope (`slash_commands`, `interactive` or `events_api`); returns its envelope_id."""
        envelope_id = str(uuid.uuid4())
        envelope = {"envelope_id": envelope_id, "type": kind, "payload": payload,
                    "accepts_response_payload": kind != "events_api", "retry_attempt": 0, "retry_reason": ""}
        with self._changed:
            connection = self._connections[-1]
        self._send_frame(connection, TEXT, json.dumps(envelope).encode())
        return envelope_id

    def ack(self, envelope_id: str, timeout: float = 5.0) -> dict[str, Any]:
        """The app's acknowledgement of an envelope: {"envelope_id": ..., "payload": {...}} or without payload."""
        with self._changed:
            if not self._changed.wait_for(lambda: envelope_id in self._acks, timeout):
                raise AssertionError(f"envelope {envelope_id} was not acknowledged in {timeout} s")
            return self._acks[envelope_id]

    # --- the server -------------------------------------------------------------------------------------------
    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self._listener.accept()
            except OSError:
                return  # stopped
            threading.Thread(target=self._serve, args=(connection,), daemon=True).start()

    def _serve(self, connection: socket.socket) -> None:
        reader = connection.makefile("rb")
        try:
            self._handshake(connection, reader)
            with self._changed:
                self._connections.append(connection)
                self._changed.notify_all()
            self._send_frame(connection, TEXT, json.dumps({"type": "hello", "num_connections": 1}).encode())
            while True:
                opcode, data = _read_frame(reader)
                if opcode == PING:
                    self._send_frame(connection, PONG, data)
                elif opcode == TEXT:
                    message = json.loads(data)
                    with self._changed:
                        self._acks[message["envelope_id"]] = message
                        self._changed.notify_all()
                elif opcode == CLOSE:
                    return
        except (OSError, ConnectionError, ValueError):
            return
        finally:
            with self._changed:
                if connection in self._connections:
                    self._connections.remove(connection)
            connection.close()

    def _handshake(self, connection: socket.socket, reader) -> None:
        headers = {}
        request_line = reader.readline()
        if not request_line.startswith(b"GET "):
            raise ValueError("not a WebSocket upgrade")
        while (line := reader.readline().strip()):
            name, _, value = line.decode().partition(":")
            headers[name.strip().lower()] = value.strip()
        accept = base64.b64encode(hashlib.sha1((headers["sec-websocket-key"] + _GUID).encode()).digest()).decode()
        connection.sendall(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                            f"Sec-WebSocket-Accept: {accept}\r\n\r\n").encode())

    def _send_frame(self, connection: socket.socket, opcode: int, data: bytes) -> None:
        """Server frames are not masked."""
        size = len(data)
        if size < 126:
            header = struct.pack("!BB", 0x80 | opcode, size)
        elif size < 65536:
            header = struct.pack("!BBH", 0x80 | opcode, 126, size)
        else:
            header = struct.pack("!BBQ", 0x80 | opcode, 127, size)
        with self._send_lock:
            connection.sendall(header + data)


def _read_frame(reader) -> tuple[int, bytes]:
    """One whole frame from the client (client frames are always masked; the app never fragments)."""
    first, second = _exactly(reader, 2)
    opcode, size = first & 0x0F, second & 0x7F
    if size == 126:
        (size,) = struct.unpack("!H", _exactly(reader, 2))
    elif size == 127:
        (size,) = struct.unpack("!Q", _exactly(reader, 8))
    mask = _exactly(reader, 4) if second & 0x80 else b"\0\0\0\0"
    data = _exactly(reader, size)
    return opcode, bytes(b ^ mask[i % 4] for i, b in enumerate(data))


def _exactly(reader, size: int) -> bytes:
    data = reader.read(size)
    if len(data) < size:
        raise ConnectionError("the app closed the connection")
    return data
