"""GitHub's webhooks: verified with X-Hub-Signature-256, read into what to re-read, never raising on what is sent.

The deliveries come from the stand-in GitHub (signed and POSTed as GitHub does) to a local receiver, or are
built here when a test needs a forged, replayed or hostile one.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.codehost.webhooks import BRANCH_FORBIDDEN, MAX_BODY_BYTES, MAX_BRANCH_LENGTH, Refusal, handle_delivery
from bot.domain.codehost import Signal
from tests.codehost.conftest import HOTFIX, REPO, open_fix, push_hotfix, push_more
from tests.support.fake_github import FakeGitHub

SECRET = "It's a Secret to Everybody"
SHA = "ec2b4ea1e2e1aa46b7b5e8c3d6a0c7b1f3c2d1e0"
FOLLOWED = ("pull_request", "pull_request_review", "check_run", "check_suite", "status", "ping")


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    body: bytes


class Receiver:
    """An HTTP server that records each POST, as the bot's /github/events would receive it."""

    def __init__(self) -> None:
        received: list[Received] = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                received.append(Received({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.received = received
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, args=(0.01,), daemon=True).start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/github/events"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.stop()


def signed(payload: Any, event: str, secret: str = SECRET, delivery: str = "72d3162e-cc78-11e3-81ab-4c9367dc0958",
           body: bytes | None = None) -> tuple[dict[str, str], bytes]:
    raw = json.dumps(payload).encode() if body is None else body
    signature = "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    return {"X-GitHub-Event": event, "X-GitHub-Delivery": delivery, "X-Hub-Signature-256": signature}, raw


def pull_request_payload(action: str = "synchronize", merged: bool = False) -> dict[str, Any]:
    return {"action": action, "number": 3, "repository": {"full_name": REPO},
            "pull_request": {"number": 3, "merged": merged, "head": {"ref": HOTFIX, "sha": SHA},
                             "base": {"ref": "main", "sha": "0" * 40}}}


def signals_from(github: FakeGitHub, receiver: Receiver, count: int) -> list[Signal]:
    github.webhooks.wait_for(count)
    assert all(d.status == 204 for d in github.webhooks.deliveries)
    signals = [handle_delivery(r.headers, r.body, SECRET) for r in receiver.received]
    assert all(isinstance(s, Signal) for s in signals), signals
    return signals


# Deliveries from the stand-in GitHub
def test_the_stand_ins_deliveries_verify_and_name_what_to_re_read(github, host, engineer, receiver):
    hook = github.send_webhooks_to(receiver.url, SECRET)
    head = push_hotfix(engineer)
    pull = open_fix(host)
    github.add_review(pull.number, "rita-gh", "APPROVED")
    github.set_check_run(head, "ci/test")
    github.set_status(head, "deploy/preview", "success")

    ping, opened, review, created, completed, suite, status = signals_from(github, receiver, 7)

    assert (ping.event, ping.worth_polling) == ("ping", False)
    assert receiver.received[0].headers["x-github-hook-id"] == str(hook)
    expected = Signal(opened.delivery, "pull_request", REPO, (pull.number,), (head,), (HOTFIX,))
    assert opened == expected and opened.worth_polling
    assert review == Signal(review.delivery, "pull_request_review", REPO, (pull.number,), (head,), (HOTFIX,))
    for signal, event in ((created, "check_run"), (completed, "check_run"), (suite, "check_suite")):
        assert signal == Signal(signal.delivery, event, REPO, (pull.number,), (head,), (HOTFIX,))
    assert status == Signal(status.delivery, "status", REPO, (), (head,), (HOTFIX,))
    assert len({s.delivery for s in (ping, opened, review, created, completed, suite, status)}) == 7


def test_a_push_a_dismissal_and_the_merge_are_delivered(github, host, engineer, receiver):
    push_hotfix(engineer)
    pull = open_fix(host)
    review = github.add_review(pull.number, "rita-gh", "APPROVED")
    github.send_webhooks_to(receiver.url, SECRET)
    head = push_more(engineer)
    github.announce_push(HOTFIX)
    github.add_review(pull.number, "rita-gh", "DISMISSED")
    merged = host.merge(REPO, pull.number, head)

    _, pushed, dismissed, closed = signals_from(github, receiver, 4)

    assert (pushed.event, pushed.commits, pushed.pull_requests) == ("pull_request", (head,), (pull.number,))
    assert dismissed.event == "pull_request_review" and dismissed.commits == (head,)
    assert json.loads(receiver.received[2].body)["action"] == "dismissed" and review
    assert json.loads(receiver.received[3].body)["action"] == "closed"
    assert closed.branches == (HOTFIX, "main") and merged.merged_sha


def test_a_hook_that_refuses_is_recorded_and_the_next_delivery_still_goes(github, engineer, receiver):
    github.send_webhooks_to("http://127.0.0.1:9/nobody-listens", SECRET)
    github.send_webhooks_to(receiver.url, SECRET)
    github.set_status(push_hotfix(engineer), "ci", "pending")

    github.webhooks.wait_for(4)

    failed = [d for d in github.webhooks.deliveries if d.hook_id == 1]
    assert [d.event for d in failed] == ["ping", "status"] and all(d.status == 0 and d.error for d in failed)
    assert [json.loads(r.body).get("state") for r in receiver.received] == [None, "pending"]


# Verification
def test_a_valid_signature_is_accepted_in_any_header_case_or_as_a_wsgi_environ():
    headers, body = signed(pull_request_payload(), "pull_request")
    environ = {"HTTP_" + name.upper().replace("-", "_"): value for name, value in headers.items()}

    for given_headers in (headers, {k.lower(): v for k, v in headers.items()}, environ):
        signal = handle_delivery(given_headers, body, SECRET)
        assert signal == Signal(headers["X-GitHub-Delivery"], "pull_request", REPO, (3,), (SHA,), (HOTFIX,))


@pytest.mark.parametrize("tamper", ["body", "signature", "other secret", "sha1", "not hex", "uppercase name"])
def test_a_forged_signature_is_refused(tamper):
    secret = "other" if tamper == "other secret" else SECRET
    headers, body = signed(pull_request_payload(), "pull_request", secret=secret)
    if tamper == "body":
        body = body.replace(b'"number": 3', b'"number": 4')
    elif tamper == "signature":
        headers["X-Hub-Signature-256"] = headers["X-Hub-Signature-256"][:-1] + "0"
    elif tamper == "sha1":
        headers["X-Hub-Signature-256"] = "sha1=" + hmac.new(SECRET.encode(), body, hashlib.sha1).hexdigest()
    elif tamper == "not hex":
        headers["X-Hub-Signature-256"] = "sha256=" + "z" * 64
    elif tamper == "uppercase name":
        headers["X-Hub-Signature-256"] = headers["X-Hub-Signature-256"].replace("sha256", "SHA256")

    refusal = handle_delivery(headers, body, SECRET)

    assert isinstance(refusal, Refusal) and refusal.status == 401


def test_a_missing_signature_or_a_wrong_secret_is_refused():
    headers, body = signed(pull_request_payload(), "pull_request")
    unsigned = {k: v for k, v in headers.items() if k != "X-Hub-Signature-256"}

    assert handle_delivery(unsigned, body, SECRET) == Refusal(401, "no X-Hub-Signature-256")
    assert handle_delivery(headers, body, SECRET + "!").status == 401
    assert handle_delivery(headers, body, "").status == 404  # webhooks off: nothing is accepted unsigned


def test_an_oversize_body_is_refused_unread():
    headers, body = signed({}, "ping", body=b" " * (MAX_BODY_BYTES + 1))

    assert handle_delivery(headers, body, SECRET) == Refusal(413, f"the body is over {MAX_BODY_BYTES} bytes")


@pytest.mark.parametrize("payload, event", [
    (pull_request_payload(), "pull_request_review"),
    (pull_request_payload(), "check_run"),
    (pull_request_payload(), "status"),
    (pull_request_payload(), "ping"),
    ({"action": "completed", "check_run": {"head_sha": SHA, "check_suite": {"head_branch": None}},
      "repository": {"full_name": REPO}}, "check_suite"),
])
def test_a_signed_body_replayed_as_another_event_is_refused(payload, event):
    headers, body = signed(payload, event)

    refusal = handle_delivery(headers, body, SECRET)

    assert isinstance(refusal, Refusal) and refusal.status == 400 and refusal.reason.startswith(f"not a {event}")


def test_missing_event_or_delivery_headers_are_refused():
    headers, body = signed(pull_request_payload(), "pull_request")

    for name in ("X-GitHub-Event", "X-GitHub-Delivery"):
        assert handle_delivery({k: v for k, v in headers.items() if k != name}, body, SECRET).status == 400
    assert handle_delivery({**headers, "X-GitHub-Event": "pull request\n"}, body, SECRET).status == 400


# What is read
def test_unknown_events_and_unfollowed_actions_are_accepted_and_ignored():
    for payload, event in (({"ref": "refs/heads/main"}, "push"), (pull_request_payload("labeled"), "pull_request"),
                           ({"action": "in_progress"}, "workflow_job")):
        signal = handle_delivery(*signed(payload, event), SECRET)
        assert isinstance(signal, Signal) and not signal.worth_polling and signal.event == event


def test_a_merged_pull_request_names_its_base_too_and_a_closed_one_does_not():
    merged = handle_delivery(*signed(pull_request_payload("closed", merged=True), "pull_request"), SECRET)
    closed = handle_delivery(*signed(pull_request_payload("closed"), "pull_request"), SECRET)

    assert merged.branches == (HOTFIX, "main") and closed.branches == (HOTFIX,)


HOSTILE_VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70), st.floats(allow_nan=True),
    st.text(max_size=300), st.just("x" * 100_000), st.just(SHA), st.just(REPO), st.just("main"),
    st.lists(st.none() | st.integers() | st.text(max_size=5), max_size=3),
    st.dictionaries(st.text(max_size=5), st.none(), max_size=3),
)


def _mangled(payload: Any, data: st.DataObject) -> Any:
    """The payload with some of its fields dropped or replaced by hostile values, at any depth."""
    if isinstance(payload, dict):
        mangled = {}
        for key, value in payload.items():
            choice = data.draw(st.sampled_from(["keep", "keep", "drop", "replace"]))
            if choice != "drop":
                mangled[key] = data.draw(HOSTILE_VALUES) if choice == "replace" else _mangled(value, data)
        return mangled
    return payload


REAL_SHAPES = {
    "pull_request": pull_request_payload("opened"),
    "pull_request_review": {"action": "submitted", "review": {"commit_id": SHA}, "repository": {"full_name": REPO},
                            "pull_request": {"number": 3, "head": {"ref": HOTFIX, "sha": SHA}}},
    "check_run": {"action": "completed", "repository": {"full_name": REPO},
                  "check_run": {"head_sha": SHA, "check_suite": {"head_branch": HOTFIX},
                                "pull_requests": [{"number": 3}]}},
    "check_suite": {"action": "completed", "repository": {"full_name": REPO},
                    "check_suite": {"head_sha": SHA, "head_branch": HOTFIX, "pull_requests": [{"number": 3}]}},
    "status": {"sha": SHA, "state": "success", "context": "ci", "repository": {"full_name": REPO},
               "branches": [{"name": HOTFIX}]},
    "ping": {"zen": "Design for failure.", "hook_id": 1},
}


@settings(max_examples=300, deadline=None)
@given(event=st.sampled_from(FOLLOWED), data=st.data())
def test_hostile_payload_fields_give_a_signal_or_a_refusal_never_an_exception(event, data):
    payload = _mangled(REAL_SHAPES[event], data)

    result = handle_delivery(*signed(payload, event), SECRET)

    assert isinstance(result, (Signal, Refusal))
    if isinstance(result, Signal) and result.worth_polling:
        assert result.repo == REPO and all(c == SHA for c in result.commits)
        assert all(isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in result.pull_requests)
        # A mangled field may move another legal value (a SHA is a legal branch name) into a branch: a hint
        # only; what matters is that every branch passed on is a well-formed name.
        assert all(0 < len(b) <= MAX_BRANCH_LENGTH and not BRANCH_FORBIDDEN.search(b) for b in result.branches)


@pytest.mark.parametrize("body", [b"[" * 100_000 + b"]" * 100_000, b"\xff\xfe not utf-8", b"1" * 10_000,
                                  b'"just a string"', b"[]", b"", b'{"a": 1e999999}'])
def test_bodies_that_are_not_an_events_json_object_are_refused(body):
    for event in FOLLOWED:
        result = handle_delivery(*signed(None, event, body=body), SECRET)
        assert isinstance(result, Refusal) and result.status == 400, (event, result)


@given(headers=st.dictionaries(st.text(max_size=30), st.text(max_size=100), max_size=6), body=st.binary(max_size=200))
def test_any_headers_and_bytes_unsigned_are_refused(headers, body):
    result = handle_delivery(headers, body, SECRET)

    assert isinstance(result, Refusal) and result.status == 401
