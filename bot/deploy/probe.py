"""The deploy probe: polls a repository's health and version endpoints and reports what they said to the service.

Plain GETs with a short timeout and no shell. A failing endpoint is a result to report, never a reason to retry.
"""
from __future__ import annotations

import http.client
import logging
import urllib.error
import urllib.request

from collections.abc import Callable, Mapping

from bot.domain.deploy import reports_version
from bot.domain.hotfix import Stage
from bot.domain.repo import RepoSpec
from bot.service.jobs import ProbeJob
from bot.service.queries import Queries
from bot.service.reports import WorkerReports

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 5.0
_BODY_MAX = 64 * 1024
_DETAIL_MAX = 200


class DeployProbe:
    def __init__(self, reports: WorkerReports, read: Queries, repos: Callable[[], Mapping[str, RepoSpec]], *,
                 timeout: float = TIMEOUT_SECONDS) -> None:
        self.reports, self.read, self.repos = reports, read, repos
        self.timeout = timeout

    @property
    def handlers(self) -> dict[type, Callable[[ProbeJob, int], None]]:
        return {ProbeJob: self.probe_deploy}

    def probe_deploy(self, job: ProbeJob, attempt: int = 1) -> None:
        hotfix = self.read.load(job.hotfix)
        spec = self.repos().get(hotfix.repo)
        if spec is None or hotfix.stage is not Stage.MONITORING or not hotfix.tag:
            return  # monitoring ended (or the repo left hotfix.toml) while the job waited
        healthy, detail = self.health(spec.health_url)
        live = self.live(spec.version_url, hotfix.tag)
        log.debug("%s probe: healthy=%s live=%s", hotfix.key, healthy, live, extra={"hotfix": hotfix.key})
        self.reports.record_probe(job.hotfix, healthy=healthy, detail=detail, live=live)

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
