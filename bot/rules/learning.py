"""The learning loop (PROGRAM.md "After the call"): what advocates and prospects said, in words people read."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.text import Mrkdwn, mrkdwn

# The advocate's "Tell us more" and the rep's check-in, question by question, in the order they were asked.
FEEDBACK_QUESTIONS = {
    "good_match": "Good match for their experience?",
    "prepared": "Prepared enough?",
    "asked": "What the prospect asked",
    "experience": "How it was for them",
    "change": "What we should change",
}
CHECKIN_QUESTIONS = {
    "helpful": "Helpful to the prospect?",
    "concerns_addressed": "Concerns addressed?",
    "learned": "What the prospect learned",
    "suggestions": "Suggestions for next time",
}
CHOICES = ("good_match", "prepared", "helpful", "concerns_addressed")


def said(answers: Mapping[str, Any] | None, questions: Mapping[str, str]) -> list[tuple[str, str]]:
    """(question, answer) for each answer given, in the form's order; people's words stay as they typed them."""
    answers = answers or {}
    return [(question, str(answers[key])) for key, question in questions.items() if answers.get(key)]


def said_mrkdwn(answers: Mapping[str, Any] | None, questions: Mapping[str, str]) -> Mrkdwn:
    """One line per answer, escaped: a choice in bold, free text quoted."""
    lines = []
    for question, answer in said(answers, questions):
        key = next(k for k, q in questions.items() if q == question)
        if key in CHOICES:
            lines.append(mrkdwn("• {} *{}*", question, answer))
        else:
            lines.append(mrkdwn("• {}: “{}”", question, answer))
    return Mrkdwn("\n").join(lines)
