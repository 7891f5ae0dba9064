"""Block Kit limits Slack enforces on messages and views; each check returns readable problems."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_MESSAGE_TEXT = 40_000
MAX_ID = 255
BLOCK_TYPES = frozenset(
    {"section", "divider", "actions", "context", "header", "input", "image", "rich_text", "file"}
)
TEXT_TYPES = frozenset({"plain_text", "mrkdwn"})
# Most options each element type accepts.
OPTION_LIMITS = {
    "static_select": 100, "multi_static_select": 100, "overflow": 5, "radio_buttons": 10, "checkboxes": 10,
}

MESSAGE_METHODS = frozenset({"chat.postMessage", "chat.update", "chat.postEphemeral", "response_url"})
VIEW_METHODS = frozenset({"views.open", "views.update", "views.push", "views.publish"})


def request_problems(method: str, args: dict[str, Any]) -> list[str]:
    """What Slack would refuse in the Block Kit content of one call."""
    if method in MESSAGE_METHODS:
        return message_problems(args)
    if method in VIEW_METHODS and "view" in args:
        return view_problems(args["view"], method=method)
    return []


def lacks_fallback_text(method: str, args: dict[str, Any]) -> bool:
    """Slack accepts blocks without `text`, but warns: notifications and screen readers need it."""
    return method in MESSAGE_METHODS and bool(args.get("blocks")) and not args.get("text")


def message_problems(args: dict[str, Any]) -> list[str]:
    problems = []
    text = args.get("text")
    if isinstance(text, str) and len(text) > MAX_MESSAGE_TEXT:
        problems.append(f"text is {len(text)} chars; the most is {MAX_MESSAGE_TEXT}")
    if args.get("blocks") is not None:
        problems += blocks_problems(args["blocks"], limit=MAX_MESSAGE_BLOCKS)
    return problems


def view_problems(view: Any, *, method: str) -> list[str]:
    if not isinstance(view, dict):
        return ["view must be a JSON object"]
    kind = view.get("type")
    allowed = {"views.publish": {"home"}, "views.update": {"home", "modal"}}.get(method, {"modal"})
    problems = [] if kind in allowed else [f"view.type is {kind!r}; {method} takes {sorted(allowed)}"]
    if kind == "modal":
        problems += _modal_problems(view)
    problems += _length_problems(view, "callback_id", MAX_ID, where="view")
    problems += _length_problems(view, "private_metadata", 3000, where="view")
    if "blocks" not in view:
        return [*problems, "view.blocks is required"]
    return problems + blocks_problems(view["blocks"], limit=MAX_VIEW_BLOCKS)


def _modal_problems(view: dict[str, Any]) -> list[str]:
    if "title" not in view:
        problems = ["view.title is required for a modal"]
    else:
        problems = _text_problems(view["title"], "view.title", limit=24, plain_only=True)
    for button in ("submit", "close"):
        if button in view:
            problems += _text_problems(view[button], f"view.{button}", limit=24, plain_only=True)
    has_input = any(isinstance(b, dict) and b.get("type") == "input" for b in view.get("blocks") or [])
    if has_input and "submit" not in view:
        problems.append("view.submit is required when the modal has input blocks")
    return problems


def blocks_problems(blocks: Any, *, limit: int) -> list[str]:
    if not isinstance(blocks, list):
        return ["blocks must be a JSON array"]
    problems = [f"{len(blocks)} blocks; the most is {limit}"] if len(blocks) > limit else []
    for index, block in enumerate(blocks):
        problems += block_problems(block, f"blocks[{index}]")
    return problems + _duplicate_id_problems(blocks)


def block_problems(block: Any, where: str) -> list[str]:
    if not isinstance(block, dict):
        return [f"{where} must be a JSON object"]
    kind = block.get("type")
    if kind not in BLOCK_TYPES:
        return [f"{where}.type {kind!r} is not a block type"]
    problems = _length_problems(block, "block_id", MAX_ID, where=where)
    check = {"section": _section, "header": _header, "actions": _actions, "context": _context,
             "input": _input, "image": _image}.get(kind)
    return problems + (check(block, where) if check else [])


def _section(block: dict[str, Any], where: str) -> list[str]:
    if "text" not in block and "fields" not in block:
        return [f"{where} (section) needs text or fields"]
    problems = _text_problems(block["text"], f"{where}.text", limit=3000) if "text" in block else []
    fields = block.get("fields", [])
    if len(fields) > 10:
        problems.append(f"{where}.fields has {len(fields)} items; the most is 10")
    for index, field in enumerate(fields):
        problems += _text_problems(field, f"{where}.fields[{index}]", limit=2000)
    if "accessory" in block:
        problems += element_problems(block["accessory"], f"{where}.accessory")
    return problems


def _header(block: dict[str, Any], where: str) -> list[str]:
    return _text_problems(block.get("text"), f"{where}.text", limit=150, plain_only=True)


def _actions(block: dict[str, Any], where: str) -> list[str]:
    elements = block.get("elements") or []
    if not 1 <= len(elements) <= 25:
        return [f"{where} (actions) has {len(elements)} elements; it takes 1 to 25"]
    return [p for i, e in enumerate(elements) for p in element_problems(e, f"{where}.elements[{i}]")]


def _context(block: dict[str, Any], where: str) -> list[str]:
    elements = block.get("elements") or []
    if not 1 <= len(elements) <= 10:
        return [f"{where} (context) has {len(elements)} elements; it takes 1 to 10"]
    texts = [(i, e) for i, e in enumerate(elements) if isinstance(e, dict) and e.get("type") in TEXT_TYPES]
    return [p for i, e in texts for p in _text_problems(e, f"{where}.elements[{i}]", limit=3000)]


def _input(block: dict[str, Any], where: str) -> list[str]:
    problems = _text_problems(block.get("label"), f"{where}.label", limit=2000, plain_only=True)
    if "hint" in block:
        problems += _text_problems(block["hint"], f"{where}.hint", limit=2000, plain_only=True)
    if "element" not in block:
        return [*problems, f"{where}.element is required"]
    return problems + element_problems(block["element"], f"{where}.element")


def _image(block: dict[str, Any], where: str) -> list[str]:
    problems = [] if block.get("image_url") or block.get("slack_file") else [f"{where} needs image_url"]
    alt_text = block.get("alt_text")
    if not isinstance(alt_text, str) or not alt_text:
        problems.append(f"{where}.alt_text is required")
    return problems


def element_problems(element: Any, where: str) -> list[str]:
    if not isinstance(element, dict):
        return [f"{where} must be a JSON object"]
    kind = element.get("type")
    problems = _length_problems(element, "action_id", MAX_ID, where=where)
    if "placeholder" in element:
        problems += _text_problems(element["placeholder"], f"{where}.placeholder", limit=150, plain_only=True)
    if kind == "button":
        problems += _text_problems(element.get("text"), f"{where}.text", limit=75, plain_only=True)
        problems += _length_problems(element, "value", 2000, where=where)
        problems += _length_problems(element, "url", 3000, where=where)
    if kind == "plain_text_input":
        for bound in ("min_length", "max_length"):
            if isinstance(element.get(bound), int) and element[bound] > 3000:
                problems.append(f"{where}.{bound} is {element[bound]}; the most is 3000")
    if kind in OPTION_LIMITS:
        problems += _options_problems(element, where, limit=OPTION_LIMITS[kind])
    return problems


def _options_problems(element: dict[str, Any], where: str, *, limit: int) -> list[str]:
    groups = element.get("option_groups")
    options = [o for g in groups for o in g.get("options", [])] if groups else element.get("options") or []
    problems = [f"{where} has {len(options)} options; the most is {limit}"] if len(options) > limit else []
    for index, option in enumerate(options):
        problems += _text_problems(option.get("text"), f"{where}.options[{index}].text", limit=75)
        problems += _length_problems(option, "value", 150, where=f"{where}.options[{index}]")
        if "description" in option:
            problems += _text_problems(option["description"], f"{where}.options[{index}].description", limit=75,
                                       plain_only=True)
    return problems


def _duplicate_id_problems(blocks: list[Any]) -> list[str]:
    dicts = [b for b in blocks if isinstance(b, dict)]
    block_ids = Counter(b["block_id"] for b in dicts if "block_id" in b)
    action_ids = Counter(e["action_id"] for b in dicts for e in _elements_of(b) if "action_id" in e)
    return [f"block_id {name!r} is used {n} times" for name, n in block_ids.items() if n > 1] + [
        f"action_id {name!r} is used {n} times" for name, n in action_ids.items() if n > 1
    ]


def _elements_of(block: dict[str, Any]) -> Iterator[dict[str, Any]]:
    candidates = [*(block.get("elements") or []), block.get("accessory"), block.get("element")]
    return (e for e in candidates if isinstance(e, dict))


def _text_problems(text: Any, where: str, *, limit: int, plain_only: bool = False) -> list[str]:
    allowed = {"plain_text"} if plain_only else TEXT_TYPES
    if not isinstance(text, dict) or text.get("type") not in allowed:
        return [f"{where} must be a text object of type {' or '.join(sorted(allowed))}"]
    body = text.get("text")
    if not isinstance(body, str) or not body:
        return [f"{where}.text must be a non-empty string"]
    return [f"{where} is {len(body)} chars; the most is {limit}"] if len(body) > limit else []


def _length_problems(holder: dict[str, Any], key: str, limit: int, *, where: str) -> list[str]:
    value = holder.get(key)
    if isinstance(value, str) and len(value) > limit:
        return [f"{where}.{key} is {len(value)} chars; the most is {limit}"]
    return []
