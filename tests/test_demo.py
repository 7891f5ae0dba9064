"""`hotfix-bot demo` as a person runs it: a subprocess with no Slack settings, read from what it prints."""
from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

BRANCH = "hotfix/PROD-501-checkout-returns-500-for-expired-cards"
DEADLINE_SECONDS = 60


def run_cli(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=90)


def clean_env(tmp: Path) -> dict[str, str]:
    """This machine's environment minus every setting of the bot; temp files go under `tmp`."""
    (tmp / "tmp").mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SLACK_", "HOTFIX_")) and k != "DATABASE_URL"}
    return {**env, "TMPDIR": str(tmp / "tmp")}


@dataclass(frozen=True)
class Played:
    out: str
    elapsed: float
    cwd: Path


@pytest.fixture(scope="module")
def played(tmp_path_factory: pytest.TempPathFactory) -> Played:
    cwd = tmp_path_factory.mktemp("demo")
    started = time.monotonic()
    result = run_cli("demo", cwd=cwd, env=clean_env(cwd))
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stdout + result.stderr
    return Played(result.stdout, elapsed, cwd)


def test_the_demo_plays_one_incident_from_declare_to_close_in_under_a_minute(played: Played) -> None:
    out = played.out

    assert played.elapsed < DEADLINE_SECONDS
    assert "Alice (on-call engineer) ran /hotfix declare Checkout returns 500 for expired cards" in out
    assert "Emma (engineering manager) clicked Approve" in out
    assert "hotfix-bot: ✅ @Emma approved as Engineering manager (1 of 2). Still needed: On-call lead." in out
    assert "Leo (on-call lead) clicked Approve" in out
    assert (f"hotfix-bot: ✅ @Leo approved as On-call lead (2 of 2): all approvals in. Cutting {BRANCH} now."
            in out)
    assert f"hotfix-bot: 🌿 Branch {BRANCH} pushed from v1.1.0 (" in out
    assert "Alice (on-call engineer) pushed " in out and f"to {BRANCH}" in out
    assert f"hotfix-bot: 🔍 @Rita: review {BRANCH} at " in out and "The diff:" in out
    assert "hotfix-bot: 👍 @Rita approved the review (Reviewer)." in out
    assert "hotfix-bot: 🏷️ Tagged v1.1.1 on " in out and "Previous production: v1.1.0." in out
    assert "hotfix-bot: ⏰ @Alice: HF-1 monitoring check-in: are error rates and latency normal?" in out
    assert f"hotfix-bot: 🎉 Every target has the fix (main, develop); the bot deletes {BRANCH}. Press Close" in out
    assert "hotfix-bot: 🏁 @Alice closed HF-1. The post-mortem draft is below;" in out
    assert "Post-mortem draft: HF-1 Checkout returns 500 for expired cards" in out
    assert "• Approved as Engineering manager: @Emma at " in out
    assert "(status message updated) HF-1 · HIGH · Checkout returns 500 for expired cards · Closed" in out


def test_the_demo_prints_plain_text_not_slack_markup(played: Played) -> None:
    out = played.out

    assert "<@" not in out and "```" not in out and "`" not in out.split("Left for a look")[0]
    assert not re.search(r"\*\w[^*\n]*\*", out)  # *bold* is shown as plain text
    assert re.search(r"^\[\d\d:\d\d\] ", out, re.MULTILINE)


def test_the_demo_leaves_the_database_and_remote_for_a_look(played: Played) -> None:
    out, tmp_path = played.out, played.cwd
    database_url = re.search(r"^  database  (sqlite:///\S+)$", out, re.MULTILINE).group(1)
    remote = Path(re.search(r"^  remote    (\S+)", out, re.MULTILINE).group(1))
    assert remote.is_relative_to(tmp_path / "tmp") and (remote / "HEAD").is_file()
    tip = re.search(r"^Print the post-mortem draft again:\n\s+(.+)$", out, re.MULTILINE).group(1)
    assignment, *command = shlex.split(tip)
    assert assignment == f"DATABASE_URL={database_url}" and command[-2:] == ["report", "HF-1"]

    # As printed: a shell in the same directory, without the virtualenv on PATH, can run it.
    report = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=90,
                            env={**clean_env(tmp_path), "DATABASE_URL": database_url, "PATH": "/usr/bin:/bin"})

    assert report.returncode == 0, report.stderr
    assert report.stdout.startswith("# Post-mortem draft: HF-1 Checkout returns 500 for expired cards")
    assert "- Release: tag `v1.1.1`, previous production `v1.1.0`" in report.stdout


def test_cleanup_removes_everything_it_made(tmp_path: Path) -> None:
    result = run_cli("demo", "--cleanup", cwd=tmp_path, env=clean_env(tmp_path))

    assert result.returncode == 0, result.stdout + result.stderr
    assert "--cleanup" in result.stdout.splitlines()[-1]
    assert list((tmp_path / "tmp").iterdir()) == []
    assert list(tmp_path.iterdir()) == [tmp_path / "tmp"]  # nothing written where it was run


@pytest.fixture(scope="module")
def played_on_github(tmp_path_factory: pytest.TempPathFactory) -> Played:
    cwd = tmp_path_factory.mktemp("demo-github")
    started = time.monotonic()
    result = run_cli("demo", "--github", "--cleanup", cwd=cwd, env=clean_env(cwd))
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stdout + result.stderr
    return Played(result.stdout, elapsed, cwd)


def test_the_github_demo_plays_the_pull_request_path_and_says_what_happened_on_github(
        played_on_github: Played) -> None:
    out = played_on_github.out

    assert played_on_github.elapsed < DEADLINE_SECONDS
    assert ("GitHub: hotfix-bot opened pull request #1 “HOTFIX HF-1: Checkout returns 500 for expired cards” "
            f"({BRANCH} into main)") in out
    assert "GitHub: hotfix-bot labelled pull request #1 hotfix" in out
    assert "GitHub: hotfix-bot asked Rita (rita-gh) to review pull request #1" in out
    assert "GitHub: Rita approved pull request #1" in out
    assert "hotfix-bot: 🔀 Pull request #1 (https://github.com/acme/payments/pull/1) opened into main." in out
    assert "hotfix-bot: 👍 @Rita approved the pull request on GitHub at " in out
    assert "• Review approved by @Rita (Reviewer) at " in out
    assert "Use Approve review" not in out  # one source of truth: no review buttons in Slack for a GitHub repo
    assert "Rita (reviewer) clicked" not in out  # the review happened on GitHub, not in Slack
    ci_passed = out.index("GitHub: CI check tests passed on ")
    assert out.index("GitHub: CI check tests started on ") < ci_passed < out.index("Alice (on-call engineer) clicked "
                                                                                  "Tag & deploy")
    assert "hotfix-bot: 🏷️ Tagged v1.1.1 on " in out
    assert "hotfix-bot: ✅ CI passed on " in out
    assert "GitHub: CI check deploy-production passed on v1.1.1 (" in out
    assert "hotfix-bot: ✅ The deploy checks of v1.1.1 passed: deploy-production" in out
    assert "Merging back through pull requests into main, develop" in out
    assert "GitHub: hotfix-bot merged pull request #1 into main (merge commit)" in out
    assert re.search(rf"GitHub: hotfix-bot opened pull request #2 “HOTFIX HF-1: merge back into develop” "
                     rf"\({re.escape(BRANCH)}\S* into develop\)", out)  # from the branch, or a merge branch of it
    assert "GitHub: hotfix-bot merged pull request #2 into develop (merge commit)" in out
    assert f"hotfix-bot: 🎉 Every target has the fix (main, develop); the bot deletes {BRANCH}. Press Close" in out
    assert "hotfix-bot: 🏁 @Alice closed HF-1. The post-mortem draft is below;" in out
    assert "(status message updated) HF-1 · HIGH · Checkout returns 500 for expired cards · Closed" in out
    assert "• Pull requests: #1 (https://github.com/acme/payments/pull/1) into main (merged), #2 " in out
    assert "Merge pull request #1 from acme/" in out and "Merge pull request #2 from acme/" in out  # the remote
    assert "HTTP 4" not in out and "HTTP 5" not in out  # GitHub refused nothing the bot asked


def test_the_github_demo_leaves_nothing_running_or_behind(played_on_github: Played) -> None:
    assert list((played_on_github.cwd / "tmp").iterdir()) == []
    assert list(played_on_github.cwd.iterdir()) == [played_on_github.cwd / "tmp"]
    assert _processes_mentioning(str(played_on_github.cwd)) == []  # no git, server or worker outlived the demo


def _processes_mentioning(text: str) -> list[str]:
    """Command lines of this machine's processes that name `text` or run in it (Linux /proc)."""
    proc = Path("/proc")
    if not proc.is_dir():
        pytest.skip("needs /proc to list processes")
    found = []
    for entry in proc.iterdir():
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            cwd = os.readlink(entry / "cwd")
        except (OSError, ValueError):
            continue
        if text in command or cwd.startswith(text):
            found.append(f"{entry.name}: {command}")
    return found
