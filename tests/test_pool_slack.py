"""CS manages the advocate pool from Slack: list with usage, add, edit, break, retire."""

from __future__ import annotations

from sqlalchemy import select

from modals.ids import Action, Block, Callback
from store.models import Advocate
from tests.conftest import OUTSIDER
from tests.support import payloads
from tests.support.factories import advocate_values
from tests.support.pool import seed


def responses(harness, name: str) -> list[dict]:
    return [p for p in harness.slack.of("response_url") if p["_path"].endswith(f"/{name}")]


def advocate(harness, email: str) -> Advocate:
    with harness.db.unit_of_work() as session:
        return session.scalars(select(Advocate).where(Advocate.email == email)).one()


def menu(harness, verb: str, email: str, user: str = "U0CS1") -> None:
    body = payloads.block_action(
        action_id=Action.POOL_MENU,
        value="",
        user_id=user,
        channel_id="C0CSTEAM",
        response_url=harness.slack.response_url(f"act-{user}"),
        ephemeral=True,
    )
    body["actions"] = [
        {
            "action_id": Action.POOL_MENU,
            "block_id": "b",
            "type": "overflow",
            "selected_option": {
                "value": f"{verb}:{advocate(harness, email).id}:1",
                "text": {"type": "plain_text", "text": verb},
            },
        }
    ]
    harness.sender.interactive(body)
    harness.settle()


def test_cs_sees_the_pool_with_usage_and_eligibility(harness):
    seed(harness, "dana@northwind.example,2026-11-10,Globex,software,call,won,1\n")
    harness.command("advocates", user="U0CS1")
    [listing] = responses(harness, "cmd-U0CS1")
    assert listing["response_type"] == "ephemeral"
    text = str(listing["blocks"])
    assert "Advocate pool · 8 advocates" in text
    assert (
        "*Dana Whitfield*" in text
        and "1 given this quarter · 1 ever · asked 1 this quarter · last asked 10 Nov 2026" in text
    )
    assert "next eligible" in text  # Dana was just used
    assert "on a break until 1 Feb 2027" in text  # Mia
    assert "account trouble" in text  # Jonas


def test_people_outside_cs_cannot_see_the_pool(harness):
    seed(harness)
    harness.command("advocates", user=OUTSIDER)
    [reply] = responses(harness, f"cmd-{OUTSIDER}")
    assert reply["text"] == "Only the CS team can see and change the advocate pool." and "blocks" not in reply


def test_the_pool_is_paged(harness):
    seed(harness)
    with harness.db.unit_of_work() as session:
        for n in range(15):
            now = harness.clock.now()
            values = advocate_values(
                email=f"extra{n}@x.example", name=f"Extra {n:02d}", tier="new", owner_slack_user_id="U0CS1",
                created_at=now, updated_at=now,
            )  # fmt: skip
            del values["id"]  # the database numbers them after the seeded pool
            session.add(Advocate(**values))
    harness.command("advocates", user="U0CS1")
    first = responses(harness, "cmd-U0CS1")[-1]
    assert "Page 1 of 3" in str(first["blocks"])
    harness.click(Action.POOL_PAGE, "3", user="U0CS1", ephemeral=True)
    third = responses(harness, "act-U0CS1")[-1]
    assert third["replace_original"] is True and "Page 3 of 3" in str(third["blocks"])


def test_add_an_advocate_in_a_modal(harness):
    seed(harness)
    harness.click(Action.POOL_ADD, "1", user="U0CS1", ephemeral=True)
    view = harness.slack.of("views.open")[-1]["view"]
    assert view["callback_id"] == Callback.ADVOCATE_FORM
    answers = {
        "name": "Ada Park",
        "email": "ADA@park.example",
        "title": "VP Eng",
        "role_level": "vp",
        "company": "Park Labs",
        "industry": "software",
        "employees": "300",
        "country": "US",
        "use_cases": "job scheduling; cloud migration",
        "kinds": ["call", "email"],
        "tier": "new",
        "owner_slack_user_id": "U0CS1",
        "account_trouble": [],
    }
    reply = harness.submit_view(view, answers, user="U0CS1")
    assert reply.status == 200 and reply.body == ""
    ada = advocate(harness, "ada@park.example")
    assert (ada.name, ada.use_cases, ada.kinds, ada.status) == (
        "Ada Park",
        ["job scheduling", "cloud migration"],
        ["call", "email"],
        "active",
    )
    refreshed = responses(harness, "act-U0CS1")[-1]
    assert "Advocate pool · 9 advocates" in str(refreshed["blocks"])


def test_the_form_reports_bad_input_inline_and_saves_nothing(harness):
    seed(harness)
    harness.click(Action.POOL_ADD, "1", user="U0CS1", ephemeral=True)
    view = harness.slack.of("views.open")[-1]["view"]
    answers = {
        "name": "",
        "email": "dana@northwind.example",
        "role_level": "vp",
        "company": "X",
        "industry": "software",
        "employees": "300",
        "kinds": [],
        "tier": "new",
    }
    reply = harness.submit_view(view, answers, user="U0CS1")
    errors = reply.json()["errors"]
    assert errors["name"] == "Please fill this in."
    assert errors["kinds"] == "Tick at least one kind of reference they agreed to."
    assert "owner_slack_user_id" not in errors, (
        "an advocate known by email alone is found in Slack when asked"
    )
    answers.update(name="Someone", kinds=["call"])
    reply = harness.submit_view(view, answers, user="U0CS1")
    assert reply.json()["errors"] == {
        "email": "dana@northwind.example is already in the pool (Dana Whitfield)"
    }
    with harness.db.unit_of_work() as session:
        assert len(list(session.scalars(select(Advocate)))) == 8


def test_edit_keeps_status_and_changes_fields(harness):
    seed(harness)
    menu(harness, "edit", "mia@litware.example")
    view = harness.slack.of("views.open")[-1]["view"]
    name_block = next(b for b in view["blocks"] if b.get("block_id") == "name")
    assert name_block["element"]["initial_value"] == "Mia Chen"
    answers = {b["block_id"]: None for b in view["blocks"] if b["type"] == "input"}
    answers.update(
        {
            "name": "Mia Chen",
            "email": "mia@litware.example",
            "title": "COO",
            "role_level": "c_level",
            "company": "Litware Software",
            "industry": "software",
            "employees": "650",
            "use_cases": "legacy scheduler migration",
            "kinds": ["call"],
            "tier": "standard",
            "slack_user_id": "U0MIA",
            "owner_slack_user_id": "U0CS2",
            "account_trouble": [],
        }
    )
    harness.submit_view(view, answers, user="U0CS1")
    mia = advocate(harness, "mia@litware.example")
    assert (mia.title, mia.role_level, mia.employees, mia.status) == ("COO", "c_level", 650, "break")
    assert mia.break_until.isoformat() == "2027-02-01"


def test_give_a_break_and_retire(harness):
    seed(harness)
    menu(harness, "break", "dana@northwind.example")
    view = harness.slack.of("views.open")[-1]["view"]
    assert view["callback_id"] == Callback.BREAK_FORM
    past = harness.submit_view(view, {Block.BREAK_UNTIL: "2026-11-01"}, user="U0CS1")
    assert past.json()["errors"] == {Block.BREAK_UNTIL: "Please pick a date after today."}
    harness.submit_view(
        view, {Block.BREAK_UNTIL: "2027-03-01", Block.BREAK_NOTE: "asked for quiet"}, user="U0CS1"
    )
    dana = advocate(harness, "dana@northwind.example")
    assert (dana.status, dana.break_until.isoformat()) == ("break", "2027-03-01")
    assert "asked for quiet" in dana.notes

    menu(harness, "retire", "lena@fabrikam.example")
    assert advocate(harness, "lena@fabrikam.example").status == "retired"
    assert "retired" in str(responses(harness, "act-U0CS1")[-1]["blocks"])
    menu(harness, "reactivate", "lena@fabrikam.example")
    assert advocate(harness, "lena@fabrikam.example").status == "active"


def test_outsiders_cannot_change_the_pool(harness):
    seed(harness)
    menu(harness, "retire", "dana@northwind.example", user=OUTSIDER)
    assert advocate(harness, "dana@northwind.example").status == "active"
    assert "Only the CS team" in harness.ephemerals_to(OUTSIDER)[0]


def test_notes_longer_than_a_text_input_are_shown_in_part_and_kept_whole(harness):
    seed(harness)
    long_notes = "<!channel> " + "n" * 4900
    with harness.db.unit_of_work() as session:
        session.scalars(
            select(Advocate).where(Advocate.email == "mia@litware.example")
        ).one().notes = long_notes
    menu(harness, "edit", "mia@litware.example")
    view = harness.slack.of("views.open")[-1]["view"]  # Slack refuses an initial value over max_length
    notes = next(b for b in view["blocks"] if b.get("block_id") == "notes")["element"]
    assert len(notes["initial_value"]) <= notes["max_length"] == 3000
    answers = {
        b["block_id"]: (b["element"].get("initial_value") or b["element"].get("initial_user"))
        for b in view["blocks"]
        if b["type"] == "input"
    }
    answers.update(role_level="vp", industry="software", tier="standard", kinds=["call"], account_trouble=[])
    answers["title"] = "COO"
    reply = harness.submit_view(view, answers, user="U0CS1")
    assert reply.status == 200 and reply.body == "", reply.body
    mia = advocate(harness, "mia@litware.example")
    assert mia.title == "COO" and mia.notes == long_notes
