"""`BotCore` as an adapter uses it: open from Settings, screen, alert, review, report, purge at open, close."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dosewise.core import BotCore
from dosewise.errors import FlagAlreadyReviewed, NotAModerator, StoreError
from dosewise.models import (
    Flag,
    FlagStatus,
    IncomingMessage,
    MessageRef,
    ModAction,
    ReportRequest,
    ReviewRequest,
    UserRef,
)
from dosewise.settings import Settings

SOURCING = "got shrooms and tabs for sale, dm me on telegram @fungiplug, ships worldwide"
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
MOD = UserRef(id="m1", name="mod", is_moderator=True)


def message(message_id: str, text: str = SOURCING, server: str = "g1") -> IncomingMessage:
    return IncomingMessage(
        ref=MessageRef("slack", server, "C1", message_id),
        author=UserRef(id="U1", name="alice"),
        text=text,
        sent_at=T0,
    )


async def test_the_adapter_flow_on_a_real_file(tmp_path: Path) -> None:
    core = await BotCore.open(Settings(database=tmp_path / "bot.db"))
    try:
        outcome = await core.screen(message("1.1"))
        assert outcome.is_new and outcome.stored and outcome.flag is not None
        flag_id = outcome.flag.id
        await core.record_alert(flag_id, MessageRef("slack", "g1", "CMOD", "9.9"))
        assert [f.id for f in await core.pending_flags("g1")] == [flag_id]
        with pytest.raises(NotAModerator):
            await core.review(ReviewRequest(flag_id, ModAction.BAN, UserRef("U2")))
        review = await core.review(ReviewRequest(flag_id, ModAction.DELETE, MOD, note="vendor"))
        assert review.delete_message and review.flag.status is FlagStatus.UPHELD
        assert review.flag.alert_ref is not None and review.flag.alert_ref.message_id == "9.9"
        with pytest.raises(FlagAlreadyReviewed):
            await core.review(ReviewRequest(flag_id, ModAction.DISMISS, MOD))
        report = await core.report(ReportRequest(message("2.2", "ask me privately"), UserRef("U3", "bob")))
        assert report.is_new and report.flag is not None and report.flag.category == "reported"
        assert [f.id for f in await core.flags(FlagStatus.UPHELD)] == [flag_id]
        assert (await core.get_flag(flag_id)).note == "vendor"
        assert [e.action for e in await core.audit(flag_id)] == ["flagged", "alerted", "delete"]
        stats = await core.stats()
        assert (stats.total, stats.upheld, stats.open) == (2, 1, 1)
        assert await core.flush(within=1)
    finally:
        await core.close()
    await core.close()  # idempotent


async def test_retention_runs_at_open_and_on_demand(tmp_path: Path) -> None:
    settings = Settings(database=tmp_path / "bot.db", retention_days=30)
    core = await BotCore.open(settings, now=lambda: T0)
    try:
        await core.screen(message("1.1"))
        assert await core.purge(T0 + timedelta(days=10)) == 0
    finally:
        await core.close()
    later = await BotCore.open(settings, now=lambda: T0 + timedelta(days=31))
    try:
        flag = await later.get_flag(1)
        assert flag.text_purged and flag.text == ""
        assert (await later.audit(1))[-1].action == "purge"
    finally:
        await later.close()


async def test_a_damaged_database_stops_startup_with_the_file_named(tmp_path: Path) -> None:
    db = tmp_path / "bot.db"
    db.write_bytes(b"\x00garbage" * 1000)
    with pytest.raises(StoreError) as err:
        await BotCore.open(Settings(database=db))
    assert str(db) in err.value.user_message


async def test_in_memory_store(tmp_path: Path) -> None:
    core = await BotCore.open(Settings(database=Path(":memory:")))
    try:
        assert (await core.screen(message("1"))).is_new
        assert len(await core.pending_flags()) == 1
    finally:
        await core.close()


async def test_a_locked_database_at_startup_does_not_stop_the_bot(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(database=tmp_path / "bot.db")
    core = await BotCore.open(settings, now=lambda: T0)
    await core.screen(message("1.1"))
    await core.close()
    holder = sqlite3.connect(settings.database, isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        core = await BotCore.open(settings, now=lambda: T0 + timedelta(days=60), busy_timeout=0.01)
    finally:
        holder.execute("COMMIT")
        holder.close()
    try:
        assert any("retention purge skipped" in r.getMessage() for r in caplog.records)
        assert not (await core.get_flag(1)).text_purged
        assert await core.purge() == 1
    finally:
        await core.close()


async def test_purged_alerts_are_cleared_once_and_retried_after_a_failure(tmp_path: Path) -> None:
    core = await BotCore.open(Settings(database=tmp_path / "bot.db"), now=lambda: T0)
    seen: list[tuple[int, bool]] = []
    failing = True

    async def clear(flag: Flag) -> bool:
        seen.append((flag.id, flag.text_purged))
        return not failing

    try:
        first = (await core.screen(message("1.1"))).flag
        second = (await core.screen(message("1.2"))).flag
        assert first is not None and second is not None
        await core.record_alert(first.id, MessageRef("slack", "g1", "CMOD", "9.1"))
        # The second flag never got an alert: nothing to clear for it.
        assert await core.purge(T0 + timedelta(days=31)) == 2
        core.attach_alert_clearer("slack", clear)
        await core.moderation.idle()
        assert seen == [(first.id, True)]
        failing = False
        assert await core.moderation.clear_purged_alerts() == 1
        assert await core.moderation.clear_purged_alerts() == 0
        assert seen == [(first.id, True), (first.id, True)]
        assert (await core.stats()).purged == 2
    finally:
        await core.close()
