"""`hotfix-bot doctor` on GitHub: for every repo that names a GitHub repository, what the token may do there.
Reads only: the write permissions a pull request needs are said to be unverified rather than tried."""
from __future__ import annotations

from collections.abc import Generator

from bot.codehost.port import CodeHostRefused, CodeHostUnavailable
from bot.config import HotfixConfig, Settings
from bot.config_github import TOKEN_HELP, credentials_problem
from bot.domain.codehost import RepoAccess
from bot.domain.policy import REVIEWER
from bot.domain.repo import RepoSpec
from bot.logs import redact
from bot.tools.doctor_check import Check
from bot.wiring import code_host

GITHUB_TIMEOUT_SECONDS = 10.0
READS = "reads the repository, pull requests, checks and statuses"
REPOSITORY = "metadata: read"
GRANT = ("grant the token {missing} on {repo} (fine-grained token: Repository permissions; classic token: the repo "
         "scope), or use a token of someone who has them")


def check_github(settings: Settings, config: HotfixConfig) -> Generator[Check, None, None]:
    """Nothing at all when no repo is on GitHub; otherwise one line for the set-up, then one per repo."""
    repos = [(repo, repo.github) for repo in config.repos if repo.github is not None]
    if not repos:
        return
    problem = credentials_problem(settings.github, config.repos)
    host = None if problem else code_host(settings, config, timeout=GITHUB_TIMEOUT_SECONDS)
    if host is None:  # no token: the problem says what to set
        yield Check(False, f"GitHub: {problem}")
        return
    api = redact(settings.github_api_url(config))
    yield _setup(settings, config, api)
    for repo, github in repos:
        try:
            access = host.permissions(github)
        except CodeHostRefused as refused:  # the token itself (401): no other repo will do better
            yield Check(False, f"GitHub at {api}: {refused}", f"set GITHUB_TOKEN to {TOKEN_HELP}")
            return
        except CodeHostUnavailable as down:
            yield Check(False, f"GitHub at {api}: {down}",
                        "check this host's network and proxy, and GITHUB_API_URL or [github] api_url")
            return
        yield repo_check(repo, access)


def _setup(settings: Settings, config: HotfixConfig, api: str) -> Check:
    reviewers = config.roles.get(REVIEWER, ())
    mapped = sum(user in config.people for user in reviewers)
    app = "; GITHUB_APP_ID is not used (App authentication is not supported yet)" if settings.github.app_id else ""
    return Check(True, f"GitHub at {api}: GITHUB_TOKEN set; {mapped} of {len(reviewers)} reviewers have a GitHub "
                       f"login in [people]{app}")


def repo_check(repo: RepoSpec, access: RepoAccess) -> Check:
    where = f"GitHub {repo.github} (repo {repo.name})"
    if any(permission.startswith(REPOSITORY) for permission in access.missing):
        return Check(False, f"{where}: not found, or the token cannot see it",
                     f'check github = "{repo.github}" in [[repos]] {repo.name}, and give the token access to '
                     "that repository")
    if access.missing:
        missing = ", ".join(access.missing)
        return Check(False, f"{where}: the token lacks {missing}", GRANT.format(missing=missing, repo=repo.github))
    if access.unverified:
        writes = f"write ({', '.join(access.unverified)}) unverified: a token shows it only when it writes"
    else:
        writes = "write verified"
    return Check(True, f"{where}: {READS}; {writes}")
