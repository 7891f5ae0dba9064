"""A hotfix on a repo reviewed on GitHub, for the Slack tests: the repo configured for GitHub, and what the
code-host worker would have recorded, recorded through the service's one way of moving a hotfix."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from bot.config import load_config
from bot.domain.hotfix import Event, Stage
from bot.domain.transitions import Outcome
from tests.support.driver import Driver, Posted
from tests.support.gitrepos import Remote


def on_github(driver: Driver, config_path: Path) -> None:
    text = config_path.read_text().replace('merge_back = ["main", "develop"]',
                                           'merge_back = ["main", "develop"]\ngithub = "acme/payments"')
    config_path.write_text(text + '\n[people]\nUREV1 = "rita-gh"\nUREV2 = "sam-gh"\n')
    driver.bot.reload(load_config(config_path))


def github_says(driver: Driver, posted: Posted, *events: Event, stage: Stage | None = None, commit: str = "") -> None:
    """Records what the code-host worker would have read from GitHub, through the service's one way of moving."""
    def move(hotfix, turn):
        moved = hotfix if stage is None else replace(hotfix, stage=stage, approved_commit=commit)
        return Outcome(moved, events)
    driver.bot.service.reports.moves.run(int(posted.key.removeprefix("HF-")), move)
    driver.settle()


def push_fix(remote: Remote, tmp_path: Path, branch: str) -> str:
    """An engineer pushes one fix commit to the hotfix branch; returns its head."""
    engineer = remote.clone(tmp_path / "engineer")
    engineer.switch(branch)
    head = engineer.commit("checkout.py", "def total(cart):\n    return 0\n", "Fix the total")
    engineer.push(f"HEAD:refs/heads/{branch}")
    return head
