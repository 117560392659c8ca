"""An email Q&A, answered in writing: which kinds are, and the prospect's key questions as a list."""

from __future__ import annotations

import re

from bot.rules.matching import KIND_RULES

MAX_QUESTIONS = (
    10  # one input each in the answers modal (Slack allows 100 blocks; a person answers ten at most)
)
QUESTION_LIMIT = 300  # a question is an input's label
ANSWER_LIMIT = 2000  # per answer: a written answer, not an essay (and several fit in one message to the rep)

_BULLET = re.compile(r"^\s*(?:[-*•·–]|\(?\d{1,2}[.)]|[a-z][.)])\s+", re.IGNORECASE)
_AFTER_QUESTION = re.compile(r"(?<=\?)\s+")


def answered_in_writing(kind: str) -> bool:
    """A brokered kind that needs no scheduling (the email Q&A): the advocate writes answers, nobody meets."""
    rule = KIND_RULES.get(kind)
    return rule is not None and rule.brokered and not rule.scheduled


def key_questions(concerns: str) -> list[str]:
    """The prospect's questions, one per line or bullet (a paragraph of several "?" is split after each), at
    most MAX_QUESTIONS (the rest joined into the last) and never none: the concerns as a whole are one."""
    lines = [_BULLET.sub("", line).strip() for line in concerns.splitlines()]
    found: list[str] = []
    for line in lines:
        found.extend(part.strip() for part in _AFTER_QUESTION.split(line) if part.strip())
    if not found:
        return ["What would you tell them about your experience?"]
    if len(found) > MAX_QUESTIONS:
        found = [*found[: MAX_QUESTIONS - 1], " ".join(found[MAX_QUESTIONS - 1 :])]
    return found
