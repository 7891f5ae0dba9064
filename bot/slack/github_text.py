"""GitHub's text as Slack shows it: links only to http(s) pages, check names and logins inert and bounded. Pure."""
from __future__ import annotations

import re
from collections.abc import Sequence

from bot.domain.hotfix import Row
from bot.slack.blocks import code, escape, inert

NAME_SHOWN = 80  # a check name longer than this is cut (GitHub allows far longer ones)
URL_MAX = 500  # a longer URL is not linked: it would crowd the message out
CHECKS_SHOWN = 10
BUDGET = 2000  # most characters a list of checks takes: a section's text holds 3,000
_SAFE_URL = re.compile(r"https?://[^\s<>|`\"]+", re.IGNORECASE)
_STATE_ICON = {"success": "✅", "neutral": "✅", "skipped": "⏭️", "failure": "❌", "error": "❌", "cancelled": "❌",
               "timed_out": "❌", "action_required": "❌", "stale": "❌", "startup_failure": "❌"}


def safe_url(url: str) -> str | None:
    """The URL as a Slack link may carry it, or None when it is not a plain http(s) one."""
    if len(url) > URL_MAX or not _SAFE_URL.fullmatch(url):
        return None
    return url.replace("&", "&amp;")


def link(url: str, label: str) -> str:
    """`label` (already formatted) linked to `url`; an unsafe or odd URL is not linked: the label stands alone."""
    target = safe_url(url)
    return f"<{target}|{label}>" if target else label


_MARKUP = str.maketrans({"*": "∗", "_": "ˍ", "~": "∼", "`": "ˋ"})


def words(text: str, limit: int | None = None) -> str:
    """People's words from GitHub (a review, GitHub's reason) on one line, shown as typed: no mention, no link,
    and no Markdown of theirs read as Slack's (look-alikes for `*`, `_`, `~` and the backtick)."""
    line = " ".join(text.split())
    return escape(short(line, limit) if limit else line).translate(_MARKUP)


def short(text: str, limit: int = NAME_SHOWN) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def name(text: str) -> str:
    """A check name, login or branch from GitHub: a code span, cut to a readable length."""
    return code(short(text))


def pull_link(number: int | str, url: str) -> str:
    return link(str(url), f"#{number}") if url else f"#{number}"


def check(row: Row) -> str:
    """One check: its name, state and a link to its log."""
    check_name, state, url = str(row[0]), str(row[1]), str(row[2]) if len(row) > 2 else ""
    icon = _STATE_ICON.get(state, "⏳")
    details = f" · {link(url, 'details')}" if safe_url(url) else ""
    return f"{icon} {name(check_name)} {inert(state.replace('_', ' '))}{details}"


def check_list(rows: Sequence[Row], shown: int = CHECKS_SHOWN) -> str:
    """One line per check, the first `shown` of them (fewer when they are long), then how many more."""
    lines = _bounded([f"• {check(row)}" for row in rows[:shown]], len("\n"))
    more = [f"…and {len(rows) - len(lines)} more"] if len(rows) > len(lines) else []
    return "\n".join(lines + more)


def check_names(rows: Sequence[Row], shown: int = CHECKS_SHOWN) -> str:
    """The checks' names on one line, each linked to its log when it has a safe link."""
    names = _bounded([link(str(row[2]) if len(row) > 2 else "", name(str(row[0]))) for row in rows[:shown]],
                     len(", "))
    more = f" and {len(rows) - len(names)} more" if len(rows) > len(names) else ""
    return ", ".join(names) + more


def _bounded(items: list[str], separator: int) -> list[str]:
    """The first items that fit in BUDGET characters together (always at least one)."""
    kept: list[str] = []
    used = 0
    for item in items:
        used += len(item) + separator
        if kept and used > BUDGET:
            break
        kept.append(item)
    return kept


def commit(sha: str) -> str:
    return code(sha[:10])
