"""The program's vocabulary (PROGRAM.md): the options a form offers, each a stored value and a label."""

from __future__ import annotations

from enum import StrEnum


class Choice(StrEnum):
    """A StrEnum whose members carry a human label."""

    label: str

    def __new__(cls, value: str, label: str) -> Choice:
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label
        return member


def label_of(choices: type[Choice], value: str | None) -> str:
    """The label of a stored value; the value itself when it is not (or no longer) one of the choices."""
    try:
        return choices(value).label
    except ValueError:
        return value or ""


class Industry(Choice):
    SOFTWARE = "software", "Software & internet"
    FINANCIAL = "financial_services", "Financial services"
    INSURANCE = "insurance", "Insurance"
    HEALTHCARE = "healthcare", "Healthcare"
    LIFE_SCIENCES = "life_sciences", "Life sciences & pharma"
    MANUFACTURING = "manufacturing", "Manufacturing"
    RETAIL = "retail", "Retail & e-commerce"
    EDUCATION = "education", "Education"
    PUBLIC_SECTOR = "public_sector", "Government & public sector"
    MEDIA = "media", "Media & entertainment"
    TELECOM = "telecom", "Telecommunications"
    ENERGY = "energy", "Energy & utilities"
    LOGISTICS = "logistics", "Transportation & logistics"
    PROFESSIONAL_SERVICES = "professional_services", "Professional services"
    NONPROFIT = "nonprofit", "Non-profit"
    OTHER = "other", "Other"


class DealStage(Choice):
    DISCOVERY = "discovery", "Discovery"
    QUALIFICATION = "qualification", "Qualification"
    EVALUATION = "evaluation", "Evaluation / demo"
    PROPOSAL = "proposal", "Proposal"
    NEGOTIATION = "negotiation", "Negotiation"
    CLOSING = "closing", "Closing / contracting"


class ReferenceKind(Choice):
    CALL = "call", "Call / video (15–30 min)"
    EMAIL = "email", "Email Q&A"
    SITE_VISIT = "site_visit", "Site visit"
    EXECUTIVE = "executive", "Executive connection"
    PEER = "peer", "Peer conversation (already happened: log it)"


class SizeBand(Choice):
    """Company size of the wanted reference, in employees."""

    XS = "1-50", "1–50 employees"
    S = "51-200", "51–200 employees"
    M = "201-1000", "201–1,000 employees"
    L = "1001-5000", "1,001–5,000 employees"
    XL = "5001+", "5,001+ employees"


class RoleLevel(Choice):
    IC = "ic", "Individual contributor"
    MANAGER = "manager", "Manager"
    DIRECTOR = "director", "Director"
    VP = "vp", "VP"
    C_LEVEL = "c_level", "C-level"


class Function(Choice):
    """The part of the business a person leads: "same level or higher" means seniority and function."""

    EXECUTIVE = "executive", "Executive / general management"
    FINANCE = "finance", "Finance"
    IT = "it", "IT / engineering"
    OPERATIONS = "operations", "Operations"
    SALES = "sales", "Sales"
    MARKETING = "marketing", "Marketing"
    HR = "hr", "HR / people"
    OTHER = "other", "Other"


class Urgency(Choice):
    THIS_WEEK = "this_week", "This week"
    TWO_WEEKS = "two_weeks", "Within 2 weeks"
    MONTH = "month", "Within a month"
    FLEXIBLE = "flexible", "Flexible"


class Tried(Choice):
    DEMO = "demo", "Demo"
    CASE_STUDY = "case_study", "Case study"
    TRIAL = "trial", "Trial / proof of concept"
    RECORDED_STORY = "recorded_story", "Recorded customer story"
    NONE = "none", "None of these yet"


class DeclineReason(Choice):
    TOO_EARLY = "too_early", "The deal is too early (discovery / qualification)"
    TOO_SMALL = "too_small", "The deal is below the size threshold"
    NOTHING_TRIED = "nothing_tried", "Try a demo, case study, trial or recorded story first"
    ENOUGH_REFERENCES = "enough_references", "The prospect has already heard from enough references"
    NO_MATCH = "no_match", "No suitable advocate is available"
    BAD_TIMING = "bad_timing", "The timing is bad for our advocates"
    OTHER = "other", "Another reason (explained below)"


class AdvocateKind(Choice):
    """The rungs of the advocacy ladder and the kinds of reference an advocate may agree to."""

    QUOTE = "quote", "Written quote"
    CASE_STUDY = "case_study", "Case study"
    CALL = "call", "Reference call"
    EMAIL = "email", "Email Q&A"
    SITE_VISIT = "site_visit", "Site visit"
    EXECUTIVE = "executive", "Executive connection"
    SPEAKING = "speaking", "Speaking / content"
    ADVISORY_BOARD = "advisory_board", "Advisory board"
    LOGO = "logo", "Logo use"
    REVIEW = "review", "Online review"



class Tier(Choice):
    STRATEGIC = "strategic", "Strategic"
    STANDARD = "standard", "Standard"
    NEW = "new", "New"


class AdvocateStatus(Choice):
    ACTIVE = "active", "Active"
    BREAK = "break", "On a break"
    RETIRED = "retired", "Retired"


class RequestStatus(StrEnum):
    """Where a reference request stands (stored in `reference_requests.status`)."""


    PENDING = "pending"
    APPROVED = "approved"
    DECLINED = "declined"
    CANCELLED = "cancelled"
    NO_MATCH = "no_match"  # approved, but no advocate reached Good: the rep was told why
