"""The demo's throwaway world in one directory: a bare git remote with releases, the team's config, and a
clone an engineer pushes the fix from. Git runs with argument lists, never through a shell."""
from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

CHANNEL = "C0HOTFIX"
REPO = "payments"


@dataclass(frozen=True)
class Person:
    user_id: str
    name: str
    role: str

    @property
    def described(self) -> str:
        return f"{self.name} ({self.role})"


ALICE = Person("U0ALICE", "Alice", "on-call engineer")
EMMA = Person("U0EMMA", "Emma", "engineering manager")
LEO = Person("U0LEO", "Leo", "on-call lead")
RITA = Person("U0RITA", "Rita", "reviewer")
CHEN = Person("U0CHEN", "Chen", "CTO")
PEOPLE = {p.user_id: p for p in (ALICE, EMMA, LEO, RITA, CHEN)}

CHECKOUT_BUG = "def charge_total(cart, card):\n    if card.expires_at < today():\n        raise ServerError()\n" \
               "    return sum(item.price for item in cart)\n"
CHECKOUT_FIX = CHECKOUT_BUG.replace("raise ServerError()", "raise CardExpired(card)")

CONFIG = """\
# Written by `hotfix-bot demo`: the team's configuration for this throwaway world.
[slack]
channel = "{channel}"

[[repos]]
name = "{repo}"
url = "{remote}"
flow = "production-tag"
production_tag = "v*"
main = "main"
merge_back = ["main", "develop"]

[approvals]
critical = ["engineering_manager", "oncall_lead", "cto"]
high = ["engineering_manager", "oncall_lead"]

[roles]
engineering_manager = ["{emma}"]
oncall_lead = ["{leo}"]
cto = ["{chen}"]
reviewer = ["{rita}"]

[timers]
review_sla = "30m"
monitoring_window = "30m"
monitoring_checkin = "10m"
merge_back_due = "30m"
"""


class GitFailed(Exception):
    """A git command of the demo's own set-up failed; str(err) says which and why."""


@dataclass(frozen=True)
class World:
    root: Path

    @property
    def remote(self) -> Path:
        return self.root / f"{REPO}.git"

    @property
    def config_path(self) -> Path:
        return self.root / "hotfix.toml"

    @property
    def database(self) -> Path:
        return self.root / "hotfix.db"

    @property
    def database_url(self) -> str:
        return f"sqlite:///{self.database}"

    @property
    def workdir(self) -> Path:
        return self.root / "bot-work"

    def environment(self, slack_api_url: str) -> dict[str, str]:
        """What an operator would put in .env; the token and secret are made up, nothing leaves this machine."""
        return {
            "SLACK_BOT_TOKEN": "xoxb-demo-0000-not-a-real-token",
            "SLACK_SIGNING_SECRET": "demo-signing-secret-not-used-anywhere-else",
            "SLACK_API_URL": slack_api_url,
            "DATABASE_URL": self.database_url,
            "HOTFIX_CONFIG": str(self.config_path),
            "HOTFIX_WORKDIR": str(self.workdir),
        }


def create_world(root: Path, *, configure: Callable[[str], str] = lambda config: config) -> World:
    """`configure` edits the team's hotfix.toml before it is written (the GitHub demo names the repo on GitHub)."""
    world = World(root)
    _seed_releases(world)
    config = CONFIG.format(channel=CHANNEL, repo=REPO, remote=world.remote, emma=EMMA.user_id, leo=LEO.user_id,
                           chen=CHEN.user_id, rita=RITA.user_id)
    world.config_path.write_text(configure(config))
    return world


def push_fix(world: World, engineer: Person, branch: str) -> str:
    """The engineer clones the remote, fixes checkout.py on the hotfix branch and pushes; returns the commit."""
    clone = world.root / f"{engineer.name.lower()}-clone"
    if not clone.exists():
        git(world.root, "clone", "--quiet", str(world.remote), clone.name, person=engineer)
    git(clone, "fetch", "--quiet", "origin", person=engineer)
    git(clone, "checkout", "--quiet", "-B", branch, f"origin/{branch}", person=engineer)
    (clone / "checkout.py").write_text(CHECKOUT_FIX)
    git(clone, "commit", "--quiet", "-am", "Expired cards get a clear error, not a 500", person=engineer)
    git(clone, "push", "--quiet", "origin", f"HEAD:refs/heads/{branch}", person=engineer)
    return git(clone, "rev-parse", "HEAD", person=engineer)


def remote_history(world: World) -> str:
    """The remote's branches and tags as `git log --graph` draws them."""
    return git(world.remote, "log", "--graph", "--format=%h%d %s", "--all", "-n", "12", person=CHEN)


def _seed_releases(world: World) -> None:
    """v1.0.0 and v1.1.0 released from main; since then main has unreleased work and develop a change of its own."""
    releaser = Person("U0RELEASE", "Release Bot", "release automation")
    seed = world.root / "seed"
    git(world.root, "init", "--quiet", "--initial-branch=main", seed.name, person=releaser)
    _commit(seed, "checkout.py", CHECKOUT_BUG, "Checkout", releaser)
    _commit(seed, "payments.py", "def charge(card):\n    return gateway.charge(card)\n", "Payments", releaser)
    git(seed, "tag", "-a", "v1.0.0", "-m", "Release 1.0.0", person=releaser)
    _commit(seed, "README.md", "# Payments\n", "Readme", releaser)
    git(seed, "tag", "-a", "v1.1.0", "-m", "Release 1.1.0", person=releaser)
    git(seed, "checkout", "--quiet", "-b", "develop", person=releaser)
    _commit(seed, "payments.py", "def charge(card, retries=3):\n    return gateway.charge(card, retries)\n",
            "Retry card charges", releaser)
    git(seed, "checkout", "--quiet", "main", person=releaser)
    _commit(seed, "wallets.py", "WALLETS_ENABLED = False\n", "Wallets, not released yet", releaser)
    git(world.root, "init", "--quiet", "--bare", "--initial-branch=main", world.remote.name, person=releaser)
    git(seed, "push", "--quiet", "--tags", str(world.remote), "main", "develop", person=releaser)


def _commit(clone: Path, filename: str, content: str, message: str, person: Person) -> None:
    (clone / filename).write_text(content)
    git(clone, "add", "--", filename, person=person)
    git(clone, "commit", "--quiet", "-m", message, person=person)


def git(cwd: Path, *args: str, person: Person) -> str:
    result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, env=_git_env(person), timeout=60)
    if result.returncode != 0:
        raise GitFailed(f"git {' '.join(args)} failed in {cwd}: {result.stderr.strip()}")
    return result.stdout.strip()


def email_of(person: Person) -> str:
    return f"{person.name.lower().replace(' ', '.')}@example.com"


def _git_env(person: Person) -> dict[str, str]:
    """The person's identity, and none of this machine's git config (signing, hooks, aliases)."""
    email = email_of(person)
    return {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1", "GIT_TERMINAL_PROMPT": "0",
            "GIT_AUTHOR_NAME": person.name, "GIT_AUTHOR_EMAIL": email,
            "GIT_COMMITTER_NAME": person.name, "GIT_COMMITTER_EMAIL": email}
