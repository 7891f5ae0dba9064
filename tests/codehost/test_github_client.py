"""The adapter's own parts: writes spaced as GitHub asks, the ETag cache's bound, and its import boundary."""

from __future__ import annotations

import ast
from pathlib import Path

import httpx
import pytest

from bot.codehost.github_client import ConditionalCache, SerialThrottler
from bot.codehost.github_parse import merge_refusal
from bot.domain.codehost import MergeRefusal

CODEHOST = Path(__file__).resolve().parents[2] / "bot" / "codehost"
FORBIDDEN = ("bot.store", "bot.slack", "bot.git", "bot.service", "bot.wiring", "bot.standins")


def request(method: str) -> httpx.Request:
    return httpx.Request(method, "https://api.github.com/repos/acme/payments/pulls")


def test_writes_are_spaced_and_reads_are_not():
    slept: list[float] = []
    throttler = SerialThrottler(interval=1.0, sleep=slept.append)

    for method in ("POST", "GET", "POST", "PUT"):
        with throttler.acquire(request(method)):
            pass

    assert len(slept) == 2 and all(0.9 < wait <= 1.0 for wait in slept)


def test_the_cache_keeps_the_most_recently_used_answers():
    cache = ConditionalCache(size=2)
    cache.put("a", '"1"', 1)
    cache.put("b", '"2"', 2)
    cache.get("a")
    cache.put("c", '"3"', 3)

    assert (cache.get("a").value, cache.get("b"), cache.get("c").value) == (1, None, 3)


@pytest.mark.parametrize("status, message, mergeable, reason", [
    (409, "Head branch was modified. Review and try the merge again.", True, MergeRefusal.HEAD_MOVED),
    (405, "At least 1 approving review is required by reviewers with write access.", True,
     MergeRefusal.REQUIRED_REVIEW),
    (405, "Changes have been requested.", True, MergeRefusal.REQUIRED_REVIEW),
    (405, 'Required status check "ci" is expected.', True, MergeRefusal.FAILING_CHECKS),
    (405, "Pull Request is not mergeable", False, MergeRefusal.CONFLICT),
    (405, "Pull Request is not mergeable", None, MergeRefusal.NOT_ALLOWED),
    (405, "Merge commits are not allowed on this repository.", True, MergeRefusal.NOT_ALLOWED),
])
def test_githubs_refusals_are_read_into_reasons(status, message, mergeable, reason):
    assert merge_refusal(status, message, mergeable) is reason


# The worker reports to the service, as the git worker does; the GitHub client under it knows nothing of it.
@pytest.mark.parametrize("path", sorted(p for p in CODEHOST.glob("*.py") if p.name != "worker.py"),
                         ids=lambda p: p.name)
def test_the_adapter_imports_no_other_adapter_store_or_service(path: Path):
    modules = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
        elif isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)

    assert not {m for m in modules for f in FORBIDDEN if m == f or m.startswith(f + ".")}
