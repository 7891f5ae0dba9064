"""Every remedy the procedure can offer has Slack words: a refusal never fails to reach the person."""
import pytest

from bot.domain.transitions import Refused, Remedy
from bot.slack.refusals import refusal_text


@pytest.mark.parametrize("remedy", list(Remedy))
def test_each_remedy_is_said_after_the_reason(remedy: Remedy) -> None:
    text = refusal_text(Refused("Not now.", remedy, "HF-7"))
    assert text.startswith("Not now. ") and len(text) > len("Not now. ") and "{key}" not in text
