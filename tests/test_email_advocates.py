"""Advocates given by email alone: found in Slack by users.lookupByEmail when first asked, or reached through
their CS owner, with the pool saying they were not found."""

from __future__ import annotations

from sqlalchemy import select, update

from store.models import Advocate, Engagement
from tests.support.pool import ask_dana, seed

DANA = "dana@northwind.example"


def email_only(harness) -> None:
    seed(harness)
    with harness.db.unit_of_work() as session:
        session.execute(update(Advocate).where(Advocate.email == DANA).values(slack_user_id=None))


def test_an_advocate_given_by_email_is_found_in_slack_and_asked_by_dm(harness, monkeypatch):
    import tests.support.pool as pool_support

    monkeypatch.setattr(pool_support, "seed", email_only)
    harness.slack.users_by_email[DANA] = "U0DANA"
    _, engagement_id = ask_dana(harness)
    [lookup] = harness.slack.of("users.lookupByEmail")
    assert lookup["email"] == DANA
    assert any("Would you talk to" in m["text"] for m in harness.dms_to("U0DANA"))
    assert not any("Please ask" in (m.get("text") or "") for m in harness.dms_to("U0CS1"))
    assert any("asked *Dana Whitfield* by DM" in m["text"] for m in harness.thread_replies())
    with harness.db.unit_of_work() as session:
        dana = session.scalars(select(Advocate).where(Advocate.email == DANA)).one()
        assert dana.slack_user_id == "U0DANA", "the member id is kept for every later message"
        assert session.get(Engagement, engagement_id).asked_via == "U0DANA"


def test_an_advocate_not_found_in_slack_is_asked_through_the_cs_owner_and_the_pool_says_so(
    harness, monkeypatch
):
    import tests.support.pool as pool_support

    monkeypatch.setattr(pool_support, "seed", email_only)
    ask_dana(harness)
    assert harness.slack.of("users.lookupByEmail"), "looked up first"
    assert not harness.dms_to("U0DANA")
    drafts = [m for m in harness.dms_to("U0CS1") if "ready-to-send" in str(m.get("blocks"))]
    assert len(drafts) == 1, "the CS owner gets the email draft"
    assert any("not found in Slack by email" in m["text"] for m in harness.thread_replies())
    with harness.db.unit_of_work() as session:
        dana = session.scalars(select(Advocate).where(Advocate.email == DANA)).one()
        assert dana.slack_not_found_at is not None and dana.slack_user_id is None
    harness.command("advocates", user="U0CS1")
    pool = [p for p in harness.slack.of("response_url") if "not found in Slack" in str(p.get("blocks"))]
    pool += [
        p for p in harness.slack.of("chat.postEphemeral") if "not found in Slack" in str(p.get("blocks"))
    ]
    assert pool, "the pool shows who could not be found"
