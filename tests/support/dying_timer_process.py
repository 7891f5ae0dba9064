"""A bot process that starts firing the timers due at a given instant and stops dead half-way through.

Run as `python -m tests.support.dying_timer_process ISO_TIME STOP_AT MARKER` with the bot's environment. It
fires timers as the scheduler would, but when it reaches STOP_AT ("claim": just after it claimed the due timers;
"commit": its last write before the commit) it writes MARKER and waits, inside the open transaction, for the
test to kill it with SIGKILL.
"""
from __future__ import annotations

import os
import sys
import time
from datetime import datetime
from pathlib import Path

from bot.config import Settings, load_config
from bot.service.clock import ManualClock
from bot.store import timer_store
from bot.wiring import build


def stop_dead_after(function, marker: Path):
    def paused(*args, **kwargs):
        result = function(*args, **kwargs)
        marker.write_text(repr(result))
        while True:  # holding the transaction open until SIGKILL
            time.sleep(1)
    return paused


def main(now: str, stop_at: str, marker: str) -> None:
    settings = Settings.from_env(os.environ)
    bot = build(settings, load_config(settings.config_path), clock=ManualClock(datetime.fromisoformat(now)))
    if stop_at == "claim":
        timer_store.claim_many = stop_dead_after(timer_store.claim_many, Path(marker))
    else:
        timer_store.arm_many = stop_dead_after(timer_store.arm_many, Path(marker))
    bot.service.timers.fire_due_timers()
    raise SystemExit("the timers fired without stopping")


if __name__ == "__main__":
    main(*sys.argv[1:4])
