"""Hostile text everywhere a person or a file can put it, through the running app: no live markup from it reaches
Slack, every payload is valid Block Kit, nothing answers 500."""

from __future__ import annotations

import csv
import io
import itertools
from datetime import timedelta

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from bot.exchange import pool_csv
from modals.ids import Action, Block
from modals.request_form import MAX_LENGTH, visible
from store.models import Advocate, Engagement
from tests.conftest import CS_CHANNEL, REP
from tests.support import payloads
from tests.support.audit import live_markup
from tests.support.harness import VALID_ANSWERS

HOSTILE = [
    "<!channel>",
    "<!here>",
    "<!everyone>",
    "<@U123>",
    "<@W999|boss>",
    "<#C123|general>",
    "<https://evil.example|click>",
    "<mailto:x@evil.example|mail>",
    "<!subteam^S123|@team>",
    "<!date^1700000000^{date}|x>",
    "&",
    "&amp;",
    "&lt;!channel&gt;",
    "<",
    ">",
    "|",
    "*b*",
    "`c`",
    "```",
    "\u202e",  # right-to-left override
    "\u200b",  # zero-width space
    "\u200f",
    "\ufeff",
    "👩‍💻",
    '=HYPERLINK("https://evil.example","x")',
    "@SUM(A1:A2)",
    "+1",
    "'",
    '"',
    ":",
]
_fragment = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=4),
)


def hostile(limit: int) -> st.SearchStrategy[str]:
    return (
        st.lists(_fragment, min_size=1, max_size=6)
        .map(lambda parts: "".join(parts)[:limit].strip())
        # The form refuses text that shows nothing (a lone U+202E): hostile, but not a valid answer.
        .filter(lambda text: visible(text) and ";" not in text)
    )


# Long text: every field at its limit, made of markup.
LONG = "<!channel> & <@U123> <https://evil.example|click> "
TEXT_FIELDS = (
    Block.PROSPECT_COMPANY,
    Block.CONTACT_ROLE,
    Block.CONTACT_CONCERNS,
    Block.WANTED_USE_CASE,
    Block.WANTED_COUNTRY,
    Block.WANTED_REGION,
    Block.WHY_NOW,
    Block.GOAL,
    Block.BACKGROUND,
)
CSV_TEXT = {"name": 200, "title": 200, "company": 200, "region": 80, "country": 80, "notes": 500}
_serial = itertools.count(1)


def _long(limit: int) -> str:
    return (LONG * (limit // len(LONG) + 1))[:limit].strip()


def _pool_row(text: dict[str, str], use_case: str, n: int) -> str:
    row = {
        "name": text["name"],
        "email": f"hostile{n}@customer.example",
        "title": text["title"],
        "role_level": "vp",
        "company": text["company"],
        "industry": "software",
        "employees": "800",
        "region": text["region"],
        "country": text["country"],
        "use_cases": use_case,
        "kinds": "call;email",
        "tier": "standard",
        "slack_user_id": f"U0HOST{n}",
        "owner_slack_user_id": "U0CS3",
        "status": "active",
        "break_until": "",
        "account_trouble": "no",
        "joined_on": "",
        "notes": text["notes"],
    }
    sink = io.StringIO()
    writer = csv.DictWriter(sink, fieldnames=pool_csv.ADVOCATE_COLUMNS)
    writer.writeheader()
    writer.writerow(row)
    return sink.getvalue()


def _play(harness, form: dict[Block, str], pool: dict[str, str]) -> None:
    """One reference with hostile text in every typed and imported field, and every surface it reaches."""
    n = next(_serial)
    advocate = f"U0HOST{n}"
    use_case = form[Block.WANTED_USE_CASE]
    now = harness.clock.now()
    with harness.db.unit_of_work() as session:
        pool_csv.import_advocates(
            session=session,
            source=io.StringIO(_pool_row({**pool, "region": form[Block.WANTED_REGION]}, use_case, n)),
            now=now,
        )
    close = (now + timedelta(days=60)).date().isoformat()
    answers = {**form, Block.CLOSE_DATE: close, Block.DEAL_ARR: "300000", Block.PRIOR_REFERENCES: "2"}
    request_id = harness.file_request(**answers)
    harness.command("list", user=REP)
    harness.click(Action.APPROVE, request_id, user="U0CS1")
    shortlist = harness.thread_replies()[-1]
    ask = f"{request_id}:{_advocate_id(harness, n)}:1"
    assert ask in str(shortlist["blocks"]), "the hostile advocate is shortlisted"
    harness.click(Action.SHOW_MORE, f"{request_id}:2", user="U0CS1")
    harness.click(Action.ASK, ask, user="U0CS1")
    engagement_id = _engagement(harness, request_id)
    harness.click(Action.ASK_YES, engagement_id, user=advocate, channel="D" + advocate[1:])
    times_view = harness.slack.of("views.open")[-1]["view"]
    call_at = (now + timedelta(days=12)).replace(hour=16, minute=0, second=0, microsecond=0)
    harness.submit_view(times_view, {Block.TIME_1: call_at, Block.CALL_FORMAT: "video"}, user=advocate)
    harness.click(
        f"{Action.PICK_TIME}_1", f"{engagement_id}:{call_at.isoformat()}", user=REP, channel="D0REP"
    )
    harness.dispatch(call_at + timedelta(days=2, hours=1))
    harness.click(
        f"{Action.FEEDBACK_RATE}_not_great", engagement_id, user=advocate, channel="D" + advocate[1:]
    )
    harness.click(Action.FEEDBACK_MORE, engagement_id, user=advocate, channel="D" + advocate[1:])
    feedback = harness.slack.of("views.open")[-1]["view"]
    harness.submit_view(
        feedback,
        {Block.FEEDBACK_RATING: "fine", Block.FEEDBACK_ASKED: form[Block.CONTACT_CONCERNS][:1000]},
        user=advocate,
    )
    harness.click(Action.CHECKIN_LOG, engagement_id, user=REP, channel="D0REP")
    checkin = harness.slack.of("views.open")[-1]["view"]
    harness.submit_view(
        checkin,
        {
            Block.CHECKIN_HELPFUL: "yes",
            Block.CHECKIN_CONCERNS: "partly",
            Block.CHECKIN_LEARNED: form[Block.GOAL][:1000],
        },
        user=REP,
    )
    harness.click(f"{Action.OUTCOME}_won", engagement_id, user=REP, channel="D0REP")
    outcome = harness.slack.of("views.open")[-1]["view"]
    harness.submit_view(outcome, {Block.OUTCOME_ARR: "300,000"}, user=REP)
    # A second request, declined with the rep's words quoted back; the Home tab, the pool, the stats.
    declined = harness.file_request(
        **{**answers, Block.PROSPECT_COMPANY: form[Block.WHY_NOW][:120].strip() or "x"}
    )
    harness.decline(declined, user="U0CS2", reason="other", note=form[Block.BACKGROUND][:1000])
    for user in ("U0CS1", REP):
        harness.sender.event(payloads.app_home_opened(user_id=user))
    harness.command("advocates", user="U0CS1")
    harness.command("stats", user="U0CS1")
    harness.command(form[Block.PROSPECT_COMPANY], user=REP)  # /reference <company> prefills the form
    harness.settle()


def _engagement(harness, request_id: int) -> int:
    with harness.db.unit_of_work() as session:
        return session.scalars(select(Engagement.id).where(Engagement.request_id == request_id)).one()


def _advocate_id(harness, n: int) -> int:
    with harness.db.unit_of_work() as session:
        return session.scalars(
            select(Advocate.id).where(Advocate.email == f"hostile{n}@customer.example")
        ).one()


def _check(harness) -> None:
    calls = list(harness.slack.calls)
    assert not harness.slack.invalid_blocks, harness.slack.invalid_blocks[:3]
    problems = live_markup(calls)
    assert not problems, "\n".join(problems[:10])
    assert all(c.ok for c in calls), [c.method for c in calls if not c.ok]
    methods = {c.method for c in calls}
    assert {"chat.postMessage", "chat.update", "views.open", "views.publish", "response_url"} <= methods
    assert any(c.method == "chat.postMessage" and c.params.get("channel") == CS_CHANNEL for c in calls)


@settings(
    max_examples=2,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    form=st.fixed_dictionaries({block: hostile(MAX_LENGTH[block]) for block in TEXT_FIELDS}),
    pool=st.fixed_dictionaries({column: hostile(limit) for column, limit in CSV_TEXT.items()}),
)
@example(
    form={block: _long(MAX_LENGTH[block]) for block in TEXT_FIELDS},
    pool={column: _long(limit) for column, limit in CSV_TEXT.items()},
)
def test_hostile_text_never_becomes_markup(harness, form, pool):
    harness.slack.clear()
    _play(harness, form, pool)
    _check(harness)


def test_the_valid_answers_still_read_as_typed(harness):
    """The escaping is invisible: "&" and "<" show as typed, and the bot's own mentions still ping."""
    from bot.text import shown

    harness.file_request(**{**VALID_ANSWERS, Block.PROSPECT_COMPANY: "Smith & <Sons>"})
    card = harness.cards()[-1]
    assert "Smith &amp; &lt;Sons&gt;" in card["text"] and "<@U0REP>" in card["text"]
    assert shown(card["blocks"][0]["text"]["text"]).endswith("Smith & <Sons>")
