"""What the request's two living messages say when they are sent: the approval card and the shortlist page,
rendered from the store as it stands (the outbox renders them at send time; a click re-renders them)."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from bot.flows import peer, shortlist
from bot.flows.records import RequestRecord
from bot.rules.matching import Policy
from bot.rules.qualification import Rules, qualify
from bot.text import Mrkdwn, mention, mrkdwn
from modals.approval_card import build_approval_card
from modals.shortlist import PAGE_SIZE, build_shortlist, shortlist_text
from store import lifecycle
from store.models import Advocate, ReferenceRequest, RequestStatus


def flags_for(rules: Rules | None, request: ReferenceRequest) -> list:
    if rules is None:
        return []
    return qualify(
        rules=rules,
        deal_stage=request.deal_stage,
        deal_arr=request.deal_arr,
        tried=request.tried,
        prior_references=request.prior_references,
    )


def card_blocks(rules: Rules | None, request: ReferenceRequest) -> list:
    """The approval card as the request stands now (the card and its updates are rendered at send time)."""
    return build_approval_card(request=RequestRecord.of(request), flags=flags_for(rules, request))


def render_page(
    *, session: Session, request: ReferenceRequest, policy: Policy, today: date, page: int
) -> tuple[Mrkdwn, list]:
    """The shortlist page as it stands now: ranking, and what was already picked or closed."""
    # Page 1 shows the best of those who could be shortlisted and how many there are; Show more (and an empty
    # page 1, which says why nobody fits) ranks everyone.
    ranked, good = [], 0
    if page == 1:
        ranked, good = shortlist.first_page_for(
            session=session, request=request, policy=policy, today=today, size=PAGE_SIZE
        )
    if not good:
        ranked = shortlist.ranked_for(session=session, request=request, policy=policy, today=today)
    picked = closed = None
    logged = peer.logged_for(session=session, request_id=request.id) if peer.is_peer(request) else None
    if request.active_advocate_id and logged is not None:
        advocate = session.get(Advocate, logged.advocate_id)
        picked = mrkdwn(
            ":speech_balloon: {} logged a peer conversation with *{}*: the request is fulfilled.",
            mention(logged.chosen_by) if logged.chosen_by else Mrkdwn("CS"),
            advocate.name if advocate else "an advocate",
        )
    elif request.active_advocate_id:
        advocate = session.get(Advocate, request.active_advocate_id)
        chosen = lifecycle.open_engagement_for_request(session=session, request_id=request.id)
        who = mention(chosen.chosen_by) if chosen and chosen.chosen_by else Mrkdwn("CS")
        picked = mrkdwn(
            ":raised_hand: {} asked *{}* for this request.",
            who,
            advocate.name if advocate else "an advocate",
        )
    if request.status == RequestStatus.NO_MATCH:
        by = mention(request.decided_by) if request.decided_by else Mrkdwn("CS")
        closed = mrkdwn(":no_entry_sign: No good match: {} told the rep why.", by)
    record = RequestRecord.of(request)
    blocks = build_shortlist(
        request=record,
        ranked=ranked,
        good=good or None,
        page=page,
        policy=policy,
        today=today,
        picked=picked,
        closed=closed,
    )
    return shortlist_text(record), blocks
