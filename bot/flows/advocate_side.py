"""The advocate's own side (PROGRAM.md "Appreciation", "Failure modes": never only asks): their controls, the
welcome and the written yes, the next rung of the ladder. Each change a conditional update; CS hears of it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import or_, update
from sqlalchemy.orm import Session

from bot.flows import effects
from bot.rules.vocabulary import AdvocateKind, AdvocateStatus, label_of
from bot.text import Mrkdwn, blockquote, mention, mrkdwn
from store.models import Advocate, Engagement, EngagementStatus

MAX_PAUSE = timedelta(days=366)
NOTES_LIMIT = 5000
# What "may be named publicly" and "logo use" cover: a kind that shows them in public needs that consent.
PUBLIC_KINDS = frozenset({AdvocateKind.QUOTE, AdvocateKind.CASE_STUDY, AdvocateKind.SPEAKING})
# The advocacy ladder (seeds/001: each rung a bigger ask), lowest first.
LADDER = (
    AdvocateKind.QUOTE,
    AdvocateKind.CASE_STUDY,
    AdvocateKind.CALL,
    AdvocateKind.SPEAKING,
    AdvocateKind.ADVISORY_BOARD,
)
LINK_WHILE = (EngagementStatus.ACCEPTED, EngagementStatus.SCHEDULED)


def note(advocate: Advocate, text: str, today: date) -> None:
    """A dated line in the pool entry's notes, newest last (the oldest give way past the limit)."""
    line = f"{today.isoformat()}: {text}"
    notes = f"{advocate.notes}\n{line}" if advocate.notes else line
    advocate.notes = notes[-NOTES_LIMIT:]


def pause_problem(until: date | None, today: date) -> str | None:
    if until is None:
        return "Please pick the date you'd like to hear from us again."
    if until <= today:
        return "Please pick a date after today."
    if until > today + MAX_PAUSE:
        return "Please pick a date within the next year."
    return None


def pause(
    *, session: Session, advocate_id: int, until: date, why: str, actor_id: str, now: datetime
) -> tuple[Advocate, bool]:
    """ "Pause me until…": not asked until `until`; the pool entry says who paused and why.
    The flag is False when they were already paused until that day (a retried submission changes nothing)."""
    advocate = session.get(Advocate, advocate_id)
    if advocate.status == AdvocateStatus.BREAK and advocate.break_until == until:
        return advocate, False
    advocate.status = AdvocateStatus.BREAK
    advocate.break_until = until
    advocate.updated_at = now
    reason = f" ({why})" if why else ""
    note(advocate, f"paused themselves until {until.isoformat()}{reason} [by {actor_id}]", now.date())
    return advocate, True


def ask_cs_to_join(*, session: Session, engagement_id: int, now: datetime) -> bool:
    """The advocate wants CS on the call (PROGRAM.md: CS does not join unless asked). True the first time."""
    return (
        session.execute(
            update(Engagement)
            .where(
                Engagement.id == engagement_id,
                Engagement.cs_join_asked_at.is_(None),
                Engagement.status.in_((EngagementStatus.ASKED, *LINK_WHILE)),
            )
            .values(cs_join_asked_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        == 1
    )


def set_kinds(
    *, session: Session, advocate_id: int, kinds: list[str], actor_id: str, now: datetime
) -> tuple[list[str], list[str]]:
    """ "What I'm happy to do": the kinds of reference they accept, (before, after)."""
    advocate = session.get(Advocate, advocate_id)
    before = list(advocate.kinds)
    after = [k.value for k in AdvocateKind if k.value in kinds]
    if after != before:
        advocate.kinds = after
        advocate.updated_at = now
        shown = ", ".join(label_of(AdvocateKind, k) for k in after) or "nothing for now"
        note(advocate, f"said they're happy to do: {shown} [by {actor_id}]", now.date())
    return before, after


def set_meeting_link(*, session: Session, engagement_id: int, url: str) -> bool:
    return (
        session.execute(
            update(Engagement)
            .where(
                Engagement.id == engagement_id,
                Engagement.status.in_(LINK_WHILE),
                or_(Engagement.meeting_link.is_(None), Engagement.meeting_link != url),
            )
            .values(meeting_link=url)
            .execution_options(synchronize_session=False)
        ).rowcount
        == 1
    )


def record_written_yes(*, session: Session, advocate_id: int, now: datetime) -> bool:
    """Their written yes to the program, with its date. True the first time."""
    won = (
        session.execute(
            update(Advocate)
            .where(Advocate.id == advocate_id, Advocate.agreed_on.is_(None))
            .values(agreed_on=now.date(), updated_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        == 1
    )
    if won:
        advocate = session.get(Advocate, advocate_id)
        session.refresh(advocate)
        note(advocate, "said yes to the reference program in writing", now.date())
    return won


def mark_welcomed(*, session: Session, advocate_id: int, now: datetime) -> bool:
    """True when this is the first welcome: a second click sends nothing twice."""
    return (
        session.execute(
            update(Advocate)
            .where(Advocate.id == advocate_id, Advocate.welcomed_at.is_(None))
            .values(welcomed_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        == 1
    )


def allowed_kinds(advocate: Advocate) -> list[str]:
    """The kinds they agreed to that their consent allows: private references only rule out public ones."""
    if advocate.private_only or not (advocate.named_publicly or advocate.logo_use):
        return [k for k in advocate.kinds if k not in PUBLIC_KINDS]
    return list(advocate.kinds)


@dataclass(frozen=True)
class Rung:
    kind: AdvocateKind
    invitation: str


_INVITATIONS = {
    AdvocateKind.QUOTE: (
        "Would you be open to sharing a short quote about {result}? I can draft something from what you've "
        "told us and send it to you for approval; we'd use it only where you say we may."
    ),
    AdvocateKind.CASE_STUDY: (
        "We'd love to feature your results in a case study about {result}. It's about 60–90 minutes for an "
        "interview, then 30 minutes to review the draft, and nothing is published without your sign-off."
    ),
    AdvocateKind.CALL: (
        "Now and then a company facing what you solved with {result} would value 15–20 minutes with you. "
        "Would you be open to the occasional reference call? We protect your time: a few a year at most."
    ),
    AdvocateKind.SPEAKING: (
        "Would you like to share your story about {result} with peers, at one of our events or in a short "
        "piece? We'd prepare it together and you'd approve everything."
    ),
    AdvocateKind.ADVISORY_BOARD: (
        "We're forming a customer advisory board that shapes what we build. Given your experience with "
        "{result}, we'd be honoured to have you: a few meetings a year, with real influence."
    ),
}


def next_rung(advocate: Advocate) -> Rung | None:
    """The lowest rung above what they already do that their consent allows, with a ready invitation."""
    done = set(advocate.kinds)
    top = max((LADDER.index(AdvocateKind(k)) for k in done if AdvocateKind(k) in LADDER), default=-1)
    private = advocate.private_only or not (advocate.named_publicly or advocate.logo_use)
    for kind in LADDER[top + 1 :]:
        if private and kind in PUBLIC_KINDS:
            continue
        result = advocate.story or "; ".join(advocate.use_cases) or "your results"
        first = (advocate.name.split() or [advocate.name])[0]
        text = f"Hi {first}, thank you again for your help. " + _INVITATIONS[kind].format(
            result=result.rstrip(".")
        )
        return Rung(kind, text)
    return None


def tell_cs(
    session: Session, *, now: datetime, cs_channel_id: str, engagement_id: int | None, text: Mrkdwn
) -> None:
    """In the request's thread when the answer is about a request, else in the CS channel: an outbox row in the
    caller's transaction (bot/flows/effects.py), so what the advocate did and CS hearing it commit together."""
    engagement = session.get(Engagement, engagement_id) if engagement_id else None
    if engagement is not None:
        effects.note(session, now=now, request_id=engagement.request_id, text=text)
    else:
        effects.post(session, now=now, to=cs_channel_id, text=text)


def suggest_next_rung(
    session: Session,
    *,
    now: datetime,
    cs_channel_id: str,
    advocate_id: int,
    engagement_id: int | None,
    why: str,
) -> bool:
    """After a Great rating or a won deal, CS hears the advocate's next rung with a ready invitation
    (a rung their consent rules out is never suggested)."""
    advocate = session.get(Advocate, advocate_id)
    rung = next_rung(advocate) if advocate else None
    if advocate is None or rung is None:
        return False
    owner = advocate.owner_slack_user_id
    tell_cs(
        session,
        now=now,
        cs_channel_id=cs_channel_id,
        engagement_id=engagement_id,
        text=mrkdwn(
            ":ladder: *{}* {}. Their next rung on the advocacy ladder: *{}*. A ready invitation{}:\n{}",
            advocate.name,
            why,
            label_of(AdvocateKind, rung.kind),
            mrkdwn(" for {} to send", mention(owner)) if owner else Mrkdwn(""),
            blockquote(rung.invitation),
        ),
    )
    return True
