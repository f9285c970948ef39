"""The moderation workflow on a real store and the real detector: screening, edits, reviews, reports,
escalation, retention, and what happens while the database is locked."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator, Callable, Coroutine
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from dosewise.errors import FlagAlreadyReviewed, FlagNotFound, NotAModerator, StoreUnavailable
from dosewise.models import (
    Category,
    FlagSource,
    FlagStatus,
    IncomingMessage,
    MessageRef,
    ModAction,
    ReportRequest,
    ReviewRequest,
    UserRef,
)
from dosewise.moderation import ModerationService
from dosewise.screening import Detector
from dosewise.server_detectors import ServerDetectors
from dosewise.settings import EscalationPolicy, Policy, Settings
from dosewise.store import Store

SOURCING = "got shrooms and tabs for sale, dm me on telegram @fungiplug, ships worldwide"
SOURCING_2 = "selling mushrooms and lsd tabs, dm me on telegram, ships worldwide"
ORDINARY = "day 3 of the protocol, slept badly but mood is ok"
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
MOD = UserRef(id="m1", name="mod", is_moderator=True)
MOD2 = UserRef(id="m2", name="other mod", is_moderator=True)
MEMBER = UserRef(id="u9", name="member")


class Clock:
    """A settable clock: tests move time instead of sleeping."""

    def __init__(self, start: datetime = T0) -> None:
        self.t = start

    def __call__(self) -> datetime:
        return self.t

    def advance(self, **delta: float) -> None:
        self.t += timedelta(**delta)


def msg(
    message_id: str,
    text: str,
    *,
    server: str = "g1",
    channel: str = "c1",
    author: str = "u1",
    edited: bool = False,
    event_id: str = "",
    roles: tuple[str, ...] = (),
    bot: bool = False,
) -> IncomingMessage:
    return IncomingMessage(
        ref=MessageRef("discord", server, channel, message_id),
        author=UserRef(id=author, name=f"name-{author}", roles=roles, is_bot=bot),
        text=text,
        sent_at=T0,
        edited=edited,
        event_id=event_id,
    )


Opener = Callable[..., Coroutine[Any, Any, ModerationService]]


@pytest.fixture
async def open_service(tmp_path: Path) -> AsyncIterator[Opener]:
    opened: list[ModerationService] = []

    async def opener(
        settings: Settings | None = None,
        *,
        clock: Clock | None = None,
        path: Path | str | None = None,
        busy_timeout: float = 1.0,
    ) -> ModerationService:
        settings = settings or Settings()
        store = await Store.open(path or tmp_path / "flags.db", busy_timeout=busy_timeout)
        service = ModerationService(store, settings, ServerDetectors(settings), now=clock or Clock())
        opened.append(service)
        return service

    yield opener
    for service in opened:
        await service.close(within=5)
        await service.store.close()


@pytest.fixture
async def service(open_service: Opener) -> ModerationService:
    return await open_service()


# -- screening -------------------------------------------------------------------------------------


async def test_ordinary_chat_is_not_flagged_and_writes_nothing(service: ModerationService) -> None:
    outcome = await service.screen(msg("m1", ORDINARY))
    assert not outcome.verdict.flagged and outcome.flag is None and not outcome.is_new
    assert outcome.stored and not outcome.skipped
    assert await service.flags() == []


async def test_sourcing_is_flagged_with_reasons_and_an_audit_event(service: ModerationService) -> None:
    outcome = await service.screen(msg("m1", SOURCING))
    assert outcome.verdict.flagged and outcome.is_new and outcome.stored and not outcome.hide
    flag = outcome.flag
    assert flag is not None and flag.id > 0
    assert flag.text == SOURCING and flag.original_text == ""
    assert flag.reasons and flag.reasons == outcome.verdict.reasons
    assert flag.source is FlagSource.DETECTOR and flag.status is FlagStatus.OPEN
    assert flag.created_at == T0
    assert await service.get_flag(flag.id) == flag
    assert [f.id for f in await service.pending_flags("g1")] == [flag.id]
    assert await service.pending_flags("elsewhere") == []
    events = await service.audit(flag.id)
    assert [(e.action, e.actor_id) for e in events] == [("flagged", "dosewise")]


@pytest.mark.parametrize(
    ("message", "why"),
    [
        (msg("m1", SOURCING, bot=True), "bot author"),
        (msg("m1", SOURCING, channel="harm-reduction"), "exempt channel harm-reduction"),
        (msg("m1", SOURCING, roles=("member", "staff")), "exempt role staff"),
    ],
)
async def test_bots_exempt_channels_and_roles_are_skipped_and_say_why(
    open_service: Opener, message: IncomingMessage, why: str
) -> None:
    policy = Policy(exempt_channels=("harm-reduction",), exempt_roles=("staff",))
    service = await open_service(Settings(policy=policy))
    outcome = await service.screen(message)
    assert outcome.skipped == why
    assert outcome.flag is None and not outcome.verdict.flagged
    assert await service.flags() == []


async def test_duplicate_deliveries_are_dropped_also_after_a_restart(open_service: Opener, tmp_path: Path) -> None:
    first = await open_service()
    assert (await first.screen(msg("m1", SOURCING, event_id="Ev1"))).is_new
    again = await first.screen(msg("m1", SOURCING, event_id="Ev1"))
    assert again.skipped == "duplicate delivery Ev1" and again.flag is None
    await first.close()
    await first.store.close()
    # A new process knows nothing in memory: the processed-event table drops the retry.
    second = await open_service()
    after_restart = await second.screen(msg("m1", SOURCING, event_id="Ev1"))
    assert after_restart.skipped == "duplicate delivery Ev1"
    assert len(await second.flags()) == 1
    assert [e.action for e in await second.audit(1)] == ["flagged"]


async def test_a_hundred_concurrent_screenings_of_one_message_make_one_flag(service: ModerationService) -> None:
    outcomes = await asyncio.gather(*(service.screen(msg("m1", SOURCING)) for _ in range(100)))
    assert sum(o.is_new for o in outcomes) == 1
    assert {o.flag.id for o in outcomes if o.flag} == {1}
    assert all(o.stored for o in outcomes)
    assert len(await service.flags()) == 1
    assert len(await service.audit(1)) == 1


async def test_concurrent_screenings_from_two_processes_make_one_flag(open_service: Opener) -> None:
    # Two services on one file stand for two bot processes (each has its own connection).
    a, b = await open_service(), await open_service()
    outcomes = await asyncio.gather(*(s.screen(msg("m1", SOURCING)) for s in (a, b) for _ in range(20)))
    assert sum(o.is_new for o in outcomes) == 1
    assert len(await a.flags()) == 1


async def test_an_edit_keeps_both_texts_and_updates_the_flag(service: ModerationService) -> None:
    clock: Clock = service.now  # type: ignore[assignment]
    first = await service.screen(msg("m1", SOURCING))
    clock.advance(minutes=5)
    edit = await service.screen(msg("m1", SOURCING_2, edited=True))
    assert not edit.is_new and edit.flag is not None and edit.stored
    assert edit.flag.id == first.flag.id  # type: ignore[union-attr]
    assert edit.flag.text == SOURCING_2 and edit.flag.original_text == SOURCING
    assert edit.flag.updated_at == T0 + timedelta(minutes=5) and edit.flag.created_at == T0
    clock.advance(minutes=5)
    await service.screen(msg("m1", "never mind, ignore that", edited=True))
    stored = await service.get_flag(edit.flag.id)
    # Still open, still showing what was flagged first.
    assert stored.status is FlagStatus.OPEN
    assert stored.text == "never mind, ignore that" and stored.original_text == SOURCING
    actions = [(e.action, e.actor_id) for e in await service.audit(stored.id)]
    assert actions == [("flagged", "dosewise"), ("edited", "u1"), ("edited", "u1")]
    assert "no longer matches" in (await service.audit(stored.id))[-1].note


async def test_an_edit_that_does_not_change_the_text_changes_nothing(service: ModerationService) -> None:
    await service.screen(msg("m1", SOURCING))
    outcome = await service.screen(msg("m1", SOURCING, edited=True))
    assert not outcome.is_new and outcome.flag is not None and outcome.flag.original_text == ""
    assert len(await service.audit(outcome.flag.id)) == 1


async def test_an_edit_of_a_clean_message_that_now_matches_creates_a_flag(service: ModerationService) -> None:
    clean = await service.screen(msg("m1", ORDINARY))
    assert clean.flag is None
    clean_edit = await service.screen(msg("m1", "day 3, mood is fine", edited=True))
    assert clean_edit.flag is None and await service.flags() == []
    outcome = await service.screen(msg("m1", SOURCING, edited=True))
    assert outcome.is_new and outcome.flag is not None and outcome.flag.text == SOURCING


async def test_hide_mode_and_act_threshold(open_service: Opener, tmp_path: Path) -> None:
    score = Detector.build().screen(SOURCING).score
    settings = Settings(
        policy=Policy(mode="review"),
        servers={
            "hide": Policy(mode="hide"),
            "act-low": Policy(act_threshold=0.5),
            "act-high": Policy(act_threshold=min(1.0, score + (1.0 - score) / 2 + 1e-9)),
        },
    )
    service = await open_service(settings)
    assert not (await service.screen(msg("a", SOURCING))).hide
    assert (await service.screen(msg("b", SOURCING, server="hide"))).hide
    assert (await service.screen(msg("c", SOURCING, server="act-low"))).hide
    high = await service.screen(msg("d", SOURCING, server="act-high"))
    assert high.verdict.flagged and high.hide is (score >= 1.0)
    assert not (await service.screen(msg("e", ORDINARY, server="hide"))).hide


async def test_per_server_allowlist_and_threshold(open_service: Opener) -> None:
    settings = Settings(
        servers={"allow": Policy(allowlist=(SOURCING,)), "strict": Policy(flag_threshold=1.0)},
    )
    service = await open_service(settings)
    assert (await service.screen(msg("a", SOURCING))).verdict.flagged
    allowed = await service.screen(msg("b", SOURCING, server="allow"))
    assert not allowed.verdict.flagged and allowed.flag is None
    strict = await service.screen(msg("c", SOURCING, server="strict"))
    assert strict.verdict.flagged is (strict.verdict.score >= 1.0)
    # Servers with the same screening policy share one compiled detector.
    assert service.detectors.for_server("x") is service.detectors.for_server("y")
    assert service.detectors.for_server("x") is not service.detectors.for_server("allow")


# -- reviews ---------------------------------------------------------------------------------------


async def test_actions_uphold_or_dismiss_and_tell_the_adapter_what_to_do(open_service: Opener) -> None:
    settings = Settings(policy=Policy(escalation=EscalationPolicy(upheld=99, timeout_minutes=15)))
    service = await open_service(settings)
    ids = []
    for i in range(6):
        flag = (await service.screen(msg(f"m{i}", SOURCING))).flag
        assert flag is not None
        ids.append(flag.id)
    dismiss = await service.review(ReviewRequest(ids[0], ModAction.DISMISS, MOD, note="harm reduction"))
    uphold = await service.review(ReviewRequest(ids[1], ModAction.UPHOLD, MOD))
    delete = await service.review(ReviewRequest(ids[2], ModAction.DELETE, MOD))
    timeout = await service.review(ReviewRequest(ids[3], ModAction.TIMEOUT, MOD))
    custom = await service.review(ReviewRequest(ids[4], ModAction.TIMEOUT, MOD, timeout_seconds=120))
    ban = await service.review(ReviewRequest(ids[5], ModAction.BAN, MOD, note="vendor"))
    assert dismiss.flag.status is FlagStatus.DISMISSED and not dismiss.delete_message
    assert uphold.flag.status is FlagStatus.UPHELD and not uphold.delete_message and not uphold.ban
    assert delete.delete_message and delete.flag.status is FlagStatus.UPHELD
    assert timeout.timeout_seconds == 15 * 60 and custom.timeout_seconds == 120
    assert ban.ban and ban.flag.status is FlagStatus.UPHELD and ban.flag.note == "vendor"
    stored = await service.get_flag(ids[0])
    assert stored.reviewed_by is not None and stored.reviewed_by.id == "m1"
    assert stored.action is ModAction.DISMISS and stored.note == "harm reduction" and stored.reviewed_at == T0
    last = (await service.audit(ids[5]))[-1]
    assert (last.action, last.actor_id, last.actor_name, last.note, last.at) == ("ban", "m1", "mod", "vendor", T0)
    assert await service.pending_flags() == []


async def test_non_moderator_is_refused_and_nothing_changes(service: ModerationService) -> None:
    flag = (await service.screen(msg("m1", SOURCING))).flag
    assert flag is not None
    before = (await service.get_flag(flag.id), await service.audit(flag.id))
    with pytest.raises(NotAModerator):
        await service.review(ReviewRequest(flag.id, ModAction.BAN, MEMBER))
    assert (await service.get_flag(flag.id), await service.audit(flag.id)) == before


async def test_unknown_flag(service: ModerationService) -> None:
    with pytest.raises(FlagNotFound) as err:
        await service.review(ReviewRequest(404, ModAction.DISMISS, MOD))
    assert "404" in err.value.user_message
    with pytest.raises(FlagNotFound):
        await service.get_flag(404)
    with pytest.raises(FlagNotFound):
        await service.record_alert(404, MessageRef("discord", "g1", "mod", "a1"))


async def test_second_review_is_refused_and_changes_nothing(service: ModerationService) -> None:
    flag = (await service.screen(msg("m1", SOURCING))).flag
    assert flag is not None
    await service.review(ReviewRequest(flag.id, ModAction.DELETE, MOD, note="first"))
    before = (await service.get_flag(flag.id), await service.audit(flag.id))
    with pytest.raises(FlagAlreadyReviewed) as err:
        await service.review(ReviewRequest(flag.id, ModAction.DISMISS, MOD2, note="second"))
    assert "upheld" in err.value.user_message and "mod" in err.value.user_message
    assert (await service.get_flag(flag.id), await service.audit(flag.id)) == before


async def test_two_moderators_at_once_exactly_one_wins(open_service: Opener) -> None:
    a, b = await open_service(), await open_service()  # two connections, as two processes would
    flag = (await a.screen(msg("m1", SOURCING))).flag
    assert flag is not None
    results = await asyncio.gather(
        a.review(ReviewRequest(flag.id, ModAction.BAN, MOD)),
        b.review(ReviewRequest(flag.id, ModAction.DISMISS, MOD2)),
        a.review(ReviewRequest(flag.id, ModAction.UPHOLD, MOD2)),
        return_exceptions=True,
    )
    winners = [r for r in results if not isinstance(r, BaseException)]
    losers = [r for r in results if isinstance(r, BaseException)]
    assert len(winners) == 1 and len(losers) == 2
    assert all(isinstance(e, FlagAlreadyReviewed) for e in losers)
    stored = await a.get_flag(flag.id)
    assert stored.action is winners[0].action  # type: ignore[union-attr]
    assert [e.action for e in await a.audit(flag.id)] == ["flagged", winners[0].action.value]  # type: ignore[union-attr]


async def test_record_alert_is_kept_for_editing_the_alert_later(service: ModerationService) -> None:
    flag = (await service.screen(msg("m1", SOURCING))).flag
    assert flag is not None
    alert = MessageRef("discord", "g1", "mod-queue", "a1", permalink="https://x/a1")
    await service.record_alert(flag.id, alert)
    assert (await service.get_flag(flag.id)).alert_ref == alert
    assert (await service.audit(flag.id))[-1].action == "alerted"


# -- reports ---------------------------------------------------------------------------------------


async def test_member_report_becomes_a_flag(service: ModerationService) -> None:
    message = msg("m1", "pm me if you want some, I have plenty")
    outcome = await service.report(ReportRequest(message, MEMBER, note="they messaged me too"))
    flag = outcome.flag
    assert outcome.is_new and outcome.stored and flag is not None
    assert flag.category == Category.REPORTED.value and flag.source is FlagSource.REPORT
    assert flag.reasons[0].rule == "member-report" and flag.reasons[0].signal == "reported by a member"
    assert flag.reporter is not None and flag.reporter.id == "u9"
    events = await service.audit(flag.id)
    assert [(e.action, e.actor_id, e.note) for e in events] == [("reported", "u9", "they messaged me too")]


async def test_report_of_a_flagged_message_adds_to_its_trail_not_a_second_flag(service: ModerationService) -> None:
    flagged = (await service.screen(msg("m1", SOURCING))).flag
    assert flagged is not None
    outcome = await service.report(ReportRequest(msg("m1", SOURCING), MEMBER))
    assert not outcome.is_new and outcome.flag is not None and outcome.flag.id == flagged.id
    assert outcome.flag.source is FlagSource.DETECTOR
    assert len(await service.flags()) == 1
    assert [e.action for e in await service.audit(flagged.id)] == ["flagged", "reported"]
    # And the other way round: a reported message that the detector then sees is not flagged twice.
    await service.report(ReportRequest(msg("m2", ORDINARY), MEMBER))
    again = await service.screen(msg("m2", ORDINARY))
    assert again.flag is None and len(await service.flags()) == 2


# -- escalation ------------------------------------------------------------------------------------


async def test_escalation_after_n_upheld_flags_within_the_window(open_service: Opener) -> None:
    clock = Clock()
    policy = Policy(escalation=EscalationPolicy(upheld=2, days=30, timeout_minutes=90))
    service = await open_service(
        Settings(policy=policy, servers={"g2": Policy(escalation=EscalationPolicy(upheld=2, apply=True))}), clock=clock
    )
    first = await service.screen(msg("m1", SOURCING))
    assert first.escalation is None and first.flag is not None
    assert (await service.review(ReviewRequest(first.flag.id, ModAction.UPHOLD, MOD))).escalation is None
    clock.advance(days=1)
    second = await service.screen(msg("m2", SOURCING))
    assert second.escalation is None and second.flag is not None
    review = await service.review(ReviewRequest(second.flag.id, ModAction.DELETE, MOD))
    assert review.escalation is not None and review.escalation.upheld == 2
    clock.advance(days=1)
    third = await service.screen(msg("m3", SOURCING))
    assert third.escalation is not None
    assert (third.escalation.upheld, third.escalation.window_days) == (2, 30)
    assert third.escalation.timeout_seconds == 90 * 60 and not third.escalation.apply
    # Another author, or a dismissed flag, does not count.
    other = await service.screen(msg("m4", SOURCING, author="u2"))
    assert other.escalation is None
    # Thirty days on, the old upholds have left the window.
    clock.advance(days=30)
    assert (await service.screen(msg("m5", SOURCING))).escalation is None


async def test_escalation_can_be_applied_when_configured(open_service: Opener) -> None:
    policy = Policy(escalation=EscalationPolicy(upheld=1, days=7, timeout_minutes=10, apply=True))
    service = await open_service(Settings(policy=policy))
    flag = (await service.screen(msg("m1", SOURCING))).flag
    assert flag is not None
    await service.review(ReviewRequest(flag.id, ModAction.UPHOLD, MOD))
    outcome = await service.screen(msg("m2", SOURCING))
    assert outcome.escalation is not None and outcome.escalation.apply
    assert outcome.escalation.timeout_seconds == 600


# -- retention -------------------------------------------------------------------------------------


async def test_retention_purges_text_but_keeps_metadata_and_audit(open_service: Opener) -> None:
    clock = Clock()
    service = await open_service(Settings(retention_days=30), clock=clock)
    old = (await service.screen(msg("m1", SOURCING))).flag
    await service.screen(msg("m1", SOURCING_2, edited=True))
    clock.advance(days=20)
    recent = (await service.screen(msg("m2", SOURCING))).flag
    assert old is not None and recent is not None
    await service.review(ReviewRequest(old.id, ModAction.DELETE, MOD, note="vendor"))
    assert await service.purge(T0 + timedelta(days=29)) == 0
    clock.advance(days=11)  # T0 + 31 days
    assert await service.purge() == 1
    purged = await service.get_flag(old.id)
    assert purged.text_purged and purged.text == "" and purged.original_text == ""
    assert all(r.match == "" for r in purged.reasons) and purged.reasons
    assert purged.status is FlagStatus.UPHELD and purged.note == "vendor" and purged.author.id == "u1"
    assert [e.action for e in await service.audit(old.id)] == ["flagged", "edited", "delete", "purge"]
    assert not (await service.get_flag(recent.id)).text_purged
    assert await service.purge() == 0


# -- an unavailable database -----------------------------------------------------------------------


async def test_locked_database_screening_still_answers_and_the_flag_lands_later(
    open_service: Opener, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="dosewise")
    path = tmp_path / "locked.db"
    service = await open_service(path=path, busy_timeout=0.02)
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        outcomes = [await service.screen(msg(f"m{i}", SOURCING)) for i in range(3)]
        edit = await service.screen(msg("m0", SOURCING_2, edited=True))
        clean = await service.screen(msg("m9", ORDINARY))
        for outcome in outcomes:
            assert outcome.verdict.flagged and outcome.is_new and not outcome.stored
            assert outcome.flag is not None and outcome.flag.id < 0 and outcome.flag.text == SOURCING
        assert not edit.stored and not edit.is_new and edit.flag is not None and edit.flag.id == outcomes[0].flag.id  # type: ignore[union-attr]
        assert edit.flag.original_text == SOURCING and edit.flag.text == SOURCING_2
        assert clean.stored and clean.flag is None
        first = outcomes[0].flag
        assert first is not None
        # The adapter posts the alert and records it before the flag is stored: kept until it lands.
        await service.record_alert(first.id, MessageRef("discord", "g1", "mod", "alert-1"))
        with pytest.raises(StoreUnavailable):
            await service.review(ReviewRequest(first.id, ModAction.DISMISS, MOD))
        assert len(service.queue) == 4
    finally:
        holder.execute("COMMIT")
        holder.close()
    assert await service.flush(within=30)
    flags = await service.flags(limit=1000)
    assert sorted(f.ref.message_id for f in flags) == ["m0", "m1", "m2"]
    landed = await service.get_flag(first.id)  # the provisional id still finds it
    assert landed.ref.message_id == "m0" and landed.id > 0
    assert landed.text == SOURCING_2 and landed.original_text == SOURCING  # the queued edit kept its order
    assert landed.alert_ref is not None and landed.alert_ref.message_id == "alert-1"
    await service.review(ReviewRequest(first.id, ModAction.DISMISS, MOD))
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1, [r.getMessage() for r in warnings]
    assert "locked" in warnings[0].getMessage() and str(path) in warnings[0].getMessage()


async def test_close_flushes_queued_flags(open_service: Opener, tmp_path: Path) -> None:
    path = tmp_path / "closing.db"
    service = await open_service(path=path, busy_timeout=0.02)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    outcome = await service.screen(msg("m1", SOURCING))
    assert not outcome.stored
    closing = asyncio.create_task(service.close(within=30))
    await asyncio.sleep(0)
    holder.execute("COMMIT")
    holder.close()
    await closing
    await service.store.close()
    reopened = await open_service(path=path)
    assert [f.ref.message_id for f in await reopened.flags()] == ["m1"]


async def test_close_gives_up_after_the_deadline_and_says_how_many_were_lost(
    open_service: Opener, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "stuck.db"
    service = await open_service(path=path, busy_timeout=0.01)
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        await service.screen(msg("m1", SOURCING))
        await service.screen(msg("m2", SOURCING))
        assert await service.queue.close(within=0.05) == 2
    finally:
        holder.execute("COMMIT")
        holder.close()
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors and "2 queued writes were not stored" in errors[-1]


async def test_a_report_while_the_database_is_locked_is_queued_too(open_service: Opener, tmp_path: Path) -> None:
    path = tmp_path / "report.db"
    service = await open_service(path=path, busy_timeout=0.02)
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        first = await service.report(ReportRequest(msg("m1", "ask me privately"), MEMBER, note="creepy"))
        second = await service.report(ReportRequest(msg("m1", "ask me privately"), UserRef("u8")))
        assert not first.stored and first.is_new and first.flag is not None and first.flag.id < 0
        assert not second.is_new and second.flag == first.flag
    finally:
        holder.execute("COMMIT")
        holder.close()
    assert await service.flush(within=30)
    flag = await service.get_flag(first.flag.id)
    assert flag.source is FlagSource.REPORT and flag.id > 0
    assert [(e.action, e.actor_id) for e in await service.audit(flag.id)] == [("reported", "u9"), ("reported", "u8")]
