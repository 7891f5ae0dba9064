"""`hotfix-bot demo`: one incident from declare to close, with no Slack workspace and no network.

The real app (handlers, job workers, timers, git worker) runs against a local stand-in for Slack's Web API
and a throwaway git remote; people's clicks reach it as signed HTTP requests, exactly as Slack sends them.
The procedure's clock is a ManualClock moved forward between steps, so the incident takes minutes of
"its" time and seconds of yours.
"""
from __future__ import annotations

import os
import shlex
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot import wiring
from bot.config import Settings, load_config
from bot.demo.requests import SlackRequests, checkboxes_state, find_button
from bot.demo.seen import Posted, seen
from bot.demo.terminal import INDENT, line, plain
from bot.demo.world import (
    ALICE, CHANNEL, EMMA, LEO, PEOPLE, REPO, RITA, GitFailed, Person, World, create_world, push_fix, remote_history,
)
from bot.http import make_server
from bot.service.clock import ManualClock
from bot.slack.ids import BlockId
from bot.standins.payloads import new_trigger_id, select_state, text_input_state
from bot.standins.slack import StandInSlack

TITLE = "Checkout returns 500 for expired cards"
SETTLE_SECONDS = 20
NAMES = {user_id: person.name for user_id, person in PEOPLE.items()}
BOT = "hotfix-bot"


class DemoStalled(Exception):
    """The incident did not move on as it should; str(err) says where it stopped."""


class Scene:
    """Where the incident plays: the plain demo's (a git remote only); bot.demo.github adds GitHub."""

    def configure(self, config: str) -> str:
        return config

    @contextmanager
    def started(self, world: World, clock: ManualClock) -> Iterator[dict[str, str]]:
        """Runs what the scene needs beside the stand-in Slack; yields the environment it adds."""
        yield {}

    def incident(self, bot: wiring.Bot, slack: StandInSlack, requests: SlackRequests, clock: ManualClock,
                 world: World, out: Callable[[str], None]) -> Incident:
        return Incident(bot, slack, requests, clock, world, out)


def run(*, cleanup: bool, out: Callable[[str], None] = print, scene: Scene | None = None) -> int:
    if shutil.which("git") is None:
        out("hotfix-bot demo needs git on PATH: it plays the incident on a real (throwaway) git remote.")
        return 1
    scene = scene or Scene()
    root = Path(tempfile.mkdtemp(prefix="hotfix-demo-"))
    started = time.monotonic()
    try:
        world = create_world(root, configure=scene.configure)
        clock = ManualClock(datetime.now(UTC).replace(hour=17, minute=0, second=0, microsecond=0))
        with (StandInSlack(now=lambda: clock.now().timestamp()) as slack, scene.started(world, clock) as environment,
              serving({**world.environment(slack.url), **environment}, clock) as (bot, port)):
            requests = SlackRequests(port, bot.settings.signing_secret, response_url=slack.response_url())
            key = scene.incident(bot, slack, requests, clock, world, out).play()
    except (DemoStalled, GitFailed) as problem:
        out(f"\nhotfix-bot demo: {problem}")
        out(f"Everything so far is in {root}")
        return 1
    out("\nThe remote now (git log --graph --all):")
    out("\n".join((INDENT + row).rstrip() for row in remote_history(world).splitlines()))
    out(f"\nPlayed in {time.monotonic() - started:.1f} s.")
    _tell_where(world, key, out, removed=cleanup)
    if cleanup:
        shutil.rmtree(root, ignore_errors=True)
    return 0


@contextmanager
def serving(environment: dict[str, str], clock: ManualClock, *,
            poll_seconds: float = 0.05) -> Iterator[tuple[wiring.Bot, int]]:
    """The real bot, its workers and timers started, answering HTTP on 127.0.0.1 at a free port (bench/github.py
    uses it too). `poll_seconds`: how often idle job runners look for work another process queued."""
    settings = Settings.from_env(environment)
    # Writes to the stand-in GitHub need no spacing: nothing is rate limited on this machine.
    bot = wiring.build(settings, load_config(settings.config_path), clock=clock, poll_seconds=poll_seconds,
                       github_write_interval=0)
    bot.start_workers()
    try:
        server = make_server(bot, host="127.0.0.1", port=0, threads=4)
        serving = threading.Thread(target=_serve_until_closed, args=(server,), name="demo-http", daemon=True)
        serving.start()
        try:
            yield bot, server.effective_port
        finally:
            server.close()
            serving.join(timeout=5)
    finally:
        bot.stop()


def _serve_until_closed(server) -> None:
    try:
        server.run()
    except OSError:  # the listening socket was closed under the select loop: we are stopping
        pass


class Incident:
    """The story, step by step: people act through Slack requests, the thread is printed as it unfolds."""

    def __init__(self, bot: wiring.Bot, slack: StandInSlack, requests: SlackRequests, clock: ManualClock,
                 world: World, out: Callable[[str], None]) -> None:
        self.bot, self.slack, self.requests, self.clock, self.world, self.out = bot, slack, requests, clock, world, out
        self._shown = 0
        self._texts: dict[tuple[str, str], str] = {}
        self.status: Posted | None = None

    def play(self) -> str:
        """Plays the incident; returns its key, e.g. HF-1."""
        self.out(f"A HIGH incident in {REPO}, played against a stand-in Slack and a git remote in {self.world.root}\n")
        self.declare()
        self.later(3, EMMA, "Approve")
        self.later(2, LEO, "Approve")
        self.fix_and_ask_for_review(after=12)
        self.review(after=8)
        self.later(2, ALICE, "Tag & deploy")
        self.let_time_pass(minutes=10)
        self.let_time_pass(minutes=20)  # Stable merges back only once the monitoring window is over
        self.later(2, LEO, "Stable")
        self.later(3, ALICE, "Close")
        return self.key

    # --- what people do ---------------------------------------------------------------------------------------------
    def declare(self) -> None:
        trigger = new_trigger_id()
        self.act(ALICE, f"ran /hotfix declare {TITLE}")
        self.expect_ok(self.requests.slash_command(f"declare {TITLE}", user=ALICE.user_id, channel=CHANNEL,
                                                   trigger_id=trigger))
        modal = self.modal(trigger)
        fields = {BlockId.TITLE: text_input_state(TITLE), BlockId.ISSUE_ID: text_input_state("PROD-501"),
                  BlockId.SEVERITY: select_state("high"), BlockId.REPO: select_state(REPO),
                  BlockId.IMPACT: text_input_state("Every checkout with an expired card fails with a 500"),
                  BlockId.RISK: text_input_state("Customers retry and abandon their carts"),
                  BlockId.SECURITY: checkboxes_state([]), BlockId.OVERRIDE: checkboxes_state([])}
        self.act(ALICE, "submitted the form: PROD-501 · HIGH · payments")
        values = {block.value: {block.value: state} for block, state in fields.items()}
        self.expect_ok(self.requests.submit(modal, values, user=ALICE.user_id))
        self.settle()
        self.status = next((p for p in self.posted() if p.kind == "message" and p.channel == CHANNEL
                            and p.thread_ts is None), None)
        if self.status is None:
            raise DemoStalled("the bot posted no status message for the declaration")

    def later(self, minutes: int, person: Person, label: str) -> str:
        self.clock.advance(timedelta(minutes=minutes))
        return self.click(person, label)

    def click(self, person: Person, label: str) -> str:
        assert self.status is not None
        shown = self.slack.message(self.status.channel, self.status.ts)
        button = find_button(shown["blocks"] if shown else [], label)
        if button is None:
            says = plain(shown["text"] if shown else "", NAMES)
            raise DemoStalled(f"the status message has no {label!r} button; it says: {says}")
        trigger = new_trigger_id()
        self.act(person, f"clicked {label}")
        self.expect_ok(self.requests.click(button, user=person.user_id, channel=CHANNEL, message=shown,
                                           trigger_id=trigger))
        self.settle()
        return trigger

    def fix_and_ask_for_review(self, *, after: int) -> str:
        """Alice pushes the fix and clicks Ready for review; returns the fix's commit."""
        self.clock.advance(timedelta(minutes=after))
        branch = self.bot.service.read.get(self.key).branch
        commit = push_fix(self.world, ALICE, branch)
        self.act(ALICE, f"pushed {commit[:10]} “Expired cards get a clear error, not a 500” to {branch}")
        self.click(ALICE, "Ready for review")
        return commit

    def review(self, *, after: int) -> None:
        trigger = self.later(after, RITA, "Approve review")
        modal = self.modal(trigger)
        checklist = next(b for b in modal["blocks"] if b.get("block_id") == BlockId.CHECKLIST)
        options = checklist["element"]["options"]
        self.act(RITA, f"ticked all {len(options)} checklist items and submitted")
        state = {BlockId.CHECKLIST.value: {BlockId.CHECKLIST.value: checkboxes_state(options)}}
        self.expect_ok(self.requests.submit(modal, state, user=RITA.user_id))
        self.settle()

    def let_time_pass(self, *, minutes: int) -> None:
        self.clock.advance(timedelta(minutes=minutes))
        self.out(line(self.clock.now(), f"({minutes} minutes of monitoring later)"))
        self.fire_due_timers()
        self.settle()

    def fire_due_timers(self) -> None:
        self.bot.timers.wake()  # the scheduler sleeps by the wall clock; the demo's clock just jumped
        deadline = time.monotonic() + SETTLE_SECONDS
        while (due := self.bot.service.timers.next_timer_due()) is not None and due <= self.clock.now():
            if time.monotonic() > deadline:
                raise DemoStalled(f"a timer due at {due:%H:%M} did not fire")
            time.sleep(0.02)

    def posted(self) -> list[Posted]:
        return [posted for call in self.slack.calls if (posted := seen(call))]

    # --- what people see --------------------------------------------------------------------------------------------
    @property
    def key(self) -> str:
        assert self.status is not None
        return self.status.text.split(" ", 1)[0]

    def act(self, person: Person, what: str) -> None:
        self.out(line(self.clock.now(), f"{person.described} {what}"))

    def modal(self, trigger_id: str) -> dict:
        opened = next((p for p in self.posted() if p.kind == "modal" and p.trigger_id == trigger_id), None)
        if opened is None or opened.view is None:
            raise DemoStalled("the bot opened no modal for that click")
        self.show_new()
        return opened.view

    def expect_ok(self, answer) -> None:
        if answer.status != 200:
            raise DemoStalled(f"the bot answered HTTP {answer.status}: {answer.body[:200]}")

    def settle(self) -> None:
        """Wait until the workers have run every job the step queued (HTTP 200 means acked, not done)."""
        deadline = time.monotonic() + SETTLE_SECONDS
        while self.bot.unfinished_jobs():
            if time.monotonic() > deadline:
                raise DemoStalled(f"jobs still running after {SETTLE_SECONDS} s")
            self.show_new()  # as it happens: the thread's replies and what the bot does elsewhere, in order
            time.sleep(0.02)
        self.show_new()

    def show_new(self) -> None:
        calls = self.slack.calls[self._shown:]
        self._shown += len(calls)
        for item in filter(None, map(seen, calls)):
            if shown := self.describe(item):
                self.out(line(item.at, f"{BOT}: {plain(shown, NAMES)}"))

    def describe(self, item: Posted) -> str | None:
        if item.kind == "modal":
            return f"opened the “{item.text}” form"
        if item.kind == "ephemeral":
            return f"(only {NAMES.get(item.user or '', item.user)} sees this) {item.text}"
        if item.channel in PEOPLE:
            return f"(DM to <@{item.channel}>) {item.text.splitlines()[0]}"
        previous = self._texts.get((item.channel, item.ts))
        self._texts[(item.channel, item.ts)] = item.text
        if item.kind == "update":
            return None if item.text == previous else f"(status message updated) {item.text}"
        return _read(item) if item.thread_ts else f"(status message in #hotfixes) {item.text}"


def _read(reply: Posted) -> str:
    """What a person reads in a reply: its sections when it has them (the post-mortem), else its text."""
    sections = [b["text"]["text"] for b in reply.blocks if b.get("type") == "section" and "text" in b]
    return "\n".join(sections) or reply.text


def hotfix_bot_command() -> str:
    """`hotfix-bot` as the user's shell can run it: the script beside this Python (.venv/bin is rarely on PATH),
    short when it is under the current directory."""
    beside = Path(sys.executable).parent / "hotfix-bot"
    if not beside.is_file():
        return f"{shlex.quote(sys.executable)} -m bot"
    relative = os.path.relpath(beside)
    return shlex.quote(beside.as_posix() if relative.startswith("..") else relative)


def _tell_where(world: World, key: str, out: Callable[[str], None], *, removed: bool) -> None:
    if removed:
        out(f"Removed {world.root} (--cleanup). Run without --cleanup to keep the database and remote for a look.")
        return
    quoted = shlex.quote
    out(f"Left for a look in {world.root}:")
    out(f"  database  {world.database_url}")
    out(f"  remote    {world.remote}   (git -C {quoted(str(world.remote))} log --oneline --graph --all)")
    out(f"  config    {world.config_path}")
    out("Print the post-mortem draft again:")
    out(f"{INDENT}DATABASE_URL={quoted(world.database_url)} {hotfix_bot_command()} report {key}")
    out(f"Remove it with: rm -rf {quoted(str(world.root))}   (or run `hotfix-bot demo --cleanup` next time)")
