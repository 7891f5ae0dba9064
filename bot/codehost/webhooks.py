"""GitHub's webhooks, verified and read: which repository, pull requests, commits and branches to re-read now.

`handle_delivery(headers, body, secret)` is all the HTTP layer calls (for POST /github/events). It never raises on
what it is sent: anything not signed with the secret, too big or malformed is a `Refusal` to answer with.
The signature (X-Hub-Signature-256) covers the body only, so a body is also checked to be the event its
X-GitHub-Event header names: a signed body replayed under another event is refused. A replay of a whole delivery
is harmless: a signal only makes the procedure poll now.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from bot.domain.codehost import Signal

MAX_BODY_BYTES = 25 * 1024 * 1024  # GitHub caps a webhook payload at 25 MB: anything bigger is not from GitHub
SIGNATURE = re.compile(r"sha256=([0-9a-fA-F]{64})")
EVENT_NAME = re.compile(r"[a-z_]{1,64}")
DELIVERY_ID = re.compile(r"[A-Za-z0-9-]{1,128}")
REPO_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9_.-]{1,100}")
SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
MAX_BRANCH_LENGTH = 255
MAX_LISTED = 100  # pull requests or branches read from one payload; a check suite may list many
BRANCH_FORBIDDEN = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]|\.\.|@\{")
# The actions the procedure follows; others of these events (a label added, a check requested) change nothing
# it reads.
PULL_REQUEST_ACTIONS = frozenset({"opened", "reopened", "synchronize", "closed"})
REVIEW_ACTIONS = frozenset({"submitted", "dismissed"})
CHECK_RUN_ACTIONS = frozenset({"created", "completed"})
CHECK_SUITE_ACTIONS = frozenset({"completed"})


@dataclass(frozen=True)
class Refusal:
    status: int  # the HTTP status to answer with
    reason: str  # for the log; never echoes what was sent


class _Malformed(Exception):
    """The payload is not what GitHub sends for its event."""


def handle_delivery(headers: Mapping[str, str], body: bytes, secret: str) -> Signal | Refusal:
    """Verify one webhook delivery and say what it asks to re-read. `headers`: the request's headers in any
    case (a WSGI environ's HTTP_X_HUB_SIGNATURE_256 form works too); `body`: the raw bytes as received."""
    if not isinstance(body, (bytes, bytearray)):
        return Refusal(400, "the body is not bytes")
    if len(body) > MAX_BODY_BYTES:
        return Refusal(413, f"the body is over {MAX_BODY_BYTES} bytes")
    if not secret:
        return Refusal(404, "webhooks are off: GITHUB_WEBHOOK_SECRET is not set")
    given = _headers(headers)
    refusal = _signature_refusal(given.get("x-hub-signature-256", ""), bytes(body), secret)
    if refusal:
        return refusal
    event, delivery = given.get("x-github-event", ""), given.get("x-github-delivery", "")
    if not EVENT_NAME.fullmatch(event) or not DELIVERY_ID.fullmatch(delivery):
        return Refusal(400, "X-GitHub-Event or X-GitHub-Delivery is missing or malformed")
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):  # JSONDecodeError and undecodable bytes are ValueErrors
        return Refusal(400, "the body is not JSON")
    if not isinstance(payload, dict):
        return Refusal(400, "the body is not a JSON object")
    try:
        return _signal(event, delivery, payload)
    except (_Malformed, TypeError, ValueError, KeyError, AttributeError, RecursionError) as malformed:
        return Refusal(400, f"not a {event} event: {str(malformed)[:200]}")


def _headers(headers: Mapping[str, str]) -> dict[str, str]:
    found = {}
    for name, value in headers.items():
        if isinstance(name, str) and isinstance(value, str):
            found[name.lower().replace("_", "-").removeprefix("http-")] = value.strip()
    return found


def _signature_refusal(header: str, body: bytes, secret: str) -> Refusal | None:
    if not header:
        return Refusal(401, "no X-Hub-Signature-256")
    given = SIGNATURE.fullmatch(header)
    if given is None:
        return Refusal(401, "X-Hub-Signature-256 is not sha256=<64 hex digits>")
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, given.group(1).lower()):
        return Refusal(401, "X-Hub-Signature-256 does not match the body and the secret")
    return None


def _signal(event: str, delivery: str, payload: dict[str, Any]) -> Signal:
    reader = READERS.get(event)
    if reader is None:
        return Signal(delivery, event)  # an event the procedure does not follow: accepted, nothing to re-read
    return reader(delivery, event, payload)


# Reading payloads: each value is checked for its type and shape before it is used.
def _object(container: dict[str, Any], key: str) -> dict[str, Any]:
    value = container.get(key)
    if not isinstance(value, dict):
        raise _Malformed(f"{key} is not an object")
    return value


def _text(container: dict[str, Any], key: str, limit: int = 100) -> str:
    value = container.get(key)
    if not isinstance(value, str) or len(value) > limit:
        raise _Malformed(f"{key} is not a short string")
    return value


def _number(container: dict[str, Any], key: str = "number") -> int:
    value = container.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 2**31:
        raise _Malformed(f"{key} is not a pull request number")
    return value


def _sha(container: dict[str, Any], key: str) -> str:
    value = container.get(key)
    if not isinstance(value, str) or not SHA.fullmatch(value):
        raise _Malformed(f"{key} is not a commit sha")
    return value


def _branch(value: Any) -> str:
    if not isinstance(value, str) or not 0 < len(value) <= MAX_BRANCH_LENGTH or BRANCH_FORBIDDEN.search(value):
        raise _Malformed("a branch name is not one git allows")
    return value.removeprefix("refs/heads/")


def _repo(payload: dict[str, Any]) -> str:
    full_name = _object(payload, "repository").get("full_name")
    if not isinstance(full_name, str) or not REPO_NAME.fullmatch(full_name):
        raise _Malformed("repository.full_name is not owner/name")
    return full_name


def _listed(container: dict[str, Any], key: str) -> list[dict[str, Any]]:
    value = container.get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value[:MAX_LISTED]):
        raise _Malformed(f"{key} is not a list of objects")
    return value[:MAX_LISTED]


def _unique(*values: Any) -> tuple[Any, ...]:
    return tuple(dict.fromkeys(v for v in values if v is not None))


def _followed(payload: dict[str, Any], actions: frozenset[str]) -> bool:
    return _text(payload, "action") in actions


def _pull_request(delivery: str, event: str, payload: dict[str, Any]) -> Signal:
    pull, repo = _object(payload, "pull_request"), _repo(payload)
    head, base = _object(pull, "head"), _object(pull, "base")
    number, sha = _number(pull), _sha(head, "sha")
    branch, base_branch = _branch(head.get("ref")), _branch(base.get("ref"))
    if not _followed(payload, PULL_REQUEST_ACTIONS):
        return Signal(delivery, event)
    merged = payload["action"] == "closed" and pull.get("merged") is True
    return Signal(delivery, event, repo, (number,), (sha,), _unique(branch, base_branch if merged else None))


def _review(delivery: str, event: str, payload: dict[str, Any]) -> Signal:
    review, pull, repo = _object(payload, "review"), _object(payload, "pull_request"), _repo(payload)
    head = _object(pull, "head")
    number, sha, branch = _number(pull), _sha(head, "sha"), _branch(head.get("ref"))
    reviewed = _sha(review, "commit_id") if review.get("commit_id") is not None else None
    if not _followed(payload, REVIEW_ACTIONS):
        return Signal(delivery, event)
    return Signal(delivery, event, repo, (number,), _unique(sha, reviewed), (branch,))


def _checks(key: str, actions: frozenset[str]) -> Callable[[str, str, dict[str, Any]], Signal]:
    """A check_run or check_suite event: its head commit, and the pull requests and branch it ran for."""

    def read(delivery: str, event: str, payload: dict[str, Any]) -> Signal:
        checked, repo = _object(payload, key), _repo(payload)
        sha = _sha(checked, "head_sha")
        suite = _object(checked, "check_suite") if key == "check_run" else checked
        branch = _branch(suite["head_branch"]) if suite.get("head_branch") is not None else None
        numbers = _unique(*(_number(pull) for pull in _listed(checked, "pull_requests")))
        if not _followed(payload, actions):
            return Signal(delivery, event)
        return Signal(delivery, event, repo, numbers, (sha,), _unique(branch))

    return read


def _status(delivery: str, event: str, payload: dict[str, Any]) -> Signal:
    repo, sha = _repo(payload), _sha(payload, "sha")
    if _text(payload, "state") not in ("pending", "success", "failure", "error"):
        raise _Malformed("state is not a commit status state")
    _text(payload, "context", limit=1000)
    branches = _unique(*(_branch(branch.get("name")) for branch in _listed(payload, "branches")))
    return Signal(delivery, event, repo, (), (sha,), branches)


def _ping(delivery: str, event: str, payload: dict[str, Any]) -> Signal:
    _text(payload, "zen", limit=1000)
    if isinstance(payload.get("hook_id"), bool) or not isinstance(payload.get("hook_id"), int):
        raise _Malformed("hook_id is not a number")
    return Signal(delivery, event)  # GitHub checking the hook works: nothing to re-read


READERS: dict[str, Callable[[str, str, dict[str, Any]], Signal]] = {
    "pull_request": _pull_request,
    "pull_request_review": _review,
    "check_run": _checks("check_run", CHECK_RUN_ACTIONS),
    "check_suite": _checks("check_suite", CHECK_SUITE_ACTIONS),
    "status": _status,
    "ping": _ping,
}
