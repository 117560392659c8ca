"""An email Q&A's surfaces: "Write my answers", the answers modal (one input per key question), what the rep
receives, and the lines that replace the ask. The advocate's surfaces take a `Brief` (what they may read)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from slack_sdk.models.blocks import ActionsBlock, Block, InputBlock, PlainTextInputElement
from slack_sdk.models.views import View

from bot.flows.audience import Brief
from bot.flows.written import Answer
from bot.rules.forms import parse_id
from bot.rules.questions import ANSWER_LIMIT, QUESTION_LIMIT
from bot.text import Mrkdwn, blockquote, mention, mrkdwn
from modals import kit
from modals.ids import VALUE, Action, Callback
from modals.ids import Block as BlockId

LABEL_LIMIT = 2000  # an input block's label (slack_sdk: InputBlock.label_max_length)
NEED_ONE = "Please answer at least one question (skip any you'd rather not answer)."
TOO_LONG = f"Please keep each answer under {ANSWER_LIMIT:,} characters."


def answer_block_id(number: int) -> str:
    return f"{BlockId.ANSWER}_{number}"


def write_button(engagement_id: int) -> ActionsBlock:
    return kit.actions(
        kit.button(
            "Write my answers", action_id=Action.WRITE_ANSWERS, value=str(engagement_id), style="primary"
        ),
        block_id=BlockId.ANSWERS_ACTIONS,
    )


def build_accepted(*, brief: Brief, on_slack: bool) -> tuple[Mrkdwn, list[Block]]:
    """Replaces the ask once they said yes: what happens next, and the button that opens the questions.
    `on_slack`: the advocate reads it, not their CS owner (who pastes the answers the advocate emails back)."""
    if on_slack:
        text = mrkdwn(
            ":white_check_mark: Thank you! Whenever suits you, write your answers to {}'s questions ({}): they "
            "go to {}, who passes them on. No meeting, nothing to schedule.",
            brief.prospect.prospect_company,
            len(brief.prospect.questions),
            mention(brief.prospect.rep_id),
        )
    else:
        text = mrkdwn(
            ":white_check_mark: Recorded: {} said yes. When their answers arrive by email, paste them here with "
            "the button: they go to {}.",
            brief.advocate.name,
            mention(brief.prospect.rep_id),
        )
    return kit.notification(text), [kit.section(text), write_button(brief.call.id)]


def build_sent(*, brief: Brief) -> tuple[Mrkdwn, list[Block]]:
    """Replaces the ask once the answers went: nothing left to click."""
    text = mrkdwn(
        ":white_check_mark: Your answers for {} went to {}. Thank you!",
        brief.prospect.prospect_company,
        mention(brief.prospect.rep_id),
    )
    return kit.notification(text), [kit.section(text)]


def build_answers_modal(*, brief: Brief) -> View:
    """One multiline input per key question of the prospect's (each optional: skipping one is fine)."""
    who = (
        mrkdwn("{}, their {}", brief.prospect.contact_name, brief.prospect.contact_role)
        if brief.prospect.contact_name
        else mrkdwn("their {}", brief.prospect.contact_role)
    )
    blocks: list[Block] = [
        kit.section(
            mrkdwn(
                "Questions from *{}* ({}), about {}. Your answers go to {}, who passes them on to {}. "
                "Write as you would to a peer; skip any you'd rather not answer.",
                brief.prospect.prospect_company,
                brief.prospect.industry,
                brief.prospect.wanted_use_case,
                mention(brief.prospect.rep_id),
                who,
            ),
            block_id=BlockId.ANSWERS_INTRO,
        )
    ]
    for number, question in enumerate(brief.prospect.questions, start=1):
        blocks.append(
            InputBlock(
                block_id=answer_block_id(number),
                label=kit.plain(question, LABEL_LIMIT),
                optional=True,
                element=PlainTextInputElement(action_id=VALUE, multiline=True, max_length=ANSWER_LIMIT),
            )
        )
    return View(
        type="modal",
        callback_id=Callback.ANSWERS_FORM,
        title=kit.title("Your answers"),
        submit=kit.title("Send to the rep"),
        close=kit.title("Later"),
        blocks=blocks,
        private_metadata=json.dumps({"engagement_id": brief.call.id}),
    )


def parse_answers(
    values: Mapping[str, Mapping[str, Any]], questions: Sequence[str]
) -> list[Answer] | dict[str, str]:
    """The answers given (skipped questions left out), or errors by block for `ack(response_action="errors")`."""
    answers: list[Answer] = []
    errors: dict[str, str] = {}
    for number, question in enumerate(questions, start=1):
        block_id = answer_block_id(number)
        raw = (values.get(block_id, {}).get(VALUE) or {}).get("value")
        text = raw.strip() if isinstance(raw, str) else ""
        if len(text) > ANSWER_LIMIT:
            errors[block_id] = TOO_LONG
        elif text:
            answers.append(Answer(question=question, answer=text))
    if not answers and not errors:
        errors[answer_block_id(1)] = NEED_ONE
    return errors or answers


def engagement_id_of(view: Mapping[str, Any]) -> int | None:
    try:
        return parse_id(json.loads(view.get("private_metadata") or "{}")["engagement_id"])
    except (ValueError, KeyError, TypeError):
        return None


def build_answers_for_rep(
    *,
    advocate: str,
    advocate_title: str,
    advocate_company: str,
    request_id: int,
    prospect: str,
    contact: str,
    answers: Sequence[Answer],
) -> tuple[Mrkdwn, list[Block]]:
    """The rep's copy: who wrote them, for whom, and each question with its answer, quoted as written."""
    title = mrkdwn("{}, ", advocate_title) if advocate_title else ""
    intro = mrkdwn(
        ":memo: *{}* ({}{}) answered {}'s questions in writing (request #{}). Please pass them on to {}, "
        "as written: there is no call to schedule.",
        advocate,
        title,
        advocate_company,
        prospect,
        request_id,
        contact,
    )
    blocks: list[Block] = [kit.section(intro)]
    for answer in answers:
        question = kit.safe(answer.question, QUESTION_LIMIT)  # so the answer itself is never cut
        blocks.append(kit.section(mrkdwn("*{}*\n{}", question, blockquote(answer.answer))))
    return mrkdwn("{}'s written answers for {}", advocate, prospect), blocks
