"""The hard limits (PROGRAM.md "Protecting advocates"): what rules an advocate out, and until when."""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

from bot.rules.matching.dates import ago, monday, next_quarter_start
from bot.rules.matching.kinds import KIND_COVERAGE, KIND_RULES
from bot.rules.matching.policy import Policy
from bot.rules.matching.records import ROLE_ORDER, Candidate, Exclusion, ExclusionCode, Need, Usage
from bot.rules.vocabulary import AdvocateStatus, ReferenceKind, RoleLevel, Tier, label_of


def cap_of(candidate: Candidate, policy: Policy) -> int:
    cap = policy.caps.get(candidate.tier)
    # An unknown tier gets the smallest cap: the safe side for the advocate.
    return min(policy.caps.values(), default=0) if cap is None else cap


def _fatigue_signals(usage: Usage, policy: Policy) -> list[str]:
    signals = []
    # More than the threshold in a quarter means a rest for the rest of it and the whole next quarter.
    for count, when in ((usage.this_quarter, "this quarter"), (usage.previous_quarter, "last quarter")):
        if count > policy.fatigue_threshold:
            signals.append(f"{count} references {when} (more than {policy.fatigue_threshold})")
    return signals + _behaviour_signals(usage, policy)


def _behaviour_signals(usage: Usage, policy: Policy) -> list[str]:
    """The signs of fatigue that end when people act (passes, slower replies), not on a date."""
    signals = []
    if usage.passes_recent > usage.passes_before and usage.passes_recent >= 2:
        signals.append(f"{usage.passes_recent} passes in 180 days (before: {usage.passes_before})")
    recent, before = usage.reply_hours_recent, usage.reply_hours_before
    if recent is not None and before is not None and recent >= 24 and recent > before * policy.reply_slowdown:
        signals.append(f"slower replies ({recent:.0f} h, before: {before:.0f} h)")
    return signals


def fatigue_signals(usage: Usage, policy: Policy) -> list[str]:
    """Why an advocate looks tired, in words (empty when they do not): Home's "needing care" says the same."""
    return _fatigue_signals(usage, policy)


def exclusions(need: Need, candidate: Candidate, policy: Policy, today: date) -> tuple[Exclusion, ...]:
    usage, tier = candidate.usage, candidate.tier
    found: list[tuple[ExclusionCode, str]] = []
    if usage.this_quarter >= (cap := cap_of(candidate, policy)):
        found.append(
            (ExclusionCode.CAP, f"Quarterly cap reached: {usage.this_quarter} of {cap} this quarter ({tier})")
        )
    if usage.last_asked is not None:
        if (days := (today - usage.last_asked).days) < (gap := policy.min_days_between_asks):
            found.append((ExclusionCode.MIN_GAP, f"Asked {ago(days)}: at least {gap} days between asks"))
        # Comparing with the Mondays of ISO weeks handles year ends (week 53, then week 1) with no week
        # arithmetic: a day is on or after a Monday exactly when its own week's Monday is.
        this_week, last_week = _mondays(today)
        if usage.last_asked >= last_week:
            week = "this week" if usage.last_asked >= this_week else "last week"
            found.append((ExclusionCode.CONSECUTIVE_WEEK, f"Asked {week}: never in consecutive weeks"))
    if usage.last_used is not None and (days := (today - usage.last_used).days) < policy.recent_use_days:
        found.append(
            (
                ExclusionCode.RECENT_USE,
                f"Used {ago(days)}: a {policy.recent_use_days}-day rest after each reference",
            )
        )
    if candidate.status == AdvocateStatus.BREAK and not (
        candidate.break_until and today >= candidate.break_until
    ):
        until = f" until {candidate.break_until.isoformat()}" if candidate.break_until else ""
        found.append((ExclusionCode.BREAK, f"On a break{until}"))
    if candidate.status == AdvocateStatus.RETIRED:
        found.append((ExclusionCode.RETIRED, "Retired from the program"))
    if candidate.account_trouble:
        found.append((ExclusionCode.ACCOUNT_TROUBLE, "The account has open technical or onboarding trouble"))
    if signals := _fatigue_signals(usage, policy):
        found.append((ExclusionCode.FATIGUE, f"Fatigue: {'; '.join(signals)}"))
    if usage.asked_for_prospect:
        found.append((ExclusionCode.SAME_PROSPECT, "Already asked for this prospect"))
    if usage.pending_elsewhere:
        found.append((ExclusionCode.PENDING, "Has an open ask on another request"))
    if need.kind == ReferenceKind.PEER:
        found.append((ExclusionCode.KIND, "Peer conversations are logged, not brokered"))
    elif KIND_COVERAGE.get(need.kind, frozenset()).isdisjoint(candidate.kinds):
        found.append((ExclusionCode.KIND, f"Not open to this kind: {label_of(ReferenceKind, need.kind)}"))
    elif (
        (rule := KIND_RULES.get(need.kind))
        and rule.min_level
        and ROLE_ORDER.get(candidate.role_level, -1) < ROLE_ORDER[rule.min_level]
    ):
        kind, level = label_of(ReferenceKind, need.kind), label_of(RoleLevel, rule.min_level)
        found.append((ExclusionCode.KIND, f"{kind}: for senior advocates ({level} or above)"))
    if (
        reserved_for_big_deals(need, candidate, policy)
        and usage.this_quarter < cap
        and usage.this_quarter >= cap - policy.strategic_reserved
    ):
        floor = policy.strategic_min_deal_arr
        reason = (
            f"Strategic advocate: the last {policy.strategic_reserved} of {cap} this quarter are kept for deals "
            f"of ${floor:,}+ ARR (this one: ${need.deal_arr:,})"
        )
        found.append((ExclusionCode.STRATEGIC, reason))
    if policy.yearly_limit and usage.this_year >= policy.yearly_limit:
        reason = f"Yearly limit reached: {usage.this_year} of {policy.yearly_limit} this year"
        found.append((ExclusionCode.YEARLY, reason))
    return tuple(Exclusion(code, reason) for code, reason in found)


@lru_cache(maxsize=8)
def _mondays(today: date) -> tuple[date, date]:
    """The Mondays of this week and the last (a shortlist checks thousands of advocates on one day)."""
    this_week = monday(today)
    return this_week, this_week - timedelta(days=7)


def reserved_for_big_deals(need: Need, candidate: Candidate, policy: Policy) -> bool:
    """A strategic advocate on a deal below the strategic floor: ranked after equals, part of the quarter kept."""
    return candidate.tier == Tier.STRATEGIC and need.deal_arr < policy.strategic_min_deal_arr


def next_eligible(candidate: Candidate, policy: Policy, today: date) -> date | None:
    """The first day the advocate may be asked again (for any request); None when no date can be promised."""
    usage = candidate.usage
    # Slower replies and more passes, and an open ask, end when people act, not on a date; so does a break
    # without an end date. Too many references in a quarter is a rest through the whole next quarter.
    other_signals = _behaviour_signals(usage, policy)
    if (
        candidate.status == AdvocateStatus.RETIRED
        or candidate.account_trouble
        or usage.pending_elsewhere
        or other_signals
        or (candidate.status == AdvocateStatus.BREAK and candidate.break_until is None)
    ):
        return None
    # Each limit, once lifted, stays lifted while the history stands still, so the answer is the latest lift.
    dates = [today]
    if usage.this_quarter >= cap_of(candidate, policy):
        dates.append(next_quarter_start(today))
    if usage.this_quarter > policy.fatigue_threshold:
        dates.append(next_quarter_start(next_quarter_start(today)))
    elif usage.previous_quarter > policy.fatigue_threshold:
        dates.append(next_quarter_start(today))
    if policy.yearly_limit and usage.this_year >= policy.yearly_limit:
        dates.append(date(today.year + 1, 1, 1))
    if usage.last_asked is not None:
        dates.append(usage.last_asked + timedelta(days=policy.min_days_between_asks))
        dates.append(monday(usage.last_asked) + timedelta(days=14))
    if usage.last_used is not None:
        dates.append(usage.last_used + timedelta(days=policy.recent_use_days))
    if candidate.status == AdvocateStatus.BREAK and candidate.break_until is not None:
        dates.append(candidate.break_until)
    return max(dates)
