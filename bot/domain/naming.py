"""Issue IDs people type and the hotfix branch names made from them."""

from __future__ import annotations

import re
import unicodedata

MAX_ISSUE_ID_LENGTH = 32
_ISSUE_ID = re.compile(r"^[A-Za-z][A-Za-z0-9]*(?:[-_][A-Za-z0-9]+)*$")
_WORD = re.compile(r"[a-z0-9]+")


class InvalidName(ValueError):
    """A name a person typed that the bot won't use; str(err) is shown to them in Slack."""


def validate_issue_id(raw: str) -> str:
    issue_id = raw.strip()
    # isascii() first: \d and [A-Za-z] are ASCII here, but "PRÖD-1" must not be mangled into a match.
    if not issue_id.isascii() or len(issue_id) > MAX_ISSUE_ID_LENGTH or not _ISSUE_ID.match(issue_id):
        raise InvalidName(
            "Issue ID must look like PROD-501: letters, digits and - or _, "
            f"starting with a letter, at most {MAX_ISSUE_ID_LENGTH} characters."
        )
    return issue_id


def slugify(title: str, max_len: int = 40) -> str:
    folded = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode("ascii").lower()
    slug = ""
    for word in _WORD.findall(folded):
        candidate = f"{slug}-{word}" if slug else word
        if len(candidate) > max_len:
            # A single word longer than the limit is cut; otherwise stop at the last whole word.
            slug = slug or word[:max_len]
            break
        slug = candidate
    return slug or "fix"


def branch_name(issue_id: str, title: str) -> str:
    return f"hotfix/{validate_issue_id(issue_id)}-{slugify(title)}"


def security_branch_name(key: str) -> str:
    """Names neither the issue nor the flaw: an issue ID such as a CVE number is a disclosure."""
    return f"hotfix/{key}-security-fix"
