"""From an approved request to a ranked shortlist: the store supplies candidates and usage, matching decides."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from bot.rules.matching import (
    DEFAULT_CAPS,
    DEFAULT_INDUSTRY_ADJACENCY,
    Assessment,
    Candidate,
    Demand,
    Grade,
    Need,
    Policy,
    Usage,
    first_page,
    prefilter,
    quarter_start,
    rank,
    size_target,
)
from bot.rules.matching.records import quick
from bot.rules.vocabulary import Industry, RequestStatus, Tier, label_of
from bot.settings import Settings
from store import counts, pool
from store.models import Advocate, ReferenceRequest

SIZE_RATIO_POOR = 5  # the matrix's "more than 5× apart": such advocates can never be shortlisted


def policy_from(settings: Settings) -> Policy:
    adjacency = {k: set(v) for k, v in DEFAULT_INDUSTRY_ADJACENCY.items()}
    for industry, neighbours in settings.industry_adjacency:
        for near in neighbours:
            adjacency.setdefault(industry, set()).add(near)
            adjacency.setdefault(near, set()).add(industry)
    caps = dict(DEFAULT_CAPS)
    caps.update(
        {
            Tier.STRATEGIC: settings.cap_strategic,
            Tier.STANDARD: settings.cap_standard,
            Tier.NEW: settings.cap_new,
        }
    )
    return Policy(
        caps=caps,
        min_days_between_asks=settings.min_days_between_asks,
        fatigue_threshold=settings.fatigue_threshold,
        strategic_min_deal_arr=settings.strategic_min_deal_arr,
        strategic_reserved=settings.strategic_reserved,
        min_tenure_days=settings.min_tenure_days,
        yearly_limit=settings.yearly_limit,
        demand_days=settings.demand_days,
        demand_sample=settings.demand_sample,
        industry_adjacency={k: frozenset(v) for k, v in adjacency.items()},
    )


def need_of(request: ReferenceRequest) -> Need:
    return Need(
        request_id=request.id,
        industry=request.wanted_industry,
        employees=request.prospect_employees,
        use_case=request.wanted_use_case,
        role_level=request.wanted_role_level,
        kind=request.wanted_kind,
        deal_arr=request.deal_arr,
        prospect_key=request.prospect_key,
        region=request.wanted_region,
        country=request.wanted_country,
        size_band=request.wanted_size_band,
        function=request.wanted_function,
    )


def _day(instant: datetime | date | None) -> date | None:
    """The day of an instant (UTC), or a day as it is (pool.shortlistable reads the kept instants as their days)."""
    if instant is None:
        return None
    return instant.date() if isinstance(instant, datetime) else instant


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def usage_window(today: date) -> counts.UsageWindow:
    this_quarter = quarter_start(today)
    return counts.UsageWindow(
        quarter_start=_start_of(this_quarter),
        previous_quarter_start=_start_of(quarter_start(this_quarter - timedelta(days=1))),
        year_start=_start_of(date(today.year, 1, 1)),
        since_90=_start_of(today - timedelta(days=90)),
        since_180=_start_of(today - timedelta(days=180)),
        since_360=_start_of(today - timedelta(days=360)),
    )


def _start_after(today: date, days: int) -> datetime:
    """The start of the day `days - 1` days ago: an instant before it is at least `days` days back."""
    return _start_of(today - timedelta(days=days - 1))


def candidates_for(
    *, session: Session, need: Need, policy: Policy, today: date, strict: bool = False
) -> list[Candidate]:
    """Advocates that fit on industry and size, with their usage, aggregated in SQL.

    `strict` keeps only those who could make the shortlist, protection limits applied in the query:
    the first page needs nobody else. matching.rank still checks every rule on what comes back.
    """
    industries = {need.industry, *policy.industry_adjacency.get(need.industry, ())}
    low, high = size_target(need)
    bounds = dict(
        industries=industries,
        min_employees=-(-low // SIZE_RATIO_POOR),
        max_employees=high * SIZE_RATIO_POOR if high is not None else 2**31 - 1,
    )
    window = usage_window(today)
    if strict:
        rows = pool.shortlistable(
            session=session,
            **bounds,
            strict=prefilter(need=need, policy=policy),
            today=today,
            window=window,
            limits=pool.Limits(
                caps=dict(policy.caps),
                asked_before=_start_after(today, policy.min_days_between_asks),
                used_before=_start_after(today, policy.recent_use_days),
                fatigue_threshold=policy.fatigue_threshold,
            ),
            prospect_key=need.prospect_key,
            request_id=need.request_id,
        )
        return [_candidate(advocate, _kept_usage(kept, recent)) for advocate, kept, recent in rows]
    advocates = pool.fitting_advocates(session=session, **bounds)
    usage = counts.usage_by_advocate(
        session=session,
        advocate_ids=[a.id for a in advocates],
        window=window,
        prospect_key=need.prospect_key,
        request_id=need.request_id,
    )
    return [candidate_of(a, usage.get(a.id)) for a in advocates]


def _kept_usage(kept: Any, recent: Any) -> Usage:
    """pool.shortlistable's usage as ranking reads it: the lifetime figures kept for the advocate (`total` None:
    never used), the rolling windows counted from their kept events (None: nothing kept)."""
    return Usage() if kept.total is None else _usage(kept, recent)


def candidate_of(advocate: Advocate | Row[Any], row: object | None) -> Candidate:
    """`advocate` is a model or a row with its columns; `row` its usage aggregate (counts), None: never asked."""
    return _candidate(advocate, Usage() if row is None else _usage(row, row))


def _usage(kept: Any, recent: Any) -> Usage:
    """Usage from the lifetime figures (`kept`: total, last asked and used) and the rolling windows (`recent`;
    None: nothing in them). One row can be both (counts.usage_by_advocate's aggregate)."""
    total, last_asked, last_used = int(kept.total), _day(kept.last_asked), _day(kept.last_used)
    if recent is None:
        return Usage(total=total, last_asked=last_asked, last_used=last_used)
    return quick(
        Usage,
        total=total,
        this_quarter=int(recent.this_quarter or 0),
        last_asked=last_asked,
        last_used=last_used,
        recent_90d=int(recent.recent_90d or 0),
        previous_quarter=int(recent.previous_quarter or 0),
        this_year=int(recent.this_year or 0),
        passes_recent=int(recent.passes_recent or 0),
        passes_before=int(recent.passes_before or 0),
        reply_hours_recent=float(recent.reply_recent) / 3600 if recent.reply_recent is not None else None,
        reply_hours_before=float(recent.reply_before) / 3600 if recent.reply_before is not None else None,
        asked_for_prospect=bool(recent.asked_for_prospect),
        pending_elsewhere=bool(recent.pending),
    )


def _candidate(advocate: Any, usage: Usage) -> Candidate:
    """`advocate` is a model, a row or a record with its columns (the shortlist query reads only those)."""
    return quick(
        Candidate,
        advocate_id=advocate.id,
        name=advocate.name,
        title=advocate.title,
        role_level=advocate.role_level,
        company=advocate.company,
        industry=advocate.industry,
        employees=advocate.employees,
        region=advocate.region,
        country=advocate.country,
        use_cases=tuple(advocate.use_cases),
        kinds=tuple(advocate.kinds),
        tier=advocate.tier,
        status=advocate.status,
        break_until=advocate.break_until,
        account_trouble=advocate.account_trouble,
        sentiment=advocate.sentiment,
        usage=usage,
        joined_on=advocate.joined_on,
        function=advocate.function,
    )


def widened_for(*, session: Session, request: ReferenceRequest, policy: Policy, today: date) -> list[Assessment]:
    """The request graded against every advocate in the pool, whatever their industry and size."""
    need = need_of(request)
    advocates = pool.fitting_advocates(
        session=session, industries=[i.value for i in Industry], min_employees=0, max_employees=2**31 - 1
    )
    usage = counts.usage_by_advocate(
        session=session,
        advocate_ids=[a.id for a in advocates],
        window=usage_window(today),
        prospect_key=need.prospect_key,
        request_id=need.request_id,
    )
    candidates = [candidate_of(a, usage.get(a.id)) for a in advocates]
    return rank(need=need, candidates=candidates, policy=policy, today=today)


def ranked_for(
    *, session: Session, request: ReferenceRequest, policy: Policy, today: date, strict: bool = False
) -> list[Assessment]:
    """Every fitting advocate ranked; `strict` ranks only those who could be shortlisted (page 1)."""
    need = need_of(request)
    candidates = candidates_for(session=session, need=need, policy=policy, today=today, strict=strict)
    demand = recent_demand(session=session, request_id=request.id, policy=policy, today=today)
    return rank(need=need, candidates=candidates, policy=policy, today=today, demand=demand)


def first_page_for(
    *, session: Session, request: ReferenceRequest, policy: Policy, today: date, size: int
) -> tuple[list[Assessment], int]:
    """The first `size` of `ranked_for(strict=True)`'s good-enough advocates and how many there are: a first page
    (matching.first_page: the same answer, without assessing everyone)."""
    need = need_of(request)
    candidates = candidates_for(session=session, need=need, policy=policy, today=today, strict=True)
    demand = recent_demand(session=session, request_id=request.id, policy=policy, today=today)
    return first_page(need=need, candidates=candidates, policy=policy, today=today, demand=demand, size=size)


# Requests that asked nothing of the pool.
_NOT_DEMAND = (RequestStatus.DECLINED, RequestStatus.CANCELLED)


def recent_demand(*, session: Session, request_id: int | None, policy: Policy, today: date) -> Demand:
    """The other requests of the last `policy.demand_days` days, at most `policy.demand_sample` of the newest.

    A small query of its own beside the shortlist's: the newest rows along the primary key, cut at the
    sample, so its cost does not grow with the history; the days are checked on what came back. Declined and
    cancelled requests asked nothing of the pool.
    """
    r = ReferenceRequest
    session.flush()  # plain columns on the session's connection, as pool.shortlistable reads its rows
    rows = session.connection().execute(
        select(r.status, r.created_at, r.wanted_industry, r.prospect_employees, r.wanted_size_band)
        .where(r.id != (request_id or -1))
        .order_by(r.id.desc())
        .limit(policy.demand_sample)
    )
    since = today - timedelta(days=policy.demand_days)
    return Demand.counted(
        (row.wanted_industry, row.prospect_employees, row.wanted_size_band)
        for row in rows
        if row.status not in _NOT_DEMAND and row.created_at.date() >= since
    )


def good_enough(assessment: Assessment) -> bool:
    return not assessment.excluded and assessment.grade is not Grade.POOR


# Limits that lift with time: an advocate held back only by these fits and is resting.
RESTING = frozenset({"cap", "min_gap", "consecutive_week", "recent_use", "break", "fatigue", "yearly"})


def _plural(count: int, word: str = "advocate") -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def no_match_reasons(ranked: list[Assessment], wider: list[Assessment] | None = None) -> list[str]:
    """Why nobody reached Good, in words a rep understands: no fit first, then who fits but is resting.

    `ranked` is everyone near the request's industry and size; `wider` (optional) the same request graded
    against the whole pool, for what would widen the search.
    """
    reasons: list[str] = []
    fit = [a for a in ranked if a.grade is not Grade.POOR]
    poor = [a for a in ranked if a.grade is Grade.POOR]
    if not ranked:
        reasons.append("No advocate in the pool works in or near this industry at a similar company size.")
    elif poor:
        reasons.append(f"No fit: {len(poor)} of the {_plural(len(ranked))} near this industry and size match poorly.")
    counts: dict[str, int] = {}
    for assessment in poor:
        for dimension in assessment.dimensions:
            if dimension.grade is Grade.POOR:
                key = f"poor {dimension.name}"
                counts[key] = counts.get(key, 0) + 1
    for code, count in sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:3]:
        reasons.append(f"{_plural(count)}: {_REASON_WORDS.get(code, code)}")
    resting = [a for a in fit if a.excluded and {e.code for e in a.exclusions} <= RESTING]
    if resting:
        dates = [a.next_eligible for a in resting if a.next_eligible is not None]
        when = f"the earliest is free on {min(dates):%-d %b %Y}" if dates else "no date can be promised yet"
        reasons.append(f"{_plural(len(resting))} fit but {'is' if len(resting) == 1 else 'are'} resting: {when}.")
    other: dict[str, int] = {}
    for assessment in fit:
        codes = {e.code for e in assessment.exclusions}
        if assessment.excluded and not codes <= RESTING:
            for code in sorted(codes - RESTING):
                other[code] = other.get(code, 0) + 1
    for code, count in sorted(other.items(), key=lambda item: (-item[1], item[0]))[:2]:
        reasons.append(f"{_plural(count)} fit but {_REASON_WORDS.get(code, code.replace('_', ' '))}")
    reasons.extend(_widen(fit, wider or []))
    return reasons


def _widen(fit: list[Assessment], wider: list[Assessment]) -> list[str]:
    """What would widen the search: the rules a fitting advocate misses by one dimension or one kind."""
    suggestions = []
    near = {a.candidate.advocate_id for a in fit}
    only: dict[str, list[Assessment]] = {}
    for assessment in wider:
        if assessment.candidate.advocate_id in near or assessment.excluded:
            continue
        poor = [d.name for d in assessment.dimensions if d.grade is Grade.POOR]
        if len(poor) == 1:
            only.setdefault(poor[0], []).append(assessment)
    if industry := only.get("industry"):
        names = sorted({label_of(Industry, a.candidate.industry) for a in industry})
        suggestions.append(
            f"Widen the industry: {_plural(len(industry))} in {', '.join(names[:3])} would otherwise fit."
        )
    if size := only.get("company size"):
        suggestions.append(f"Widen the company size: {_plural(len(size))} at other sizes would otherwise fit.")
    if geography := only.get("geography"):
        suggestions.append(f"Drop the country: {_plural(len(geography))} elsewhere would otherwise fit.")
    kind_only = [a for a in fit if {e.code for e in a.exclusions} == {"kind"}]
    if kind_only:
        suggestions.append(
            f"Another kind of reference: {_plural(len(kind_only))} fit but do a different kind "
            "(an email Q&A asks the least of them)."
        )
    return suggestions


_REASON_WORDS = {
    "cap": "reached their quarterly limit",
    "min_gap": "were asked too recently",
    "consecutive_week": "were asked last week",
    "recent_use": "gave a reference in the last 30 days",
    "break": "are on a break",
    "retired": "retired",
    "account_trouble": "have open trouble with their account",
    "fatigue": "show signs of fatigue and are resting",
    "same_prospect": "were already asked for this prospect",
    "pending": "are busy with another request",
    "kind": "don't do this kind of reference",
    "yearly": "reached their yearly limit",
    "strategic": "keep the rest of their quarter for larger deals",
    "poor use case": "know a different use case",
    "poor role": "are too junior for the contact",
    "poor sentiment": "had recent problems",
    "poor last used": "were used recently",
    "poor geography": "are in another country",
    "poor industry": "work in a different industry",
    "poor company size": "work at companies of a very different size",
}
