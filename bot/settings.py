"""Settings: one typed object read from the environment (and `.env`), checked at start-up."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dotenv import load_dotenv

from bot.rules.vocabulary import Industry
from store.db import POSTGRES_SCHEMES, normalise_url

APPS_PAGE = "https://api.slack.com/apps"

# Where each Slack setting lives in the app's configuration pages.
_WHERE = {
    "SLACK_BOT_TOKEN": f"the Bot User OAuth Token (xoxb-…) under {APPS_PAGE} → your app → OAuth & Permissions",
    "SLACK_SIGNING_SECRET": f"the Signing Secret under {APPS_PAGE} → your app → Basic Information → App Credentials",
    "SLACK_APP_TOKEN": (
        f"an app-level token (xapp-…) with the connections:write scope under {APPS_PAGE} → your app → "
        "Basic Information → App-Level Tokens"
    ),
    "CS_CHANNEL_ID": (
        "the CS channel's ID (C… or G…): in Slack open the channel, click its name, the ID is at the bottom "
        "of the About tab; then invite the bot there with /invite @refdesk"
    ),
    "CS_LEAD_USER_IDS": ("comma-separated member IDs (U…): in Slack open a profile, ⋮ More → Copy member ID"),
    "SLACK_API_URL": "a base URL ending in /api/, e.g. https://slack.com/api/ (leave unset for Slack itself)",
    "DATABASE_URL": "sqlite:///refdesk.db (a file) or postgresql://user:password@host:5432/refdesk",
    "LOG_LEVEL": "one of DEBUG, INFO, WARNING, ERROR",
    "WEBHOOK_URLS": "comma-separated https:// URLs that receive every audit event (leave unset for none)",
    "WEBHOOK_SECRET": "a random string of 16+ characters the receivers use to check X-Refdesk-Signature",
}

_CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]{2,}$")
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_DEFAULT_EARLY_STAGES = ("discovery", "qualification")
_INDUSTRIES = tuple(i.value for i in Industry)
DEFAULT_DATABASE_URL = "sqlite:///refdesk.db"


class SettingsError(Exception):
    """Settings are missing or malformed: `problems` has one line per setting, for the operator."""

    def __init__(self, *problems: str) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


@dataclass(frozen=True)
class Settings:
    slack_bot_token: str = ""
    slack_signing_secret: str = ""
    slack_app_token: str = ""
    cs_channel_id: str = ""
    cs_lead_user_ids: frozenset[str] = frozenset()
    database_url: str = DEFAULT_DATABASE_URL
    slack_api_url: str | None = None
    log_level: str = "INFO"
    # Qualification (PROGRAM.md, "Qualification")
    min_deal_arr: int = 50_000
    early_stages: tuple[str, ...] = _DEFAULT_EARLY_STAGES
    max_prior_references: int = 2
    cs_members_cache_seconds: int = 300
    # Protecting advocates (PROGRAM.md, "Protecting advocates")
    cap_strategic: int = 4
    cap_standard: int = 2
    cap_new: int = 1
    min_days_between_asks: int = 21
    fatigue_threshold: int = 3
    strategic_min_deal_arr: int = 250_000
    strategic_reserved: int = 1
    min_tenure_days: int = 180
    yearly_limit: int = 0  # 0 = off
    # The recent requests that order equal-grade advocates (README "The matcher"): days back, at most how many
    demand_days: int = 90
    demand_sample: int = 200
    # "software:telecom|media;healthcare:life_sciences" adds to the default industry adjacency
    industry_adjacency: tuple[tuple[str, tuple[str, ...]], ...] = ()
    dispatch_interval_seconds: int = 5
    # Scheduled messages in flight at once, each to a different member. Above 1, a process that dies mid-pass
    # may send up to this many messages twice (sent, not yet marked); 1 keeps that to the one in flight.
    dispatch_senders: int = 1
    # Appreciation (PROGRAM.md, "Appreciation")
    appreciation_threshold: int = 3
    big_win_arr: int = 250_000
    # The advocate's side: no asks before their written yes (off by default: imported pools predate it)
    require_written_yes: bool = False
    # Outbound webhooks: every audit event POSTed to these URLs, signed with the secret
    webhook_urls: tuple[str, ...] = ()
    webhook_secret: str = ""


def _where(name: str) -> str:
    return _WHERE.get(name, "see .env.example")


def _int(env: Mapping[str, str], name: str, default: int, *, minimum: int = 0) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw.replace("_", ""))
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, got {raw!r} (see .env.example)") from None
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum}, got {value} (see .env.example)")
    return value


def _checked(env: Mapping[str, str], name: str, ok: Callable[[str], bool], required: bool, shape: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        if required:
            raise SettingsError(f"{name} is missing: set it in .env or the environment to {_where(name)}")
        return ""
    if not ok(value):
        raise SettingsError(f"{name} is malformed ({shape}): set it to {_where(name)}")
    return value


def load_settings(
    env: Mapping[str, str] | None = None,
    *,
    require: Collection[str] = (),
    dotenv_path: str | Path | None = ".env",
) -> Settings:
    """Read settings from `env` (default: os.environ after loading `.env`); `require` names the must-haves.

    Every setting is checked before refusing, so one run names every missing or malformed value.
    """
    if env is None:
        if dotenv_path and Path(dotenv_path).is_file():
            load_dotenv(dotenv_path, override=False)
        env = os.environ
    need = set(require)
    problems: list[str] = []

    def check(read: Callable[[], Any], default: Any = "") -> Any:
        try:
            return read()
        except SettingsError as error:
            problems.extend(error.problems)
            return default

    def checked(name: str, ok: Callable[[str], bool], shape: str, *, required: bool | None = None) -> str:
        return check(lambda: _checked(env, name, ok, name in need if required is None else required, shape))

    def number(name: str, default: int, minimum: int = 0) -> int:
        return check(lambda: _int(env, name, default, minimum=minimum), default)

    bot_token = checked("SLACK_BOT_TOKEN", lambda v: v.startswith("xoxb-"), "it starts with xoxb-")
    signing_secret = checked(
        "SLACK_SIGNING_SECRET",
        lambda v: re.fullmatch(r"[A-Za-z0-9]{8,}", v) is not None,
        "8 or more letters and digits, nothing else",
    )
    app_token = checked("SLACK_APP_TOKEN", lambda v: v.startswith("xapp-"), "it starts with xapp-")
    channel = checked(
        "CS_CHANNEL_ID",
        lambda v: _CHANNEL_ID.match(v) is not None,
        "a channel ID like C0123ABCD, not a #name",
    )
    leads = check(
        lambda: _leads(env.get("CS_LEAD_USER_IDS", ""), required="CS_LEAD_USER_IDS" in need), frozenset()
    )
    api_url = checked(
        "SLACK_API_URL", lambda v: re.match(r"^https?://", v) is not None, "an http(s) URL", required=False
    )
    if api_url and not api_url.endswith("/"):
        api_url += "/"
    database_url = check(lambda: _database_url(env.get("DATABASE_URL", "")), DEFAULT_DATABASE_URL)
    log_level = (env.get("LOG_LEVEL", "").strip() or "INFO").upper()
    if log_level not in _LOG_LEVELS:
        problems.append(f"LOG_LEVEL is malformed ({log_level!r}): set it to {_where('LOG_LEVEL')}")
        log_level = "INFO"

    webhook_urls = tuple(u.strip() for u in env.get("WEBHOOK_URLS", "").split(",") if u.strip())
    for url in webhook_urls:
        if not re.match(r"^https?://[^\s/]+", url):
            problems.append(
                f"WEBHOOK_URLS has {url!r}, not an http(s) URL: set it to {_where('WEBHOOK_URLS')}"
            )
    webhook_secret = env.get("WEBHOOK_SECRET", "").strip()
    if webhook_urls and len(webhook_secret) < 16:
        problems.append(
            f"WEBHOOK_SECRET is {'missing' if not webhook_secret else 'too short'} (16+ characters) while "
            f"WEBHOOK_URLS is set: set it to {_where('WEBHOOK_SECRET')}"
        )

    stages_raw = env.get("EARLY_STAGES", "").strip()
    stages = tuple(s.strip().lower() for s in stages_raw.split(",") if s.strip()) or _DEFAULT_EARLY_STAGES

    settings = Settings(
        slack_bot_token=bot_token,
        slack_signing_secret=signing_secret,
        slack_app_token=app_token,
        cs_channel_id=channel,
        cs_lead_user_ids=leads,
        database_url=database_url,
        slack_api_url=api_url or None,
        log_level=log_level,
        min_deal_arr=number("MIN_DEAL_ARR", 50_000),
        early_stages=stages,
        max_prior_references=number("MAX_PRIOR_REFERENCES", 2, minimum=1),
        cs_members_cache_seconds=number("CS_MEMBERS_CACHE_SECONDS", 300),
        cap_strategic=number("CAP_STRATEGIC", 4),
        cap_standard=number("CAP_STANDARD", 2),
        cap_new=number("CAP_NEW", 1),
        min_days_between_asks=number("MIN_DAYS_BETWEEN_ASKS", 21, minimum=7),
        fatigue_threshold=number("FATIGUE_THRESHOLD", 3, minimum=1),
        strategic_min_deal_arr=number("STRATEGIC_MIN_DEAL_ARR", 250_000),
        strategic_reserved=number("STRATEGIC_RESERVED", 1),
        min_tenure_days=number("MIN_TENURE_DAYS", 180),
        yearly_limit=number("YEARLY_LIMIT", 0),
        demand_days=number("DEMAND_DAYS", 90, minimum=1),
        demand_sample=number("DEMAND_SAMPLE", 200, minimum=1),
        industry_adjacency=check(lambda: _adjacency(env.get("INDUSTRY_ADJACENCY", "")), ()),
        dispatch_interval_seconds=number("DISPATCH_INTERVAL_SECONDS", 5, minimum=1),
        dispatch_senders=number("DISPATCH_SENDERS", 1, minimum=1),
        appreciation_threshold=number("APPRECIATION_THRESHOLD", 3, minimum=1),
        big_win_arr=number("BIG_WIN_ARR", 250_000),
        require_written_yes=check(lambda: _yes_no(env, "REQUIRE_WRITTEN_YES"), False),
        webhook_urls=webhook_urls,
        webhook_secret=webhook_secret,
    )
    if problems:
        raise SettingsError(*problems)
    return settings


def _yes_no(env: Mapping[str, str], name: str) -> bool:
    raw = env.get(name, "").strip().casefold()
    if raw in ("", "no", "false", "0", "off"):
        return False
    if raw in ("yes", "true", "1", "on"):
        return True
    raise SettingsError(f"{name} must be yes or no, got {raw!r} (see .env.example)")


def _leads(raw: str, *, required: bool) -> frozenset[str]:
    leads = frozenset(part.strip() for part in raw.split(",") if part.strip())
    bad = sorted(lead for lead in leads if not _USER_ID.match(lead))
    if bad:
        raise SettingsError(
            f"CS_LEAD_USER_IDS has {bad[0]!r}, not a member ID: set it to {_where('CS_LEAD_USER_IDS')}"
        )
    if required and not leads:
        raise SettingsError(f"CS_LEAD_USER_IDS is missing: set it to {_where('CS_LEAD_USER_IDS')}")
    return leads


def _database_url(raw: str) -> str:
    """The URL as SQLAlchemy needs it: `postgres://` and `postgresql://` (what PaaS hand out) mean psycopg 3."""
    url = raw.strip() or DEFAULT_DATABASE_URL
    scheme, separator, rest = url.partition("://")
    if not separator or not rest:
        raise SettingsError(f"DATABASE_URL is malformed: set it to {_where('DATABASE_URL')}")
    if scheme in POSTGRES_SCHEMES + ("sqlite", "sqlite+pysqlite"):
        return normalise_url(url)
    raise SettingsError(
        f"DATABASE_URL starts with {scheme}://, which refdesk does not speak: set it to {_where('DATABASE_URL')}"
    )


def _adjacency(raw: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    pairs = []
    for part in filter(None, (p.strip() for p in raw.split(";"))):
        industry, _, near = part.partition(":")
        neighbours = tuple(n.strip() for n in near.split("|") if n.strip())
        if not industry.strip() or not neighbours:
            raise SettingsError(
                f"INDUSTRY_ADJACENCY has {part!r}: write industry:neighbour|neighbour;… (see .env.example)"
            )
        unknown = [i for i in (industry.strip(), *neighbours) if i not in _INDUSTRIES]
        if unknown:
            raise SettingsError(
                f"INDUSTRY_ADJACENCY names {unknown[0]!r}, not one of {', '.join(_INDUSTRIES)}"
            )
        pairs.append((industry.strip(), neighbours))
    return tuple(pairs)
