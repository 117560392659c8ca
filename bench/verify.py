"""What verifying a request costs before Bolt sees it: refdesk's checks against Bolt's own, on the same bodies.

    python -m bench.verify [--runs 2000]

Each run takes a signed view_submission of the request form (the largest payload refdesk receives, ~25 kB) and
a signed slash command. refdesk: SlackVerifier.receive_body (size) and .check (content type, timestamp, HMAC,
envelope with Bolt's extractors) and the guard middleware's shape check. Baseline, in the same process: Bolt's SignatureVerifier and
parse_body alone, which Bolt runs anyway. Prints per-request microseconds (median, p95) and the ratio. A
measurement, not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlencode

from slack_bolt.request.internals import parse_body
from slack_sdk.signature import SignatureVerifier

from bot.demo.simulator import payloads
from bot.verification import Refusal, SlackVerifier
from handlers.guard import problem
from modals.request_form import build_request_modal

SECRET = "benchsigningsecret"


def bodies() -> list[tuple[bytes, str]]:
    view = json.loads(
        json.dumps(build_request_modal(requester_id="U0REP", prospect_company="Acme").to_dict())
    )
    typed = {
        b["block_id"]: "x" * 300
        for b in view["blocks"]
        if b.get("element", {}).get("type") == "plain_text_input"
    }
    submission = payloads.view_submission(
        view=view, values=payloads.state_values(view, typed), user_id="U0REP"
    )
    command = payloads.slash_command(text="", user_id="U0REP", response_url="https://hooks.slack.com/x")
    form = "application/x-www-form-urlencoded"
    return [
        (urlencode({"payload": json.dumps(submission)}).encode(), form),
        (urlencode(command).encode(), form),
    ]


def replay(body: bytes) -> Callable[[], Awaitable[dict[str, Any]]]:
    """An ASGI `receive` that hands the body on once, as uvicorn does for a small request."""

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


def scope(body: bytes, content_type: str, ts: str, signature: str) -> dict:
    headers = [
        (b"content-type", content_type.encode()),
        (b"content-length", str(len(body)).encode()),
        (b"x-slack-request-timestamp", ts.encode()),
        (b"x-slack-signature", signature.encode()),
    ]
    return {"type": "http", "method": "POST", "path": "/slack/events", "headers": headers}


def measure(runs: int) -> None:
    signer = SignatureVerifier(SECRET)
    verifier = SlackVerifier(SECRET)
    loop = asyncio.new_event_loop()
    ours: list[float] = []
    bare: list[float] = []
    for body, content_type in bodies():
        for _ in range(runs):
            ts = str(int(time.time()))
            signature = signer.generate_signature(timestamp=ts, body=body.decode())
            started = time.perf_counter()
            request = scope(body, content_type, ts, signature)
            read, refusal, _ = loop.run_until_complete(verifier.receive_body(request, replay(body)))
            assert refusal is None, refusal
            payload = verifier.check(verifier.headers_of(request), read)
            assert not isinstance(payload, Refusal), payload
            problem(payload)
            ours.append(time.perf_counter() - started)
            started = time.perf_counter()
            assert signer.is_valid(body=body.decode(), timestamp=ts, signature=signature)
            parse_body(body.decode(), content_type)
            bare.append(time.perf_counter() - started)
    loop.close()

    def line(name: str, samples: list[float]) -> str:
        p95 = statistics.quantiles(samples, n=20)[-1]
        return f"{name:<34} median {statistics.median(samples) * 1e6:8.1f} µs   p95 {p95 * 1e6:8.1f} µs"

    print(f"{len(ours)} requests (a request-form submission and a slash command, {runs} each)")
    print(line("refdesk verification + guard", ours))
    print(line("baseline: Bolt's verifier + parse", bare))
    print(f"ratio (median): {statistics.median(ours) / statistics.median(bare):.2f}×")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2000)
    measure(parser.parse_args().runs)


if __name__ == "__main__":
    main()
