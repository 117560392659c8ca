"""`refdesk demo` tells the whole story offline, through the real app, and writes an HTML transcript."""

from __future__ import annotations

from tests.support.cli import refdesk


def test_the_demo_runs_end_to_end_without_tokens(tmp_path):
    html = tmp_path / "demo.html"
    result = refdesk("demo", "--html", str(html), env={}, cwd=tmp_path, timeout=240)
    assert result.returncode == 0, result.stderr[-2000:]
    story = result.stdout
    for moment in (
        "Maria, a rep, types /reference Acme Analytics",
        "→ #cs-references",  # the approval card
        "Shortlist for #1 · Acme Analytics",
        "[ Yes, happy to ] [ Not this time ]",
        "reference-call.ics",
        "Your reference call is",  # the prep brief
        "A reminder",
        "Thank you, Oliver",  # the first on the shortlist: Good like Amara, and rested longest (rotation)
        "Check in with Acme Analytics",
        "how was the call",
        "Acme Analytics signed!",
        "Home tab of Ali (CS)",
        "PROGRAM HEALTH",  # headers are shown in capitals
    ):
        assert moment in story, moment
    assert "Traceback" not in result.stderr
    # A Friday-evening call: thanks, the rep's check-in and the feedback ask are three distinct moments
    # in working hours, the thanks without a question, the feedback within two working days.
    assert stamp_of(story, "Thank you, Oliver") == "Mon 30 Nov 09:05"
    assert stamp_of(story, "Check in with Acme Analytics") == "Mon 30 Nov 17:05"
    assert stamp_of(story, "how was the call") == "Tue 1 Dec 17:05"
    assert "speak with Acme Analytics on Friday" in story and "is tomorrow" in story
    thanks = story[story.index("Thank you, Oliver") :].split("\n[")[0]
    assert "?" not in thanks
    page = html.read_text()
    assert page.startswith("<!DOCTYPE html>") or page.lower().startswith("<!doctype html>")
    assert "Acme Analytics" in page and "Approve" in page
    assert not list(tmp_path.glob("*.db")), "the demo leaves no database behind"


def stamp_of(story: str, words: str) -> str:
    """The "[Mon 30 Nov 09:05]" of the message that says `words`."""
    before = story[: story.index(words)]
    return before[before.rindex("\n[") + 2 :].split("]")[0]
