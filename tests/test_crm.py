"""The CRM bridge: an opportunity id on the request, CRM deals in, engagements out, with vs without a reference."""

from __future__ import annotations

import csv
import io
from datetime import date

from sqlalchemy import func, select, update

from bot.reporting.metrics import Period, metric
from bot.reporting.report import build_report
from bot.rules.matching import Policy
from store.models import Opportunity, ReferenceRequest
from tests.test_dispatcher import migrated_url  # noqa: F401 - fixture
from tests.test_outreach import schedule

DEALS = """id,name,created,closed,outcome,arr,had_reference
006A,Acme Corp renewal,2026-09-01,2026-11-15,won,"120,000",no
006B,Initech,2026-08-01,2026-10-20,lost,80000,yes
006C,Globex,2026-10-01,2026-12-01,won,,no
006D,Umbrella,2026-09-15,2026-11-30,lost,50000,no
006E,Hooli,2026-11-01,,open,,no
006F,Last quarter,2026-06-01,2026-09-10,won,1000,no
"""


def test_crm_deals_give_win_rate_and_cycle_with_and_without_a_reference(harness, cli, tmp_path, migrated_url):  # noqa: F811
    request_id, _ = schedule(harness)  # refdesk gave Acme a reference (a call on 2 Dec)
    with harness.db.unit_of_work() as session:
        session.execute(update(ReferenceRequest).values(opportunity_id="006A"))
    env = {"DATABASE_URL": migrated_url}
    path = tmp_path / "deals.csv"
    path.write_text(DEALS, encoding="utf-8")
    result = cli("opportunities", "import", str(path), env=env, cwd=tmp_path)
    assert result.code == 0, result.err
    assert "6 opportunities added, 0 updated" in result.out

    with harness.db.unit_of_work() as session:
        report = build_report(
            session=session, period=Period.parse("2026Q4"), policy=Policy(), today=date(2026, 12, 15)
        )
    with_, without = (
        metric(report.metrics, "CRM win rate with a reference"),
        metric(report.metrics, "CRM win rate without a reference"),
    )
    # With: 006A (the CRM did not know; refdesk's request carries its id) won, 006B lost. Without: C won, D lost.
    assert (with_.value, with_.basis, without.value, without.basis) == (0.5, 2, 0.5, 2)
    assert metric(report.metrics, "CRM sales cycle with a reference").value == 75  # 1 Sep → 15 Nov
    assert metric(report.metrics, "CRM sales cycle without a reference").value == 61  # 1 Oct → 1 Dec

    path.write_text(DEALS.replace("006E,Hooli,2026-11-01,,open", "006E,Hooli,2026-11-01,2026-12-05,won"))
    result = cli("opportunities", "import", str(path), env=env, cwd=tmp_path)
    assert "0 opportunities added, 6 updated" in result.out

    sink = tmp_path / "engagements.csv"
    result = cli("engagements", "export", "--output", str(sink), env=env, cwd=tmp_path)
    assert result.code == 0, result.err
    [row] = list(csv.DictReader(io.StringIO(sink.read_text(encoding="utf-8"))))
    assert (row["opportunity_id"], row["request_id"], row["status"]) == ("006A", str(request_id), "scheduled")
    assert row["reference_date"] == "2026-12-02" and row["advocate_name"] == "Dana Whitfield"


def test_a_bad_deals_file_is_refused_whole_with_the_line_and_the_fix(harness, cli, tmp_path, migrated_url):  # noqa: F811
    path = tmp_path / "deals.csv"
    path.write_text(
        "id,name,created,closed,outcome,arr,had_reference\n"
        "006A,Acme,2026-09-01,2026-08-01,won,1000,no\n"
        "006B,Initech,2026-09-01,,lost,1000,maybe\n",
        encoding="utf-8",
    )
    result = cli("opportunities", "import", str(path), env={"DATABASE_URL": migrated_url}, cwd=tmp_path)
    assert result.code == 2 and "Traceback" not in result.err
    assert "line 2" in result.err and "before created" in result.err
    assert "line 3" in result.err and "'maybe' is not yes or no" in result.err
    with harness.db.unit_of_work() as session:
        assert session.scalar(select(func.count()).select_from(Opportunity)) == 0
