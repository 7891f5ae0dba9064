"""Durations as people write them in the config: "45s", "30m", "1h", "2d", "1h30m"."""
from __future__ import annotations

import re
from datetime import timedelta

_PART = re.compile(r"(\d+)([smhd])")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_duration(text: str) -> timedelta:
    cleaned = text.strip().lower().replace(" ", "")
    parts = _PART.findall(cleaned)
    if not cleaned or "".join(n + u for n, u in parts) != cleaned:
        raise ValueError(f'"{text}" is not a duration; write it like "45s", "30m", "1h" or "2d".')
    return sum((timedelta(**{_UNITS[unit]: int(n)}) for n, unit in parts), timedelta())


def format_duration(span: timedelta) -> str:
    """Short and human: 45s, 12m, 1h 05m, 2d 3h."""
    seconds = int(span.total_seconds())
    if seconds < 0:
        return "-" + format_duration(-span)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m" if not secs or minutes >= 10 else f"{minutes}m {secs:02d}s"
    return f"{secs}s"
