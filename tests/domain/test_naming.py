"""Issue IDs and hotfix branch names."""

from __future__ import annotations

import subprocess

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.naming import InvalidName, branch_name, slugify, validate_issue_id


@pytest.mark.parametrize("issue_id", ["PROD-501", "SEC-123", "INC_42", "a", "X" * 32, "ab-1_c2"])
def test_accepted_issue_ids_are_kept_as_typed(issue_id: str) -> None:
    assert validate_issue_id(f"  {issue_id}\n") == issue_id


@pytest.mark.parametrize(
    "raw",
    ["PROD-1; rm -rf /", "../../x", "--upload-pack=touch x", "P" * 2000, "X" * 33, "PRÖD-1", "", "   ",
     "1PROD", "PROD--1", "PROD-", "-PROD", "PROD 1", "PROD/1", "PROD.1", "PROD-1\n2", "ＰＲＯＤ-1"],
)
def test_rejected_issue_ids_get_a_polite_explanation(raw: str) -> None:
    with pytest.raises(InvalidName) as refused:
        validate_issue_id(raw)

    assert str(refused.value).startswith("Issue ID must look like PROD-501: letters, digits and - or _")
    assert "32 characters" in str(refused.value)


def test_slug_folds_accents_and_drops_punctuation() -> None:
    assert slugify("Checkout 500s when the Café is CLOSED!!!") == "checkout-500s-when-the-cafe-is-closed"


def test_slug_is_cut_at_a_word_boundary() -> None:
    slug = slugify("payment gateway times out for expired cards in production today")

    assert slug == "payment-gateway-times-out-for-expired"
    assert len(slug) <= 40


def test_slug_of_one_huge_word_is_cut_hard() -> None:
    assert slugify("a" * 100) == "a" * 40


@pytest.mark.parametrize("title", ["", "!!!", "日本語のタイトル", "---"])
def test_slug_falls_back_to_fix(title: str) -> None:
    assert slugify(title) == "fix"


def test_branch_name_keeps_the_issue_id_as_typed() -> None:
    assert branch_name(" PROD-501 ", "Checkout 500s") == "hotfix/PROD-501-checkout-500s"


def test_branch_name_refuses_bad_issue_ids() -> None:
    with pytest.raises(InvalidName):
        branch_name("--upload-pack=touch x", "Checkout")


def git_accepts_branch(name: str) -> bool:
    return subprocess.run(["git", "check-ref-format", "--branch", name], capture_output=True).returncode == 0


@settings(max_examples=60, deadline=None)
@given(
    issue_id=st.from_regex(r"\A[A-Za-z][A-Za-z0-9]{0,8}(?:[-_][A-Za-z0-9]{1,6}){0,3}\Z"),
    title=st.text(max_size=120),
)
def test_every_branch_name_is_a_valid_git_branch(issue_id: str, title: str) -> None:
    name = branch_name(issue_id, title)

    assert not name.startswith("-")
    assert len(slugify(title)) <= 40
    assert git_accepts_branch(name)
