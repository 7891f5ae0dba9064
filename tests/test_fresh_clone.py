"""A newcomer's first minutes, on a clean clone: the README's set-up builds everything, the demo plays, the bot serves."""
from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A clean clone of the committed project with its environment built by `make`, as the README says."""
    if not (REPO / ".git").exists():
        pytest.skip("not a git checkout")
    target = tmp_path_factory.mktemp("newcomer") / "hotfix-bot"
    subprocess.run(["git", "clone", "--quiet", str(REPO), str(target)], check=True, timeout=120)
    built = subprocess.run(["make", ".venv/.installed"], cwd=target, capture_output=True, text=True, timeout=900)
    assert built.returncode == 0, built.stdout + built.stderr
    return target


def newcomer_env(clone: Path) -> dict[str, str]:
    """A shell with none of this session's settings: no Slack tokens, no HOTFIX_* variables."""
    keep = ("PATH", "HOME", "LANG", "PIP_CONFIG_FILE", "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_FIND_LINKS")
    return {k: v for k, v in os.environ.items() if k in keep} | {"TMPDIR": str(clone.parent)}


def test_the_demo_plays_a_hotfix_from_declare_to_close_offline(clone: Path) -> None:
    started = time.monotonic()
    demo = subprocess.run(["make", "demo", "ARGS=--cleanup"], cwd=clone, env=newcomer_env(clone),
                          capture_output=True, text=True, timeout=180)
    assert demo.returncode == 0, demo.stdout + demo.stderr
    shown = demo.stdout
    for line in ("clicked Approve", "Branch hotfix/PROD-501-", "Tagged v1.1.1",
                 "Every target has the fix (main, develop)", "closed HF-1. The post-mortem draft is below",
                 "Steps against their targets"):
        assert line in shown, f"{line!r} missing from the demo:\n{shown}"
    assert time.monotonic() - started < 120


def test_make_run_serves_slack_and_answers_health_checks(clone: Path, tmp_path: Path) -> None:
    (clone / "hotfix.toml").write_text((clone / "hotfix.example.toml").read_text())
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = newcomer_env(clone) | {"SLACK_BOT_TOKEN": "xoxb-newcomer", "SLACK_SIGNING_SECRET": "a-signing-secret",
                                 "SLACK_API_URL": "http://127.0.0.1:9/api/", "DATABASE_URL": f"sqlite:///{tmp_path}/h.db"}
    server = subprocess.Popen(["make", "run", f"ARGS=--http --host 127.0.0.1 --port {port}"], cwd=clone, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                connection.request("GET", "/healthz")
                assert json.loads(connection.getresponse().read()) == {"status": "ok", "role": "leader"}
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, "make run did not start serving"
                time.sleep(0.2)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        connection.request("POST", "/slack/events", body=b"command=%2Fhotfix", headers={"X-Slack-Signature": "v0=forged"})
        assert connection.getresponse().status == 401  # unsigned requests are refused
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=20)


def test_the_readme_test_command_passes_in_a_clone_with_nothing_beside_it(clone: Path) -> None:
    """The tests carry what they read (Slack's spec included): nothing above the clone is needed."""
    assert not any((parent / "shared").exists() for parent in clone.parents)
    run = subprocess.run(["make", "test", "ARGS=tests/support/test_fake_slack.py tests/slack/test_approval_walk.py -q"],
                         cwd=clone, env=newcomer_env(clone), capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert " passed" in run.stdout and "error" not in run.stdout.lower()
