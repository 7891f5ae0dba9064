"""Every action, block and callback ID the app uses, in one place."""
from enum import StrEnum


class CallbackId(StrEnum):
    DECLARE = "hotfix_declare"
    REJECT = "hotfix_reject"
    APPROVE_REVIEW = "hotfix_approve_review"
    REQUEST_CHANGES = "hotfix_request_changes"
    END_MONITORING_EARLY = "hotfix_end_monitoring_early"
    TAG_ANYWAY = "hotfix_tag_anyway"


class ActionId(StrEnum):
    APPROVE = "hotfix_approve"
    REJECT = "hotfix_reject"
    READY_FOR_REVIEW = "hotfix_ready_for_review"
    APPROVE_REVIEW = "hotfix_approve_review"
    REQUEST_CHANGES = "hotfix_request_changes"
    TAG_AND_DEPLOY = "hotfix_tag_and_deploy"
    STABLE = "hotfix_stable"
    ROLL_BACK = "hotfix_roll_back"
    MERGED_BY_HAND = "hotfix_merged_by_hand"
    CLOSE = "hotfix_close"
    RETRY = "hotfix_retry"
    SNOOZE_30M = "hotfix_snooze_30m"
    SNOOZE_1H = "hotfix_snooze_1h"
    LOOKS_FINE = "hotfix_looks_fine"
    TAG_ANYWAY = "hotfix_tag_anyway"


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
    CHECKLIST = "checklist"
    SECURITY_CHECKLIST = "security_checklist"
    DECISION = "decision"
