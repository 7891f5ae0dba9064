"""Modal state -> typed forms, and domain field problems -> the block IDs Slack shows them under."""
from __future__ import annotations

from typing import Any

from bot.domain.declaration import Declaration, Field
from bot.domain.policy import Severity
from bot.slack.ids import BlockId
from bot.slack.views import CHECKLISTS

FIELD_BLOCKS: dict[Field, BlockId] = {
    Field.TITLE: BlockId.TITLE,
    Field.ISSUE_ID: BlockId.ISSUE_ID,
    Field.SEVERITY: BlockId.SEVERITY,
    Field.IMPACT: BlockId.IMPACT,
    Field.RISK: BlockId.RISK,
    Field.REPO: BlockId.REPO,
    Field.OVERRIDE: BlockId.OVERRIDE,
}


def read_declaration(view: dict[str, Any]) -> Declaration:
    values = _values(view)
    severity = _selected(values, BlockId.SEVERITY)
    return Declaration(
        title=_text(values, BlockId.TITLE),
        issue_id=_text(values, BlockId.ISSUE_ID),
        severity=Severity(severity) if severity in Severity._value2member_map_ else None,
        impact=_text(values, BlockId.IMPACT),
        risk=_text(values, BlockId.RISK),
        repo=_selected(values, BlockId.REPO) or "",
        security=bool(_checked(values, BlockId.SECURITY)),
        override=bool(_checked(values, BlockId.OVERRIDE)),
    )


def read_reason(view: dict[str, Any]) -> str:
    return _text(_values(view), BlockId.REASON)


def field_errors(problems: dict[Field, str]) -> dict[str, str]:
    return {FIELD_BLOCKS[field].value: message for field, message in problems.items()}


def _values(view: dict[str, Any]) -> dict:
    """The modal's state; anything not shaped like Slack's reads as empty rather than failing."""
    state = view.get("state")
    values = state.get("values") if isinstance(state, dict) else None
    return values if isinstance(values, dict) else {}


def _element(values: dict, block: BlockId) -> dict:
    entry = values.get(block.value)
    element = entry.get(block.value) if isinstance(entry, dict) else None
    return element if isinstance(element, dict) else {}


def _text(values: dict, block: BlockId) -> str:
    value = _element(values, block).get("value")
    return value if isinstance(value, str) else ""


def _selected(values: dict, block: BlockId) -> str | None:
    option = _element(values, block).get("selected_option") or {}
    value = option.get("value") if isinstance(option, dict) else None
    return value if isinstance(value, str) else None


def _checked(values: dict, block: BlockId) -> list:
    options = _element(values, block).get("selected_options") or []
    return options if isinstance(options, list) else []


def unticked(view: dict[str, Any]) -> BlockId | None:
    """The first checklist in the review modal with items left unticked (the main one counts even if not shown)."""
    for block, items in CHECKLISTS.items():
        shown = _shown_options(view, block) or (len(items) if block is BlockId.CHECKLIST else 0)
        if len(_checked(_values(view), block)) < shown:
            return block
    return None


def _shown_options(view: dict[str, Any], block: BlockId) -> int:
    for candidate in view.get("blocks", []):
        if candidate.get("block_id") == block.value:
            return len((candidate.get("element") or {}).get("options") or [])
    return 0
