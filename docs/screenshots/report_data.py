"""A quarter of demo data (pool, an imported spreadsheet of past references, live requests with feedback and
check-ins), then the quarterly report as HTML, the tidy CSVs and the Slack text; see README.md here."""

import io
import random
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, select

from bot.exchange import pool_csv
from bot.reporting.chart import quarter_chart
from bot.reporting.metrics import Period
from bot.reporting.report import (
    build_report,
    stats_text,
    write_advocates_csv,
    write_csv,
    write_html,
    write_reps_csv,
)
from bot.rules.matching import Policy
from store.db import Database
from store.models import Advocate, Engagement, ReferenceRequest
from tests.support.factories import request_values

out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp())
out.mkdir(parents=True, exist_ok=True)
db_file = Path(tempfile.mkdtemp()) / "shots.db"
db_file.unlink(missing_ok=True)
db = Database.from_url(f"sqlite:///{db_file}")
db.upgrade()
NOW = datetime(2026, 12, 20, 12, tzinfo=UTC)
with db.unit_of_work() as s:
    pool_csv.import_advocates(
        session=s, source=io.StringIO(Path("tests/fixtures/pool.csv").read_text()), now=NOW
    )
history = "advocate_email,date,prospect_company,prospect_industry,kind,outcome,deal_arr\n" + "\n".join(
    [
        "dana@northwind.example,2026-10-07,Fabrikam Foods,retail,call,won,90000",
        "ravi@contoso.example,2026-10-21,Tailspin Air,logistics,call,lost,150000",
        "dana@northwind.example,2026-11-12,Litware Bank,financial_services,call,open,70000",
        "ravi@contoso.example,2026-08-02,Proseware,software,call,won,60000",
    ]
)
with db.unit_of_work() as s:
    pool_csv.import_history(session=s, source=io.StringIO(history), now=NOW)
rng = random.Random(3)
with db.unit_of_work() as s:
    ids = list(s.scalars(select(Advocate.id)))
    reps = ["U0MARIA", "U0JONAS", "U0PRIYA"]
    for n in range(1, 15):
        created = datetime(2026, 10, 1, 10, tzinfo=UTC) + timedelta(days=5 * n)
        status = rng.choice(["approved", "approved", "approved", "declined", "no_match", "pending"])
        outcome = rng.choice([None, "won", "lost"]) if status == "approved" else None
        s.execute(
            insert(ReferenceRequest),
            [
                request_values(
                    id=n,
                    source_view_id=f"V{n}",
                    rep_id=reps[n % 3],
                    requester_id=reps[n % 3],
                    status=status,
                    created_at=created,
                    updated_at=created,
                    prospect_company=f"Prospect {n} & Co",
                    prospect_key=f"prospect {n}",
                    decided_at=created + timedelta(days=1) if status != "pending" else None,
                    outcome=outcome,
                    outcome_at=created + timedelta(days=30) if outcome else None,
                    opportunity_id=f"006X{n:04d}",
                )
            ],
        )
        if status == "approved":
            call = created + timedelta(days=rng.randint(3, 9))
            s.execute(
                insert(Engagement),
                [
                    dict(
                        advocate_id=ids[n % len(ids)],
                        request_id=n,
                        kind="call",
                        status="held",
                        prospect_company=f"Prospect {n} & Co",
                        prospect_key=f"prospect {n}",
                        prospect_industry=rng.choice(["software", "financial_services", "healthcare"]),
                        asked_at=created + timedelta(days=1),
                        held_at=call,
                        call_at=call,
                        source="refdesk",
                        created_at=created,
                        feedback_rating=rng.choice(["great", "fine", "not_great"]),
                        feedback_at=call + timedelta(days=2),
                        feedback={
                            "good_match": "yes",
                            "prepared": "partly",
                            "asked": "How long the cutover took",
                            "change": "Send the agenda <before> the call",
                        },
                        checkin={
                            "helpful": "yes",
                            "concerns_addressed": "partly",
                            "learned": "Migration fits in one quarter",
                            "by": reps[n % 3],
                        },
                        checkin_at=call + timedelta(days=1),
                    )
                ],
            )
names = {"U0MARIA": "Maria García", "U0JONAS": "Jonas Berg", "U0PRIYA": "Priya Shah"}.get
with db.unit_of_work() as s:
    report = build_report(session=s, period=Period.parse("2026Q4"), policy=Policy(), today=NOW.date())
with open(out / "report.html", "w") as f:
    write_html(report, f, chart_png=quarter_chart(report), names=names)
for name, w in (("program", write_csv), ("reps", write_reps_csv), ("advocates", write_advocates_csv)):
    with open(out / f"{name}.csv", "w") as f:
        w(report, f, names=names)
(out / "stats.txt").write_text(stats_text(report))
print(f"wrote {out}/report.html, program.csv, reps.csv, advocates.csv, stats.txt")
