"""Text from people is data: Mrkdwn escapes by default, keeps the bot's own markup, and cuts cleanly."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.text import Mrkdwn, blockquote, esc, mention, mrkdwn, render, shown, slack_date, truncate

HOSTILE = "<!channel> <!here> <@U123> <https://evil.example|click> & co"


def test_escaping_covers_the_three_characters_slack_parses():
    assert (
        esc(HOSTILE)
        == "&lt;!channel&gt; &lt;!here&gt; &lt;@U123&gt; &lt;https://evil.example|click&gt; &amp; co"
    )
    assert esc(esc(HOSTILE)) == esc(HOSTILE), "escaping Mrkdwn again changes nothing"
    assert shown(esc(HOSTILE)) == HOSTILE


def test_formatting_escapes_arguments_but_not_the_bots_own_markup():
    text = mrkdwn(
        "{} asked *{}* for {}", mention("U0CS1"), HOSTILE, slack_date(datetime(2026, 12, 1, tzinfo=UTC))
    )
    assert text.startswith("<@U0CS1> asked *&lt;!channel&gt;")
    assert "<!date^" in text and "<!channel>" not in text
    assert isinstance(text, Mrkdwn)


def test_concatenation_and_joins_escape_plain_strings():
    assert Mrkdwn("*a*") + "<b>" == "*a*&lt;b&gt;"
    assert "<b>" + Mrkdwn("*a*") == "&lt;b&gt;*a*"
    assert Mrkdwn(", ").join(["<x>", Mrkdwn("<@U1>")]) == "&lt;x&gt;, <@U1>"
    with pytest.raises(TypeError):
        Mrkdwn("%s") % "<x>"  # noqa: B018 - the operator is the point


def test_mentions_come_only_from_ids():
    with pytest.raises(ValueError):
        mention("U1> <!channel")
    with pytest.raises(ValueError):
        mention("<!here>")


def test_templates_escape_every_value_unless_it_is_mrkdwn():
    class Request:
        id = 7
        prospect_company = HOSTILE
        decided_by = "U0CS1"
        decline_note = "line one <!here>\nline two"

    text = render("request_declined", r=Request(), reason="Other & more")
    assert "<!channel>" not in text and "<!here>" not in text and "<https://evil" not in text
    assert "&lt;!channel&gt;" in text and "Other &amp; more" in text
    assert "<@U0CS1>" in text
    assert "> line one &lt;!here&gt;\n> line two" in text


def test_blockquote_quotes_every_line():
    assert blockquote("a\n<b>") == "> a\n> &lt;b&gt;"


@settings(max_examples=200, deadline=None)
@given(
    st.text(alphabet=st.sampled_from(list("ab &<>;@!|\n")), max_size=60),
    st.integers(min_value=2, max_value=60),
)
def test_cutting_mrkdwn_never_splits_an_entity_or_exposes_markup(raw, limit):
    cut = truncate(esc(raw), limit)
    assert len(cut) <= limit
    assert "<" not in cut and ">" not in cut
    body = cut[:-1] if cut.endswith("…") and len(esc(raw)) > limit else cut
    assert shown(body) == raw[: len(shown(body))], "a cut shows a prefix of what was typed"


def test_cutting_keeps_the_bots_markup_whole():
    text = Mrkdwn("hello ") + mention("U0CS1") + " and more text"
    cut = truncate(text, 10)
    assert cut == "hello …"
