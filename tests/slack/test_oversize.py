"""An oversize request is refused before it is read: 413, flat memory, and Slack's next request still answered."""
from __future__ import annotations

import socket
from pathlib import Path

from tests.support.driver import Driver

MIB = 1024 * 1024
CHUNK = b"x" * (64 * 1024)


def rss_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS in /proc/self/status")


def send_until_answered(port: int, head: bytes, body_chunks, limit: int) -> tuple[bytes, int]:
    """Streams the body until the server answers or `limit` bytes went out; returns (answer, bytes sent)."""
    sent = 0
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(head)
        connection.settimeout(0.0)
        for chunk in body_chunks:
            try:
                answer = connection.recv(4096)
                if answer:
                    return answer, sent
            except BlockingIOError:
                pass
            if sent >= limit:
                break
            try:
                connection.settimeout(10)
                connection.sendall(chunk)
                connection.settimeout(0.0)
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += len(chunk)
        connection.settimeout(10)
        try:
            return connection.recv(4096), sent
        except ConnectionResetError:
            return b"", sent


def forever(chunk: bytes):
    while True:
        yield chunk


def head(extra: str) -> bytes:
    return (f"POST /slack/events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Content-Type: application/x-www-form-urlencoded\r\n{extra}\r\n").encode()


def test_a_300_mb_unsigned_post_is_refused_unread_and_the_bot_keeps_answering(driver: Driver) -> None:
    before = rss_bytes()
    answer, sent = send_until_answered(driver.port, head(f"Content-Length: {300 * MIB}\r\n"), forever(CHUNK),
                                       limit=64 * MIB)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert sent < 64 * MIB, "the server kept reading a body it should have refused at its headers"
    assert rss_bytes() - before < 32 * MIB
    assert driver.command("help", user="UDEV").status == 200


def test_a_chunked_body_is_cut_off_at_one_mib(driver: Driver) -> None:
    chunk = b"%x\r\n%s\r\n" % (len(CHUNK), CHUNK)
    before = rss_bytes()
    answer, sent = send_until_answered(driver.port, head("Transfer-Encoding: chunked\r\n"), forever(chunk),
                                       limit=64 * MIB)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert sent < 8 * MIB
    assert rss_bytes() - before < 32 * MIB
    assert driver.command("help", user="UDEV").status == 200


def test_a_request_just_under_the_limit_is_still_read_and_judged_by_its_signature(driver: Driver) -> None:
    body = "command=%2Fhotfix&text=" + "a" * (MIB - 100)
    assert driver.post(body, headers={"X-Slack-Signature": "v0=forged", "X-Slack-Request-Timestamp": "1"}).status == 401
