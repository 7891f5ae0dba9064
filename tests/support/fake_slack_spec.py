"""Which Web API methods exist and which arguments they require, from Slack's OpenAPI spec."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

SPEC_ENV_VAR = "SLACK_API_SPEC"
DEFAULT_SPEC_PATH = Path(__file__).resolve().parent / "specs" / "slack_web_openapi_v2.json"  # source: specs/README.md

# Methods the bot may call that the October 2020 spec predates (its README, "Known limits").
METHODS_MISSING_FROM_SPEC: dict[str, tuple[str, ...]] = {
    "apps.connections.open": (),  # Socket Mode (2021); authenticated by the app-level xapp- token alone
    "files.getUploadURLExternal": ("filename", "length"),  # step 1 of files_upload_v2 (2023)
    "files.completeUploadExternal": ("files",),  # step 2 of files_upload_v2 (2023)
}
# Where the live API is stricter than the spec's `required` flags (README: "looser than the live API").
REQUIRED_BEYOND_SPEC: dict[str, tuple[str, ...]] = {
    "users.info": ("user",),
    "conversations.info": ("channel",),
    "conversations.replies": ("channel", "ts"),
    "views.update": ("view",),
}
# The live API answers `no_text` or `invalid_arguments` unless at least one of these is given.
ONE_OF_REQUIRED: dict[str, tuple[str, ...]] = {
    "chat.postMessage": ("text", "blocks", "attachments"),
    "chat.postEphemeral": ("text", "blocks", "attachments"),
    "chat.update": ("text", "blocks", "attachments"),
    "views.update": ("view_id", "external_id"),
    "conversations.open": ("channel", "users"),
}
METHODS_WITHOUT_AUTH = frozenset({"api.test", "oauth.access", "oauth.v2.access", "openid.connect.token"})
TOKEN_PREFIXES = ("xoxb-", "xoxp-", "xapp-")


@dataclass(frozen=True)
class MethodSpec:
    name: str
    required: tuple[str, ...]
    example: dict[str, Any] | None = None


def spec_path() -> Path:
    return Path(os.environ.get(SPEC_ENV_VAR) or DEFAULT_SPEC_PATH)


def method_spec(method: str) -> MethodSpec | None:
    """The method as the spec (or the explicit allow-list) describes it; None if Slack has no such method."""
    if method in METHODS_MISSING_FROM_SPEC:
        return MethodSpec(method, METHODS_MISSING_FROM_SPEC[method])
    return load_methods(spec_path()).get(method)


@lru_cache(maxsize=4)
def load_methods(path: Path) -> dict[str, MethodSpec]:
    if not path.is_file():
        raise FileNotFoundError(
            f"Slack's Web API spec is not at {path}: the tests validate every Slack call against it. "
            f"It ships in tests/support/specs/; restore it from git, or set {SPEC_ENV_VAR} to its path."
        )
    spec = json.loads(path.read_text(encoding="utf-8"))
    methods = {}
    for route, operations in spec["paths"].items():
        name = route.lstrip("/")
        operation = next(iter(operations.values()))
        required = tuple(
            p["name"] for p in operation.get("parameters", []) if p.get("required") and p["name"] != "token"
        )
        methods[name] = MethodSpec(name, required + REQUIRED_BEYOND_SPEC.get(name, ()), _example(operation))
    return methods


def _example(operation: dict[str, Any]) -> dict[str, Any] | None:
    examples = operation.get("responses", {}).get("200", {}).get("examples", {})
    return examples.get("application/json")


def argument_problems(spec: MethodSpec, args: dict[str, Any]) -> list[str]:
    problems = [f"missing required argument {name!r}" for name in spec.required if _absent(args.get(name))]
    one_of = ONE_OF_REQUIRED.get(spec.name)
    if one_of and all(_absent(args.get(name)) for name in one_of):
        problems.append(f"needs one of {', '.join(one_of)}")
    return problems


def auth_error(method: str, token: str | None, valid_tokens: frozenset[str] | None) -> str | None:
    """Slack's error code for the credentials of a call, or None when they are fine."""
    if method in METHODS_WITHOUT_AUTH:
        return None
    if not token:
        return "not_authed"
    if valid_tokens is not None:
        return None if token in valid_tokens else "invalid_auth"
    return None if token.startswith(TOKEN_PREFIXES) else "invalid_auth"


def _absent(value: Any) -> bool:
    return value is None or value == ""
