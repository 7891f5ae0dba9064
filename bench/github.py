"""GitHub requests per hotfix, and the lead time the bot adds from a GitHub event to the Slack thread.

Run: .venv/bin/python bench/github.py [--review-polls 10] [--ci-polls 5] [--deploy-polls 4] [--runs 20] [--quick]
  --review-polls N  polls while the pull request waits for Rita's approval (CI running meanwhile)
  --ci-polls N      polls after the approval until CI is green
  --deploy-polls N  polls while the tag's deploy check runs
  --runs N          (20) measurements per way of hearing about a review, in the lead-time part
  --quick           --runs 4, and only the first 10 minutes of monitoring polled: a smoke run

Everything is the bot's own code, assembled by bot.wiring.build as `serve` does, against the stand-in Slack and
the stand-in GitHub (bot/standins) over a real bare remote: the world, the people and the clicks are the
demo's (bot/demo: `hotfix-bot demo --github`), played through signed HTTP requests to the bot.

(a) Requests. One HIGH hotfix from declare to close on the pull-request path, on the demo's clock (a
    ManualClock moved one [github] poll = 15 s at a time, each poll's work settled before the next). The
    stand-in counts every request by GitHub's operationId, whether it carried If-None-Match, whether it was
    answered 304, and what it cost against the rate limit (a 304 costs nothing). Phases: up to Ready for
    review (the pull request opened); review (--review-polls polls, then Rita approves on GitHub and CI is
    still running); CI (--ci-polls polls, the last one green); Tag & deploy and the tag's deploy check
    (--deploy-polls polls); the rest of the monitoring window (30 m), polled every 15 s, because the bot
    reads GitHub while a hotfix is monitoring (the tag's checks); Stable (merge-back pull requests), Close.

(b) Lead time. The real clock (the demo's clock moved forward for the set-up only, then running), the job
    runners' production poll (1 s; the queues also wake each other in process). One hotfix in review, then,
    alternately, Rita requests changes on GitHub (the thread says "✏️ … requested changes on GitHub") and, after a new
    push and Ready for review, approves (the thread says "👍 … approved the pull request on GitHub"). Measured from just
    before the review is added on the stand-in to the reply's chat.postMessage reaching the stand-in Slack,
    three ways, each on a bot of its own, all three running and taking turns (so drifts in the machine's load
    hit every way alike):
      poll_now    the floor: the bench calls timers.poll_now(Signal) itself right after the review (the bot's
                  own work: queue a poll, read GitHub, record, post)
      webhook     GITHUB_WEBHOOK_SECRET set: the stand-in GitHub delivers its signed webhook to the bot's own
                  POST /github/events (bot/http.py: verified, then timers.poll_now)
      polling     no hint: [github] poll at its minimum, 5 s; the review lands at a random phase of the poll
    and the expected lead of polling at the default 15 s is printed as 15 s / 2 + the floor.
"""
from __future__ import annotations

import argparse
import logging
import os
import random
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Iterator

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.demo.github import LOGINS, GitHubScene, PullRequestIncident  # noqa: E402
from bot.demo.incident import serving  # noqa: E402
from bot.demo.requests import SlackRequests  # noqa: E402
from bot.http import GITHUB_PATH  # noqa: E402
from bot.demo.world import ALICE, CHECKOUT_FIX, EMMA, LEO, RITA, create_world, git  # noqa: E402
from bot.domain.codehost import Signal  # noqa: E402
from bot.service.clock import ManualClock  # noqa: E402
from bot.standins.github import StandInGitHub  # noqa: E402
from bot.standins.slack import StandInSlack  # noqa: E402

DEFAULT_POLL = timedelta(seconds=15)
MIN_POLL = timedelta(seconds=5)  # the smallest [github] poll the config accepts
MONITORING = timedelta(minutes=30)
HOOK_SECRET = secrets.token_hex(32)
REPLY_TIMEOUT = 30.0
WAYS = ("poll_now", "webhook", "polling")


def quiet(_: str) -> None:
    pass


class CountingGitHub(StandInGitHub):
    """The stand-in GitHub, also noting which requests were conditional (sent If-None-Match)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.conditional: list[bool] = []  # one per entry of `requests`, in the same order
        self.answered: list[float] = []  # time.monotonic() of each answer, the same way

    def answer(self, method: str, target: str, headers: dict[str, str], raw_body: bytes) -> tuple[int, bytes, dict]:
        with self._changed:  # a re-entrant lock: the exchange and its flag are recorded together
            reply = super().answer(method, target, headers, raw_body)
            self.conditional.append(bool(headers.get("if-none-match")))
            self.answered.append(time.monotonic())
            return reply


@contextmanager
def world_on_github(root: Path, clock: ManualClock, scene: GitHubScene, *, poll_seconds: float = 0.05,
                    more_environment: dict[str, str] | None = None) -> Iterator[PullRequestIncident]:
    """The demo's world, bot and people, nothing printed."""
    root.mkdir(parents=True)
    world = create_world(root, configure=scene.configure)
    with (StandInSlack(now=lambda: clock.now().timestamp()) as slack, scene.started(world, clock) as environment,
          serving({**world.environment(slack.url), **environment, **(more_environment or {})}, clock,
                  poll_seconds=poll_seconds) as (bot, port)):
        requests = SlackRequests(port, bot.settings.signing_secret, response_url=slack.response_url())
        story = scene.incident(bot, slack, requests, clock, world, quiet)
        assert isinstance(story, PullRequestIncident)
        yield story


def in_review(story: PullRequestIncident) -> str:
    """Declared, approved, fixed and Ready for review: the pull request is open. Returns the fix's commit."""
    story.declare()
    story.later(3, EMMA, "Approve")
    story.later(2, LEO, "Approve")
    return story.fix_and_ask_for_review(after=12)


# --- (a) requests per hotfix -----------------------------------------------------------------------------------------
class CountedHotfix:
    """Plays one hotfix declare -> close, polling as told, and notes where each phase's requests start."""

    def __init__(self, story: PullRequestIncident, github: CountingGitHub) -> None:
        self.story, self.github = story, github
        self.phases: list[tuple[str, int, int]] = []  # name, first request, polls
        self._polls = 0

    def phase(self, name: str) -> None:
        self._close_phase()
        self.phases.append((name, len(self.github.requests), 0))

    def polls(self, n: int) -> None:
        for _ in range(n):
            self.story.poll()
            self._polls += 1

    def _close_phase(self) -> None:
        if self.phases:
            name, start, _ = self.phases[-1]
            self.phases[-1] = (name, start, self._polls)
        self._polls = 0

    def play(self, review_polls: int, ci_polls: int, deploy_polls: int, monitoring: timedelta) -> None:
        story, github = self.story, self.github
        self.phase("declare to Ready for review: the pull request opened")
        head = in_review(story)
        story.check(head, "tests", conclusion=None)
        self.phase(f"review: {review_polls} polls, then Rita approves")
        self.polls(review_polls - 1)
        github.add_review(1, LOGINS[RITA], "APPROVED")
        self.polls(1)
        self.phase(f"CI: {ci_polls} more polls, the last one green")
        self.polls(ci_polls - 1)
        story.check(head, "tests", conclusion="success")
        self.polls(1)
        self.phase(f"Tag & deploy, the tag's deploy check: {deploy_polls} polls")
        story.later(2, ALICE, "Tag & deploy")
        tagged = story.clock.now()
        tag = story.bot.service.read.get(story.key).tag or ""
        story.check(tag, "deploy-production", conclusion=None)
        self.polls(deploy_polls - 1)
        story.check(tag, "deploy-production", conclusion="success")
        self.polls(1)
        self.phase("the rest of the monitoring window, polled")
        while story.clock.now() + story.poll_every <= tagged + monitoring:
            self.polls(1)
        story.clock.advance(max(tagged + MONITORING - story.clock.now(), timedelta(0)))  # --quick: a jump
        story.fire_due_timers()
        story.settle()
        self.phase("Stable: merge-back pull requests; Close")
        story.later(2, LEO, "Stable")
        story.later(3, ALICE, "Close")
        self._close_phase()


def requests_per_hotfix(args: argparse.Namespace, root: Path) -> None:
    scene = GitHubScene(stand_in=CountingGitHub)
    clock = ManualClock(datetime.now(UTC).replace(hour=17, minute=0, second=0, microsecond=0))
    started = time.monotonic()
    with world_on_github(root / "requests", clock, scene) as story:
        github = scene.github
        assert isinstance(github, CountingGitHub)
        counted = CountedHotfix(story, github)
        counted.play(args.review_polls, args.ci_polls, args.deploy_polls, args.monitoring)
        stage = story.bot.service.read.get(story.key).stage.value
        exchanges, conditional = github.requests, github.conditional
        problems, remaining = github.problems, github.rate_limit_remaining
    print(f"(a) GitHub requests for one hotfix, declare to {stage}, played in {time.monotonic() - started:.1f} s "
          f"(poll {DEFAULT_POLL.seconds} s):\n")
    by_op: dict[str, Counter] = {}
    for exchange, sent_etag in zip(exchanges, conditional, strict=True):
        row = by_op.setdefault(f"{exchange.method} {exchange.operation}", Counter())
        row["requests"] += 1
        row["conditional"] += sent_etag
        row["304"] += exchange.status == 304
        row["errors"] += exchange.status >= 400
    header = f"  {'operation':<44}{'requests':>9}{'If-None-Match':>15}{'304':>6}{'4xx/5xx':>9}"
    print(header)
    for op, row in sorted(by_op.items(), key=lambda item: -item[1]["requests"]):
        print(f"  {op:<44}{row['requests']:>9}{row['conditional']:>15}{row['304']:>6}{row['errors']:>9}")
    total = sum((row for row in by_op.values()), Counter())
    print(f"  {'total':<44}{total['requests']:>9}{total['conditional']:>15}{total['304']:>6}{total['errors']:>9}")
    print(f"  rate limit spent: {5000 - remaining} of 5,000/hour (a 304 costs nothing)\n")
    print(f"  {'phase':<58}{'polls':>6}{'requests':>9}{'per poll':>9}{'304':>6}")
    ends = [start for _, start, _ in counted.phases[1:]] + [len(exchanges)]
    for (name, start, polls), end in zip(counted.phases, ends, strict=True):
        part = exchanges[start:end]
        per = f"{len(part) / polls:.1f}" if polls else ""
        print(f"  {name:<58}{polls:>6}{len(part):>9}{per:>9}{sum(e.status == 304 for e in part):>6}")
    if problems:
        print("  PROBLEMS (requests GitHub would refuse):\n    " + "\n    ".join(problems))
    print()


# --- (b) lead time from a GitHub event to the thread -----------------------------------------------------------------
class RunningClock(ManualClock):
    """The real clock, which advance() moves forward: the set-up's minutes pass at once, then time runs."""

    def __init__(self) -> None:
        super().__init__()
        self._offset = timedelta(0)

    def now(self) -> datetime:
        return datetime.now(UTC) + self._offset

    def advance(self, span: timedelta) -> datetime:
        self._offset += span
        return self.now()


def thread_reply_after(story: PullRequestIncident, seen: int, marker: str) -> float:
    """Blocks until a thread reply containing `marker` beyond the first `seen` arrives; returns when it did."""
    assert story.status is not None
    while True:
        found = story.slack.wait_for("chat.postMessage", count=seen + 1, timeout=REPLY_TIMEOUT,
                                     thread_ts=story.status.ts)
        arrived = time.monotonic()
        if any(marker in call.get("text", "") for call in found[seen:]):
            return arrived
        seen = len(found)


def thread_replies(story: PullRequestIncident) -> int:
    assert story.status is not None
    return len(story.slack.calls_to("chat.postMessage", thread_ts=story.status.ts))


@dataclass(frozen=True)
class Lead:
    """One review's way to the thread, in seconds from the review on GitHub."""

    total: float  # to the reply reaching Slack
    first_read: float  # to the bot's first request to GitHub after it
    last_read: float  # to its last request before the reply
    reads: int

    @property
    def reading(self) -> float:
        return self.last_read - self.first_read

    @property
    def posting(self) -> float:
        return self.total - self.last_read


def one_review(story: PullRequestIncident, state: str, marker: str, hint: Callable[[], object] | None) -> Lead:
    """Rita's review on GitHub; returns how long until the thread says so, and what the bot did meanwhile."""
    github = story.github
    assert isinstance(github, CountingGitHub)
    seen = thread_replies(story)
    started = time.monotonic()
    github.add_review(1, LOGINS[RITA], state, body="Handle the empty cart too")
    if hint is not None:
        hint()
    arrived = thread_reply_after(story, seen, marker)
    reads = [at - started for at in github.answered if started < at < arrived]
    return Lead(arrived - started, reads[0], reads[-1], len(reads))


def push_again(story: PullRequestIncident, round_: int) -> None:
    """Alice pushes one more commit to the branch and presses Ready for review."""
    clone = story.world.root / "alice-clone"
    (clone / "checkout.py").write_text(CHECKOUT_FIX + f"# empty carts too, round {round_}\n")
    git(clone, "commit", "--quiet", "-am", f"Empty carts too ({round_})", person=ALICE)
    git(clone, "push", "--quiet", "origin", "HEAD", person=ALICE)
    story.click(ALICE, "Ready for review")


@contextmanager
def reviewing(way: str, root: Path) -> Iterator[Callable[[int], Lead]]:
    """A hotfix in review on a bot of its own that hears of reviews `way`; yields how to measure the next one."""
    poll = MIN_POLL if way == "polling" else DEFAULT_POLL
    scene, clock = GitHubScene(poll=poll, stand_in=CountingGitHub), RunningClock()
    hooks = {"GITHUB_WEBHOOK_SECRET": HOOK_SECRET} if way == "webhook" else {}
    with world_on_github(root / way, clock, scene, poll_seconds=1.0, more_environment=hooks) as story:
        in_review(story)
        timers = story.bot.service.timers
        hint = None
        if way == "poll_now":
            hint = lambda: timers.poll_now(Signal("bench", "pull_request_review", "acme/payments", (1,)))  # noqa: E731
        if way == "webhook":  # the bot's own POST /github/events, on the port it serves Slack on
            story.github.send_webhooks_to(f"http://127.0.0.1:{story.requests.port}{GITHUB_PATH}", HOOK_SECRET)
            story.github.webhooks.wait_for(1, event="ping")

        def measure(round_: int) -> Lead:
            if way == "polling":  # land anywhere in the poll's cycle
                time.sleep(random.uniform(0, poll.total_seconds()))
            if round_ % 2 == 0:
                lead = one_review(story, "CHANGES_REQUESTED", "requested changes", hint)
                story.settle()
                push_again(story, round_)
            else:
                lead = one_review(story, "APPROVED", "approved", hint)
            story.settle()
            return lead

        yield measure


def lead_time(args: argparse.Namespace, root: Path) -> None:
    print(f"(b) Lead time from a review on GitHub to the thread reply, {args.runs} reviews each "
          "(changes requested and approvals alternating), real clock:\n")
    results: dict[str, list[Lead]] = {way: [] for way in WAYS}
    with ExitStack() as running:  # one bot per way, all running; the ways take turns, so load drifts hit all
        measures = {way: running.enter_context(reviewing(way, root)) for way in WAYS}
        for round_ in range(args.runs):
            for way in WAYS:
                results[way].append(measures[way](round_))
            print(f"  review {round_ + 1}: " + ", ".join(f"{way} {ms(results[way][-1].total)}" for way in WAYS),
                  flush=True)
    floor = statistics.median(lead.total for lead in results["poll_now"])
    print(f"\n  {'how the bot hears of it (medians)':<58}{'lead':>9}{'min':>9}{'max':>9}{'x floor':>8}"
          f"{'1st read':>10}{'reads':>8}{'n':>3}{'post':>7}")
    names = {"poll_now": "floor: poll_now(Signal) right after the review",
             "webhook": "webhook: the stand-in's delivery to POST /github/events",
             "polling": f"polling only, every {MIN_POLL.seconds} s (the minimum)"}
    for way, leads in results.items():
        median = statistics.median(lead.total for lead in leads)
        part = {name: statistics.median(getattr(lead, name) for lead in leads)
                for name in ("first_read", "reading", "reads", "posting")}
        print(f"  {names[way]:<58}{ms(median):>9}{ms(min(lead.total for lead in leads)):>9}"
              f"{ms(max(lead.total for lead in leads)):>9}{median / floor:>7.1f}x{ms(part['first_read']):>10}"
              f"{ms(part['reading']):>8}{part['reads']:>3.0f}{ms(part['posting']):>7}")
    expected = DEFAULT_POLL.total_seconds() / 2 + floor
    print(f"  {'polling only, every 15 s (the default): poll / 2 + floor':<58}{ms(expected):>9}{'':>18}"
          f"{expected / floor:>7.1f}x")
    print("  (1st read: from the review to the bot's first request to GitHub; reads: from its first to its last "
          "request; n: requests; post: from the last request to the reply in Slack)")


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f} ms" if seconds < 10 else f"{seconds:.1f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--review-polls", type=int, default=10)
    parser.add_argument("--ci-polls", type=int, default=5)
    parser.add_argument("--deploy-polls", type=int, default=4)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    logging.getLogger("apscheduler").setLevel(logging.ERROR)  # "skipped": a wake while a tick runs, as in the demo
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # "Task queue depth is 1": a click waited for a thread
    args.monitoring = MONITORING
    if args.quick:
        args.runs, args.monitoring = 4, timedelta(minutes=10)
    if min(args.review_polls, args.ci_polls, args.deploy_polls, args.runs) < 1:
        parser.error("polls and runs must be at least 1")
    root = Path(tempfile.mkdtemp(prefix="bench-github-"))
    print(f"bench/github.py: the stand-in GitHub over a bare remote, {os.cpu_count()} CPUs, load "
          f"{os.getloadavg()[0]:.1f}\n", flush=True)
    try:
        requests_per_hotfix(args, root)
        lead_time(args, root)
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
