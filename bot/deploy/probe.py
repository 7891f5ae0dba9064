"""The deploy probe: polls a repository's health and version endpoints and reports what they said to the service.

Plain GETs with a short timeout and no shell. A failing endpoint is a result to report, never a reason to retry.
"""
from __future__ import annotations

import http.client
import logging
import urllib.error
import urllib.request

from bot.domain.deploy import reports_version
from bot.domain.hotfix import Stage
from bot.service.hotfixes import PROBE_DEPLOY, HotfixService
from bot.service.runner import Handler
from bot.store.jobs import Job

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 5.0
_BODY_MAX = 64 * 1024
_DETAIL_MAX = 200


class DeployProbe:
    def __init__(self, service: HotfixService, *, timeout: float = TIMEOUT_SECONDS) -> None:
        self.service = service
        self.timeout = timeout

    @property
    def handlers(self) -> dict[str, Handler]:
        return {PROBE_DEPLOY: self.probe_deploy}

    def probe_deploy(self, job: Job) -> None:
        hotfix = self.service.get(f"HF-{job.hotfix_id}")
        spec = self.service.repos.get(hotfix.repo)
        if spec is None or hotfix.stage is not Stage.MONITORING or not hotfix.tag:
            return  # monitoring ended (or the repo left hotfix.toml) while the job waited
        healthy, detail = self.health(spec.health_url)
        live = self.live(spec.version_url, hotfix.tag)
        log.debug("%s probe: healthy=%s live=%s", hotfix.key, healthy, live, extra={"hotfix": hotfix.key})
        self.service.record_probe(hotfix.key, healthy=healthy, detail=detail, live=live)

    def health(self, url: str | None) -> tuple[bool | None, str]:
        if not url:
            return None, ""
        try:
            self._get(url)
        except _NO_ANSWER as err:
            return False, _describe(err)[:_DETAIL_MAX]
        return True, ""

    def live(self, url: str | None, tag: str) -> bool | None:
        """None when the endpoint cannot say: unknown is not "not live"."""
        if not url:
            return None
        try:
            return reports_version(self._get(url), tag)
        except _NO_ANSWER:
            return None

    def _get(self, url: str) -> str:
        """The body of a 2xx answer; urllib raises HTTPError for any other status."""
        if not url.startswith(("http://", "https://")):  # urllib would also open file:// and ftp://
            raise urllib.error.URLError("not an http(s) URL")
        request = urllib.request.Request(url, headers={"User-Agent": "hotfix-bot"})
        with urllib.request.urlopen(request, timeout=self.timeout) as response:
            return response.read(_BODY_MAX).decode("utf-8", "replace")


_NO_ANSWER = (OSError, http.client.HTTPException)  # URLError, HTTPError and timeouts are OSErrors


def _describe(err: BaseException) -> str:
    """Short and without the URL, which may carry a token."""
    if isinstance(err, urllib.error.HTTPError):
        return f"HTTP {err.code} {err.reason}".strip()
    if isinstance(err, urllib.error.URLError):
        return f"no answer ({err.reason})"
    if isinstance(err, TimeoutError):
        return "no answer within the timeout"
    return f"no answer ({type(err).__name__})"
