"""The fake GitHub REST API, driven by githubkit (the client the bot will use) over a real bare remote.

githubkit parses every answer into the models it generates from GitHub's OpenAPI description, and every
answer is also checked against the response schema here: both must hold for the fake to stand in.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from githubkit import GitHub
from githubkit.exception import PrimaryRateLimitExceeded, RequestFailed, SecondaryRateLimitExceeded

from bot.standins import github_spec
from bot.standins.github import DEFAULT_TOKEN
from bot.standins.github_repo import Repository
from tests.support.fake_github import FakeGitHub
from tests.support.gitrepos import CHECKOUT_BUG, CHECKOUT_FIX, Clone, Remote, git, push_fix_branch

OWNER, REPO = "acme", "payments"
HOTFIX = "hotfix/HF-1-checkout-total"
SPECS = Path(github_spec.__file__).resolve().parent / "specs" / "github"


@pytest.fixture
def github(remote: Remote) -> Iterator[FakeGitHub]:
    with FakeGitHub(remote, owner=OWNER, repo=REPO) as fake:
        yield fake
        assert_answers_follow_their_schemas(fake)
        fake.assert_no_problems()


def assert_answers_follow_their_schemas(fake: FakeGitHub) -> None:
    __tracebackhide__ = True
    broken = []
    for exchange in fake.requests:
        operation = next((op for op in fake.spec.operations if op.id == exchange.operation), None)
        schema = operation.response_schema(exchange.status) if operation else None
        if schema is not None:
            broken += [
                f"{exchange.method} {exchange.path} -> {exchange.status}: {p}"
                for p in fake.spec.problems(schema, exchange.answer, "answer")
            ]
    assert not broken, "answers that break their response schema:\n  " + "\n  ".join(broken)


@pytest.fixture
def client(github: FakeGitHub) -> GitHub:
    return GitHub(DEFAULT_TOKEN, base_url=github.url, auto_retry=False, http_cache=False)


def push_hotfix(engineer: Clone, content: str = CHECKOUT_FIX, branch: str = HOTFIX) -> str:
    return push_fix_branch(engineer, branch, content)


def open_pull(client: GitHub, head: str = HOTFIX, base: str = "main") -> int:
    pull = client.rest.pulls.create(
        OWNER, REPO, title="HOTFIX HF-1: checkout total", head=head, base=base, body="Severity: HIGH"
    ).parsed_data
    return pull.number


def test_pull_request_story_ends_in_a_real_merge_commit_on_main(github, client, remote, engineer):
    head = push_hotfix(engineer)
    main_before = remote.rev("main")
    client.rest.issues.create_label(OWNER, REPO, name="hotfix", color="d73a4a")
    number = open_pull(client)
    labels = client.rest.issues.add_labels(OWNER, REPO, number, labels=["hotfix"]).parsed_data
    requested = client.rest.pulls.request_reviewers(OWNER, REPO, number, reviewers=["rita-gh"]).parsed_data
    github.protect("main", required_approvals=1, required_checks=["ci"])
    github.add_review(number, "rita-gh", "APPROVED", body="LGTM")
    github.set_check_run(head, "ci")
    github.set_status(head, "deploy/preview", "success", target_url="https://ci.example.com/1")
    client.rest.issues.create_comment(OWNER, REPO, number, body="Approved in Slack by <@U0123REV1>")

    pull = client.rest.pulls.get(OWNER, REPO, number).parsed_data
    reviews = client.rest.pulls.list_reviews(OWNER, REPO, number).parsed_data
    checks = client.rest.checks.list_for_ref(OWNER, REPO, head).parsed_data
    combined = client.rest.repos.get_combined_status_for_ref(OWNER, REPO, head).parsed_data
    merged = client.rest.pulls.merge(OWNER, REPO, number, merge_method="merge", sha=head).parsed_data

    assert [label.name for label in labels] == ["hotfix"]
    assert [user.login for user in requested.requested_reviewers] == ["rita-gh"]
    assert (pull.head.ref, pull.head.sha, pull.base.ref) == (HOTFIX, head, "main")
    assert (pull.mergeable, pull.mergeable_state, pull.changed_files, pull.additions) == (True, "clean", 1, 1)
    assert [(r.user.login, r.state, r.commit_id) for r in reviews] == [("rita-gh", "APPROVED", head)]
    assert [(run.name, run.conclusion) for run in checks.check_runs] == [("ci", "success")]
    assert combined.state == "success" and combined.statuses[0].context == "deploy/preview"
    assert merged.merged and remote.rev("main") == merged.sha
    assert remote.parents("main") == [main_before, head]
    assert remote.file_at("main", "checkout.py") == CHECKOUT_FIX.rstrip("\n")
    after = client.rest.pulls.get(OWNER, REPO, number).parsed_data
    assert (after.state, after.merged, after.merged_by.login) == ("closed", True, "hotfix-bot")
    assert github.comments(number) == ["Approved in Slack by <@U0123REV1>"]


def test_protected_base_refuses_the_merge_until_approved_and_green(github, client, remote, engineer):
    head = push_hotfix(engineer)
    number = open_pull(client)
    github.protect("main", required_approvals=1, required_checks=["ci"])

    def refusal() -> str:
        with pytest.raises(RequestFailed) as refused:
            client.rest.pulls.merge(OWNER, REPO, number, sha=head)
        assert refused.value.response.status_code == 405
        return refused.value.response.json()["message"]

    unapproved = refusal()
    github.add_review(number, "rita-gh", "APPROVED")
    github.set_check_run(head, "ci", status="in_progress")
    pending = refusal()
    github.set_check_run(head, "ci", conclusion="failure")
    failing = refusal()
    blocked = client.rest.pulls.get(OWNER, REPO, number).parsed_data.mergeable_state
    github.set_check_run(head, "ci")

    assert unapproved == "At least 1 approving review is required by reviewers with write access."
    assert pending == 'Required status check "ci" is expected.'
    assert failing == 'Required status check "ci" is failing.' and blocked == "blocked"
    assert client.rest.pulls.merge(OWNER, REPO, number, sha=head).parsed_data.merged


def test_a_dismissed_or_changes_requested_review_does_not_count(github, client, engineer):
    head = push_hotfix(engineer)
    number = open_pull(client)
    github.protect("main", required_approvals=1)
    github.add_review(number, "rita-gh", "APPROVED")
    github.add_review(number, "rita-gh", "DISMISSED")
    github.add_review(number, "sam-gh", "CHANGES_REQUESTED", body="Add a test")

    with pytest.raises(RequestFailed) as refused:
        client.rest.pulls.merge(OWNER, REPO, number, sha=head)
    states = [r.state for r in client.rest.pulls.list_reviews(OWNER, REPO, number).parsed_data]

    assert refused.value.response.status_code == 405
    assert states == ["APPROVED", "DISMISSED", "CHANGES_REQUESTED"]


def test_squash_merge_makes_one_commit_with_a_single_parent(github, client, remote, engineer):
    push_hotfix(engineer)
    engineer.commit("checkout_test.py", "def test_total():\n    assert True\n", "Test the total")
    engineer.push(f"HEAD:refs/heads/{HOTFIX}")
    main_before = remote.rev("main")
    number = open_pull(client)

    merged = client.rest.pulls.merge(OWNER, REPO, number, merge_method="squash").parsed_data

    assert remote.parents(merged.sha) == [main_before] and remote.rev("main") == merged.sha
    assert git(remote.path, "log", "-1", "--format=%s", "main") == "HOTFIX HF-1: checkout total (#1)"
    assert remote.file_at("main", "checkout_test.py").startswith("def test_total")


def test_rebase_merge_replays_each_commit_keeping_its_author(github, client, remote, engineer):
    push_hotfix(engineer)
    engineer.commit("checkout_test.py", "def test_total():\n    assert True\n", "Test the total")
    engineer.push(f"HEAD:refs/heads/{HOTFIX}")
    main_before = remote.rev("main")
    number = open_pull(client)

    merged = client.rest.pulls.merge(OWNER, REPO, number, merge_method="rebase").parsed_data

    log = git(remote.path, "log", "--format=%s|%an|%cn", f"{main_before}..main").splitlines()
    assert log == ["Test the total|Test Engineer|GitHub", "Fix the checkout total|Test Engineer|GitHub"]
    assert remote.rev("main") == merged.sha


def test_a_conflicting_pull_request_is_not_mergeable(github, client, remote, engineer, tmp_path):
    push_hotfix(engineer)
    other = remote.clone(tmp_path / "other")
    other.commit("checkout.py", CHECKOUT_BUG.replace("cart", "basket"), "Rename cart")
    other.push("HEAD:refs/heads/main")
    main_before = remote.rev("main")
    number = open_pull(client)

    pull = client.rest.pulls.get(OWNER, REPO, number).parsed_data
    with pytest.raises(RequestFailed) as refused:
        client.rest.pulls.merge(OWNER, REPO, number)

    assert (pull.mergeable, pull.mergeable_state) == (False, "dirty")
    assert refused.value.response.status_code == 405
    assert refused.value.response.json()["message"] == "Pull Request is not mergeable"
    assert remote.rev("main") == main_before


def test_merge_with_a_stale_sha_answers_409_and_leaves_main_alone(github, client, remote, engineer):
    old_head = push_hotfix(engineer)
    number = open_pull(client)
    engineer.commit("checkout.py", CHECKOUT_FIX + "# reviewed\n", "Second fix")
    engineer.push(f"HEAD:refs/heads/{HOTFIX}")
    main_before = remote.rev("main")

    with pytest.raises(RequestFailed) as refused:
        client.rest.pulls.merge(OWNER, REPO, number, sha=old_head)

    assert refused.value.response.status_code == 409
    assert (
        refused.value.response.json()["message"]
        == "Head branch was modified. Review and try the merge again."
    )
    assert remote.rev("main") == main_before


def test_a_second_pull_request_for_the_same_branch_is_refused_and_the_first_is_found(
    github, client, engineer
):
    push_hotfix(engineer)
    number = open_pull(client)

    with pytest.raises(RequestFailed) as refused:
        open_pull(client)
    found = client.rest.pulls.list(
        OWNER, REPO, head=f"{OWNER}:{HOTFIX}", base="main", state="open"
    ).parsed_data
    other_base = client.rest.pulls.list(OWNER, REPO, head=f"{OWNER}:{HOTFIX}", base="develop").parsed_data
    closed = client.rest.pulls.update(OWNER, REPO, number, state="closed").parsed_data

    assert refused.value.response.status_code == 422
    assert "A pull request already exists" in refused.value.response.json()["errors"][0]["message"]
    assert [p.number for p in found] == [number] and other_base == []
    assert closed.state == "closed"
    assert client.rest.pulls.list(OWNER, REPO).parsed_data == []


def test_lists_are_paged_with_a_link_header(github, client):
    for name in ("a", "b", "c"):
        client.rest.issues.create_label(OWNER, REPO, name=name)

    first = client.rest.issues.list_labels_for_repo(OWNER, REPO, per_page=2)
    second = client.rest.issues.list_labels_for_repo(OWNER, REPO, per_page=2, page=2)

    assert [label.name for label in first.parsed_data] == ["a", "b"]
    assert 'rel="next"' in first.headers["link"] and "page=2" in first.headers["link"]
    assert [label.name for label in second.parsed_data] == ["c"]


def test_compare_and_commit_show_real_commits_files_and_linked_authors(github, client, remote, engineer):
    head = push_hotfix(engineer)
    github.add_user("eve-gh", "engineer@example.com")

    comparison = client.rest.repos.compare_commits(OWNER, REPO, f"main...{HOTFIX}").parsed_data
    commit = client.rest.repos.get_commit(OWNER, REPO, head).parsed_data

    assert (comparison.status, comparison.ahead_by, comparison.behind_by) == ("diverged", 1, 1)
    assert [c.sha for c in comparison.commits] == [head]
    assert comparison.merge_base_commit.sha == remote.rev("v1.10.0")
    assert [(f.filename, f.status, f.additions, f.deletions) for f in comparison.files] == [
        ("checkout.py", "modified", 1, 1)
    ]
    assert commit.author.login == "eve-gh" and commit.parents[0].sha == remote.rev("v1.10.0")
    assert commit.commit.message == "Fix the checkout total" and commit.stats.total == 2


def test_etag_answers_304_without_spending_rate_limit(github, client):
    first = client.rest.repos.get(OWNER, REPO)
    remaining = int(first.headers["x-ratelimit-remaining"])
    again = client.request("GET", f"/repos/{OWNER}/{REPO}", headers={"If-None-Match": first.headers["etag"]})

    assert first.parsed_data.full_name == f"{OWNER}/{REPO}" and first.parsed_data.default_branch == "main"
    assert again.status_code == 304 and again.content == b""
    assert int(again.headers["x-ratelimit-remaining"]) == remaining
    assert first.headers["x-ratelimit-limit"] == "5000" and first.headers["x-ratelimit-resource"] == "core"
    assert first.headers["x-github-request-id"] != again.headers["x-github-request-id"]


def test_githubkit_http_cache_revalidates_with_the_etag(remote):
    with FakeGitHub(remote, owner=OWNER, repo=REPO, cache_max_age=0) as github:
        cached = GitHub(DEFAULT_TOKEN, base_url=github.url, auto_retry=False)
        first = cached.rest.repos.get(OWNER, REPO).parsed_data
        second = cached.rest.repos.get(OWNER, REPO).parsed_data

        assert first.full_name == second.full_name == f"{OWNER}/{REPO}"
        assert [e.status for e in github.requests] == [200, 304]
        github.assert_no_problems()


def test_server_errors_and_rate_limits_reach_the_client(github, client):
    github.fail_next(status=502)
    github.secondary_rate_limit(retry_after=7)
    github.primary_rate_limit(status=429, reset_in=120)

    with pytest.raises(RequestFailed) as server_error:
        client.rest.repos.get(OWNER, REPO)
    with pytest.raises(SecondaryRateLimitExceeded) as secondary:
        client.rest.repos.get(OWNER, REPO)
    with pytest.raises(PrimaryRateLimitExceeded) as primary:
        client.rest.repos.get(OWNER, REPO)
    recovered = client.rest.repos.get(OWNER, REPO).parsed_data

    assert server_error.value.response.status_code == 502
    assert secondary.value.response.status_code == 403 and secondary.value.retry_after.total_seconds() == 7
    assert (
        primary.value.response.status_code == 429 and 100 < primary.value.retry_after.total_seconds() <= 120
    )
    assert recovered.name == REPO
    assert [e.fault for e in github.requests] == [
        "http_502",
        "secondary_rate_limit",
        "primary_rate_limit",
        None,
    ]


def test_githubkit_retries_a_passing_server_error_by_itself(github):
    github.fail_next(status=503)
    retrying = GitHub(DEFAULT_TOKEN, base_url=github.url, http_cache=False)

    assert retrying.rest.repos.get(OWNER, REPO).parsed_data.name == REPO
    assert [e.status for e in github.requests] == [503, 200]


def test_rate_limit_is_read_without_spending_it(github, client):
    client.rest.repos.get(OWNER, REPO)
    limits = client.rest.rate_limit.get().parsed_data
    again = client.rest.rate_limit.get().parsed_data

    assert limits.resources.core.used == again.resources.core.used == 1
    assert github.rate_limit_remaining == 4999


def test_a_request_missing_head_is_refused_and_recorded(github, client):
    with pytest.raises(RequestFailed) as refused:
        client.request("POST", f"/repos/{OWNER}/{REPO}/pulls", json={"title": "x", "base": "main"})

    assert refused.value.response.status_code == 422
    assert github.take_problems() == [
        "POST /repos/{owner}/{repo}/pulls (pulls/create): body: missing required property 'head'"
    ]


def test_wrong_types_enums_unknown_query_and_routes_are_problems(github, client):
    for method, url, params, body in [
        ("PATCH", f"/repos/{OWNER}/{REPO}/pulls/1", None, {"state": "merged"}),
        ("GET", f"/repos/{OWNER}/{REPO}/pulls", {"state": "done", "colour": "red"}, None),
        ("PUT", f"/repos/{OWNER}/{REPO}/pulls/x/merge", None, {"sha": 7}),
        ("GET", f"/repos/{OWNER}/{REPO}/pulls/1/approve", None, None),
    ]:
        with pytest.raises(RequestFailed):
            client.request(method, url, params=params, json=body)
    problems = github.take_problems()

    assert problems == [
        'PATCH /repos/{owner}/{repo}/pulls/{pull_number} (pulls/update): body.state: "merged" is not one of '
        "['open', 'closed']",
        "GET /repos/{owner}/{repo}/pulls (pulls/list): query parameter 'state': \"done\" is not one of "
        "['open', 'closed', 'all']",
        "GET /repos/{owner}/{repo}/pulls (pulls/list): unknown query parameter 'colour'",
        "PUT /repos/{owner}/{repo}/pulls/{pull_number}/merge (pulls/merge): path parameter 'pull_number': "
        'expected integer, got str "x"',
        "PUT /repos/{owner}/{repo}/pulls/{pull_number}/merge (pulls/merge): body.sha: expected string, "
        "got int 7",
        "GET /repos/acme/payments/pulls/1/approve: no such GitHub REST operation",
    ]


def test_an_unknown_token_is_refused_401(github):
    stranger = GitHub(
        "ghp_not_a_token_the_fake_knows", base_url=github.url, auto_retry=False, http_cache=False
    )

    with pytest.raises(RequestFailed) as refused:
        stranger.rest.repos.get(OWNER, REPO)

    assert refused.value.response.status_code == 401
    assert github.take_problems() == [
        "GET /repos/{owner}/{repo} (repos/get): the token is not one the fake knows (Bad credentials)"
    ]


def jwt(claims: dict, alg: str = "RS256") -> str:
    def part(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': alg, 'typ': 'JWT'})}.{part(claims)}.c2lnbmF0dXJl"


def test_an_app_finds_its_installation_and_gets_a_token_that_works(github):
    now = int(time.time())
    app = {"Authorization": f"Bearer {jwt({'iss': '1', 'iat': now - 60, 'exp': now + 540})}"}
    anonymous = GitHub(base_url=github.url, auto_retry=False, http_cache=False)

    installation = anonymous.rest.apps.get_repo_installation(OWNER, REPO, headers=app).parsed_data
    token = anonymous.rest.apps.create_installation_access_token(installation.id, headers=app).parsed_data
    as_installation = GitHub(token.token, base_url=github.url, auto_retry=False, http_cache=False)

    assert installation.id == 42 and installation.account.login == OWNER
    assert token.token.startswith("ghs_")
    assert as_installation.rest.repos.get(OWNER, REPO).parsed_data.name == REPO


def test_a_jwt_of_the_wrong_shape_is_refused(github):
    now = int(time.time())
    anonymous = GitHub(base_url=github.url, auto_retry=False, http_cache=False)
    too_long = {"Authorization": f"Bearer {jwt({'iss': 1, 'iat': now, 'exp': now + 3600})}"}

    with pytest.raises(RequestFailed) as refused:
        anonymous.rest.apps.get_repo_installation(OWNER, REPO, headers=too_long)

    assert refused.value.response.status_code == 401
    assert github.take_problems() == [
        "GET /repos/{owner}/{repo}/installation (apps/get-repo-installation): "
        "the JWT needs integer iat and exp, exp at most 10 minutes after iat"
    ]


def test_the_schema_checker_catches_what_it_claims_to():
    spec = github_spec.load()
    label = {"$ref": "#/components/schemas/label"}
    good = {
        "id": 1,
        "node_id": "x",
        "url": "u",
        "name": "hotfix",
        "description": None,
        "color": "fff",
        "default": False,
    }

    assert spec.problems(label, good) == []
    assert spec.problems(label, {**good, "id": "1"}) == ['body.id: expected integer, got str "1"']
    assert spec.problems(label, {k: v for k, v in good.items() if k != "name"}) == [
        "body: missing required property 'name'"
    ]
    assert spec.problems(label, {**good, "name": None}) == ["body.name: null is not allowed"]
    assert spec.problems({"type": "string", "enum": ["a"]}, "b") == ["body: \"b\" is not one of ['a']"]
    assert spec.problems({"oneOf": [{"type": "string"}, {"type": "array"}]}, 3) == [
        "body: matches none of the oneOf schemas"
    ]
    assert spec.problems({"type": "object", "additionalProperties": False}, {"x": 1}) == [
        "body: unknown property 'x'"
    ]
    assert spec.problems({"type": "array", "items": label}, [good, {}])[0].startswith("body[1]: missing")


def test_operations_json_holds_exactly_what_the_fake_serves_and_names_no_local_path():
    described = {op.id for op in github_spec.load().operations}
    text = (SPECS / "operations.json").read_text(encoding="utf-8")

    served = {
        name.removeprefix("op_")
        for name in dir(Repository)
        if name.startswith("op_")
    }
    assert {op.replace("/", "_").replace("-", "_") for op in described} == served | {
        "rate_limit_get",
        "apps_get_repo_installation",
        "apps_create_installation_access_token",
    }
    assert "/work/" not in text and "shared" not in text
    assert len(text.encode()) < 2_000_000
