"""The HTTP side of the stand-in GitHub: the request handler, and reading credentials, bodies, pages and ETags."""

from __future__ import annotations

import base64
import binascii
import json
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import urlencode

API_VERSIONS = frozenset({"2022-11-28", "2026-03-10"})
JWT_LONGEST_LIFE = 600  # seconds: GitHub refuses a JWT whose exp is more than 10 minutes after iat


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _handle(self) -> None:
        github = self.server.github  # type: ignore[attr-defined]  # the StandInGitHub that owns this server
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {name.lower(): value for name, value in self.headers.items()}
        status, payload, reply_headers = github.answer(self.command, self.path, headers, raw)
        self.send_response(status)
        for name, value in reply_headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _handle

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep test output quiet; requests are recorded instead


def json_body(raw: bytes) -> tuple[Any, list[str]]:
    if not raw:
        return None, []
    try:
        return json.loads(raw), []
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None, ["the body is not JSON (Problems parsing JSON)"]


def version_problems(headers: dict[str, str]) -> list[str]:
    version = headers.get("x-github-api-version")
    if version is None or version in API_VERSIONS:
        return []
    return [
        f"X-GitHub-Api-Version {version!r} is not a supported version ({', '.join(sorted(API_VERSIONS))})"
    ]


def jwt_problem(token: str, app_id: int) -> str | None:
    """What makes `token` not a GitHub App JWT by its shape (the signature is not checked)."""
    parts = token.split(".")
    if len(parts) != 3 or not all(parts):
        return "the JWT is not three base64url parts"
    try:
        header, claims = (
            json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))) for part in parts[:2]
        )
    except (binascii.Error, ValueError):
        return "the JWT's header or claims are not base64url JSON"
    if header.get("alg") != "RS256":
        return f"the JWT is signed with {header.get('alg')!r}, GitHub Apps use RS256"
    if str(claims.get("iss")) != str(app_id):
        return f"the JWT's issuer {claims.get('iss')!r} is not the app id {app_id}"
    iat, exp = claims.get("iat"), claims.get("exp")
    if not isinstance(iat, int) or not isinstance(exp, int) or not 0 < exp - iat <= JWT_LONGEST_LIFE:
        return "the JWT needs integer iat and exp, exp at most 10 minutes after iat"
    return None


def page(items: list[Any], path: str, query: dict[str, list[str]]) -> tuple[list[Any], str | None]:
    per_page = min(int(query.get("per_page", ["30"])[0]), 100)
    page = int(query.get("page", ["1"])[0])
    last = max(1, -(-len(items) // per_page))
    links = {
        "prev": page - 1 if page > 1 else None,
        "next": page + 1 if page < last else None,
        "last": last if page < last else None,
        "first": 1 if page > 1 else None,
    }

    def link(number: int) -> str:
        kept = {name: values[0] for name, values in query.items() if name != "page"}
        return f"<{path}?{urlencode({**kept, 'page': number})}>"

    header = ", ".join(f'{link(number)}; rel="{rel}"' for rel, number in links.items() if number)
    return items[(page - 1) * per_page : page * per_page], header or None


def etag_matches(if_none_match: str, etag: str) -> bool:
    given = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",") if tag.strip()}
    return "*" in given or etag.removeprefix("W/") in given
