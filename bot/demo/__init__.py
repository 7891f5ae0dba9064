"""`hotfix-bot demo`: the offline demo, played against the stand-in Slack (bot/standins) and a throwaway remote."""
