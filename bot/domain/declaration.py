"""What an on-call engineer fills in to declare a hotfix, and what is wrong with it."""
from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum

from bot.domain.naming import InvalidName, validate_issue_id
from bot.domain.policy import Severity

TITLE_MAX = 150
TEXT_MAX = 2000


class Field(StrEnum):
    TITLE = "title"
    ISSUE_ID = "issue_id"
    SEVERITY = "severity"
    IMPACT = "impact"
    RISK = "risk"
    REPO = "repo"
    OVERRIDE = "override"


@dataclass(frozen=True)
class Declaration:
    title: str
    issue_id: str
    severity: Severity | None
    impact: str
    risk: str
    repo: str
    security: bool = False
    override: bool = False

    def problems(self, repos: Collection[str]) -> dict[Field, str]:
        """Each field's problem in words a person can act on; empty when the declaration is fine."""
        found: dict[Field, str] = {}
        if not self.title.strip():
            found[Field.TITLE] = "Give the hotfix a short title, e.g. “Checkout returns 500”."
        elif len(self.title) > TITLE_MAX:
            found[Field.TITLE] = f"Keep the title under {TITLE_MAX} characters."
        try:
            validate_issue_id(self.issue_id)
        except InvalidName as problem:
            found[Field.ISSUE_ID] = str(problem)
        if self.severity is None:
            found[Field.SEVERITY] = "Choose a severity."
        elif self.severity.goes_to_normal_release and not self.override:
            found[Field.OVERRIDE] = (
                f"{self.severity.label} issues go to the normal release. "
                "Tick the override only if this really cannot wait."
            )
        for name, text in ((Field.IMPACT, self.impact), (Field.RISK, self.risk)):
            if not text.strip():
                found[name] = "Required: one or two sentences are enough."
            elif len(text) > TEXT_MAX:
                found[name] = f"Keep this under {TEXT_MAX} characters; details can go in the thread."
        if self.repo not in repos:
            found[Field.REPO] = "Choose one of the configured repositories."
        return found
