"""Members' zones (bot.delivery.zones): what stands in when Slack can't say, and for how long."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from slack_sdk import WebClient

from bot.delivery.zones import UTC_ZONE, Zones


def client_for(slack) -> WebClient:
    return WebClient(token="xoxb-test", base_url=slack.base_url)


def test_a_known_zone_is_remembered(slack):
    slack.user_tz["U0DANA"] = "America/Chicago"
    zones = Zones(client_for(slack))
    assert zones.of("U0DANA") == ZoneInfo("America/Chicago")
    assert zones.of("U0DANA") == ZoneInfo("America/Chicago")
    assert len(slack.of("users.info")) == 1


def test_a_rate_limited_lookup_stands_in_utc_briefly_then_asks_again(slack):
    slack.user_tz["U0DANA"] = "Europe/Madrid"
    slack.fail("users.info", status=429, retry_after=1)
    zones = Zones(client_for(slack), retry=timedelta(0))
    assert zones.of("U0DANA") == UTC_ZONE  # a message is never held back for want of a zone
    # Not remembered for the six hours a real answer is: the next message asks Slack again.
    assert zones.wait(["U0DANA"]) == {"U0DANA": ZoneInfo("Europe/Madrid")}
    assert zones.of("U0DANA") == ZoneInfo("Europe/Madrid")
    assert len(slack.of("users.info")) == 1  # the fake records the calls it answered


def test_a_failed_lookup_is_not_asked_again_within_the_retry_window(slack):
    slack.user_tz["U0DANA"] = "Europe/Madrid"
    slack.fail("users.info", status=500)
    zones = Zones(client_for(slack))  # retry: five minutes
    assert zones.of("U0DANA") == UTC_ZONE
    assert zones.of("U0DANA") == UTC_ZONE  # Slack would answer now, but is not asked within the window
    assert slack.of("users.info") == []


def test_many_unknown_members_are_learned_from_the_workspace_listing_page_by_page(slack):
    for n in range(5):
        slack.user_tz[f"U0LISTED{n}"] = "Asia/Tokyo"
    zones = Zones(client_for(slack), bulk=3, page=2)
    wanted = [f"U0LISTED{n}" for n in range(5)] + ["U0OUTSIDER"]  # one from another organisation: not listed
    assert zones.ask(wanted)
    found = zones.wait(wanted)
    assert found == {**{f"U0LISTED{n}": ZoneInfo("Asia/Tokyo") for n in range(5)}, "U0OUTSIDER": UTC_ZONE}
    assert [call.get("cursor") for call in slack.of("users.list")] == [None, "2", "4"]
    assert [call["user"] for call in slack.of("users.info")] == ["U0OUTSIDER"]


def test_a_refused_listing_falls_back_to_asking_each_member(slack):
    for n in range(4):
        slack.user_tz[f"U0LISTED{n}"] = "Europe/Madrid"
    slack.fail("users.list", status=429, retry_after=30)
    zones = Zones(client_for(slack), bulk=3, page=2)
    wanted = [f"U0LISTED{n}" for n in range(4)]
    zones.ask(wanted)
    assert zones.wait(wanted) == dict.fromkeys(wanted, ZoneInfo("Europe/Madrid"))
    assert sorted(call["user"] for call in slack.of("users.info")) == wanted


def test_a_few_unknown_members_are_asked_one_by_one(slack):
    zones = Zones(client_for(slack), bulk=3)
    zones.ask(["U0A", "U0B"])
    assert zones.wait(["U0A", "U0B"]) == {"U0A": UTC_ZONE, "U0B": UTC_ZONE}
    assert slack.of("users.list") == []
    assert len(slack.of("users.info")) == 2
