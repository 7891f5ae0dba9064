"""`hotfix-bot demo --github`: the same incident on the pull-request path, against the stand-in GitHub over the
demo's own bare remote. The review is an approval on GitHub, CI gates the tag, the tag's deploy check is watched
and the merge-backs are pull requests the bot merges; each thing that happens on GitHub gets one line.

Nothing here listens for webhooks: the bot polls GitHub every 15 s of the demo's clock, as a Socket Mode install
(no public URL) does.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta

from bot import wiring
from bot.demo.incident import Incident, Scene
from bot.demo.requests import SlackRequests
from bot.demo.terminal import line
from bot.demo.world import ALICE, CHEN, EMMA, LEO, REPO, RITA, Person, World, email_of
from bot.service.clock import ManualClock
from bot.standins.github import DEFAULT_TOKEN, Exchange, StandInGitHub
from bot.standins.slack import StandInSlack

OWNER = "acme"
POLL = timedelta(seconds=15)
LOGINS = {ALICE: "alice-gh", EMMA: "emma-gh", LEO: "leo-gh", RITA: "rita-gh", CHEN: "chen-gh"}
GITHUB_CONFIG = """
[github]
poll = "{poll}s"
ci_wait = "10m"

[people]  # Slack user ID = GitHub login
{people}
"""
_NUMBER = re.compile(r"/(?:pulls|issues)/(\d+)(?:/|$)")


class GitHubScene(Scene):
    """The repo is acme/payments on a stand-in GitHub: a local REST API over the demo's bare remote."""

    def __init__(self, *, poll: timedelta = POLL, stand_in: type[StandInGitHub] = StandInGitHub) -> None:
        """`poll`: [github] poll; `stand_in`: the stand-in's class (bench/github.py counts what it is sent)."""
        self.poll, self.stand_in = poll, stand_in
        self.github: StandInGitHub | None = None

    def configure(self, config: str) -> str:
        config = config.replace(f'name = "{REPO}"\n', f'name = "{REPO}"\ngithub = "{OWNER}/{REPO}"\n', 1)
        people = "\n".join(f'{person.user_id} = "{login}"' for person, login in LOGINS.items())
        return config + GITHUB_CONFIG.format(poll=int(self.poll.total_seconds()), people=people)

    @contextmanager
    def started(self, world: World, clock: ManualClock) -> Iterator[dict[str, str]]:
        with self.stand_in(world.remote, str(world.remote), owner=OWNER, repo=REPO, now=clock.now) as github:
            for person, login in LOGINS.items():
                github.add_user(login, email_of(person))  # commits by Alice show alice-gh as their author
            self.github = github
            yield {"GITHUB_TOKEN": DEFAULT_TOKEN, "GITHUB_API_URL": github.url}

    def incident(self, bot: wiring.Bot, slack: StandInSlack, requests: SlackRequests, clock: ManualClock,
                 world: World, out: Callable[[str], None]) -> Incident:
        assert self.github is not None, "started() runs first"
        return PullRequestIncident(bot, slack, requests, clock, world, out, self.github, poll=self.poll)


class PullRequestIncident(Incident):
    """The incident of the plain demo, with the review, CI and the merge-backs on GitHub."""

    def __init__(self, bot: wiring.Bot, slack: StandInSlack, requests: SlackRequests, clock: ManualClock,
                 world: World, out: Callable[[str], None], github: StandInGitHub, *, poll: timedelta = POLL) -> None:
        super().__init__(bot, slack, requests, clock, world, out)
        self.github, self.poll_every = github, poll
        self._github_shown = 0

    def play(self) -> str:
        self.out(f"A HIGH incident in {REPO} ({OWNER}/{REPO} on a stand-in GitHub), played against a stand-in "
                 f"Slack and a git remote in {self.world.root}\n")
        self.declare()
        self.later(3, EMMA, "Approve")
        self.later(2, LEO, "Approve")
        head = self.fix_and_ask_for_review(after=12)
        self.check(head, "tests", conclusion=None)
        self.poll()
        self.clock.advance(timedelta(minutes=6))
        self.on_github(RITA, "approved pull request #1", lambda: self.github.add_review(1, LOGINS[RITA], "APPROVED"))
        self.poll()
        self.check(head, "tests", conclusion="success")
        self.poll()
        self.later(2, ALICE, "Tag & deploy")
        tag = self.bot.service.read.get(self.key).tag or ""
        self.check(tag, "deploy-production", conclusion=None)
        self.poll()
        self.clock.advance(timedelta(minutes=3))
        self.check(tag, "deploy-production", conclusion="success")
        self.poll()
        self.let_time_pass(minutes=10)
        self.let_time_pass(minutes=20)
        self.later(2, LEO, "Stable")
        self.later(3, ALICE, "Close")
        return self.key

    # --- what people and CI do on GitHub ----------------------------------------------------------------------------
    def on_github(self, person: Person, what: str, act: Callable[[], object]) -> None:
        act()
        self.out(line(self.clock.now(), f"GitHub: {person.name} {what}"))

    def check(self, ref: str, name: str, *, conclusion: str | None) -> None:
        """CI reports the check `name` on the commit `ref` names: running (conclusion None), or finished."""
        status = "in_progress" if conclusion is None else "completed"
        self.github.set_check_run(ref, name, status=status, conclusion=conclusion)
        sha = self.github.repository.git.rev(ref) if self.github.repository else None
        on = f"{ref} ({sha[:7]})" if sha and sha != ref else (ref[:7])
        what = "started" if conclusion is None else ("passed" if conclusion == "success" else conclusion)
        self.out(line(self.clock.now(), f"GitHub: CI check {name} {what} on {on}"))

    def poll(self) -> None:
        """The bot's next read of GitHub comes due ([github] poll); what it learnt reaches the thread."""
        self.clock.advance(self.poll_every)
        self.fire_due_timers()
        self.settle()

    # --- what the bot does on GitHub --------------------------------------------------------------------------------
    def show_new(self) -> None:
        exchanges = self.github.requests[self._github_shown:]
        self._github_shown += len(exchanges)
        for exchange in exchanges:
            if said := self.describe_request(exchange):
                self.out(line(self.clock.now(), f"GitHub: {said}"))
        super().show_new()

    def describe_request(self, exchange: Exchange) -> str | None:
        """One line for each change the bot made on GitHub (or tried to); reads are not shown."""
        if exchange.method == "GET" or exchange.operation is None:
            return None
        found = _NUMBER.search(exchange.path)
        number = int(found.group(1)) if found else None
        answer = exchange.answer if isinstance(exchange.answer, dict) else {}
        if exchange.status >= 300:
            return f"HTTP {exchange.status} to hotfix-bot's {exchange.operation}: {answer.get('message', '')}".rstrip()
        body = exchange.body if isinstance(exchange.body, dict) else {}
        match exchange.operation:
            case "pulls/create":
                return (f"hotfix-bot opened pull request #{answer.get('number')} “{body.get('title')}” "
                        f"({body.get('head')} into {body.get('base')})")
            case "issues/create-label":
                return f"hotfix-bot created the label {body.get('name')}"
            case "issues/add-labels":
                return f"hotfix-bot labelled pull request #{number} {', '.join(body.get('labels', []))}"
            case "pulls/request-reviewers":
                return f"hotfix-bot asked {self.named(body.get('reviewers', []))} to review pull request #{number}"
            case "pulls/merge" if number is not None:
                base, method = self.github.pull(number).base, body.get("merge_method", "merge")
                return f"hotfix-bot merged pull request #{number} into {base} ({method} commit)"
        return f"hotfix-bot called {exchange.operation}"

    def named(self, logins: list[str]) -> str:
        names = {login: person.name for person, login in LOGINS.items()}
        return ", ".join(f"{names[login]} ({login})" if login in names else login for login in logins) or "nobody"
