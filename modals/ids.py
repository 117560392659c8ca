"""Every callback_id, block_id and action_id, defined once for builders and handlers alike."""

from __future__ import annotations

import re
from enum import StrEnum


class Callback(StrEnum):
    REQUEST_FORM = "request_form"
    DECLINE_FORM = "decline_form"
    ADVOCATE_FORM = "advocate_form"
    BREAK_FORM = "advocate_break_form"
    TIMES_FORM = "call_times_form"
    FEEDBACK_FORM = "feedback_form"
    CHECKIN_FORM = "checkin_form"
    NO_CALL_FORM = "no_call_form"
    OUTCOME_FORM = "outcome_form"
    MEETING_LINK_FORM = "meeting_link_form"
    PAUSE_FORM = "advocate_pause_form"
    HAPPY_FORM = "advocate_happy_form"
    ANSWERS_FORM = "written_answers_form"
    PEER_FORM = "peer_log_form"


class Action(StrEnum):
    APPROVE = "request_approve"
    DECLINE = "request_decline"
    CANCEL = "request_cancel"
    ASK = "shortlist_ask"
    SHOW_MORE = "shortlist_page"
    NO_MATCH = "shortlist_no_match"
    POOL_PAGE = "pool_page"
    POOL_ADD = "pool_add"
    POOL_MENU = "pool_menu"
    ASK_YES = "ask_yes"
    ASK_NO = "ask_no"
    PICK_TIME = "call_pick_time"
    RESCHEDULE = "call_reschedule"
    CANCEL_CALL = "call_cancel"
    FEEDBACK_RATE = "feedback_rate"  # + "_great" / "_fine" / "_not_great"
    FEEDBACK_MORE = "feedback_more"
    CHECKIN_LOG = "checkin_log"
    NO_CALL = "checkin_no_call"
    OUTCOME = "deal_outcome"  # + "_won" / "_lost" / "_not_yet"
    MEETING_LINK = "call_meeting_link"
    # The advocate's own controls (value: "advocate id" or "advocate id:engagement id")
    PAUSE_ME = "advocate_pause_me"
    CS_JOIN = "advocate_cs_join"
    HAPPY_TO_DO = "advocate_happy_to_do"
    WRITTEN_YES = "advocate_written_yes"
    WRITE_ANSWERS = "written_answers_write"  # an email Q&A's "Write my answers" (value: engagement id)
    LOG_PEER = "peer_log"  # "Log a peer conversation" (value: request id)
    PEER_SEARCH = "peer_advocate_search"  # the advocate's external select, for a pool too large for a list


# Buttons whose id carries a suffix (Slack wants the ids in one message distinct): each family's suffixes, once.
# Builders append one; the family's listener, and the error handler's "is this one of ours", match `family()`.
FAMILIES: dict[Action, str] = {
    Action.PICK_TIME: r"\d",
    Action.FEEDBACK_RATE: "great|fine|not_great",
    Action.OUTCOME: "won|lost|not_yet",
}


def family(action: Action) -> re.Pattern[str]:
    """The ids of a family of buttons, the suffix as group 1."""
    return re.compile(rf"^{action}_({FAMILIES[action]})$")


class Block(StrEnum):
    """Blocks of the request form; the action inside each input is named `value`."""

    # Deal
    PROSPECT_COMPANY = "prospect_company"
    PROSPECT_INDUSTRY = "prospect_industry"
    PROSPECT_EMPLOYEES = "prospect_employees"
    PROSPECT_REVENUE = "prospect_revenue"
    DEAL_ARR = "deal_arr"
    CLOSE_DATE = "close_date"
    DEAL_STAGE = "deal_stage"
    REP = "rep"
    # Prospect contact
    CONTACT_ROLE = "contact_role"
    CONTACT_NAME = "contact_name"
    CONTACT_CONCERNS = "contact_concerns"
    # Reference wanted
    WANTED_INDUSTRY = "wanted_industry"
    WANTED_SIZE = "wanted_size_band"
    WANTED_ROLE = "wanted_role_level"
    WANTED_FUNCTION = "wanted_function"
    WANTED_USE_CASE = "wanted_use_case"
    WANTED_KIND = "wanted_kind"
    URGENCY = "urgency"
    WANTED_COUNTRY = "wanted_country"
    WANTED_REGION = "wanted_region"
    # Justification
    WHY_NOW = "why_now"
    TRIED = "tried"
    GOAL = "goal"
    BACKGROUND = "background"
    PRIOR_REFERENCES = "prior_references"
    OPPORTUNITY_ID = "opportunity_id"
    # Decline form
    DECLINE_REASON = "decline_reason"
    DECLINE_NOTE = "decline_note"
    # Messages
    CARD_ACTIONS = "card_actions"
    CARD_DECISION = "card_decision"
    SHORTLIST_NAV = "shortlist_nav"
    SHORTLIST_NO_MATCH = "shortlist_no_match"
    SHORTLIST_ADVOCATE = "shortlist_advocate"  # + "_<advocate id>"
    SHORTLIST_EXCLUDED = "shortlist_excluded"  # + "_<advocate id>"
    POOL_ADVOCATE = "pool_advocate"  # + "_<advocate id>"
    POOL_NAV = "pool_nav"
    BREAK_UNTIL = "break_until"
    BREAK_NOTE = "break_note"
    ASK_ANSWER = "ask_answer"
    TIME_1 = "time_1"
    TIME_2 = "time_2"
    TIME_3 = "time_3"
    CALL_FORMAT = "call_format"
    TIME_PICK = "time_pick"
    CALL_ACTIONS = "call_actions"
    FEEDBACK_ACTIONS = "feedback_actions"
    FEEDBACK_RATING = "feedback_rating"
    FEEDBACK_EXPERIENCE = "feedback_experience"
    FEEDBACK_MATCH = "feedback_match"
    FEEDBACK_PREPARED = "feedback_prepared"
    FEEDBACK_ASKED = "feedback_asked"
    FEEDBACK_CHANGE = "feedback_change"
    CHECKIN_ACTIONS = "checkin_actions"
    CHECKIN_HELPFUL = "checkin_helpful"
    CHECKIN_CONCERNS = "checkin_concerns"
    CHECKIN_LEARNED = "checkin_learned"
    CHECKIN_SUGGESTIONS = "checkin_suggestions"
    NO_CALL_CHOICE = "no_call_choice"
    OUTCOME_ACTIONS = "outcome_actions"
    OUTCOME_ARR = "outcome_arr"
    MEETING_LINK = "meeting_link"
    PAUSE_UNTIL = "pause_until"
    PAUSE_NOTE = "pause_note"
    HAPPY_KINDS = "happy_kinds"
    ADVOCATE_CONTROLS = "advocate_controls"
    WELCOME_ACTIONS = "welcome_actions"
    ANSWERS_ACTIONS = "answers_actions"
    ANSWERS_INTRO = "answers_intro"
    ANSWER = "answer"  # + "_<n>": one input per key question of an email Q&A
    PEER_ACTIONS = "peer_actions"
    PEER_ADVOCATE = "peer_advocate"
    PEER_DATE = "peer_date"
    PEER_NOTE = "peer_note"


VALUE = "value"
"""The action_id of the single element inside every input block."""
