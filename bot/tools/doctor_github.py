"""`hotfix-bot doctor` on GitHub: for every repo that names a GitHub repository, what the token or the GitHub App
may do there. Reads only: a token's write permissions are said to be unverified rather than tried; an App's
installation says what it was granted."""
from __future__ import annotations

from collections.abc import Generator

from bot.codehost.github_app import AppNotInstalled
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
GRANT_APP = ("give the App {missing} (its settings, Permissions & events), then accept the new permissions on its "
             "installation for {owner}")
APP_KEYS = "check GITHUB_APP_ID and GITHUB_APP_PRIVATE_KEY (the App's settings: App ID, Private keys)"


def check_github(settings: Settings, config: HotfixConfig) -> Generator[Check, None, None]:
    """Nothing at all when no repo is on GitHub; otherwise one line for the set-up, then one per repo."""
    repos = [(repo, repo.github) for repo in config.repos if repo.github is not None]
    if not repos:
        return
    problem = credentials_problem(settings.github, config.repos)
    host = None if problem else code_host(settings, config, timeout=GITHUB_TIMEOUT_SECONDS)
    if host is None:  # no token and no App: the problem says what to set
        yield Check(False, f"GitHub: {problem}")
        return
    api, app = redact(settings.github_api_url(config)), settings.github.uses_app
    yield _setup(settings, config, api)
    for repo, github in repos:
        try:
            access = host.permissions(github)
        except AppNotInstalled as missing:
            yield Check(False, f"GitHub {github} (repo {repo.name}): the App is not installed there",
                        str(missing).partition(": ")[2])
            continue
        except CodeHostRefused as refused:  # the token or the App itself (401): no other repo will do better
            yield Check(False, f"GitHub at {api}: {refused}", APP_KEYS if app else f"set GITHUB_TOKEN to {TOKEN_HELP}")
            return
        except CodeHostUnavailable as down:
            yield Check(False, f"GitHub at {api}: {down}",
                        "check this host's network and proxy, and GITHUB_API_URL or [github] api_url")
            return
        yield repo_check(repo, access, app=app)


def _setup(settings: Settings, config: HotfixConfig, api: str) -> Check:
    reviewers = config.roles.get(REVIEWER, ())
    mapped = sum(user in config.people for user in reviewers)
    github = settings.github
    who = f"GitHub App {github.app_id} (no GITHUB_TOKEN)" if github.uses_app else "GITHUB_TOKEN set"
    app = "; GITHUB_APP_ID is not used (GITHUB_TOKEN wins)" if github.app_id and not github.uses_app else ""
    return Check(True, f"GitHub at {api}: {who}; {mapped} of {len(reviewers)} reviewers have a GitHub login in "
                       f"[people]{app}")


def repo_check(repo: RepoSpec, access: RepoAccess, *, app: bool = False) -> Check:
    where, holder = f"GitHub {repo.github} (repo {repo.name})", "the App" if app else "the token"
    if any(permission.startswith(REPOSITORY) for permission in access.missing):
        return Check(False, f"{where}: not found, or {holder} cannot see it",
                     f'check github = "{repo.github}" in [[repos]] {repo.name}, and give {holder} access to '
                     "that repository")
    if access.missing:
        missing = ", ".join(access.missing)
        owner = (repo.github or "").partition("/")[0]
        grant = GRANT_APP.format(missing=missing, owner=owner) if app else GRANT.format(missing=missing,
                                                                                        repo=repo.github)
        return Check(False, f"{where}: {holder} lacks {missing}", grant)
    if access.unverified:
        writes = f"write ({', '.join(access.unverified)}) unverified: a token shows it only when it writes"
    else:
        writes = "write verified" if not app else "writes pull requests and contents (the installation's permissions)"
    return Check(True, f"{where}: {READS}; {writes}")
