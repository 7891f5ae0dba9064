"""The probe's HTTP: an endpoint that does not answer is a failed health check and an unknown version."""
from __future__ import annotations

import socket

from bot.deploy.probe import DeployProbe


def closed_port_url(path: str) -> str:
    with socket.socket() as sock:  # bound, then closed: nothing listens there
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}{path}"


def test_an_endpoint_that_does_not_answer() -> None:
    probe = DeployProbe(reports=None, read=None, repos=dict, timeout=1)
    healthy, detail = probe.health(closed_port_url("/health"))
    assert healthy is False and detail.startswith("no answer (") and "127.0.0.1" not in detail
    assert probe.live(closed_port_url("/version"), "v1.10.1") is None  # unknown, not "not live"


def test_no_url_no_request() -> None:
    probe = DeployProbe(reports=None, read=None, repos=dict)
    assert probe.health(None) == (None, "")
    assert probe.live(None, "v1.10.1") is None
    assert probe.health("file:///etc/passwd")[0] is False  # only http(s), whatever the config says
