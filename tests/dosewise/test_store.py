"""The flag store on real SQLite: files and `:memory:`, migrations, damage, atomic reviews, retention."""

from __future__ import annotations

import asyncio
import json
import shutil
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dosewise.errors import StoreError, StoreUnavailable
from dosewise.models import (
    Flag,
    FlagSource,
    FlagStatus,
    MessageRef,
    ModAction,
    Reason,
    UserRef,
)
from dosewise.store import Store, migrations, schema_version_known

DATA = Path(__file__).resolve().parents[1] / "data"
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
SYSTEM = UserRef(id="dosewise", name="Dosewise")
MOD = UserRef(id="m1", name="mod", is_moderator=True)


def make_flag(message_id: str = "m1", *, server: str = "g1", at: datetime = T0, author: str = "u1") -> Flag:
    return Flag(
        id=0,
        ref=MessageRef("discord", server, "c1", message_id, permalink=f"https://x/{message_id}"),
        author=UserRef(id=author, name="alice"),
        text="dm me for shrooms 🍄",
        score=0.9,
        category="offer",
        reasons=(
            Reason("offer-dm", "contact", (0, 5), "dm me"),
            Reason("lex-shroom", "substance", (10, 17), "shrooms"),
        ),
        source=FlagSource.DETECTOR,
        status=FlagStatus.OPEN,
        created_at=at,
        updated_at=at,
    )


async def insert(store: Store, flag: Flag) -> int:
    async with store.transaction() as tx:
        flag_id = await tx.insert_flag(flag)
        await tx.add_audit(flag_id, SYSTEM, "flagged", "", flag.created_at)
    return flag_id


@pytest.fixture(params=["file", "memory"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    path = tmp_path / "flags.db" if request.param == "file" else ":memory:"
    s = await Store.open(path)
    yield s
    await s.close()


async def test_new_store_has_the_latest_schema_and_round_trips_a_flag(store: Store) -> None:
    assert await store.schema_version() == schema_version_known() == len(migrations())
    flag_id = await insert(store, make_flag())
    got = await store.get_flag(flag_id)
    assert got is not None
    assert got.id == flag_id
    assert got.ref == make_flag().ref
    assert got.reasons == make_flag().reasons
    assert got.text == "dm me for shrooms 🍄"
    assert got.created_at == T0 and got.created_at.tzinfo is not None
    assert await store.find_flag(make_flag().ref) == got
    assert await store.get_flag(flag_id + 1) is None
    assert [e.action for e in await store.audit(flag_id)] == ["flagged"]


async def test_file_store_uses_wal_with_normal_sync_and_json_reasons(tmp_path: Path) -> None:
    path = tmp_path / "flags.db"
    s = await Store.open(path)
    await insert(s, make_flag())
    await s.close()
    raw = sqlite3.connect(path)
    try:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        reasons = json.loads(raw.execute("SELECT reasons FROM flags").fetchone()[0])
        assert reasons[0] == {"rule": "offer-dm", "signal": "contact", "span": [0, 5], "match": "dm me"}
    finally:
        raw.close()
    # synchronous is per connection: check the one the store configures.
    s = await Store.open(path)
    try:
        async with s.transaction() as tx:
            rows = await tx._conn.execute_fetchall("PRAGMA synchronous")
            assert next(iter(rows))[0] == 1  # NORMAL
    finally:
        await s.close()


async def test_one_flag_per_platform_channel_message(store: Store) -> None:
    await insert(store, make_flag("m1"))
    with pytest.raises(sqlite3.IntegrityError):
        await insert(store, make_flag("m1"))
    # Same message id in another channel or platform is another message.
    await insert(store, replace(make_flag("m1"), ref=MessageRef("slack", "g1", "c1", "m1")))
    assert len(await store.list_flags()) == 2


async def test_queue_query_uses_the_server_status_created_index(store: Store) -> None:
    async with store.transaction() as tx:
        plan = await tx._conn.execute_fetchall(
            "EXPLAIN QUERY PLAN SELECT * FROM flags WHERE server_id = ? AND status = ?"
            " ORDER BY created_at ASC, id ASC LIMIT 25",
            ("g1", "open"),
        )
    assert "flags_queue" in " ".join(str(tuple(r)) for r in plan)


async def test_listing_filters_orders_and_iterates_in_batches(store: Store) -> None:
    for i in range(7):
        await insert(store, make_flag(f"m{i}", server="g1" if i % 2 else "g2", at=T0 + timedelta(minutes=i)))
    open_g1 = await store.list_flags(FlagStatus.OPEN, "g1", 25, oldest_first=True)
    assert [f.ref.message_id for f in open_g1] == ["m1", "m3", "m5"]
    newest = await store.list_flags(None, None, 2)
    assert [f.ref.message_id for f in newest] == ["m6", "m5"]
    seen = [f.ref.message_id async for f in store.iter_flags(batch=3)]
    assert seen == [f"m{i}" for i in range(7)]
    assert [f.ref.message_id async for f in store.iter_flags(server_id="g2", batch=2)] == ["m0", "m2", "m4", "m6"]


async def test_resolve_is_conditional_so_only_one_review_wins(store: Store) -> None:
    flag_id = await insert(store, make_flag())
    async with store.transaction() as tx:
        assert await tx.resolve(flag_id, FlagStatus.UPHELD, ModAction.DELETE, MOD, "vendor", T0)
        assert not await tx.resolve(flag_id, FlagStatus.DISMISSED, ModAction.DISMISS, MOD, "", T0)
    flag = await store.get_flag(flag_id)
    assert flag is not None
    assert (flag.status, flag.action, flag.note) == (FlagStatus.UPHELD, ModAction.DELETE, "vendor")
    assert flag.reviewed_by is not None and flag.reviewed_by.id == "m1"


async def test_a_failed_transaction_changes_nothing(store: Store) -> None:
    with pytest.raises(RuntimeError):
        async with store.transaction() as tx:
            await tx.insert_flag(make_flag())
            raise RuntimeError("boom")
    assert await store.list_flags() == []


async def test_processed_events_drop_repeats(store: Store) -> None:
    async with store.transaction() as tx:
        assert await tx.mark_event("slack", "Ev1", T0)
        assert not await tx.mark_event("slack", "Ev1", T0)
        assert await tx.mark_event("discord", "Ev1", T0)
    assert await store.forget_events(T0 + timedelta(seconds=1)) == 2


async def test_purge_removes_text_and_matches_but_keeps_metadata_and_audit(store: Store) -> None:
    old = await insert(store, make_flag("old", at=T0 - timedelta(days=40)))
    new = await insert(store, make_flag("new", at=T0))
    n = await store.purge_text(T0 - timedelta(days=30), T0, SYSTEM, "retention")
    assert n == 1
    purged = await store.get_flag(old)
    kept = await store.get_flag(new)
    assert purged is not None and kept is not None
    assert purged.text_purged and purged.text == "" and purged.original_text == ""
    assert [r.match for r in purged.reasons] == ["", ""]
    assert [r.rule for r in purged.reasons] == ["offer-dm", "lex-shroom"]
    assert purged.author.id == "u1" and purged.score == 0.9 and purged.ref.message_id == "old"
    assert [e.action for e in await store.audit(old)] == ["flagged", "purge"]
    assert not kept.text_purged and kept.text
    assert await store.purge_text(T0 - timedelta(days=30), T0, SYSTEM, "retention") == 0
    stats = await store.stats()
    assert (stats.total, stats.open, stats.purged) == (2, 2, 1)


async def test_stats_per_day_and_dismissed_share(store: Store) -> None:
    ids = [await insert(store, make_flag(f"m{i}", at=T0 + timedelta(days=i // 2))) for i in range(4)]
    async with store.transaction() as tx:
        await tx.resolve(ids[0], FlagStatus.DISMISSED, ModAction.DISMISS, MOD, "", T0)
        await tx.resolve(ids[1], FlagStatus.UPHELD, ModAction.UPHOLD, MOD, "", T0)
        await tx.resolve(ids[2], FlagStatus.UPHELD, ModAction.BAN, MOD, "", T0)
    stats = await store.stats()
    assert [(d.day, d.flagged, d.dismissed) for d in stats.days] == [("2026-03-01", 2, 1), ("2026-03-02", 2, 0)]
    assert stats.dismissed_share == pytest.approx(1 / 3)
    assert (await store.stats("nowhere")).dismissed_share is None


async def test_upheld_count_for_escalation_is_per_author_and_window(store: Store) -> None:
    ids = [await insert(store, make_flag(f"m{i}", at=T0 - timedelta(days=i * 10))) for i in range(4)]
    await insert(store, make_flag("x", author="someone-else"))
    async with store.transaction() as tx:
        for flag_id in ids:
            await tx.resolve(flag_id, FlagStatus.UPHELD, ModAction.UPHOLD, MOD, "", T0)
    assert await store.count_upheld("discord", "g1", "u1", T0 - timedelta(days=25)) == 3
    assert await store.count_upheld("discord", "g1", "u1", T0 - timedelta(days=5)) == 1
    assert await store.count_upheld("slack", "g1", "u1", T0 - timedelta(days=50)) == 0


async def test_server_settings_round_trip(store: Store) -> None:
    await store.set_server_setting("discord", "g1", "mod_channel", "123", T0)
    await store.set_server_setting("discord", "g1", "mod_channel", "456", T0)
    await store.set_server_setting("discord", "g1", "allowlist", ["microdosing study"], T0)
    assert await store.server_settings("discord", "g1") == {
        "mod_channel": "456",
        "allowlist": ["microdosing study"],
    }


# -- migrations and damaged files ------------------------------------------------------------------


async def test_shipped_schema_1_database_upgrades_in_place(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    shutil.copy(DATA / "store_v1.sqlite", path)
    s = await Store.open(path)
    try:
        assert await s.schema_version() == schema_version_known()
        first = await s.get_flag(1)
        second = await s.get_flag(2)
        assert first is not None and second is not None
        assert first.text == "dm me for shrooms" and first.reasons[0].rule == "offer-dm"
        assert second.status is FlagStatus.UPHELD and second.original_text == "who has tabs"
        assert second.reviewed_by is not None and second.reviewed_by.name == "mod"
        assert [e.note for e in await s.audit(2)] == ["vendor"]
        # Schema 2 features work on the upgraded file.
        await s.set_server_setting("discord", "g1", "k", 1, T0)
        assert await s.count_upheld("slack", "T1", "U2", T0 - timedelta(days=365)) == 1
        new_id = await insert(s, make_flag("m9"))
        assert new_id == 3
    finally:
        await s.close()


async def test_database_made_with_only_migration_1_upgrades(tmp_path: Path) -> None:
    path = tmp_path / "v1.db"
    number, _, sql = migrations()[0]
    raw = sqlite3.connect(path, isolation_level=None)
    raw.executescript(f"BEGIN; {sql}; PRAGMA user_version = {number}; COMMIT;")
    raw.close()
    s = await Store.open(path)
    try:
        assert await s.schema_version() == schema_version_known()
        await insert(s, make_flag())
    finally:
        await s.close()
    raw = sqlite3.connect(path)
    try:
        names = {r[0] for r in raw.execute("SELECT name FROM sqlite_master")}
        assert {"server_settings", "flags_by_author", "flags_queue"} <= names
        assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        raw.close()


async def test_corrupt_file_gives_store_error_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "garbage.db"
    path.write_bytes(b"this is not a database at all" * 200)
    with pytest.raises(StoreError) as err:
        await Store.open(path)
    assert str(path) in err.value.user_message


async def test_newer_schema_gives_store_error_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "future.db"
    s = await Store.open(path)
    await s.close()
    raw = sqlite3.connect(path)
    raw.execute("PRAGMA user_version = 99")
    raw.close()
    with pytest.raises(StoreError) as err:
        await Store.open(path)
    assert str(path) in err.value.user_message
    assert "99" in err.value.user_message and "newer" in err.value.user_message


async def test_someone_elses_sqlite_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    raw = sqlite3.connect(path)
    raw.execute("CREATE TABLE t (x)")
    raw.commit()
    raw.close()
    with pytest.raises(StoreError, match="not a Dosewise database"):
        await Store.open(path)


async def test_unopenable_path_gives_store_error(tmp_path: Path) -> None:
    path = tmp_path / "missing-dir" / "x.db"
    with pytest.raises(StoreError) as err:
        await Store.open(path)
    assert str(path) in err.value.user_message


async def test_locked_database_raises_store_unavailable_then_recovers(tmp_path: Path) -> None:
    path = tmp_path / "locked.db"
    s = await Store.open(path, busy_timeout=0.01)
    other = sqlite3.connect(path, isolation_level=None)
    try:
        other.execute("BEGIN EXCLUSIVE")
        with pytest.raises(StoreUnavailable) as err:
            await insert(s, make_flag())
        assert str(path) in err.value.user_message and "locked" in err.value.user_message
        # Readers are not blocked in WAL mode.
        assert await s.list_flags() == []
        other.execute("COMMIT")
        assert await insert(s, make_flag()) == 1
    finally:
        other.close()
        await s.close()


async def test_concurrent_transactions_on_one_store_do_not_interleave(store: Store) -> None:
    async def add(i: int) -> int:
        return await insert(store, make_flag(f"m{i}"))

    ids = await asyncio.gather(*(add(i) for i in range(50)))
    assert sorted(ids) == list(range(1, 51))
    assert len(await store.list_flags(limit=None)) == 50


async def test_closed_store_says_so(tmp_path: Path) -> None:
    s = await Store.open(tmp_path / "x.db")
    await s.close()
    await s.close()
    with pytest.raises(StoreError, match="closed"):
        await s.list_flags()
