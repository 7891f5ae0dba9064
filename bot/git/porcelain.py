"""What git's machine-readable output says: push rejections (`push --porcelain`) and ref snapshots (for-each-ref)."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.logs import redact

# Push rejections that mean "someone else pushed first": fetch and try again.
_LOST_RACE = ("non-fast-forward", "fetch first", "already exists", "stale info", "failed to update ref",
              "failed to lock", "cannot lock ref", "incorrect old value")
_ATOMIC_BYSTANDER = "atomic push failed"
REF_RECORD_END = "\x01"  # ends each for-each-ref record: a tag message may hold any other character


@dataclass(frozen=True)
class Rejection:
    ref: str
    reason: str

    @property
    def lost_race(self) -> bool:
        return any(marker in self.reason for marker in _LOST_RACE)


@dataclass(frozen=True)
class TagRecord:
    name: str
    commit: str
    trailers: dict[str, str] = field(default_factory=dict)  # only annotated tags carry trailers


@dataclass(frozen=True)
class Snapshot:
    heads: dict[str, str]  # branch name -> commit
    tags: list[TagRecord]


def lost_race(rejections: list[Rejection]) -> bool:
    culprits = [r for r in rejections if r.reason != _ATOMIC_BYSTANDER]
    return bool(culprits) and all(r.lost_race for r in culprits)


def first_culprit(rejections: list[Rejection]) -> Rejection:
    return next((r for r in rejections if r.reason != _ATOMIC_BYSTANDER), rejections[0])


def with_server_words(rejection: Rejection, stderr: str) -> Rejection:
    """Hooks and protected-branch rules explain themselves on `remote:` lines: that is what people need to read."""
    said = [line[len("remote:"):].strip() for line in stderr.splitlines() if line.startswith("remote:")]
    said = [line for line in said if line]
    if rejection.lost_race or not said:
        return rejection
    return Rejection(rejection.ref, f"{rejection.reason} ({redact(' '.join(said))[:300]})")


def parse_rejections(porcelain: str) -> list[Rejection]:
    rejections = []
    for line in porcelain.splitlines():
        if not line.startswith("!"):
            continue
        _, refspec, summary = line.split("\t", 2)
        reason = summary[summary.find("(") + 1 : summary.rfind(")")] if "(" in summary else summary
        rejections.append(Rejection(refspec.rpartition(":")[2], reason.strip()))
    return rejections


def parse_snapshot(out: str, branches: set[str]) -> Snapshot:
    heads: dict[str, str] = {}
    tags: list[TagRecord] = []
    for record in out.split(REF_RECORD_END):
        record = record.lstrip("\n")
        if not record:
            continue
        refname, objecttype, objectname, peeled, trailers = record.split("\0")
        if refname.startswith("refs/heads/") and refname.removeprefix("refs/heads/") in branches:
            heads[refname.removeprefix("refs/heads/")] = objectname
        elif refname.startswith("refs/tags/"):
            annotated = objecttype == "tag"
            tags.append(TagRecord(refname.removeprefix("refs/tags/"), peeled if annotated else objectname,
                                  _parse_trailers(trailers) if annotated else {}))
    return Snapshot(heads, tags)


def _parse_trailers(text: str) -> dict[str, str]:
    pairs = (line.partition(":") for line in text.splitlines() if ":" in line)
    return {key.strip(): value.strip() for key, _, value in pairs}
