"""Every action, block and callback ID the app uses, in one place."""
from enum import StrEnum


class CallbackId(StrEnum):
    DECLARE = "hotfix_declare"
    REJECT = "hotfix_reject"


class ActionId(StrEnum):
    APPROVE = "hotfix_approve"
    REJECT = "hotfix_reject"
    INPUT = "value"  # the single element inside each input block


class BlockId(StrEnum):
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
