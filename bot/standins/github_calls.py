"""A REST call as the stand-in GitHub's handlers see it, and the answer they give."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any = None
    headers: tuple[tuple[str, str], ...] = ()
    paged: bool = False  # a list the server pages with per_page/page and a Link header


@dataclass(frozen=True)
class Call:
    path: dict[str, str]
    query: dict[str, str]
    body: Any
    login: str
    now: datetime


def error(status: int, message: str, errors: list[dict[str, Any]] | None = None) -> Answer:
    body: dict[str, Any] = {"message": message, "documentation_url": "https://docs.github.com/rest"}
    if errors is not None:
        body["errors"] = errors
    return Answer(status, body)


def invalid(resource: str, field_name: str, message: str | None = None, code: str = "invalid") -> Answer:
    detail = {"resource": resource, "field": field_name, "code": code}
    return error(422, "Validation Failed", [{**detail, "message": message} if message else detail])
