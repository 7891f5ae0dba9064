"""Cut the operations the stand-in GitHub serves out of GitHub's full OpenAPI description.

    python bot/standins/specs/github/extract.py PATH/TO/api.github.com.json

writes operations.json beside this script: those operations and every component they reference,
transitively. Descriptions and examples are dropped to keep the file small; nothing else changes.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

# (method, path template): exactly what the stand-in GitHub (bot/standins/github*.py) answers.
OPERATIONS = (
    ("get", "/rate_limit"),
    ("post", "/app/installations/{installation_id}/access_tokens"),
    ("get", "/repos/{owner}/{repo}"),
    ("get", "/repos/{owner}/{repo}/installation"),
    ("get", "/repos/{owner}/{repo}/pulls"),
    ("post", "/repos/{owner}/{repo}/pulls"),
    ("get", "/repos/{owner}/{repo}/pulls/{pull_number}"),
    ("patch", "/repos/{owner}/{repo}/pulls/{pull_number}"),
    ("put", "/repos/{owner}/{repo}/pulls/{pull_number}/merge"),
    ("get", "/repos/{owner}/{repo}/pulls/{pull_number}/reviews"),
    ("post", "/repos/{owner}/{repo}/pulls/{pull_number}/requested_reviewers"),
    ("get", "/repos/{owner}/{repo}/labels"),
    ("post", "/repos/{owner}/{repo}/labels"),
    ("post", "/repos/{owner}/{repo}/issues/{issue_number}/labels"),
    ("post", "/repos/{owner}/{repo}/issues/{issue_number}/comments"),
    ("get", "/repos/{owner}/{repo}/commits/{ref}"),
    ("get", "/repos/{owner}/{repo}/commits/{ref}/check-runs"),
    ("get", "/repos/{owner}/{repo}/commits/{ref}/status"),
    ("get", "/repos/{owner}/{repo}/commits/{ref}/statuses"),
    ("get", "/repos/{owner}/{repo}/compare/{basehead}"),
)
DROPPED_KEYS = frozenset({"description", "examples", "example"})
OUTPUT = Path(__file__).resolve().parent / "operations.json"


def extract(full: dict[str, Any]) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for method, path in OPERATIONS:
        paths.setdefault(path, {})[method] = _trimmed(full["paths"][path][method])
    components: dict[str, dict[str, Any]] = {}
    pending = list(_refs(paths))
    while pending:
        kind, name = pending.pop()
        if name in components.setdefault(kind, {}):
            continue
        components[kind][name] = _trimmed(full["components"][kind][name])
        pending += _refs(components[kind][name])
    return {
        "openapi": full["openapi"],
        "info": {"title": full["info"]["title"], "version": full["info"]["version"]},
        "paths": paths,
        "components": {kind: dict(sorted(entries.items())) for kind, entries in sorted(components.items())},
    }


def _trimmed(node: Any, *, names: bool = False) -> Any:
    """The node without prose and examples; in a `properties` map the keys are names, and all stay."""
    if isinstance(node, list):
        return [_trimmed(item) for item in node]
    if not isinstance(node, dict):
        return node
    return {
        key: _trimmed(value, names=key == "properties" and not names)
        for key, value in node.items()
        if names or key not in DROPPED_KEYS
    }


def _refs(node: Any) -> list[tuple[str, str]]:
    if isinstance(node, list):
        return [ref for item in node for ref in _refs(item)]
    if not isinstance(node, dict):
        return []
    found = []
    if isinstance(node.get("$ref"), str):
        _, _, kind, name = node["$ref"].split("/", 3)
        found.append((kind, name))
    return found + [ref for value in node.values() for ref in _refs(value)]


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    source = Path(argv[1])
    raw = source.read_bytes()
    subset = extract(json.loads(raw))
    OUTPUT.write_text(json.dumps(subset, indent=1, sort_keys=False) + "\n", encoding="utf-8")
    print(
        f"{source.name} (sha256 {hashlib.sha256(raw).hexdigest()}): "
        f"{len(OPERATIONS)} operations, {sum(map(len, subset['components'].values()))} components "
        f"-> {_shown(OUTPUT)} ({OUTPUT.stat().st_size:,} bytes)"
    )
    return 0


def _shown(path: Path) -> str:
    """`path` as run from the repository root (bot/standins/specs/github/operations.json), else in full."""
    try:
        return str(path.relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
