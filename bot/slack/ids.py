"""Every action, block and callback ID the app uses, in one place."""
from enum import StrEnum


class CallbackId(StrEnum):
    DECLARE = "hotfix_declare"
    REJECT = "hotfix_reject"


class ActionId(StrEnum):
    APPROVE = "hotfix_approve"
    REJECT = "hotfix_reject"
    SNOOZE_30M = "hotfix_snooze_30m"
    SNOOZE_1H = "hotfix_snooze_1h"


class BlockId(StrEnum):
    """Input blocks; the element inside each has the same ID as its action_id."""

    TITLE = "title"
    ISSUE_ID = "issue_id"
    SEVERITY = "severity"
    IMPACT = "impact"
    RISK = "risk"
    REPO = "repo"
    SECURITY = "security"
    OVERRIDE = "override"
    REASON = "reason"
    DECISION = "decision"
