"""The reply to closing a hotfix: the post-mortem draft, in as many Slack sections as it takes. Pure: no I/O."""
from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import SectionBlock

from bot.domain import postmortem, postmortem_github
from bot.domain.hotfix import Event, Hotfix
from bot.domain.policy import TimeTargets
from bot.slack.blocks import Message, code, escape, mention

SLACK_TEXT_MAX = 3000
MESSAGE_BLOCKS_MAX = 50
SLACK_STYLE = postmortem.Style(person=mention, text=lambda typed: escape(postmortem.one_line(typed)), code=code,
                               link=lambda url, label: f"<{escape(url)}|{escape(label)}>")


def closed(event: Event, hotfix: Hotfix, events: Sequence[Event], times: TimeTargets, private: bool) -> Message:
    reason = f" Reason: “{escape(postmortem.one_line(event.detail['reason']))}”." if event.detail.get("reason") else ""
    head = (f"🏁 {mention(event.actor)} closed {hotfix.key}.{reason} The post-mortem draft is below; "
            f"`hotfix-bot report {hotfix.key}` prints it as Markdown for your wiki or issue tracker.")
    document = postmortem.build(hotfix, events, times, SLACK_STYLE, reveal=private or not hotfix.security)
    texts = [head, f"*{document.title}*"]
    for section in document.sections:
        if section.heading == postmortem_github.HEADING:  # in full in the Markdown; a line or two here
            texts += _in_sections(f"*{section.heading}*", [f"• {line}" for line in
                                                           postmortem_github.github_summary(events, SLACK_STYLE)])
        elif not section.hint:
            texts += _in_sections(f"*{section.heading}*", [f"• {line}" for line in section.lines])
    to_fill = [f"• *{s.heading}*: {s.hint}" for s in document.sections if s.hint]
    texts += _in_sections("*To fill in* (in the Markdown)", to_fill)
    if len(texts) > MESSAGE_BLOCKS_MAX:
        texts = texts[: MESSAGE_BLOCKS_MAX - 1] + [f"…and more: `hotfix-bot report {hotfix.key}` prints all of it."]
    return Message(f"{head}\n{document.title}", [SectionBlock(text=text) for text in texts])


def _in_sections(heading: str, lines: Sequence[str]) -> list[str]:
    """Section blocks of at most SLACK_TEXT_MAX characters; a longer section goes on in the next block."""
    texts, current = [], heading
    for line in lines:
        line = line if len(line) <= SLACK_TEXT_MAX - 100 else line[: SLACK_TEXT_MAX - 101] + "…"
        if len(current) + 1 + len(line) > SLACK_TEXT_MAX:
            texts.append(current)
            current = f"{heading} (continued)"
        current += "\n" + line
    return [*texts, current]
