"""What every Slack surface is made of: a message, user and git text made safe to show, mentions, times and the
buttons several replies offer. Pure: no I/O."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from slack_sdk.models.blocks import Block, ButtonElement

from bot.domain.hotfix import Hotfix
from bot.slack.ids import ActionId


@dataclass(frozen=True)
class Message:
    text: str  # also the notification and screen-reader fallback
    blocks: list[Block] = field(default_factory=list)

    def as_kwargs(self) -> dict:
        kwargs: dict = {"text": self.text}
        if self.blocks:
            kwargs["blocks"] = [b.to_dict() for b in self.blocks]
        return kwargs


def escape(text: str) -> str:
    """User text is shown, never interpreted: no <!channel> pings or fake links."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def inert(text: str) -> str:
    """Git text (file and branch names, commit subjects, diffs) for a code span or block: escaped, and a backtick in
    it cannot end the span early, because it is shown as the look-alike ˋ (U+02CB), which Slack does not read."""
    return escape(text).replace("`", "ˋ")


def code(text: str) -> str:
    return f"`{inert(text)}`"


def mention(user_id: str) -> str:
    return f"<@{user_id}>"


def clock_time(at: datetime, now: datetime) -> str:
    """`17:42 UTC` today; `21 Nov 17:42 UTC` on another day (and the year, in another year)."""
    if at.date() == now.date():
        return at.strftime("%H:%M UTC")
    return at.strftime("%-d %b %H:%M UTC" if at.year == now.year else "%-d %b %Y %H:%M UTC")


def stable_button(hotfix: Hotfix) -> ButtonElement:
    return ButtonElement(text="Stable", action_id=ActionId.STABLE, value=hotfix.key, style="primary")


def roll_back_button(hotfix: Hotfix) -> ButtonElement:
    return ButtonElement(text="Roll back", action_id=ActionId.ROLL_BACK, value=hotfix.key, style="danger")
