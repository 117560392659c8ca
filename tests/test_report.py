"""The quarterly report: SQL aggregates against a seeded quarter, and its CSV, HTML, chart and Slack text."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import insert, update

from bot.reporting.chart import quarter_chart
from bot.reporting.metrics import Period
from bot.reporting.report import (
    Report,
    build_report,
    stats_text,
    write_advocates_csv,
    write_csv,
    write_html,
    write_reps_csv,
)
from bot.reporting.rows import AdvocateRow
from bot.rules.matching import Policy
from store.models import Advocate, Engagement, ReferenceRequest

Q4 = Period.parse("2026Q4")
TODAY = date(2026, 12, 15)
SEEDED = datetime(2026, 9, 1, tzinfo=UTC)
ADA, BOB = "Ada Lovelace", "Bob & <Builders>"  # Bob's name must come out escaped everywhere


def at(month: int, day: int, year: int = 2026) -> datetime:
    return datetime(year, month, day, 9, 0, tzinfo=UTC)


def advocate(id_: int, name: str) -> dict:
    return dict(
        id=id_,
        email=f"advocate{id_}@customer.example",
        name=name,
        title="VP Engineering",
        role_level="vp",
        company=f"Customer {id_}",
        industry="software",
        employees=500,
        region="EMEA",
        country="Germany",
        use_cases=["reporting"],
        kinds=["call"],
        tier="standard",
        slack_user_id=f"U0ADV{id_}",
        owner_slack_user_id="U0CS1",
        status="active",
        break_until=None,
        account_trouble=False,
        sentiment=0.8,
        notes="",
        joined_on=date(2025, 1, 1),
        created_at=SEEDED,
        updated_at=SEEDED,
    )


def request(
    id_: int, *, rep: str, created: datetime, status: str, decided: datetime | None, outcome=None
) -> dict:
    won_or_lost, outcome_at = outcome or (None, None)
    return dict(
        id=id_,
        status=status,
        created_at=created,
        updated_at=created,
        source_view_id=f"V{id_}",
        requester_id=rep,
        rep_id=rep,
        prospect_company=f"Prospect {id_}",
        prospect_key=f"prospect {id_}",
        prospect_industry="financial_services",
        prospect_employees=1000,
        prospect_revenue=None,
        deal_arr=120_000,
        close_date=date(2026, 12, 31),
        deal_stage="proposal",
        contact_role="CTO",
        contact_concerns="Migration risk",
        wanted_industry="financial_services",
        wanted_size_band="201-1000",
        wanted_role_level="vp",
        wanted_use_case="reporting",
        wanted_kind="call",
        urgency="two_weeks",
        active_advocate_id=None,
        wanted_country=None,
        wanted_region=None,
        why_now="Final evaluation",
        tried=["case studies"],
        goal="Hear about the migration",
        background="",
        prior_references=0,
        card_channel="C0CSTEAM",
        card_ts=f"1700000000.00000{id_}",
        decided_by="U0CS1" if decided else None,
        decided_at=decided,
        decline_reason="too_early" if status == "declined" else None,
        decline_note=None,
        outcome=won_or_lost,
        final_arr=130_000 if won_or_lost == "won" else None,
        outcome_at=outcome_at,
        outcome_by=rep if won_or_lost else None,
    )


def engagement(
    id_: int, *, advocate_id: int, request_id: int | None, status: str, call: datetime, industry: str | None
) -> dict:
    return dict(
        id=id_,
        advocate_id=advocate_id,
        request_id=request_id,
        kind="call",
        status=status,
        prospect_company=f"Prospect {id_}",
        prospect_key=f"prospect {id_}",
        prospect_industry=industry,
        deal_arr=120_000,
        asked_at=call.replace(day=1),
        answered_at=call.replace(day=2),
        reply_seconds=3600,
        held_at=call if status == "held" else None,
        outcome=None,
        chosen_by="U0CS1",
        source="refdesk",
        created_at=call.replace(day=1),
        asked_via=f"U0ADV{advocate_id}",
        ask_channel="D0ADV",
        ask_ts=f"1700000001.00000{id_}",
        proposed_times=[call.isoformat()],
        call_at=call,
        call_format="video",
        call_minutes=30,
        ended_reason=None,
        feedback_rating=None,
        feedback={},
        feedback_at=None,
        checkin={},
        checkin_at=None,
    )


@pytest.fixture
def seeded(database):
    """A quarter: four decisions (3 yes, 1 no), two outcomes (won, lost), three references by two advocates."""
    with database.unit_of_work() as session:
        session.execute(insert(Advocate), [advocate(1, ADA), advocate(2, BOB)])
        session.execute(
            insert(ReferenceRequest),
            [
                request(
                    1,
                    rep="U0REPA",
                    created=at(10, 1),
                    status="approved",
                    decided=at(10, 5),
                    outcome=("won", at(11, 20)),
                ),
                request(2, rep="U0REPA", created=at(10, 2), status="no_match", decided=at(10, 10)),
                request(3, rep="U0REPA", created=at(11, 1), status="declined", decided=at(11, 3)),
                request(
                    4,
                    rep="U0REPB",
                    created=at(11, 2),
                    status="approved",
                    decided=at(11, 5),
                    outcome=("lost", at(12, 10)),
                ),
                # Last quarter: in no Q4 number.
                request(5, rep="U0REPB", created=at(9, 15), status="approved", decided=at(9, 20)),
            ],
        )
        session.execute(
            insert(Engagement),
            [
                engagement(
                    1, advocate_id=1, request_id=1, status="held", call=at(10, 8), industry="software"
                ),
                engagement(
                    2,
                    advocate_id=1,
                    request_id=4,
                    status="held",
                    call=at(11, 9),
                    industry="financial_services",
                ),
                engagement(
                    3, advocate_id=2, request_id=None, status="scheduled", call=at(11, 20), industry=None
                ),
                # Not references given: a pass, and a call last quarter.
                engagement(
                    4, advocate_id=1, request_id=2, status="passed", call=at(10, 20), industry="software"
                ),
                engagement(
                    5, advocate_id=2, request_id=5, status="held", call=at(9, 25), industry="software"
                ),
            ],
        )
    return database


@pytest.fixture
def report(seeded) -> Report:
    with seeded.unit_of_work() as session:
        return build_report(session=session, period=Q4, policy=Policy(), today=TODAY)


@pytest.fixture
def empty_report(database) -> Report:
    with database.unit_of_work() as session:
        return build_report(session=session, period=Period.parse("2027Q1"), policy=Policy(), today=TODAY)


def metric(report: Report, name: str):
    return next(m for m in report.metrics if m.name == name)


def test_metrics_for_the_quarter(report):
    approval = metric(report, "Approval rate")  # "no good match" is not an approval: 2 of 4
    assert (approval.value, approval.shown, approval.basis) == (0.5, "50%", 4)
    assert approval.met is None and approval.basis_text == "4 decisions — too few to judge (5+)"
    assert metric(report, "References given").value == 3
    per_advocate = metric(report, "References per advocate")
    assert (per_advocate.value, per_advocate.met) == (1.5, True)
    wait = metric(report, "Request to reference")  # both requested calls came 7 days after the request
    assert (wait.value, wait.met, wait.basis) == (7.0, None, 2)
    assert metric(report, "Win rate with a reference").value == 0.5
    assert metric(report, "Advocate satisfaction").met is None
    assert metric(report, "Requests").value == 4


def test_references_rates_advocates_and_reps(report):
    assert report.by_month == [
        ("2026-10", {"Software & internet": 1}),
        ("2026-11", {"Financial services": 1, "Unknown": 1}),
        ("2026-12", {}),
    ]
    assert list(report.by_month[1][1]) == ["Financial services", "Unknown"]  # biggest first, Unknown last
    assert report.rates_by_month == [("2026-10", 0.5, None), ("2026-11", 0.5, 1.0), ("2026-12", None, 0.0)]
    assert report.requests_by_month == [("2026-10", 2), ("2026-11", 2), ("2026-12", 0)]
    top = [(row.advocate.name, row.this_period, row.total, row.won) for row in report.top_advocates]
    assert top == [(ADA, 2, 2, 1), (BOB, 1, 2, 0)]
    reps = [(r.rep_id, r.requests, r.approval_rate, r.decided, r.references, r.win_rate) for r in report.reps]
    assert reps == [("U0REPA", 3, 1 / 3, 3, 1, 1.0), ("U0REPB", 1, 1.0, 1, 1, 0.0)]


def test_an_empty_quarter_has_its_months_and_no_rates(empty_report):
    assert empty_report.by_month == [("2027-01", {}), ("2027-02", {}), ("2027-03", {})]
    assert all(approval is None and win is None for _, approval, win in empty_report.rates_by_month)
    assert empty_report.advocates == [] and empty_report.reps == []


def test_csv_is_one_tidy_table(report):
    sink = io.StringIO()
    write_csv(report, sink)
    rows = list(csv.DictReader(io.StringIO(sink.getvalue())))
    assert list(rows[0]) == ["section", "name", "value", "target", "met", "basis"]
    by_key = {(row["section"], row["name"]): row for row in rows}
    assert by_key["metric", "Approval rate"] == {
        "section": "metric",
        "name": "Approval rate",
        "value": "0.5",
        "target": "60–80%",
        "met": "",
        "basis": "4",
    }
    assert by_key["metric", "References per advocate"]["met"] == "yes"
    assert by_key["metric", "Advocate satisfaction"]["value"] == ""
    assert {name: row["value"] for (section, name), row in by_key.items() if section == "references"} == {
        "2026-10 Software & internet": "1",
        "2026-11 Financial services": "1",
        "2026-11 Unknown": "1",
    }
    assert by_key["rates", "2026-11 approval rate"]["value"] == "0.5"
    assert by_key["rates", "2026-10 win rate"]["value"] == ""
    assert by_key["requests", "2026-11"]["value"] == "2"
    assert len(rows) == len(by_key) == len(report.metrics) + 3 + 3 + 6


def test_reps_and_advocates_csv_have_one_row_each(report):
    sink = io.StringIO()
    write_reps_csv(report, sink)
    reps = list(csv.DictReader(io.StringIO(sink.getvalue())))
    assert [r["rep_id"] for r in reps] == ["U0REPA", "U0REPB"]
    assert reps[0]["approval_rate"] == "0.3333" and reps[0]["decided"] == "3" and reps[0]["win_rate"] == "1"
    sink = io.StringIO()
    write_advocates_csv(report, sink)
    advocates = {row["name"]: row for row in csv.DictReader(io.StringIO(sink.getvalue()))}
    assert set(advocates) == {ADA, BOB}
    assert advocates[ADA]["references_this_quarter"] == "2" and advocates[ADA]["deals_won"] == "1"
    assert advocates[BOB]["references_total"] == "2" and advocates[BOB]["references_last_quarter"] == "1"
    assert advocates[BOB]["last_reference"] == "2026-11-20" and advocates[ADA]["success_rate"] == "0.5"


def test_html_is_one_escaped_page_with_the_chart(report):
    sink = io.StringIO()
    write_html(report, sink, chart_png=b"\x89PNG fake")
    page = sink.getvalue()
    assert "<title>refdesk — reference program report 2026Q4</title>" in page
    for m in report.metrics:
        assert f"<td>{m.name}</td>" in page
    assert '<img src="data:image/png;base64,iVBORyBmYWtl"' in page
    assert "Bob &amp; &lt;Builders&gt;" in page and "<Builders>" not in page
    assert "<td>Software &amp; internet 1</td>" in page
    assert page.count("✓") == 1 and page.count("✗") == 1  # per advocate / active pool; the rest too few
    assert "<link" not in page and "<script" not in page


def test_html_without_a_chart_has_no_image(empty_report):
    sink = io.StringIO()
    write_html(empty_report, sink, chart_png=None)
    assert "<img" not in sink.getvalue() and "Nothing yet." in sink.getvalue()


def png_size(png: bytes) -> tuple[int, int]:
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


def test_chart_is_a_1000_by_600_png(report, empty_report):
    for each in (report, empty_report):
        png = quarter_chart(each)
        assert png.startswith(b"\x89PNG\r\n\x1a\n")
        assert png_size(png) == (1000, 600)


def test_stats_text_marks_each_metric(report):
    text = stats_text(report)
    lines = text.splitlines()
    assert ":grey_question: Approval rate: 50% (target 60–80%) · 4 decisions — too few to judge (5+)" in lines
    assert (
        ":white_check_mark: References per advocate: 1.5 (target 2 or fewer a quarter) · 2 advocates" in lines
    )
    assert ":grey_question: Advocate satisfaction: — (target 90%+) · 0 ratings" in lines
    assert "• References given: 3" in lines
    assert lines[-1] == "Top advocates: Ada Lovelace (2, 1 won), Bob &amp; &lt;Builders&gt; (1)"
    assert len(text) < 3000


def row_of(name: str, references: int, won: int) -> AdvocateRow:
    person = Advocate(**advocate(1, name))
    return AdvocateRow(person, references, references, 0, None, won, won, None)


def test_stats_text_stays_in_one_section_with_long_names(report):
    crowded = Report(
        period=report.period,
        metrics=report.metrics,
        reps=[],
        by_month=[],
        rates_by_month=[],
        requests_by_month=[],
        advocates=[row_of("<" * 200, 9, 9) for _ in range(10)],
    )
    text = stats_text(crowded)
    assert len(text) < 3000 and text.endswith("…")
    assert stats_text(Report(report.period, report.metrics, [], [], [], [], [])).endswith(
        "Top advocates: none yet"
    )


def test_the_csv_report_never_hands_a_spreadsheet_a_formula():
    report = Report(
        period=Q4,
        metrics=[],
        reps=[],
        by_month=[],
        rates_by_month=[],
        requests_by_month=[],
        advocates=[row_of('=HYPERLINK("https://evil.example","x")', 2, 1), row_of("-2+3", 1, 0)],
    )
    sink = io.StringIO()
    write_advocates_csv(report, sink)
    names = [row[1] for row in list(csv.reader(io.StringIO(sink.getvalue())))[1:]]
    assert names == ['\'=HYPERLINK("https://evil.example","x")', "'-2+3"]


def test_the_page_says_what_we_learned_and_names_the_reps(seeded):
    with seeded.unit_of_work() as session:
        session.execute(
            update(Engagement)
            .where(Engagement.id == 1)
            .values(
                feedback_rating="not_great",
                feedback={"good_match": "partly", "change": "Brief me on <their> stack & goals"},
                feedback_at=at(10, 10),
                checkin={
                    "helpful": "yes",
                    "concerns_addressed": "partly",
                    "learned": "Cutover took a weekend",
                },
                checkin_at=at(10, 9),
            )
        )
    with seeded.unit_of_work() as session:
        report = build_report(session=session, period=Q4, policy=Policy(), today=TODAY)
    assert [(item.source, item.rating) for item in report.learned] == [
        ("prospect check-in (from the rep)", ""),
        ("advocate feedback", "not great"),
    ]
    assert ("What we should change", "Brief me on <their> stack & goals") in report.learned[1].answers
    sink = io.StringIO()
    write_html(report, sink, chart_png=b"png", names={"U0REPA": "Ana <Rep>", "U0REPB": "Ben"}.get)
    page = sink.getvalue()
    learned = page[page.index("<h2>What we learned</h2>") : page.index("<h2>Top advocates</h2>")]
    assert "call between Ada Lovelace and Prospect 1 · rated not great" in learned
    assert "<li>What we should change: Brief me on &lt;their&gt; stack &amp; goals</li>" in learned
    assert "<li>What the prospect learned: Cutover took a weekend</li>" in learned
    assert "<td>Ana &lt;Rep&gt;</td>" in page and "U0REPA" not in page
    sink = io.StringIO()
    write_reps_csv(report, sink, names={"U0REPA": "Ana <Rep>", "U0REPB": "Ben"}.get)
    assert [row["rep_name"] for row in csv.DictReader(io.StringIO(sink.getvalue()))] == ["Ana <Rep>", "Ben"]
