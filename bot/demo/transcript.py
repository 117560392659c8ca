"""A demo's transcript: the Web API calls refdesk made to a simulated Slack, as terminal text and one HTML page."""

from __future__ import annotations

import base64
import html
import json
import re
import textwrap
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

WIDTH = 100
BOLD, DIM, RESET = "\x1b[1m", "\x1b[2m", "\x1b[0m"
EMOJI = dict(  # the shortcodes refdesk's messages use
    re.findall(
        r"(\S+)=(\S+)",
        """white_check_mark=✅ warning=⚠️ mag=🔍 no_entry_sign=🚫 heavy_multiplication_x=✖️ speech_balloon=💬 pray=🙏
        memo=📝 hourglass=⌛ hourglass_flowing_sand=⏳ calendar=📆 zzz=💤 x=❌ trophy=🏆 tada=🎉 repeat=🔁 palm_tree=🌴
        outbox_tray=📤 no_entry=⛔ large_green_circle=🟢 large_yellow_circle=🟡 red_circle=🔴 grey_question=❔ gift=🎁
        envelope=✉️ clipboard=📋 briefcase=💼 wave=👋 star=⭐ sparkles=✨ rotating_light=🚨 raised_hand=✋ point_right=👉
        leftwards_arrow_with_hook=↩️ incoming_envelope=📨 bar_chart=📊 alarm_clock=⏰""",
    )
)
_TOKEN = re.compile(r"<([^<>\n]+)>")
_EMOJI = re.compile(r":([a-z0-9_+-]+):")
Labels = Mapping[str, str]


@dataclass(frozen=True)
class Attachment:
    name: str  # the file name refdesk uploaded
    title: str = ""
    content: bytes = b""


@dataclass(frozen=True)
class Entry:
    """One thing a person sees in Slack after a demo step."""

    when: datetime
    actor_label: str | None
    surface: str
    kind: str  # "message" | "update" | "ephemeral" | "modal" | "home" | "file"
    text: str
    blocks: list[dict[str, Any]]
    note: str | None = None
    view: dict[str, Any] | None = None  # modals and Home tabs: the whole view (title, submit, close)
    files: tuple[Attachment, ...] = ()
    labels: Labels = field(default_factory=dict, compare=False, repr=False)  # user/channel id → label


# --- from calls ---------------------------------------------------------------------------------------
def _json(value: Any, default: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else default if value is None else value


def entries_from_calls(
    calls: Iterable[Any],
    *,
    when: datetime | Callable[[Any], datetime],
    names: Labels,
    channels: Labels,
    actor: str | None = None,
    note: str | None = None,
) -> list[Entry]:
    """Entries for the calls Slack acted on (failed calls are skipped). `when` is a time or call → time;
    `actor` is the user id whose step this is (and who a modal or response_url reply is for when the call
    does not say); `note` narrates the step and goes on the first entry."""

    def user(uid: str) -> str:
        return names.get(uid, uid)

    def place(channel: str) -> str:
        if channel in channels:
            return channels[channel]
        if channel[:1] == "D":  # D0REP is the DM with U0REP
            channel = next((p + channel[1:] for p in "UW" if p + channel[1:] in names), "U" + channel[1:])
        return f"DM to {user(channel)}" if channel[:1] in ("U", "W") else f"#{channel}"

    labels = {**channels, **names}
    filenames: list[str] = []
    uploads: dict[str, tuple[str, bytes]] = {}
    out: list[Entry] = []
    for call in (c for c in calls if c.ok):
        p, method = call.params, call.method
        view, files, text, blocks = None, (), str(p.get("text") or ""), _json(p.get("blocks"), [])
        if method in ("chat.postMessage", "chat.update"):
            where = place(str(p.get("channel", "")))
            kind = "message" if method == "chat.postMessage" else "update"
            surface = f"thread in {where}" if p.get("thread_ts") and kind == "message" else where
        elif method == "chat.postEphemeral":
            kind, surface = "ephemeral", f"ephemeral to {user(str(p.get('user', '')))}"
        elif method in ("views.open", "views.push", "views.update", "views.publish"):
            view = _json(p.get("view"), {})
            blocks, text = view.get("blocks") or [], _plain(view.get("title"))
            triggered = re.match(r"trigger-([UW][A-Z0-9]+)-", str(p.get("trigger_id", "")))
            who = triggered.group(1) if triggered else actor
            kind, surface = "modal", f"modal for {user(who)}" if who else "modal"
            if method == "views.publish":
                kind, surface = "home", f"Home tab of {user(str(p.get('user_id', '')))}"
        elif method == "response_url":
            named = re.search(r"-([UW][A-Z0-9]+)$", str(p.get("_path", "")))
            who = user(named.group(1) if named else actor or "someone")
            if str(p.get("replace_original")).lower() == "true" or p.get("delete_original"):
                kind, surface = "update", f"message {who} acted on"
                text = text or ("(message deleted)" if p.get("delete_original") else "")
            elif p.get("response_type") == "in_channel":
                kind, surface = "message", f"reply in channel to {who}"
            else:
                kind, surface = "ephemeral", f"ephemeral to {who}"
        elif method == "files.getUploadURLExternal":  # the file's name; its id comes back in the answer
            filenames.append(str(p.get("filename") or ""))
            continue
        elif method == "file_upload":
            name = filenames.pop(0) if filenames else str(p.get("file_id"))
            uploads[str(p.get("file_id"))] = (name, p.get("content") or b"")
            continue
        elif method == "files.completeUploadExternal":
            where = place(str(p.get("channel_id") or p.get("channels") or ""))
            kind, surface = "file", f"file in {'thread in ' if p.get('thread_ts') else ''}{where}"
            text, blocks = str(p.get("initial_comment") or ""), []
            for f in _json(p.get("files"), []):
                name, data = uploads.get(f.get("id"), (f.get("title") or "file", b""))
                files += (Attachment(name, f.get("title") or "", data),)
        else:
            continue
        stamp = when(call) if callable(when) else when
        first_note, actor_label = None if out else note, user(actor) if actor else None
        out.append(Entry(stamp, actor_label, surface, kind, text, blocks, first_note, view, files, labels))
    return out


# --- mrkdwn -------------------------------------------------------------------------------------------
def _unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _emoji(text: str) -> str:
    return _EMOJI.sub(lambda m: EMOJI.get(m.group(1), m.group(0)), text)


def _token(body: str, labels: Labels) -> tuple[str, str]:
    """(text, css class) for a <…> token: mentions, dates, links."""
    target, _, label = body.partition("|")
    label = _unescape(label)
    if target[:1] in ("@", "#"):
        return target[0] + labels.get(target[1:], label or target[1:]).lstrip("#"), "mention"
    if target.startswith("!date^"):
        return label or target.split("^")[1], "date"
    if target.startswith("!"):
        return label or "@" + target[1:], "mention"
    return label or _unescape(target), "link"


def _tokens(text: str, labels: Labels) -> str:
    return _TOKEN.sub(lambda m: _token(m.group(1), labels)[0], text)


def _style(text: str, marks: Iterable[tuple[str, str]]) -> str:
    for mark, repl in marks:
        m = re.escape(mark)
        text = re.sub(rf"(?<![\w{m}]){m}(?=\S)([^{m}\n]+?)(?<=\S){m}(?![\w{m}])", repl, text)
    return text


def mrkdwn_to_text(text: str, labels: Labels | None = None, *, color: bool = False) -> str:
    text = _unescape(_emoji(_tokens(text, labels or {})))
    return _style(text, [("*", f"{BOLD}\\1{RESET}" if color else r"\1")])


def mrkdwn_to_html(text: str, labels: Labels | None = None) -> str:
    labels, kept = labels or {}, list[str]()

    def keep(fragment: str) -> str:
        kept.append(fragment)
        return f"\x00{len(kept) - 1}\x00"

    def chip(m: re.Match[str]) -> str:
        shown, css = _token(m.group(1), labels)
        return keep(f'<span class="{css}">{html.escape(shown)}</span>')

    code = lambda raw: html.escape(_unescape(_tokens(raw, labels)))  # noqa: E731 - code is literal
    text = re.sub(r"```\n?(.*?)```", lambda m: keep(f"<pre>{code(m.group(1))}</pre>"), text, flags=re.S)
    text = re.sub(r"`([^`\n]+)`", lambda m: keep(f"<code>{code(m.group(1))}</code>"), text)
    text = html.escape(_unescape(_emoji(_TOKEN.sub(chip, text))), quote=False)
    text = _style(text, [("*", r"<b>\1</b>"), ("_", r"<i>\1</i>"), ("~", r"<s>\1</s>")])
    quote = '<span class="quote">{}</span>'
    text = "".join(quote.format(s[4:].lstrip()) if s[:4] == "&gt;" else s + "<br>" for s in text.split("\n"))
    return re.sub(r"\x00(\d+)\x00", lambda m: kept[int(m.group(1))], text.removesuffix("<br>"))


# --- elements, for both renderers ---------------------------------------------------------------------
def _plain(obj: Any) -> str:
    return (obj or {}).get("text", "") if isinstance(obj, dict) else str(obj or "")


def _obj(obj: Any, labels: Labels, *, color: bool = False, markup: bool = False) -> str:
    """A text or image object as terminal text, or as HTML when `markup`."""
    if isinstance(obj, dict) and obj.get("type") == "mrkdwn":
        text = obj.get("text", "")
        return mrkdwn_to_html(text, labels) if markup else mrkdwn_to_text(text, labels, color=color)
    image = isinstance(obj, dict) and obj.get("type") == "image"
    shown = f"[{obj.get('alt_text', 'image')}]" if image else _emoji(_plain(obj))
    return html.escape(shown) if markup else shown


def _chosen(e: dict[str, Any]) -> list[str]:
    return [_plain(o.get("text")) for o in [e.get("initial_option"), *(e.get("initial_options") or [])] if o]


def _value(e: dict[str, Any], labels: Labels) -> tuple[str, bool]:
    """What an input or select shows: (initial value, False) or (placeholder, True)."""
    if e.get("type") in ("checkboxes", "radio_buttons"):
        on, off = ("☑", "☐") if e["type"] == "checkboxes" else ("●", "○")
        texts, chosen = [_plain(o.get("text")) for o in e.get("options") or []], _chosen(e)
        return "  ".join(f"{on if t in chosen else off} {t}" for t in texts), False
    stamp = e.get("initial_date_time")
    found = (
        e.get("initial_value")
        or ", ".join(_chosen(e))
        or ", ".join(labels.get(u, u) for u in [e.get("initial_user"), *(e.get("initial_users") or [])] if u)
        or e.get("initial_date")
        or e.get("initial_time")
        or (datetime.fromtimestamp(int(stamp), UTC).strftime("%Y-%m-%d %H:%M") if stamp else "")
    )
    return (str(found), False) if found else (_plain(e.get("placeholder")), True)


def _element(e: dict[str, Any], labels: Labels, *, markup: bool = False) -> str:
    """A button, menu or select: "[ Approve ]" in text, a rounded button in HTML."""
    kind = e.get("type", "")
    if kind == "overflow":  # in HTML a ⋮ whose options show on hover
        options = " / ".join(_plain(o.get("text")) for o in e.get("options") or [])
        return (
            f'<span class="btn overflow" title="{html.escape(options)}">⋮</span>'
            if markup
            else f"[ ⋮ {options} ]"
        )
    if kind in ("checkboxes", "radio_buttons", "image"):
        shown = _value(e, labels)[0] if kind != "image" else f"[{e.get('alt_text', 'image')}]"
        return html.escape(shown) if markup else shown
    shown = _plain(e.get("text")) if kind == "button" else _value(e, labels)[0] or kind
    shown += " ▾" if kind.endswith("select") else ""
    style = f" {html.escape(e['style'])}" if e.get("style") and kind == "button" else ""
    return f'<span class="btn{style}">{html.escape(shown)}</span>' if markup else f"[ {shown} ]"


# --- terminal text ------------------------------------------------------------------------------------
def _stamp(when: datetime) -> str:
    return f"{when:%a} {when.day} {when:%b %H:%M}"


def _block_lines(b: dict[str, Any], labels: Labels, color: bool) -> list[str]:
    kind = b.get("type")
    if kind == "header":
        head = _obj(b.get("text"), labels).upper()
        return [f"{BOLD}{head}{RESET}" if color else head]
    if kind == "section":
        lines = _obj(b["text"], labels, color=color).split("\n") if b.get("text") else []
        for f in b.get("fields") or []:  # "*Rep*\n<@U1>" reads "Rep: @Maria"
            head, _, rest = _plain(f).partition("\n")
            line, value = (_obj({**f, "text": t}, labels, color=color) for t in (head, rest))
            lines.append(f"{line}: {value}".replace("\n", " ") if rest else line)
        return lines + ([f"  {_element(b['accessory'], labels)}"] if b.get("accessory") else [])
    if kind == "context":
        return ["  · " + "  ".join(_obj(e, labels, color=color) for e in b.get("elements") or [])]
    if kind == "actions":
        return [" ".join(_element(e, labels) for e in b.get("elements") or [])]
    if kind == "input":
        e = b.get("element") or {}
        label = _obj(b.get("label"), labels) + (" (optional)" if b.get("optional") else "")
        shown, placeholder = _value(e, labels)  # with color, a placeholder is dim
        return [f"  ▸ {label}: {DIM + shown + RESET if color and placeholder and shown else shown}"]
    if kind == "image":
        return [f"[image: {b.get('alt_text', '')}]"]
    return ["─" * 40] if kind == "divider" else [f"[{kind} block]"]


def render_text(entry: Entry, *, color: bool = False) -> str:
    """The entry as terminal text: a "[Tue 1 Dec 09:30] → surface" line, then what Slack shows."""
    head = f"[{_stamp(entry.when)}] → {entry.surface}" + (" (edited)" if entry.kind == "update" else "")
    lines = [f"» {entry.note}"] if entry.note else []
    lines.append(f"{BOLD}{head}{RESET}" if color else head)
    view = entry.view or {}
    if entry.kind == "modal":
        lines.append(f"┌ {_plain(view.get('title')) or entry.text}")
    for block in entry.blocks:
        lines.extend(_block_lines(block, entry.labels, color))
    if not entry.blocks and entry.text:
        lines.extend(mrkdwn_to_text(entry.text, entry.labels, color=color).split("\n"))
    for f in entry.files:
        title = f" — {f.title}" if f.title not in ("", f.name) else ""
        lines.append(f"📎 {f.name}{title} ({len(f.content):,} bytes)")
    if entry.kind == "modal":
        lines.append("└ " + " ".join(f"[ {_plain(view[k])} ]" for k in ("close", "submit") if view.get(k)))
    wrapped: list[str] = []
    for line in lines:
        indent = " " * (len(line) - len(line.lstrip())) + ("  " if line.lstrip()[:1] in tuple("•-·▸") else "")
        wrapped.extend(textwrap.wrap(line, WIDTH, subsequent_indent=indent, break_on_hyphens=False) or [""])
    return "\n".join(wrapped)


# --- HTML ---------------------------------------------------------------------------------------------
CSS = """
body{font:15px/1.46 -apple-system,"Segoe UI",Helvetica,Arial,sans-serif;background:#f4f4f4;color:#1d1c1d;margin:0;padding:24px}
h1{font-size:22px;margin:0 0 16px} .note{font-size:17px;margin:28px 0 8px;color:#4a154b} .content{flex:1;min-width:0}
.entry{display:flex;gap:16px;margin:8px 0} .where{width:200px;flex:none;font-size:13px;color:#616061;padding-top:8px}
.where b{display:block;color:#1d1c1d} .meta b{margin-right:4px} .k-ephemeral .msg{background:#f8f8ff}
.msg{display:flex;gap:10px;background:#fff;border-radius:8px;padding:12px 16px;max-width:760px;flex:1;box-shadow:0 1px 2px #0002}
.avatar{width:36px;height:36px;border-radius:6px;background:#4a154b;color:#fff;font-weight:700;text-align:center;line-height:36px}
.app{font-size:10px;background:#e8e8e8;color:#616061;padding:1px 3px;border-radius:2px;margin-right:6px}
.ts,.edited,.eph,.context,.opt{color:#616061;font-size:12px} .context{margin:4px 0} .hdr{font-size:18px;font-weight:900;margin:6px 0}
.section{display:flex;gap:12px;margin:4px 0} .main{flex:1} .fields{display:grid;grid-template-columns:1fr 1fr;gap:8px 16px}
.actions{display:flex;flex-wrap:wrap;gap:8px;margin:8px 0} .btn.danger{color:#e01e5a;border-color:#e01e5a}
.btn{display:inline-block;border:1px solid #bbb;border-radius:4px;padding:3px 12px;font-size:14px;font-weight:700;background:#fff;white-space:nowrap}
.btn.primary{background:#007a5a;border-color:#007a5a;color:#fff} hr{border:0;border-top:1px solid #ddd;margin:10px 0}
code,pre{background:#f6f6f6;border:1px solid #ddd;border-radius:3px;font-size:13px} code{color:#e01e5a;padding:0 3px}
pre{padding:8px;white-space:pre-wrap} .quote{display:block;border-left:4px solid #ddd;padding-left:10px} .link{color:#1264a3}
.mention{background:#e8f5fa;color:#1264a3;border-radius:3px;padding:0 2px} .mbody{padding:12px 20px} .file img{max-width:100%}
.modal,.home{background:#fff;border-radius:8px;flex:1;max-width:560px;box-shadow:0 4px 16px #0003} .home{max-width:980px;padding:0 24px}
.mtitle{font-size:20px;font-weight:900;padding:16px 20px;border-bottom:1px solid #ddd;display:flex;justify-content:space-between}
.mfoot{border-top:1px solid #ddd;padding:12px 20px;display:flex;justify-content:flex-end;gap:8px} .input{margin:10px 0}
.input label{font-weight:700;display:block;margin-bottom:4px} .box{border:1px solid #bbb;border-radius:4px;padding:6px 10px;min-height:22px}
.multi{min-height:60px} .ph,.hint{color:#868686} .hint{font-size:12px} .tabs b{color:#1d1c1d;margin-right:16px}
.tabs{border-bottom:1px solid #ddd;padding:12px 0;margin-bottom:8px;color:#616061}
.file{border:1px solid #ddd;border-radius:6px;padding:8px 12px;margin-top:6px;display:inline-block}
"""


def _block_html(b: dict[str, Any], labels: Labels) -> str:
    kind, e = b.get("type"), b.get("element") or {}
    if kind == "section":
        main = f"<div>{_obj(b['text'], labels, markup=True)}</div>" if b.get("text") else ""
        fields = "".join(f"<div>{_obj(f, labels, markup=True)}</div>" for f in b.get("fields") or [])
        main += f'<div class="fields">{fields}</div>' if fields else ""
        side = f"<div>{_element(b['accessory'], labels, markup=True)}</div>" if b.get("accessory") else ""
        return f'<div class="section"><div class="main">{main}</div>{side}</div>'
    if kind == "input":
        shown, placeholder = _value(e, labels)
        css = "box" + (" multi" if e.get("multiline") else "") + (" ph" if placeholder else "")
        shown += " ▾" if e.get("type", "").endswith("select") else ""
        hint = f'<div class="hint">{_obj(b["hint"], labels, markup=True)}</div>' if b.get("hint") else ""
        optional = ' <span class="opt">(optional)</span>' if b.get("optional") else ""
        label = f"<label>{_obj(b.get('label'), labels, markup=True)}{optional}</label>"
        return f'<div class="input">{label}<div class="{css}">{html.escape(shown)}</div>{hint}</div>'
    if kind == "context":
        return f'<div class="context">{" ".join(_obj(x, labels, markup=True) for x in b.get("elements") or [])}</div>'
    if kind == "actions":
        return f'<div class="actions">{"".join(_element(x, labels, markup=True) for x in b.get("elements") or [])}</div>'
    if kind == "header":
        return f'<div class="hdr">{_obj(b.get("text"), labels, markup=True)}</div>'
    if kind == "image":
        return f'<div class="box ph">[image: {html.escape(b.get("alt_text", ""))}]</div>'
    return "<hr>" if kind == "divider" else f'<div class="context">[{html.escape(str(kind))} block]</div>'


def _file_html(f: Attachment) -> str:
    name = html.escape(f.name + (f" — {f.title}" if f.title not in ("", f.name) else ""))
    data = base64.b64encode(f.content).decode() if f.content.startswith(b"\x89PNG") else ""
    image = f'<br><img src="data:image/png;base64,{data}" alt="{name}">' if data else ""
    return f'<div class="file">📎 {name} <span class="ts">{len(f.content):,} bytes</span>{image}</div>'


def _entry_html(entry: Entry) -> str:
    blocks = "".join(_block_html(b, entry.labels) for b in entry.blocks)
    body = blocks or mrkdwn_to_html(entry.text, entry.labels)
    view = entry.view or {}
    if entry.kind == "modal":
        buttons = [
            (" primary" if k == "submit" else "", _plain(view[k])) for k in ("close", "submit") if view.get(k)
        ]
        foot = "".join(f'<span class="btn{css}">{html.escape(label)}</span>' for css, label in buttons)
        title = html.escape(_plain(view.get("title")) or entry.text)
        card = f'<div class="modal"><div class="mtitle">{title}<span>✕</span></div><div class="mbody">{body}</div>'
        card += f'<div class="mfoot">{foot}</div></div>'
    elif entry.kind == "home":
        card = f'<div class="home"><div class="tabs"><b>Home</b> Messages · About</div>{body}</div>'
    else:
        eph = '<div class="eph">👁 Only visible to you</div>' if entry.kind == "ephemeral" else ""
        edited = ' <span class="edited">(edited)</span>' if entry.kind == "update" else ""
        meta = f'<div class="meta"><b>refdesk</b><span class="app">APP</span><span class="ts">{entry.when:%H:%M}</span>'
        files = "".join(_file_html(f) for f in entry.files)
        card = f'<div class="msg"><div class="avatar">r</div><div class="content">{eph}{meta}{edited}</div>{body}{files}</div></div>'
    actor = f"<div>by {html.escape(entry.actor_label)}</div>" if entry.actor_label else ""
    where = f'<div class="where"><b>{html.escape(entry.surface)}</b>{_stamp(entry.when)}{actor}</div>'
    note = f'<h2 class="note">{html.escape(entry.note)}</h2>' if entry.note else ""
    return f'{note}<div class="entry k-{html.escape(entry.kind)}">{where}{card}</div>\n'


def render_html(entries: Sequence[Entry], *, title: str) -> str:
    """One self-contained page (inline CSS, nothing external) showing the entries as a Slack client would."""
    parts = "".join(_entry_html(e) for e in entries)
    return (
        f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f"<style>{CSS}</style></head>\n<body><h1>{html.escape(title)}</h1>\n{parts}</body></html>\n"
    )
