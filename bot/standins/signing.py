"""Sign a request body exactly as Slack signs what it sends to the app."""

from __future__ import annotations

import time

from slack_sdk.signature import SignatureVerifier

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


def signed_headers(secret: str, body: str, *, timestamp: int | None = None,
                   content_type: str | None = None) -> dict[str, str]:
    """Headers for POSTing `body` to /slack/events; Content-Type is JSON for a JSON body, else form."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=stamp, body=body)
    return {
        "Content-Type": content_type or (JSON if body.lstrip().startswith("{") else FORM),
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": signature,
    }
