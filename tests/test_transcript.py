"""The demo transcript: recorded Slack calls as terminal text and one HTML page. No database, no server."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.demo.transcript import Entry, entries_from_calls, mrkdwn_to_html, render_html, render_text
from modals.home import build_rep_home
from modals.request_form import build_request_modal
from tests.support.fake_slack import Call

WHEN = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
NAMES = {"U0REP": "Maria (rep)", "U0CS1": "Ali (CS)"}
CHANNELS = {"C0CS": "#cs-references"}
DATE = "<!date^1700000000^{date_short_pretty} at {time}|14 Nov 2023 22:13 UTC>"


def entries(*calls: Call, **kwargs: Any) -> list[Entry]:
    return entries_from_calls(list(calls), when=WHEN, names=NAMES, channels=CHANNELS, **kwargs)


def one(call: Call, **kwargs: Any) -> Entry:
    (entry,) = entries(call, **kwargs)
    return entry


def md(text: str) -> dict[str, str]:
    return {"type": "mrkdwn", "text": text}


def plain(text: str) -> dict[str, str]:
    return {"type": "plain_text", "text": text}


def button(label: str, style: str | None = None) -> dict[str, object]:
    return {
        "type": "button",
        "text": plain(label),
        "action_id": label.lower(),
        **({"style": style} if style else {}),
    }


CARD = [
    {"type": "header", "text": plain("#7 · Acme Corp")},
    {"type": "section", "fields": [md("*Rep*\n<@U0REP>"), md("*Deal*\n$120,000 ARR")]},
    {"type": "section", "text": md("*Use case:* Migrating off cron &amp; friends")},
    {"type": "context", "elements": [md(":large_green_circle: No qualification flags.")]},
    {"type": "divider"},
    {"type": "actions", "elements": [button("Approve", "primary"), button("Decline", "danger")]},
]
CARD_CALL = Call("chat.postMessage", {"channel": "C0CS", "text": "Reference request #7", "blocks": CARD}, {})


def test_a_dm_names_the_user_and_substitutes_mentions_and_dates() -> None:
    text = f"<@U0CS1> approved your request · {DATE} · see <https://example.com/x|the guide>"
    entry = one(Call("chat.postMessage", {"channel": "D0REP", "text": text}, {}), actor="U0CS1")
    assert (entry.kind, entry.surface, entry.actor_label) == ("message", "DM to Maria (rep)", "Ali (CS)")
    out = render_text(entry)
    assert out.splitlines()[0] == "[Tue 1 Dec 09:30] → DM to Maria (rep)"
    assert "@Ali (CS) approved your request · 14 Nov 2023 22:13 UTC · see the guide" in out
    assert "<!date" not in out and "<@" not in out
    assert (
        one(Call("chat.postMessage", {"channel": "U0REP", "text": "hi"}, {})).surface == "DM to Maria (rep)"
    )


def test_a_channel_message_shows_header_fields_context_and_buttons() -> None:
    entry = one(CARD_CALL)
    assert (entry.kind, entry.surface, entry.blocks) == ("message", "#cs-references", CARD)
    out = render_text(entry)
    assert "#7 · ACME CORP" in out
    assert "Rep: @Maria (rep)" in out and "Deal: $120,000 ARR" in out
    assert "Use case: Migrating off cron & friends" in out
    assert "  · 🟢 No qualification flags." in out
    assert "[ Approve ] [ Decline ]" in out
    assert "\x1b[1m" not in out and "\x1b[1m#7 · ACME CORP\x1b[0m" in render_text(entry, color=True)


def test_a_thread_reply_with_an_overflow_menu() -> None:
    menu = {
        "type": "overflow",
        "action_id": "m",
        "options": [{"text": plain("Edit")}, {"text": plain("Retire")}],
    }
    blocks = [{"type": "section", "text": md("1. *Dana* — VP, Globex"), "accessory": menu}]
    call = Call(
        "chat.postMessage", {"channel": "C0CS", "text": "x", "blocks": blocks, "thread_ts": "1.2"}, {}
    )
    entry = one(call)
    assert entry.surface == "thread in #cs-references"
    out = render_text(entry)
    assert "1. Dana — VP, Globex" in out and "[ ⋮ Edit / Retire ]" in out


def test_an_ephemeral_and_an_update() -> None:
    ephemeral, update = entries(
        Call("chat.postEphemeral", {"channel": "C0CS", "user": "U0CS1", "text": "Only *you* see this"}, {}),
        Call("chat.update", {"channel": "C0CS", "ts": "1.2", "text": "done", "blocks": CARD[:1]}, {}),
    )
    assert (ephemeral.kind, ephemeral.surface) == ("ephemeral", "ephemeral to Ali (CS)")
    assert "Only you see this" in render_text(ephemeral)
    assert (update.kind, update.surface) == ("update", "#cs-references")
    assert "(edited)" in render_text(update).splitlines()[0]
    page = render_html([ephemeral, update], title="t")
    assert "Only visible to you" in page and '<span class="edited">(edited)</span>' in page


def test_when_can_be_a_function_of_the_call() -> None:
    calls = [Call("chat.postMessage", {"channel": "C0CS", "text": str(n)}, {}, at=float(n)) for n in range(2)]
    made = entries_from_calls(
        calls, when=lambda c: WHEN + timedelta(minutes=c.at), names=NAMES, channels=CHANNELS
    )
    assert [e.when.minute for e in made] == [30, 31]
    assert render_text(made[1]).startswith("[Tue 1 Dec 09:31] → #cs-references")


def test_a_modal_shows_its_title_inputs_and_buttons() -> None:
    view = build_request_modal(requester_id="U0REP", prospect_company="Acme Corp").to_dict()
    entry = one(Call("views.open", {"trigger_id": "trigger-U0REP-open", "view": view}, {}))
    assert (entry.kind, entry.surface, entry.text) == (
        "modal",
        "modal for Maria (rep)",
        "Request a reference",
    )
    out = render_text(entry)
    assert "┌ Request a reference" in out
    assert "  ▸ Prospect company: Acme Corp" in out
    assert "  ▸ Contact's role or title: VP of Engineering" in out  # the placeholder
    assert "  ▸ Rep on the deal: Maria (rep)" in out
    assert "  ▸ Prospect's annual revenue (USD, if known) (optional):" in out
    assert "  ▸ Kind of reference: Call" in out
    assert "☐ " in out
    assert out.splitlines()[-1] == "└ [ Cancel ] [ Send to CS ]"
    assert all(len(line) <= 100 for line in out.splitlines())
    page = render_html([entry], title="Modal")
    assert "Request a reference" in page and "Send to CS" in page and 'class="box ph"' in page
    # A trigger id that does not say who: the step's actor.
    other = one(Call("views.open", {"trigger_id": "1234.5678", "view": view}, {}), actor="U0CS1")
    assert other.surface == "modal for Ali (CS)"


def test_a_home_tab_publish() -> None:
    view = build_rep_home(requests=[]).to_dict()
    entry = one(Call("views.publish", {"user_id": "U0REP", "view": view}, {}))
    assert (entry.kind, entry.surface) == ("home", "Home tab of Maria (rep)")
    out = render_text(entry)
    assert "REFDESK — CUSTOMER REFERENCES" in out and "Type `/reference` in any channel" in out
    assert "  · You have no requests yet." in out
    page = render_html([entry], title="Home")
    assert 'class="home"' in page and "<code>/reference</code>" in page


def test_response_url_replies() -> None:
    said, replaced = entries(
        Call("response_url", {"text": "Opening the form…", "response_type": "ephemeral", "_path": "/response/cmd-U0REP"}, {}),
        Call("response_url", {"text": "Approved", "replace_original": "true", "_path": "/response/act-U0CS1"}, {}),
    )  # fmt: skip
    assert (said.kind, said.surface) == ("ephemeral", "ephemeral to Maria (rep)")
    assert "Opening the form…" in render_text(said)
    assert (replaced.kind, replaced.surface) == ("update", "message Ali (CS) acted on")


def test_ignored_and_failed_calls_make_no_entries_and_the_note_goes_on_the_first() -> None:
    made = entries(
        Call("auth.test", {}, {}),
        Call("users.info", {"user": "U0REP"}, {}),
        Call("conversations.members", {"channel": "C0CS"}, {}),
        Call("chat.postMessage", {"channel": "C0CS", "text": "refused"}, {}, ok=False),
        CARD_CALL,
        Call("chat.postMessage", {"channel": "D0REP", "text": "Sent to CS"}, {}),
        note="Maria types /reference Acme Corp",
    )
    assert [e.surface for e in made] == ["#cs-references", "DM to Maria (rep)"]
    assert [e.note for e in made] == ["Maria types /reference Acme Corp", None]
    assert render_text(made[0]).startswith("» Maria types /reference Acme Corp\n[Tue 1 Dec 09:30]")


def test_a_file_upload_pairs_name_content_and_comment() -> None:
    (entry,) = entries(
        Call("files.getUploadURLExternal", {"filename": "reference-call.ics", "length": "5"}, {}),
        Call("file_upload", {"file_id": "F1", "content": b"BEGIN"}, {}),
        Call(
            "files.completeUploadExternal",
            {
                "channel_id": "D0REP",
                "thread_ts": "1.2",
                "files": '[{"id": "F1", "title": "Calendar invite"}]',
            },
            {},
        ),
    )
    assert (entry.kind, entry.surface) == ("file", "file in thread in DM to Maria (rep)")
    assert entry.files[0].name == "reference-call.ics" and entry.files[0].content == b"BEGIN"
    assert "📎 reference-call.ics — Calendar invite (5 bytes)" in render_text(entry)


def test_long_lines_wrap_at_100_columns() -> None:
    words = " ".join(["reference"] * 40)
    out = render_text(one(Call("chat.postMessage", {"channel": "C0CS", "text": f"• {words}"}, {})))
    lines = out.splitlines()[1:]
    assert len(lines) > 1 and all(len(line) <= 100 for line in lines)
    assert lines[1].startswith("  reference")


def test_html_escapes_user_text_and_shows_buttons_mentions_and_dates() -> None:
    hostile = Call(
        "chat.postMessage",
        {
            "channel": "C0CS",
            "text": f"<script>alert(1)</script> &lt;script&gt;x&lt;/script&gt; <@U0REP> {DATE}",
        },
        {},
    )
    made = entries(hostile, CARD_CALL, note="<b>step</b>")
    page = render_html(made, title="Demo <1>")
    assert "<script" not in page.lower()
    assert "&lt;script&gt;x&lt;/script&gt;" in page
    assert "<title>Demo &lt;1&gt;</title>" in page and "&lt;b&gt;step&lt;/b&gt;" in page
    assert '<span class="mention">@Maria (rep)</span>' in page
    assert "14 Nov 2023 22:13 UTC" in page and "!date" not in page
    assert (
        '<span class="btn primary">Approve</span>' in page
        and '<span class="btn danger">Decline</span>' in page
    )
    assert '<div class="hdr">#7 · Acme Corp</div>' in page and 'class="fields"' in page
    assert "refdesk" in page and '<div class="avatar">' in page
    assert not re.search(r"(src|href)=\"?https?:|@import|url\(", page)  # nothing external to load


def test_mrkdwn_to_html() -> None:
    out = mrkdwn_to_html("*bold* _it_ ~gone~ `a*b*` snake_case_name\n> quoted\n```x < y```\n• item")
    assert "<b>bold</b> <i>it</i> <s>gone</s> <code>a*b*</code> snake_case_name" in out
    assert '<span class="quote">quoted</span>' in out
    assert "<pre>x &lt; y</pre>" in out and "• item" in out and "<br>" in out
