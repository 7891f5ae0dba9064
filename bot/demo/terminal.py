"""Slack mrkdwn as a person reads it, made plain for a terminal: `<@U0EMMA>` -> `@Emma`, `*bold*` -> bold."""
from __future__ import annotations

import html
import re
from collections.abc import Mapping
from datetime import datetime

INDENT = " " * 8  # under the text of "[17:02] " lines
_MENTION = re.compile(r"<@([A-Z0-9_]+)(?:\|[^>]*)?>")
_CHANNEL = re.compile(r"<#([A-Z0-9_]+)(?:\|([^>]*))?>")
_SPECIAL = re.compile(r"<!(here|channel|everyone)[^>]*>")
_LINK = re.compile(r"<([^<>|]+)\|([^<>]+)>")
_BARE_LINK = re.compile(r"<([^<>|@#!][^<>]*)>")
_BOLD = re.compile(r"(?<![\w*])\*([^*\n]+)\*(?![\w*])")
_CODE = re.compile(r"`([^`\n]+)`")
_FENCE = re.compile(r"```(.*?)```", re.DOTALL)


def plain(text: str, names: Mapping[str, str]) -> str:
    """Mentions become names, links their labels; code fences become indented lines."""
    text = _FENCE.sub(lambda m: "\n" + "\n".join("    " + line for line in m.group(1).strip("\n").splitlines()) + "\n",
                      text)
    text = _MENTION.sub(lambda m: f"@{names.get(m.group(1), m.group(1))}", text)
    text = _CHANNEL.sub(lambda m: f"#{m.group(2) or m.group(1)}", text)
    text = _SPECIAL.sub(lambda m: f"@{m.group(1)}", text)
    text = _LINK.sub(lambda m: f"{m.group(2)} ({m.group(1)})", text)
    text = _BARE_LINK.sub(lambda m: m.group(1), text)
    text = _BOLD.sub(r"\1", text)
    text = _CODE.sub(r"\1", text)
    text = html.unescape(text)  # last: escaped "<" and ">" are text, not markup
    return "\n".join(part.rstrip() for part in text.strip("\n").splitlines())


def line(at: datetime, text: str) -> str:
    """`[17:02] text`, later lines indented under the first."""
    first, *rest = text.splitlines() or [""]
    return "\n".join([f"[{at:%H:%M}] {first}", *(INDENT + more if more else "" for more in rest)])
