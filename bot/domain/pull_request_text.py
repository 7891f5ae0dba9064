"""The title and body of a hotfix's pull request, in the spirit of the procedure's "HOTFIX PR Ready for
Review".

People's text (title, impact, risk) and git's (file names) are shown, never interpreted: no `@user` or
`@org/team` mention, no HTML, no Markdown that could fake a section or a link. A security hotfix's pull
request says nothing of the vulnerability: no title, issue, impact, risk or file names.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.domain.checklists import REVIEW_CHECKLIST, SECURITY_CHECKLIST
from bot.domain.hotfix import Hotfix
from bot.domain.review import FileChange

MAX_TITLE = 256  # GitHub's limit for a pull request title
MAX_FILES_LISTED = 20
SECURITY_TITLE = "Security fix"


_MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]()#+!|~])")
_TEST_PATH = re.compile(r"(^|/)(tests?|spec|__tests__)/|(^|/)test_[^/]*$|_test\.[^/]+$|\.(test|spec)\.[^/]+$|"
                        r"Tests?\.[^/]+$")


def plain(text: str) -> str:
    """Text for a plain-text field (a title): `@` cannot mention and `<…>` cannot ping or tag anyone."""
    one_line = " ".join(text.split())
    return one_line.replace("@", "＠").replace("<", "‹").replace(">", "›")


def markdown(text: str) -> str:
    """Text for a Markdown body: shown as typed, one paragraph per line, nothing interpreted."""
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("@", "＠")
    lines = (_MARKDOWN_SPECIALS.sub(r"\\\1", line.strip()) for line in escaped.splitlines())
    return "\n".join(f"> {line}" if line else ">" for line in lines) or "> (none given)"


def code_span(text: str) -> str:
    """A file name in a code span it cannot leave (a backtick shows as its look-alike)."""
    return "`" + plain(text).replace("`", "ˋ") + "`"


def is_test_file(path: str) -> bool:
    return bool(_TEST_PATH.search(path))


def pull_request_title(hotfix: Hotfix) -> str:
    what = SECURITY_TITLE if hotfix.security else plain(hotfix.title)
    title = f"HOTFIX {hotfix.key}: {what}"
    return title if len(title) <= MAX_TITLE else title[: MAX_TITLE - 1] + "…"


def merge_back_title(hotfix: Hotfix, target: str) -> str:
    return f"HOTFIX {hotfix.key}: merge back into {plain(target)}"


def merge_back_body(hotfix: Hotfix, target: str, branch: str) -> str:
    """Says what the pull request is for and nothing of the fix itself: its own pull request into main has that."""
    shipped = f" (released as {code_span(hotfix.tag)})" if hotfix.tag else ""
    return (f"Merges hotfix {hotfix.key}{shipped} into {code_span(target)}, so the fix is not lost in the next "
            "release.\n\nOpened by hotfix-bot, which merges it with a merge commit as soon as GitHub allows. If "
            "GitHub refuses (a required review, a failing check, a conflict), the hotfix's Slack thread says why "
            f"and who can act. A conflict is resolved on {code_span(branch)}, a branch of its own, so the hotfix "
            "branch stays what was approved.\n")


def pull_request_body(hotfix: Hotfix, files: Sequence[FileChange]) -> str:
    sections = [_heading(hotfix)]
    if hotfix.security:
        sections.append("A security fix: the vulnerability, the issue and the files are kept out of this "
                        "pull request. The details are in the security channel's thread.")
    else:
        sections += [f"### Impact\n{markdown(hotfix.impact)}", f"### Risk\n{markdown(hotfix.risk)}"]
    sections += [_change(files, reveal=not hotfix.security), _checklist(hotfix), _how_it_counts()]
    return "\n\n".join(sections) + "\n"


def _heading(hotfix: Hotfix) -> str:
    issue = "" if hotfix.security else f" · Issue {code_span(hotfix.issue_id)}"
    heading = f"## 🚨 HOTFIX {hotfix.key}: ready for review, urgent"
    return f"{heading}\n\n**Severity: {hotfix.severity.label}**{issue}"


def _change(files: Sequence[FileChange], *, reveal: bool) -> str:
    plus, minus = sum(f.insertions for f in files), sum(f.deletions for f in files)
    tests = [f for f in files if is_test_file(f.path)]
    summary = f"{len(files)} file(s), +{plus} −{minus}; tests touched: {len(tests) or 'none'}"
    if not reveal:
        return f"### Change\n{summary}"
    listed = [f"- {code_span(f.path)} +{f.insertions} −{f.deletions}" for f in files[:MAX_FILES_LISTED]]
    if len(files) > MAX_FILES_LISTED:
        listed.append(f"- and {len(files) - MAX_FILES_LISTED} more")
    return "\n".join([f"### Change\n{summary}", *listed])


def _checklist(hotfix: Hotfix) -> str:
    items = [*REVIEW_CHECKLIST, *(SECURITY_CHECKLIST if hotfix.security else ())]
    return "### Review checklist\n" + "\n".join(f"- [ ] {item}" for item in items)


def _how_it_counts() -> str:
    return ("_Opened by hotfix-bot. An approving review on the latest commit, by a reviewer who is neither "
            "the declarer nor an author of the fix, approves the hotfix; a push after it needs a new "
            "approval._")
