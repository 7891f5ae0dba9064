"""`hotfix-bot serve --http` as a real process, for tests that kill it or run several."""
from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

from bot.standins.signing import signed_headers


class Replica:
    """`hotfix-bot serve --http` as a real process."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.port = _free_port()
        self.log = log
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve", "--http", "--host", "127.0.0.1", "--port", str(self.port)],
            env={**os.environ, **env, "HOTFIX_LEADER_RETRY_SECONDS": "0.5"}, cwd=log.parent,
            stdout=log.open("w"), stderr=subprocess.STDOUT,
        )

    def health(self) -> dict | None:
        try:
            return json.loads(self._request("GET", "/healthz")[1])
        except OSError:
            return None

    def post(self, body: str, secret: str) -> int:
        return self.answer(body, secret)[0]

    def answer(self, body: str, secret: str) -> tuple[int, str]:
        """A signed Slack request: the HTTP status and the body the app answered with."""
        return self._request("POST", "/slack/events", body, signed_headers(secret, body))

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()

    def _request(self, method: str, path: str, body: str = "", headers: dict | None = None) -> tuple[int, str]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        try:
            connection.request(method, path, body=body.encode(), headers=headers or {})
            response = connection.getresponse()
            return response.status, response.read().decode()
        finally:
            connection.close()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
