"""hotfix-bot: runs a team's hotfix procedure in Slack."""
