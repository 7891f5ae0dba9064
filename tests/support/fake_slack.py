"""The stand-in Slack with Slack's own checks: every call against Slack's OpenAPI spec and Block Kit limits."""

from __future__ import annotations

from typing import Any

from bot.standins.slack import StandInSlack
from bot.standins.slack_http import Request
from tests.support import block_kit_limits, fake_slack_spec

MISSING_FALLBACK_TEXT = "blocks without a `text` fallback (Slack warns; screen readers need it)"


class FakeSlack(StandInSlack):
    """A ThreadingHTTPServer on 127.0.0.1:0 speaking Slack's Web API at `url`.

    Tests end with `assert_no_problems()`: every refused or doubtful call is listed in `problems`.
    """

    def start(self) -> FakeSlack:
        fake_slack_spec.load_methods(fake_slack_spec.spec_path())  # fail here, with the reason, not in a request
        super().start()
        return self

    def __enter__(self) -> FakeSlack:
        return self.start()

    def _refused_outright(self, method: str, request: Request) -> dict[str, Any] | None:
        if fake_slack_spec.method_spec(method) is None:
            self._problems.append(f"{method}: no such Web API method")
            return {"ok": False, "error": "unknown_method"}
        token = request.token
        auth_error = fake_slack_spec.auth_error(method, token, self._valid_tokens)
        if auth_error:
            reason = "token not accepted" if token else "token missing"
            self._problems.append(f"{method}: {auth_error} ({reason})")
            return {"ok": False, "error": auth_error}
        return None

    def _problems_in(self, method: str, args: dict[str, Any]) -> list[str]:
        spec = fake_slack_spec.method_spec(method)
        spec_problems = fake_slack_spec.argument_problems(spec, args) if spec is not None else []
        return [*spec_problems, *block_kit_limits.request_problems(method, args)]

    def _doubts(self, method: str, args: dict[str, Any]) -> list[str]:
        return [MISSING_FALLBACK_TEXT] if block_kit_limits.lacks_fallback_text(method, args) else []
