"""Webhook deliveries from the stand-in GitHub: signed as GitHub signs them, POSTed in order on one thread."""

from __future__ import annotations

import hashlib
import hmac
import json
import queue
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

USER_AGENT = "GitHub-Hookshot/standin"
DELIVERY_TIMEOUT = 10.0  # seconds GitHub waits for an answer before it calls the delivery failed


@dataclass(frozen=True)
class Hook:
    id: int
    url: str
    secret: str


@dataclass(frozen=True)
class Delivery:
    """One POST to a hook and how it was answered (`status` 0 when it could not be delivered)."""

    hook_id: int
    id: str  # X-GitHub-Delivery
    event: str  # X-GitHub-Event
    action: str | None
    payload: dict[str, Any]
    status: int = 0
    error: str | None = None


def signature(secret: str, body: bytes) -> str:
    """X-Hub-Signature-256: the HMAC-SHA256 of the raw body with the hook's secret."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class WebhookSender:
    def __init__(self) -> None:
        self._hooks: list[Hook] = []
        self._deliveries: list[Delivery] = []
        self._queue: queue.Queue[tuple[Hook, str, dict[str, Any]] | None] = queue.Queue()
        self._done = threading.Condition()
        self._worker: threading.Thread | None = None

    def subscribe(self, url: str, secret: str) -> int:
        """Deliver every later event to `url`, signed with `secret`; returns the hook's id."""
        hook = Hook(len(self._hooks) + 1, url, secret)
        self._hooks.append(hook)
        if self._worker is None:
            self._worker = threading.Thread(target=self._deliver_all, daemon=True, name="standin-github-hooks")
            self._worker.start()
        return hook.id

    def send(self, event: str, payload: Callable[[], dict[str, Any]], hook_id: int | None = None) -> None:
        """Queue `event` for every hook (or the one `hook_id`); the payload is built now, showing the state
        at the change, and only if some hook listens."""
        hooks = [hook for hook in self._hooks if hook_id in (None, hook.id)]
        if not hooks:
            return
        body = payload()
        for hook in hooks:
            self._queue.put((hook, event, body))

    def stop(self) -> None:
        if self._worker is not None:
            self._queue.put(None)
            self._worker.join(timeout=DELIVERY_TIMEOUT)
            self._worker = None

    @property
    def deliveries(self) -> list[Delivery]:
        with self._done:
            return list(self._deliveries)

    def wait_for(self, count: int = 1, timeout: float = 5.0, event: str | None = None) -> list[Delivery]:
        """Block until `count` deliveries (of `event`, if given) were answered or failed."""
        __tracebackhide__ = True
        deadline = time.monotonic() + timeout
        with self._done:
            while len(found := [d for d in self._deliveries if event in (None, d.event)]) < count:
                if time.monotonic() >= deadline:
                    seen = ", ".join(f"{d.event}:{d.action} -> {d.status or d.error}" for d in self._deliveries)
                    raise AssertionError(f"waited {timeout}s for {count} {event or ''} webhook(s); "
                                         f"delivered: {seen or '(nothing)'}")
                self._done.wait(0.05)
            return found

    def _deliver_all(self) -> None:
        while (item := self._queue.get()) is not None:
            delivery = self._deliver(*item)
            with self._done:
                self._deliveries.append(delivery)
                self._done.notify_all()

    def _deliver(self, hook: Hook, event: str, payload: dict[str, Any]) -> Delivery:
        body = json.dumps(payload).encode()
        delivery = Delivery(hook.id, str(uuid.uuid4()), event, payload.get("action"), payload)
        request = urllib.request.Request(hook.url, data=body, method="POST", headers={
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "X-GitHub-Event": event,
            "X-GitHub-Delivery": delivery.id,
            "X-GitHub-Hook-ID": str(hook.id),
            "X-Hub-Signature-256": signature(hook.secret, body),
        })
        try:
            with urllib.request.urlopen(request, timeout=DELIVERY_TIMEOUT) as answer:
                return replace(delivery, status=answer.status)
        except urllib.error.HTTPError as refused:
            return replace(delivery, status=refused.code)
        except (OSError, ValueError) as failed:
            return replace(delivery, error=str(failed))

