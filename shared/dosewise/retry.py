"""Writes that could not reach the store wait here, in order, and are retried with backoff until they land.

An outage is logged once when it starts (with the reason) and once when it ends, never per retry, so a
locked database for an hour does not flood the log.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from dosewise.errors import StoreUnavailable

# A queued write: re-run from scratch when retried, so it sees the database as it is by then.
Write = Callable[[], Awaitable[Any]]


class WriteQueue:
    """FIFO of pending writes with one background task retrying the head until it succeeds."""

    def __init__(
        self,
        what: str,
        logger: logging.Logger,
        *,
        first_delay: float = 0.05,
        max_delay: float = 5.0,
    ) -> None:
        self._what = what
        self._log = logger
        self._first_delay = first_delay
        self._max_delay = max_delay
        self._pending: deque[Write] = deque()
        self._task: asyncio.Task[None] | None = None
        self._drained = asyncio.Event()
        self._drained.set()
        self.failures = 0

    def __len__(self) -> int:
        return len(self._pending)

    @property
    def busy(self) -> bool:
        """True while writes are waiting; new writes must queue behind them to keep their order."""
        return bool(self._pending)

    def add(self, write: Write, reason: BaseException) -> None:
        """Queue a write that failed (or must wait its turn) and make sure the retry task runs."""
        if not self._pending:
            self._log.warning("%s unavailable (%s): queuing writes and retrying in the background", self._what, reason)
        self._pending.append(write)
        self._drained.clear()
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._retry(), name=f"dosewise-retry-{self._what}")

    async def wait(self, within: float | None = None) -> bool:
        """Wait until every queued write has landed; False if `within` seconds ran out first."""
        try:
            await asyncio.wait_for(self._drained.wait(), within)
        except TimeoutError:
            return False
        return True

    async def close(self, within: float) -> int:
        """Try to flush for up to `within` seconds, stop retrying, and return how many writes are lost."""
        await self.wait(within)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        lost = len(self._pending)
        if lost:
            self._log.error("%s still unavailable at shutdown: %d queued writes were not stored", self._what, lost)
        self._pending.clear()
        self._drained.set()
        return lost

    async def _retry(self) -> None:
        delay = self._first_delay
        stored = 0
        while self._pending:
            try:
                await self._pending[0]()
            except StoreUnavailable as exc:
                self.failures += 1
                self._log.debug("%s still unavailable (%s); retrying in %.2fs", self._what, exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._max_delay)
                continue
            except Exception:
                # Not an outage but a bug or damage: retrying would block every later write for ever.
                self._log.exception("%s: dropping a queued write that cannot succeed", self._what)
            else:
                stored += 1
            self._pending.popleft()
            delay = self._first_delay
        self._log.info("%s available again: %d queued writes stored", self._what, stored)
        self._drained.set()
