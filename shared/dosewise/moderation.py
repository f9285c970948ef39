"""The moderation workflow: screen → flag → policy → outcome; reviews, member reports, escalation, retention.

Writes go through the store in one transaction each. When the database is locked or unavailable the
screening still answers: the flag is returned (with a provisional negative id and `stored=False`) so the
adapter can alert, and the write waits in a queue that retries it until it lands.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from dosewise.errors import FlagAlreadyReviewed, FlagNotFound, NotAModerator, StoreError, StoreUnavailable
from dosewise.models import (
    AuditEvent,
    Category,
    Escalation,
    Flag,
    FlagSource,
    FlagStatus,
    IncomingMessage,
    MessageRef,
    ModAction,
    Reason,
    ReportRequest,
    ReviewOutcome,
    ReviewRequest,
    ScreenOutcome,
    UserRef,
    Verdict,
    utcnow,
)
from dosewise.retry import WriteQueue
from dosewise.server_detectors import ServerDetectors
from dosewise.server_policies import ANY_PLATFORM
from dosewise.settings import Policy, Settings, server_policy
from dosewise.store import FlagStats, Store, Transaction

log = logging.getLogger(__name__)

# The actor of the bot's own audit events (flag raised, text purged).
SYSTEM = UserRef(id="dosewise", name="Dosewise")
MEMBER_REPORT = Reason(rule="member-report", signal="reported by a member", span=(0, 0), match="")
# Platforms retry deliveries for minutes, not days; older delivery ids only take space.
EVENT_MEMORY = timedelta(days=7)
# Recent delivery ids kept in memory, so retries are dropped even while the database is unavailable.
RECENT_EVENTS = 10_000
NOT_SCREENED = Verdict(flagged=False, score=0.0)
# How often a running bot applies the retention period (it also runs at start).
RETENTION_INTERVAL = 6 * 3600.0
# Alerts edited per round when purged text is removed from them (platform rate limits apply).
ALERT_CLEAR_BATCH = 100
# An adapter's way to re-render a purged flag's alert without the text; False means "try again later".
AlertClearer = Callable[[Flag], Awaitable[bool]]
# How soon `dosewise servers set` from another process takes effect in a running bot.
POLICY_REFRESH_INTERVAL = 30.0


@dataclass(frozen=True, slots=True)
class _Written:
    """What a flag write found and did."""

    flag: Flag | None
    is_new: bool = False
    duplicate: bool = False


@dataclass(slots=True)
class _Ticket:
    """One write's provisional id, and whether it had to be queued (only then is the id handed out)."""

    provisional: int
    queued: bool = False


class ModerationService:
    """Screening, reviews and reports over one store; `now` is injectable for tests of time windows."""

    def __init__(
        self,
        store: Store,
        settings: Settings,
        detectors: ServerDetectors,
        *,
        now: Callable[[], datetime] = utcnow,
        queue: WriteQueue | None = None,
    ) -> None:
        self.store = store
        self.settings = settings
        self.detectors = detectors
        self.policies = detectors.policies
        self.now = now
        self.queue = queue or WriteQueue("flag store", log)
        self._recent_events: OrderedDict[tuple[str, str], None] = OrderedDict()
        # Provisional (negative) ids handed out while the store was down → real ids once stored.
        self._next_provisional = -1
        self._landed: dict[int, int] = {}
        self._alerts_waiting: dict[int, MessageRef] = {}
        # Flags handed out but still queued, by message: an edit meanwhile must not look like a new flag.
        self._queued_flags: dict[tuple[str, str, str], Flag] = {}
        self._retention: asyncio.Task[None] | None = None
        self._policy_refresh: asyncio.Task[None] | None = None
        self._clearers: dict[str, AlertClearer] = {}
        self._background: set[asyncio.Task[int]] = set()

    # -- screening ---------------------------------------------------------------------------------

    async def screen(self, message: IncomingMessage) -> ScreenOutcome:
        """Screen a new or edited message and say what the adapter should do."""
        policy = self.policies.policy_for(message.ref.server_id)
        skipped = self._skip_reason(message, policy)
        if skipped:
            return ScreenOutcome(verdict=NOT_SCREENED, skipped=skipped)
        verdict = self.detectors.for_server(message.ref.server_id).screen(message.text)
        # A clean new message needs no write; a clean edit may still update an existing flag.
        if not verdict.flagged and not message.edited:
            return ScreenOutcome(verdict=verdict)
        at = self.now()
        ticket = self._ticket()
        provisional = ticket.provisional

        async def write() -> _Written:
            async with self.store.transaction() as tx:
                if message.event_id and not await tx.mark_event(message.ref.platform, message.event_id, at):
                    return _Written(None, duplicate=True)
                written = await _screen_into(tx, message, verdict, at)
                await self._landing(tx, ticket, written)
                return written

        written, failure = await self._try_write(write)
        stored = failure is None
        if written is None:
            # Answer from what can be read, then queue: the write cannot land while we are still deciding.
            written = await self._unstored_screen(message, verdict, at, provisional)
            self._enqueue(write, ticket, failure)
        if written.duplicate:
            return ScreenOutcome(verdict=verdict, skipped=f"duplicate delivery {message.event_id}")
        escalation = None
        if written.is_new and written.flag is not None:
            escalation = await self._escalation(written.flag, policy)
        hide = verdict.flagged and (
            policy.mode == "hide" or (policy.act_threshold is not None and verdict.score >= policy.act_threshold)
        )
        return ScreenOutcome(
            verdict=verdict,
            flag=written.flag,
            is_new=written.is_new,
            hide=hide,
            escalation=escalation,
            stored=stored,
        )

    def _skip_reason(self, message: IncomingMessage, policy: Policy) -> str:
        if message.author.is_bot:
            return "bot author"
        if message.ref.channel_id in policy.exempt_channels:
            return f"exempt channel {message.ref.channel_id}"
        exempt_roles = [r for r in message.author.roles if r in policy.exempt_roles]
        if exempt_roles:
            return f"exempt role {exempt_roles[0]}"
        if message.event_id:
            key = (message.ref.platform, message.event_id)
            if key in self._recent_events:
                return f"duplicate delivery {message.event_id}"
            self._recent_events[key] = None
            if len(self._recent_events) > RECENT_EVENTS:
                self._recent_events.popitem(last=False)
        return ""

    async def _unstored_screen(
        self, message: IncomingMessage, verdict: Verdict, at: datetime, provisional: int
    ) -> _Written:
        """Best answer while the write waits in the queue: based on the stored or queued flag if any."""
        key = _key(message.ref)
        existing = self._queued_flags.get(key) or await self._try_find(message.ref)
        if existing is not None:
            written = _Written(_edited(existing, message, verdict, at), is_new=False)
        elif verdict.flagged:
            written = _Written(replace(_new_flag(message, verdict, at), id=provisional), is_new=True)
        else:
            return _Written(None)
        if written.flag is not None and written.flag.id < 0:
            self._queued_flags[key] = written.flag
        return written

    # -- reports -----------------------------------------------------------------------------------

    async def report(self, request: ReportRequest) -> ScreenOutcome:
        """Turn a member's report into a flag, or add it to the trail of the message's existing flag."""
        message = request.message
        verdict = self.detectors.for_server(message.ref.server_id).screen(message.text)
        at = self.now()
        ticket = self._ticket()
        provisional = ticket.provisional

        async def write() -> _Written:
            async with self.store.transaction() as tx:
                existing = await tx.find_flag(message.ref)
                if existing is not None:
                    await tx.add_audit(existing.id, request.reporter, "reported", request.note, at)
                    return _Written(existing)
                flag = _report_flag(request, verdict, at)
                flag = replace(flag, id=await tx.insert_flag(flag))
                await tx.add_audit(flag.id, request.reporter, "reported", request.note, at)
                written = _Written(flag, is_new=True)
                await self._landing(tx, ticket, written)
                return written

        written, failure = await self._try_write(write)
        stored = failure is None
        if written is None:
            key = _key(message.ref)
            existing = self._queued_flags.get(key) or await self._try_find(message.ref)
            if existing is not None:
                written = _Written(existing)
            else:
                flag = replace(_report_flag(request, verdict, at), id=provisional)
                self._queued_flags[key] = flag
                written = _Written(flag, is_new=True)
            self._enqueue(write, ticket, failure)
        return ScreenOutcome(verdict=verdict, flag=written.flag, is_new=written.is_new, stored=stored)

    # -- reviews -----------------------------------------------------------------------------------

    async def review(self, request: ReviewRequest) -> ReviewOutcome:
        """Apply a moderator's decision atomically; the first of two racing reviews wins."""
        if not request.moderator.is_moderator:
            raise NotAModerator()
        flag_id = self._real_id(request.flag_id)
        at = self.now()
        status = FlagStatus.DISMISSED if request.action is ModAction.DISMISS else FlagStatus.UPHELD
        moderator = request.moderator
        async with self.store.transaction() as tx:
            flag = await tx.get_flag(flag_id)
            if flag is None:
                raise FlagNotFound(request.flag_id)
            # The conditional UPDATE is the arbiter: it also holds against another process.
            if flag.status is not FlagStatus.OPEN or not await tx.resolve(
                flag_id, status, request.action, moderator, request.note, at
            ):
                raise _already_reviewed(await tx.get_flag(flag_id) or flag)
            await tx.add_audit(flag_id, moderator, request.action.value, request.note, at)
        flag = replace(
            flag,
            status=status,
            action=request.action,
            reviewed_by=moderator,
            reviewed_at=at,
            note=request.note,
            updated_at=at,
        )
        policy = self.policies.policy_for(flag.ref.server_id)
        timeout = 0
        if request.action is ModAction.TIMEOUT:
            timeout = request.timeout_seconds or policy.escalation.timeout_minutes * 60
        escalation = None
        if request.action in (ModAction.UPHOLD, ModAction.DELETE):
            escalation = await self._escalation(flag, policy)
        return ReviewOutcome(
            flag=flag,
            action=request.action,
            moderator=moderator,
            delete_message=request.action is ModAction.DELETE,
            timeout_seconds=timeout,
            ban=request.action is ModAction.BAN,
            escalation=escalation,
        )

    async def record_alert(self, flag_id: int, alert: MessageRef) -> None:
        """Remember where a flag's alert was posted (for a flag not stored yet: as soon as it is)."""
        if flag_id < 0 and flag_id not in self._landed:
            self._alerts_waiting[flag_id] = alert
            return
        real = self._real_id(flag_id)
        at = self.now()
        async with self.store.transaction() as tx:
            if not await tx.set_alert(real, alert, at):
                raise FlagNotFound(flag_id)
            await tx.add_audit(real, SYSTEM, "alerted", f"alert posted in {alert.channel_id}", at)

    # -- reading -----------------------------------------------------------------------------------

    async def pending_flags(self, server_id: str | None = None, limit: int = 25) -> Sequence[Flag]:
        """Open flags, oldest first."""
        return await self.store.list_flags(FlagStatus.OPEN, server_id, limit, oldest_first=True)

    async def flags(
        self, status: FlagStatus | None = None, server_id: str | None = None, limit: int = 100
    ) -> Sequence[Flag]:
        """Flags filtered by status and server, newest first."""
        return await self.store.list_flags(status, server_id, limit)

    async def get_flag(self, flag_id: int) -> Flag:
        """One flag by id; raises FlagNotFound."""
        flag = await self.store.get_flag(self._real_id(flag_id))
        if flag is None:
            raise FlagNotFound(flag_id)
        return flag

    async def audit(self, flag_id: int) -> Sequence[AuditEvent]:
        """The audit trail of a flag, oldest first; raises FlagNotFound."""
        flag = await self.get_flag(flag_id)
        return await self.store.audit(flag.id)

    async def stats(self, server_id: str | None = None) -> FlagStats:
        """Flags per day and by status, and the share of reviews that dismissed the flag."""
        return await self.store.stats(server_id)

    # -- retention and shutdown --------------------------------------------------------------------

    async def purge(self, now: datetime | None = None) -> int:
        """Remove message text older than the retention period (metadata and audit stay); return count."""
        now = now or self.now()
        days = self.settings.retention_days
        purged = await self.store.purge_text(
            now - timedelta(days=days), now, SYSTEM, f"message text removed after {days} days (retention)"
        )
        await self.store.forget_events(now - EVENT_MEMORY)
        if purged:
            log.info("retention: removed the text of %d flags older than %d days", purged, days)
        return purged

    def attach_alert_clearer(self, platform: str, clear: AlertClearer) -> None:
        """Let an adapter remove purged text from its alerts; runs now and after every retention round."""
        self._clearers[platform] = clear
        task = asyncio.create_task(self.clear_purged_alerts(), name="dosewise-clear-alerts")
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def idle(self) -> None:
        """Wait for the alert clearing started by `attach_alert_clearer` (tests, orderly shutdown)."""
        while self._background:
            await asyncio.gather(*list(self._background), return_exceptions=True)

    async def clear_purged_alerts(self) -> int:
        """Have each attached adapter edit the alerts of purged flags; returns how many were cleared."""
        cleared = 0
        for platform, clear in list(self._clearers.items()):
            while True:
                try:
                    flags = await self.store.purged_alerts(platform, ALERT_CLEAR_BATCH)
                except StoreError as exc:
                    log.warning("cannot list alerts to clear, will try after the next purge: %s", exc)
                    return cleared
                done = 0
                for flag in flags:
                    try:
                        ok = await clear(flag)
                    except Exception:
                        log.exception("clearing the alert of flag #%d failed", flag.id)
                        ok = False
                    if not ok:
                        # Rate limits and outages pass; the next retention round tries again.
                        break
                    await self.store.alert_cleared(flag.id)
                    done += 1
                cleared += done
                if done < ALERT_CLEAR_BATCH:
                    break
        if cleared:
            log.info("retention: removed purged message text from %d moderator alerts", cleared)
        return cleared

    def start_retention(self, every: float = RETENTION_INTERVAL) -> None:
        """Apply the retention period every `every` seconds in the background until `close()`."""
        if self._retention is None or self._retention.done():
            self._retention = asyncio.create_task(self._retention_loop(every), name="dosewise-retention")

    async def _retention_loop(self, every: float) -> None:
        while True:
            await asyncio.sleep(every)
            await self.purge_or_log()

    async def purge_or_log(self) -> None:
        """Run retention; a busy or damaged database is logged, not raised (the next round catches up)."""
        try:
            await self.purge()
        except StoreUnavailable as exc:
            log.warning("retention purge skipped, will run again later: %s", exc)
        except StoreError:
            log.exception("retention purge failed")
        await self.clear_purged_alerts()

    async def reload_policies(self) -> bool:
        """Read the servers' run-time settings again; True if any policy changed. Errors are logged."""
        try:
            rows = await self.store.all_server_settings()
        except StoreError as exc:
            log.warning("could not read the servers' stored settings, keeping the current ones: %s", exc)
            return False
        return self.detectors.update_policies(rows)

    def start_policy_refresh(self, every: float = POLICY_REFRESH_INTERVAL) -> None:
        """Pick up settings changed by other processes every `every` seconds until `close()`."""
        if self._policy_refresh is None or self._policy_refresh.done():
            self._policy_refresh = asyncio.create_task(self._refresh_loop(every), name="dosewise-policy-refresh")

    async def _refresh_loop(self, every: float) -> None:
        while True:
            await asyncio.sleep(every)
            if await self.reload_policies():
                log.info("server settings changed; new policies in force")

    async def set_server_setting(self, server_id: str, key: str, value: Any, actor: UserRef) -> Policy:
        """Change one setting of a server at run time (validated first); return the policy now in force."""
        current = self.policies.overrides(server_id)
        policy = server_policy(self.settings.policy_for(server_id), {**current, key: value}, f"servers {server_id}")
        await self.store.set_server_setting(ANY_PLATFORM, server_id, key, value, self.now())
        await self.reload_policies()
        log.info("%s set %s of server %s", actor.name or actor.id, key, server_id)
        return policy

    async def unset_server_setting(self, server_id: str, key: str, actor: UserRef) -> bool:
        """Go back to the config file's value of one setting of a server; False if it was not set."""
        removed = await self.store.delete_server_setting(ANY_PLATFORM, server_id, key)
        await self.reload_policies()
        if removed:
            log.info("%s unset %s of server %s", actor.name or actor.id, key, server_id)
        return removed

    async def flush(self, within: float | None = None) -> bool:
        """Wait until every queued write has been stored; False if `within` seconds ran out first."""
        return await self.queue.wait(within)

    async def close(self, within: float = 5.0) -> None:
        """Stop retention; try to store queued writes for up to `within` seconds, then stop retrying."""
        for task in (self._retention, self._policy_refresh, *self._background):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._retention = self._policy_refresh = None
        await self.queue.close(within)

    # -- internals ---------------------------------------------------------------------------------

    async def _try_write(
        self, write: Callable[[], Awaitable[_Written]]
    ) -> tuple[_Written | None, StoreUnavailable | None]:
        """Run a write now; on failure (or with earlier writes still queued) say why, for `_enqueue`."""
        if self.queue.busy:
            # Writes must land in order (an edit after its flag), so nothing overtakes the queue.
            return None, StoreUnavailable("earlier writes are still queued")
        try:
            return await write(), None
        except StoreUnavailable as exc:
            return None, exc

    def _enqueue(self, write: Callable[[], Awaitable[_Written]], ticket: _Ticket, reason: BaseException | None) -> None:
        ticket.queued = True
        self.queue.add(write, reason or StoreUnavailable("unavailable"))

    async def _try_find(self, ref: MessageRef) -> Flag | None:
        try:
            return await self.store.find_flag(ref)
        except StoreUnavailable:
            return None

    async def _escalation(self, flag: Flag, policy: Policy) -> Escalation | None:
        esc = policy.escalation
        since = (flag.created_at if flag.status is FlagStatus.OPEN else self.now()) - timedelta(days=esc.days)
        try:
            upheld = await self.store.count_upheld(flag.ref.platform, flag.ref.server_id, flag.author.id, since)
        except StoreUnavailable:
            return None
        if upheld < esc.upheld:
            return None
        return Escalation(
            upheld=upheld, window_days=esc.days, timeout_seconds=esc.timeout_minutes * 60, apply=esc.apply
        )

    def _ticket(self) -> _Ticket:
        ticket = _Ticket(self._next_provisional)
        self._next_provisional -= 1
        return ticket

    def _real_id(self, flag_id: int) -> int:
        if flag_id >= 0:
            return flag_id
        real = self._landed.get(flag_id)
        if real is None:
            raise StoreUnavailable(
                f"Flag {flag_id} is not stored yet (the database was unavailable); try again shortly."
            )
        return real

    async def _landing(self, tx: Transaction, ticket: _Ticket, written: _Written) -> None:
        """Link a provisional id to the stored flag and store an alert posted while it was queued."""
        # Only queued writes handed out a provisional id; mapping the rest would only grow this table.
        if written.flag is None or not ticket.queued:
            return
        provisional = ticket.provisional
        self._landed[provisional] = written.flag.id
        queued = self._queued_flags.get(_key(written.flag.ref))
        if queued is not None and queued.id in self._landed:
            del self._queued_flags[_key(written.flag.ref)]
        alert = self._alerts_waiting.pop(provisional, None)
        if alert is not None:
            await tx.set_alert(written.flag.id, alert, self.now())
            await tx.add_audit(written.flag.id, SYSTEM, "alerted", f"alert posted in {alert.channel_id}", self.now())


async def _screen_into(tx: Transaction, message: IncomingMessage, verdict: Verdict, at: datetime) -> _Written:
    """Create or update the message's flag inside a transaction (the unique key makes this race-free)."""
    existing = await tx.find_flag(message.ref)
    if existing is None:
        if not verdict.flagged:
            return _Written(None)
        flag = _new_flag(message, verdict, at)
        flag = replace(flag, id=await tx.insert_flag(flag))
        await tx.add_audit(flag.id, SYSTEM, "flagged", f"score {verdict.score:.2f}, {flag.category}", at)
        return _Written(flag, is_new=True)
    if existing.text == message.text:
        # A retried delivery or an edit that did not touch the text (a link preview): nothing changed.
        return _Written(existing)
    updated = _edited(existing, message, verdict, at)
    await tx.update_text(updated)
    if verdict.flagged:
        note = f"edited; now scores {verdict.score:.2f}"
    else:
        note = f"edited; no longer matches (score {verdict.score:.2f})"
    await tx.add_audit(existing.id, message.author, "edited", note, at)
    return _Written(updated)


def _key(ref: MessageRef) -> tuple[str, str, str]:
    return (ref.platform, ref.channel_id, ref.message_id)


def _new_flag(message: IncomingMessage, verdict: Verdict, at: datetime) -> Flag:
    return Flag(
        id=0,
        ref=message.ref,
        author=UserRef(id=message.author.id, name=message.author.name),
        text=message.text,
        score=verdict.score,
        category=(verdict.category or Category.OFFER).value,
        reasons=verdict.reasons,
        source=FlagSource.DETECTOR,
        status=FlagStatus.OPEN,
        created_at=at,
        updated_at=at,
    )


def _report_flag(request: ReportRequest, verdict: Verdict, at: datetime) -> Flag:
    message = request.message
    return Flag(
        id=0,
        ref=message.ref,
        author=UserRef(id=message.author.id, name=message.author.name),
        text=message.text,
        score=verdict.score,
        category=Category.REPORTED.value,
        reasons=(MEMBER_REPORT, *verdict.reasons),
        source=FlagSource.REPORT,
        status=FlagStatus.OPEN,
        created_at=at,
        updated_at=at,
        reporter=UserRef(id=request.reporter.id, name=request.reporter.name),
    )


def _edited(existing: Flag, message: IncomingMessage, verdict: Verdict, at: datetime) -> Flag:
    """The flag after an edit: both texts kept; the detector's view replaced only if it still matches."""
    if existing.text == message.text:
        return existing
    flag = replace(
        existing,
        text=message.text,
        original_text=existing.original_text or existing.text,
        updated_at=at,
    )
    if verdict.flagged:
        flag = replace(flag, score=verdict.score, reasons=verdict.reasons)
        if existing.source is FlagSource.DETECTOR and verdict.category is not None:
            flag = replace(flag, category=verdict.category.value)
        elif existing.source is FlagSource.REPORT:
            flag = replace(flag, reasons=(MEMBER_REPORT, *verdict.reasons))
    return flag


def _already_reviewed(flag: Flag) -> FlagAlreadyReviewed:
    by = flag.reviewed_by.name or flag.reviewed_by.id if flag.reviewed_by else ""
    return FlagAlreadyReviewed(flag.id, flag.status.value, by)
