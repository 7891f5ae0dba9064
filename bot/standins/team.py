"""The stand-in team the tests and the benchmarks run the bot with: the issue's example, plus the optional channels."""

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
TOKEN = "xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy"

# `{remote}` is the git remote URL.
CONFIG = """
[slack]
channel = "C0HOTFIX"
stakeholders_channel = "C0STAKE"
security_channel = "G0SECRET"

[[repos]]
name = "payments"
url = "{remote}"
flow = "production-tag"
production_tag = "v*"
main = "main"
merge_back = ["main", "develop"]

[approvals]
critical = ["engineering_manager", "oncall_lead", "cto"]
high = ["engineering_manager", "oncall_lead"]

[roles]
engineering_manager = ["UEM"]
oncall_lead = ["ULEAD"]
cto = ["UCTO"]
reviewer = ["UREV1", "UREV2"]

[timers]
review_sla = "1h"
monitoring_window = "30m"
merge_back_due = "30m"
"""
