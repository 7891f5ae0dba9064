"""The stand-in repository's reviews, labels and comments (a mixin of `Repository`)."""

from __future__ import annotations

from typing import Any

from bot.standins.github_calls import Answer, Call, error, invalid
from bot.standins.github_git import RemoteGit
from bot.standins.github_objects import Site
from bot.standins.github_records import PullRequest, Review

DEFAULT_LABEL_COLOR = "ededed"


class ReviewOperations:
    git: RemoteGit
    site: Site
    pulls: dict[int, PullRequest]
    reviews: dict[int, list[Review]]
    labels: dict[str, tuple[str, str | None]]
    comments: dict[int, list[dict[str, Any]]]
    ids: Any

    def pull_json(self, pull: PullRequest, *, full: bool) -> dict[str, Any]:
        raise NotImplementedError

    def latest_reviews(self, number: int) -> list[Review]:
        """Each reviewer's latest approval or change request: what GitHub counts for a merge."""
        latest: dict[str, Review] = {}
        for review in self.reviews.get(number, []):
            if review.state in ("APPROVED", "CHANGES_REQUESTED", "DISMISSED"):
                latest[review.login] = review
        return [r for r in latest.values() if r.state != "DISMISSED"]

    # Reviews
    def op_pulls_list_reviews(self, call: Call) -> Answer:
        number = int(call.path["pull_number"])
        if number not in self.pulls:
            return error(404, "Not Found")
        return Answer(200, [self.site.review(number, r) for r in self.reviews.get(number, [])], paged=True)

    def op_pulls_request_reviewers(self, call: Call) -> Answer:
        pull = self.pulls.get(int(call.path["pull_number"]))
        if pull is None:
            return error(404, "Not Found")
        reviewers = call.body.get("reviewers", [])
        if pull.author in reviewers:
            return error(422, "Review cannot be requested from pull request author.")
        pull.requested_reviewers += [login for login in reviewers if login not in pull.requested_reviewers]
        return Answer(201, self.pull_json(pull, full=False))

    # Labels and comments
    def op_issues_list_labels_for_repo(self, call: Call) -> Answer:
        return Answer(200, [self.site.label(name, *spec) for name, spec in self.labels.items()], paged=True)

    def op_issues_create_label(self, call: Call) -> Answer:
        name = call.body["name"]
        if name.lower() in (existing.lower() for existing in self.labels):
            return invalid("Label", "name", code="already_exists")
        self.labels[name] = (
            call.body.get("color", DEFAULT_LABEL_COLOR).lstrip("#"),
            call.body.get("description"),
        )
        answer = self.site.label(name, *self.labels[name])
        return Answer(201, answer, (("Location", answer["url"]),))

    def op_issues_add_labels(self, call: Call) -> Answer:
        pull = self.pulls.get(int(call.path["issue_number"]))
        if pull is None:
            return error(404, "Not Found")
        given = call.body["labels"] if isinstance(call.body, dict) else call.body
        for label in given if isinstance(given, list) else [given]:
            name = label["name"] if isinstance(label, dict) else label
            self.labels.setdefault(
                name, (DEFAULT_LABEL_COLOR, None)
            )  # GitHub creates a label it does not know
            if name not in pull.labels:
                pull.labels.append(name)
        return Answer(200, [self.site.label(name, *self.labels[name]) for name in pull.labels])

    def op_issues_create_comment(self, call: Call) -> Answer:
        number = int(call.path["issue_number"])
        if number not in self.pulls:
            return error(404, "Not Found")
        comment = self.site.comment(next(self.ids), number, call.login, call.body["body"], call.now)
        self.comments.setdefault(number, []).append(comment)
        return Answer(201, comment, (("Location", comment["url"]),))
