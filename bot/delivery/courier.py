"""The courier: delivers the outbox effects a handler just committed, at once, off the ack path.

A handler writes its messages as outbox rows in the transaction that changes the state (bot/flows/effects.py); the
database wakes the courier when that transaction commits, and the courier's own thread claims and sends them
with the dispatcher's claim, lease and retry logic, so the user waits for nothing extra and two processes never
send the same row. What fails here stays in the outbox: the periodic dispatcher pass retries it with back-off.

A shortlist jumps the queue: woken while a pass is still sending (the card update and the rep's DM of the last
approval, a crowd's receipts), the courier sends the new shortlists (dispatcher.URGENT) before the next row of
its batch. CS clicked Approve and waits on the card's thread; the rest follows a moment later.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Collection

from bot.delivery.dispatcher import URGENT, Dispatcher

log = logging.getLogger(__name__)


class Courier:
    def __init__(self, dispatcher: Dispatcher) -> None:
        self.dispatcher = dispatcher
        self._wanted = threading.Event()
        self._state = threading.Condition()
        self._busy = False
        self._stopped = False
        self._thread: threading.Thread | None = None
        self._urgent = 0  # wakes that brought a shortlist (one since a pass began goes ahead of its batch)
        self._looked_at = 0  # the count the last look for urgent rows (or the pass's own claim) covered
        self._jumping = False
        dispatcher.jump_queue = self._jump_queue

    def wake(self, kinds: Collection[str] = frozenset()) -> None:
        """Effects of these kinds are due now: deliver them (starts the courier's thread on first use)."""
        with self._state:
            if self._stopped:
                return
            self._busy = True  # idle only once the thread has looked
            if URGENT & set(kinds):
                self._urgent += 1
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="refdesk-courier", daemon=True)
                self._thread.start()
        self._wanted.set()

    def _run(self) -> None:
        while True:
            self._wanted.wait()
            with self._state:
                if self._stopped:
                    self._busy = False
                    self._state.notify_all()
                    return
                self._looked_at = self._urgent  # the pass's first claim takes what these wakes brought
            self._wanted.clear()
            try:
                self.dispatcher.run_effects()
            except Exception:  # the dispatcher pass retries whatever this left behind
                log.exception("courier pass failed; the next dispatcher pass will retry")
            with self._state:
                if not self._wanted.is_set():
                    self._busy = False
                    self._state.notify_all()

    def _jump_queue(self) -> None:
        """Between two rows of a pass: if a shortlist was written since, it is claimed and sent now."""
        if self._jumping or self._looked_at == self._urgent:
            return
        self._looked_at = self._urgent
        self._jumping = True
        try:
            self.dispatcher.run_urgent()
        except Exception:  # what this left behind is still due: the pass (or the next) sends it
            log.exception("courier: sending a shortlist ahead of the queue failed")
        finally:
            self._jumping = False

    def wait_idle(self, timeout: float = 15.0) -> None:
        """Until everything woken for has been tried (tests, the demo, the bench)."""
        with self._state:
            if not self._state.wait_for(lambda: not self._busy, timeout):
                raise TimeoutError("the courier is still delivering after the timeout")

    def stop(self) -> None:
        with self._state:
            self._stopped = True
        self._wanted.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
