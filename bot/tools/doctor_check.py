"""One line of `hotfix-bot doctor`: what was checked, and the fix when it failed."""
from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass


@dataclass(frozen=True)
class Check:
    passed: bool | None  # None: not checked (it needs something that failed above, or a scope the app lacks)
    what: str
    fix: str = ""

    @property
    def line(self) -> str:
        mark = {True: "✓", False: "✗", None: "–"}[self.passed]
        return f"{mark} {self.what}" + (f" → {self.fix}" if self.fix and not self.passed else "")


Checks = Generator[Check, None, object]
