"""The team config and credentials the benchmarks run the bot with (the same team as the tests', so figures compare).

Not a benchmark: `make bench` runs bench/[!_]*.py only.
"""

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
