"""The fake Slack Web API, signing and payloads, exercised through the real slack_sdk and slack_bolt."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from slack_bolt import App, BoltRequest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.signature import SignatureVerifier

from bot.standins import payloads
from tests.support.fake_slack import FakeSlack
from bot.standins.signing import signed_headers

SECRET = "test-signing-secret"


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake
        fake.assert_no_problems()


@pytest.fixture
def client(slack: FakeSlack) -> WebClient:
    return WebClient(base_url=slack.url, token="xoxb-test")


def section(text: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def plain(text: str) -> dict:
    return {"type": "plain_text", "text": text}


def button(action_id: str, label: str = "Approve", value: str = "HF-1") -> dict:
    label_text = {"type": "plain_text", "text": label}
    return {"type": "button", "action_id": action_id, "text": label_text, "value": value}


def modal(title: str, blocks: list[dict] | None = None) -> dict:
    return {"type": "modal", "callback_id": "declare", "title": {"type": "plain_text", "text": title},
            "blocks": blocks if blocks is not None else [section("Declare a hotfix")]}


def refused_with(slack: FakeSlack, call, error: str = "invalid_arguments") -> list[str]:
    with pytest.raises(SlackApiError) as refusal:
        call()
    assert refusal.value.response["error"] == error
    return slack.take_problems()


def test_valid_post_message_is_recorded_and_answered_with_a_ts(slack, client):
    response = client.chat_postMessage(channel="C0HOTFIX", text="HF-1 declared", blocks=[section("*HF-1*")])

    assert response["ok"] and response["channel"] == "C0HOTFIX"
    assert response["ts"] == "1700000000.000100"
    call = slack.last("chat.postMessage", channel="C0HOTFIX")
    assert call["text"] == "HF-1 declared" and call["blocks"] == [section("*HF-1*")]
    assert slack.message("C0HOTFIX", response["ts"])["text"] == "HF-1 declared"
    assert slack.texts("C0HOTFIX") == ["HF-1 declared", "*HF-1*"]


def test_form_encoded_calls_decode_json_blocks_and_take_the_token_argument(slack):
    client = WebClient(base_url=slack.url)
    client.api_call("chat.postMessage", params={"token": "xoxb-test", "channel": "C1", "text": "hi",
                                                "blocks": '[{"type": "divider"}]'})
    client.conversations_info(channel="C1", token="xoxb-test")

    assert slack.last("chat.postMessage")["blocks"] == [{"type": "divider"}]
    assert [c.method for c in slack.calls] == ["chat.postMessage", "conversations.info"]


def test_missing_required_argument_is_refused_and_listed(slack, client):
    problems = refused_with(slack, lambda: client.api_call("chat.postMessage", json={"text": "no channel"}))

    assert problems == ["chat.postMessage: missing required argument 'channel'"]
    assert slack.last("chat.postMessage").error == "invalid_arguments"


def test_unknown_method_is_refused(slack, client):
    problems = refused_with(slack, lambda: client.api_call("chat.postMessageLater"), "unknown_method")

    assert problems == ["chat.postMessageLater: no such Web API method"]


def test_missing_token_is_not_authed(slack):
    problems = refused_with(slack, lambda: WebClient(base_url=slack.url).auth_test(), "not_authed")

    assert problems == ["auth.test: not_authed (token missing)"]


def test_methods_newer_than_the_spec_are_allowed_explicitly(slack):
    app_client = WebClient(base_url=slack.url, token="xapp-1-test")

    assert app_client.apps_connections_open(app_token="xapp-1-test")["ok"]


def test_fifty_one_blocks_are_refused(slack, client):
    blocks = [section(f"line {n}") for n in range(51)]

    problems = refused_with(slack, lambda: client.chat_postMessage(channel="C1", text="long", blocks=blocks))

    assert problems == ["chat.postMessage: 51 blocks; the most is 50"]


def test_modal_title_of_25_chars_is_refused(slack, client):
    problems = refused_with(slack, lambda: client.views_open(trigger_id="1.2.t", view=modal("x" * 25)))

    assert problems == ["views.open: view.title is 25 chars; the most is 24"]


def test_long_option_descriptions_and_placeholders_are_refused(slack, client):
    option = {"text": plain("CRITICAL"), "value": "critical", "description": plain("d" * 76)}
    select = {"type": "static_select", "action_id": "severity", "placeholder": plain("p" * 151), "options": [option]}
    blocks = [{"type": "input", "block_id": "severity", "label": plain("Severity"), "element": select,
               "hint": plain("h" * 2001)}]
    view = {**modal("Declare a hotfix", blocks), "submit": plain("Declare")}

    problems = refused_with(slack, lambda: client.views_open(trigger_id="1.2.t", view=view))

    assert problems == ["views.open: blocks[0].hint is 2001 chars; the most is 2000",
                        "views.open: blocks[0].element.placeholder is 151 chars; the most is 150",
                        "views.open: blocks[0].element.options[0].description is 76 chars; the most is 75"]


def test_an_answer_in_the_http_response_is_held_to_the_same_limits(slack):
    slack.check_answer("/hotfix status answer", {"text": "HF-1", "blocks": [section("x" * 3001)]})

    assert slack.take_problems() == ["/hotfix status answer: blocks[0].text is 3001 chars; the most is 3000"]


def test_duplicate_action_ids_are_refused(slack, client):
    blocks = [{"type": "actions", "elements": [button("approve"), button("approve", "Approve again")]}]

    problems = refused_with(slack, lambda: client.chat_postMessage(channel="C1", text="vote", blocks=blocks))

    assert problems == ["chat.postMessage: action_id 'approve' is used 2 times"]


def test_blocks_without_fallback_text_are_answered_but_listed(slack, client):
    with pytest.warns(UserWarning):
        assert client.chat_postMessage(channel="C1", blocks=[section("only blocks")])["ok"]

    assert slack.take_problems() == [
        "chat.postMessage: blocks without a `text` fallback (Slack warns; screen readers need it)"
    ]


def test_valid_modal_opens_with_a_view_id(slack, client):
    response = client.views_open(trigger_id="1.2.t", view=modal("Declare a hotfix"))

    assert response["view"]["id"].startswith("V")
    assert slack.view(response["view"]["id"])["title"]["text"] == "Declare a hotfix"


def test_rate_limit_is_retried_after_retry_after_and_recorded_as_a_fault(slack):
    client = WebClient(base_url=slack.url, token="xoxb-test", retry_handlers=[RateLimitErrorRetryHandler()])
    slack.fail_next("chat.postMessage", status=429, retry_after=0)

    assert client.chat_postMessage(channel="C1", text="after the limit")["ok"]
    assert [(c.method, c.error) for c in slack.failed_calls] == [("chat.postMessage", "ratelimited")]
    assert len(slack.calls_to("chat.postMessage")) == 1


def test_server_error_and_error_code_faults(slack, client):
    slack.fail_next("chat.update", status=503)
    slack.fail_next("chat.postMessage", error="channel_not_found")

    with pytest.raises(SlackApiError) as server_error:
        client.chat_update(channel="C1", ts="1.1", text="x")
    refused_with(slack, lambda: client.chat_postMessage(channel="C1", text="x"), "channel_not_found")

    assert server_error.value.response.status_code == 503
    assert [c.error for c in slack.failed_calls] == ["http_503", "channel_not_found"]
    assert slack.calls == []


def test_chat_update_changes_what_message_returns(slack, client):
    posted = client.chat_postMessage(channel="C1", text="HF-1: awaiting", blocks=[section("awaiting")])
    client.chat_update(channel="C1", ts=posted["ts"], text="HF-1: approved", blocks=[section("approved")])

    current = slack.message("C1", posted["ts"])
    assert (current["text"], current["blocks"]) == ("HF-1: approved", [section("approved")])


def test_chat_update_of_a_message_never_posted_is_message_not_found(slack, client):
    refused_with(slack, lambda: client.chat_update(channel="C1", ts="1699999999.000001", text="x"),
                 "message_not_found")


def test_thread_returns_replies_in_order(slack, client):
    parent = client.chat_postMessage(channel="C1", text="HF-1")["ts"]
    for step in ("approved", "branch pushed", "tagged"):
        client.chat_postMessage(channel="C1", thread_ts=parent, text=step)
    client.chat_postMessage(channel="C2", thread_ts=parent, text="elsewhere")

    assert [m["text"] for m in slack.thread("C1", parent)] == ["approved", "branch pushed", "tagged"]
    assert len(slack.calls_to("chat.postMessage", thread_ts=parent, channel="C1")) == 3


def test_wait_for_times_out_with_a_summary(slack, client):
    client.chat_postMessage(channel="C1", text="only this")

    with pytest.raises(AssertionError, match=r"(?s)saw 1.*chat.postMessage .*only this"):
        slack.wait_for("chat.postMessage", count=2, timeout=0.2)


def test_signed_headers_verify_like_slack(slack):
    body = payloads.slash_command("status", user_id="UDEV")
    headers = signed_headers(SECRET, body)

    verifier = SignatureVerifier(SECRET)
    assert verifier.is_valid(body, headers["X-Slack-Request-Timestamp"], headers["X-Slack-Signature"])
    assert not SignatureVerifier("other-secret").is_valid_request(body, headers)
    assert headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert signed_headers(SECRET, "{}", timestamp=1)["X-Slack-Request-Timestamp"] == "1"


def bolt_app(slack: FakeSlack) -> App:
    """The real Bolt app; process_before_response makes dispatch() return after the listener finishes."""
    client = WebClient(base_url=slack.url, token="xoxb-test")
    return App(client=client, signing_secret=SECRET, process_before_response=True)


def dispatch(app: App, body: str) -> int:
    return app.dispatch(BoltRequest(body=body, headers=signed_headers(SECRET, body))).status


def test_bolt_reads_the_slash_command_and_replies_through_the_response_url(slack):
    app = bolt_app(slack)

    @app.command("/hotfix")
    def on_hotfix(ack, command, respond):
        ack()
        respond(text=f"{command['user_id']} asked for {command['text']}")

    body = payloads.slash_command("status HF-1", user_id="UDEV", response_url=slack.response_url("cmd"))
    assert dispatch(app, body) == 200
    reply = slack.wait_for("response_url", response_url=slack.response_url("cmd"))[0]
    assert reply["text"] == "UDEV asked for status HF-1"


def test_bolt_reads_button_clicks_and_modal_submissions(slack):
    app, seen = bolt_app(slack), []

    @app.action("approve")
    def on_approve_clicked(ack, body, action):
        ack()
        seen.append((body["user"]["id"], action["value"], action["block_id"]))

    @app.view("declare")
    def on_declare_submitted(ack, view):
        ack()
        seen.append(view["state"]["values"]["title"]["input"]["value"])

    vote = {"type": "actions", "block_id": "vote", "elements": [button("approve")]}
    ts = WebClient(base_url=slack.url, token="xoxb-test").chat_postMessage(
        channel="C0HOTFIX", text="HF-1", blocks=[vote]
    )["ts"]
    click = payloads.block_actions("approve", "HF-1", user_id="UEM", channel_id="C0HOTFIX", message_ts=ts,
                                   message=slack.message("C0HOTFIX", ts))
    state = {"title": {"input": payloads.text_input_state("Checkout 500s")}}

    assert dispatch(app, click) == 200
    assert dispatch(app, payloads.view_submission("declare", state, user_id="UDEV")) == 200
    assert seen == [("UEM", "HF-1", "vote"), "Checkout 500s"]


def test_socket_mode_is_opened_with_the_app_level_token_only(slack):
    problems = refused_with(slack, lambda: WebClient(base_url=slack.url, token="xoxb-1-test").apps_connections_open(
        app_token="xoxb-1-test"), "not_allowed_token_type")

    assert problems == ["apps.connections.open: called without the app-level xapp- token"]
