"""The procedure's reviewer checklists: the Slack review form and the pull request's body show the same items."""

REVIEW_CHECKLIST = (
    "Fix addresses the stated problem",
    "Changes are minimal and focused",
    "No unrelated changes included",
    "Tests added/updated appropriately",
    "No obvious regressions",
    "Deployment plan is clear",
    "Rollback plan is documented",
    "Changes will merge cleanly to main branch",
)
SECURITY_CHECKLIST = (
    "Security team has reviewed",
    "Fix doesn't introduce new vulnerabilities",
    "No sensitive data exposed in logs/errors",
)
