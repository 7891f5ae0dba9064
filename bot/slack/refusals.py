"""A refusal as Slack shows it: the procedure's reason, then how to do it instead with the buttons or /hotfix."""
from __future__ import annotations

from bot.domain.transitions import Refused, Remedy

_REMEDIES = {
    Remedy.END_MONITORING_EARLY: "To end monitoring early, say why: press *Stable* on the status message, "
                                 "or `/hotfix stable {key} <reason>`.",
    Remedy.CLOSE_WITH_A_REASON: "Close it with a reason: `/hotfix close {key} <reason>`.",
    Remedy.SEE_THE_ACTIVE_ONES: "`/hotfix list` shows the active ones.",
    Remedy.OVERRIDE_CI: "An on-call lead can press *Tag anyway* on the status message and say why; the reason "
                        "goes into the post-mortem.",
}


def refusal_text(refusal: Refused) -> str:
    """Unescaped: the caller escapes it for a message, or not for a modal's plain-text error."""
    if refusal.remedy is None:
        return str(refusal)
    return f"{refusal} {_REMEDIES[refusal.remedy].format(key=refusal.key)}"
