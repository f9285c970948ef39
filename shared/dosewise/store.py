"""The flag store: aiosqlite on one SQLite file (WAL, synchronous=NORMAL) with numbered SQL migrations.

One connection serves the process; an asyncio lock makes every transaction run alone on it, and writes
take the database lock up front (`BEGIN IMMEDIATE`) so two processes never deadlock upgrading a read lock.
"""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

import aiosqlite

from dosewise.errors import StoreError, StoreUnavailable
from dosewise.models import AuditEvent, Flag, FlagStatus, MessageRef, ModAction, UserRef
from dosewise.store_rows import (
    FLAG_COLUMNS,
    audit_from_row,
    flag_from_row,
    flag_values,
    reasons_to_json,
    scrub_reasons,
    to_db_time,
)

APPLICATION_ID = 1148154725  # 'Dose', set by migration 0001
# flags.text_purged: 0 text kept; 1 purged; 2 purged, but the moderators' alert may still show the text
# (an adapter edits it and sets 1, so retention also reaches what was posted to the mod channel).
TEXT_PURGED = 1
TEXT_PURGED_ALERT_PENDING = 2
_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
_INSERT_FLAG = f"INSERT INTO flags ({', '.join(FLAG_COLUMNS)}) VALUES ({', '.join('?' * len(FLAG_COLUMNS))})"


def migrations() -> list[tuple[int, str, str]]:
    """The shipped migrations as (number, file name, SQL), numbered 1..N without gaps."""
    folder = resources.files("dosewise").joinpath("migrations")
    found = []
    for entry in folder.iterdir():
        m = _MIGRATION_NAME.match(entry.name)
        if m:
            found.append((int(m.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    found.sort()
    numbers = [n for n, _, _ in found]
    if numbers != list(range(1, len(found) + 1)):
        raise StoreError(f"dosewise/migrations: numbering must run 1..N without gaps, found {numbers}")
    return found


def schema_version_known() -> int:
    """The schema version this code creates and understands."""
    return len(migrations())


@dataclass(frozen=True, slots=True)
class DayStats:
    """Flags raised on one UTC day and what became of them."""

    day: str
    flagged: int
    open: int
    upheld: int
    dismissed: int


@dataclass(frozen=True, slots=True)
class FlagStats:
    """Totals for the store: counts by status, per day, and the share of reviewed flags dismissed."""

    total: int
    open: int
    upheld: int
    dismissed: int
    purged: int
    days: tuple[DayStats, ...]

    @property
    def dismissed_share(self) -> float | None:
        """Dismissed / reviewed: the false-positive rate moderators experience (None before any review)."""
        reviewed = self.upheld + self.dismissed
        return self.dismissed / reviewed if reviewed else None


class Transaction:
    """The statements a write transaction may run; obtained from `Store.transaction()`."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def mark_event(self, platform: str, event_id: str, at: datetime) -> bool:
        """Record a platform delivery id; False when it was already processed (a retried delivery)."""
        cur = await self._conn.execute(
            "INSERT OR IGNORE INTO processed_events (platform, event_id, seen_at) VALUES (?, ?, ?)",
            (platform, event_id, to_db_time(at)),
        )
        await cur.close()
        return cur.rowcount == 1

    async def find_flag(self, ref: MessageRef) -> Flag | None:
        """The flag of a message, if any."""
        return await _find_flag(self._conn, ref)

    async def get_flag(self, flag_id: int) -> Flag | None:
        """A flag by id, if any."""
        return await _get_flag(self._conn, flag_id)

    async def insert_flag(self, flag: Flag) -> int:
        """Insert a new flag (its `id` is ignored) and return the id SQLite gave it."""
        row = await self._conn.execute_insert(_INSERT_FLAG, flag_values(flag))
        assert row is not None  # last_insert_rowid() always answers
        return int(row[0])

    async def update_text(self, flag: Flag) -> None:
        """Store an edit: current and original text, score, reasons, category, updated_at."""
        await self._conn.execute(
            "UPDATE flags SET text = ?, original_text = ?, score = ?, reasons = ?, category = ?,"
            " updated_at = ? WHERE id = ?",
            (
                flag.text,
                flag.original_text,
                flag.score,
                reasons_to_json(flag.reasons),
                flag.category,
                to_db_time(flag.updated_at),
                flag.id,
            ),
        )

    async def resolve(
        self, flag_id: int, status: FlagStatus, action: ModAction, by: UserRef, note: str, at: datetime
    ) -> bool:
        """Close an open flag; False when it was no longer open (someone else reviewed it first)."""
        when = to_db_time(at)
        cur = await self._conn.execute(
            "UPDATE flags SET status = ?, action = ?, reviewed_by_id = ?, reviewed_by_name = ?,"
            " reviewed_at = ?, note = ?, updated_at = ? WHERE id = ? AND status = 'open'",
            (status.value, action.value, by.id, by.name, when, note, when, flag_id),
        )
        await cur.close()
        return cur.rowcount == 1

    async def set_alert(self, flag_id: int, alert: MessageRef, at: datetime) -> bool:
        """Remember where the moderator alert of a flag was posted; False when there is no such flag."""
        cur = await self._conn.execute(
            "UPDATE flags SET alert_platform = ?, alert_server_id = ?, alert_channel_id = ?,"
            " alert_message_id = ?, alert_permalink = ?, updated_at = ? WHERE id = ?",
            (
                alert.platform,
                alert.server_id,
                alert.channel_id,
                alert.message_id,
                alert.permalink,
                to_db_time(at),
                flag_id,
            ),
        )
        await cur.close()
        return cur.rowcount == 1

    async def add_audit(self, flag_id: int, actor: UserRef, action: str, note: str, at: datetime) -> None:
        """Append an audit event to a flag's trail."""
        await self._conn.execute(
            "INSERT INTO audit_events (flag_id, actor_id, actor_name, action, note, at) VALUES (?, ?, ?, ?, ?, ?)",
            (flag_id, actor.id, actor.name, action, note, to_db_time(at)),
        )


class Store:
    """Persistent flags, audit trail, processed deliveries and per-server settings."""

    def __init__(self, conn: aiosqlite.Connection, path: str) -> None:
        self._conn = conn
        self.path = path
        self._lock = asyncio.Lock()
        self._closed = False

    @classmethod
    async def open(cls, path: str | Path, *, busy_timeout: float = 1.0) -> Store:
        """Open (creating or migrating) a store; `:memory:` gives a private in-memory one."""
        name = str(path)
        try:
            conn = await aiosqlite.connect(name, isolation_level=None, timeout=busy_timeout)
        except sqlite3.Error as exc:
            raise StoreError(f"{name}: cannot open the database: {exc}") from None
        store = cls(conn, name)
        try:
            conn.row_factory = sqlite3.Row
            await store._configure()
            await store._migrate()
        except BaseException as exc:
            await conn.close()
            if isinstance(exc, sqlite3.Error):
                raise StoreError(f"{name}: cannot use the database: {exc}") from None
            raise
        return store

    async def _configure(self) -> None:
        # The first read fails here on a file that is not a database, before anything is written.
        await self._conn.execute_fetchall("SELECT count(*) FROM sqlite_master")
        if self.path != ":memory:":
            rows = await self._conn.execute_fetchall("PRAGMA journal_mode = WAL")
            mode = next(iter(rows))[0]
            if mode != "wal":
                raise StoreError(f"{self.path}: cannot switch the database to WAL mode (got {mode})")
        # NORMAL is durable against process crashes in WAL mode and ten times faster than FULL.
        await self._conn.execute("PRAGMA synchronous = NORMAL")
        await self._conn.execute("PRAGMA foreign_keys = ON")

    async def _migrate(self) -> None:
        known = migrations()
        version = await self._pragma_int("user_version")
        if version > len(known):
            raise StoreError(
                f"{self.path}: schema version {version} is newer than this Dosewise knows"
                f" ({len(known)}); upgrade Dosewise or use another database"
            )
        if version == 0:
            rows = await self._conn.execute_fetchall(
                "SELECT count(*) FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'"
            )
            if next(iter(rows))[0]:
                raise StoreError(f"{self.path}: not a Dosewise database (it has other tables)")
        elif await self._pragma_int("application_id") != APPLICATION_ID:
            raise StoreError(f"{self.path}: not a Dosewise database (unknown application id)")
        for number, filename, sql in known[version:]:
            # Another process may be migrating the same file: take the write lock, then look again.
            await self._conn.execute("BEGIN IMMEDIATE")
            try:
                if await self._pragma_int("user_version") >= number:
                    await self._conn.execute("ROLLBACK")
                    continue
                for statement in _statements(sql):
                    await self._conn.execute(statement)
                await self._conn.execute(f"PRAGMA user_version = {number}")
                await self._conn.execute("COMMIT")
            except BaseException as exc:
                await self._conn.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error):
                    raise StoreError(f"{self.path}: migration {filename} failed: {exc}") from None
                raise

    async def _pragma_int(self, name: str) -> int:
        rows = await self._conn.execute_fetchall(f"PRAGMA {name}")
        return int(next(iter(rows))[0])

    async def schema_version(self) -> int:
        """The schema version of the open database."""
        async with self._reading() as conn:
            rows = await conn.execute_fetchall("PRAGMA user_version")
            return int(next(iter(rows))[0])

    async def close(self) -> None:
        """Close the connection (idempotent)."""
        if self._closed:
            return
        self._closed = True
        async with self._lock:
            await self._conn.close()

    # -- transactions ------------------------------------------------------------------------------

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        """A write transaction: committed when the block ends, rolled back if it raises.

        Raises StoreUnavailable when the database is locked or cannot be written (the caller may retry)
        and StoreError when it is unusable.
        """
        async with self._reading() as conn:
            await conn.execute("BEGIN IMMEDIATE")
            try:
                yield Transaction(conn)
                await conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    await conn.execute("ROLLBACK")
                raise

    @asynccontextmanager
    async def _reading(self) -> AsyncIterator[aiosqlite.Connection]:
        if self._closed:
            raise StoreError(f"{self.path}: the store is closed")
        async with self._lock:
            try:
                yield self._conn
            except sqlite3.OperationalError as exc:
                raise StoreUnavailable(f"{self.path}: the database is unavailable: {exc}") from exc
            except sqlite3.IntegrityError:
                raise
            except sqlite3.DatabaseError as exc:
                raise StoreError(f"{self.path}: the database is damaged: {exc}") from exc

    # -- reads -------------------------------------------------------------------------------------

    async def get_flag(self, flag_id: int) -> Flag | None:
        """A flag by id, or None."""
        async with self._reading() as conn:
            return await _get_flag(conn, flag_id)

    async def find_flag(self, ref: MessageRef) -> Flag | None:
        """The flag of a message (platform, channel, message), or None."""
        async with self._reading() as conn:
            return await _find_flag(conn, ref)

    async def list_flags(
        self,
        status: FlagStatus | None = None,
        server_id: str | None = None,
        limit: int | None = 100,
        oldest_first: bool = False,
    ) -> list[Flag]:
        """Flags filtered by status and server, newest first unless `oldest_first`."""
        where, params = _filters(status, server_id)
        order = "ASC" if oldest_first else "DESC"
        sql = f"SELECT * FROM flags{where} ORDER BY created_at {order}, id {order}"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        async with self._reading() as conn:
            rows = await conn.execute_fetchall(sql, params)
        return [flag_from_row(r) for r in rows]

    async def iter_flags(
        self, status: FlagStatus | None = None, server_id: str | None = None, batch: int = 1000
    ) -> AsyncIterator[Flag]:
        """Every matching flag in id order, fetched in batches (for exports of any size)."""
        last = 0
        while True:
            where, params = _filters(status, server_id)
            where = f"{where} AND id > ?" if where else " WHERE id > ?"
            async with self._reading() as conn:
                rows = list(
                    await conn.execute_fetchall(
                        f"SELECT * FROM flags{where} ORDER BY id LIMIT ?", [*params, last, batch]
                    )
                )
            for row in rows:
                yield flag_from_row(row)
            if len(rows) < batch:
                return
            last = rows[-1]["id"]

    async def audit(self, flag_id: int) -> list[AuditEvent]:
        """The audit trail of a flag, oldest first."""
        async with self._reading() as conn:
            rows = await conn.execute_fetchall("SELECT * FROM audit_events WHERE flag_id = ? ORDER BY id", (flag_id,))
        return [audit_from_row(r) for r in rows]

    async def count_upheld(self, platform: str, server_id: str, author_id: str, since: datetime) -> int:
        """Upheld flags of one author in one server created at or after `since`."""
        async with self._reading() as conn:
            rows = await conn.execute_fetchall(
                "SELECT count(*) FROM flags WHERE server_id = ? AND author_id = ? AND status = 'upheld'"
                " AND created_at >= ? AND platform = ?",
                (server_id, author_id, to_db_time(since), platform),
            )
        return int(next(iter(rows))[0])

    async def stats(self, server_id: str | None = None) -> FlagStats:
        """Counts by status and per UTC day (from the stored creation time)."""
        where, params = _filters(None, server_id)
        async with self._reading() as conn:
            days = await conn.execute_fetchall(
                "SELECT substr(created_at, 1, 10) AS day, count(*),"
                " sum(status = 'open'), sum(status = 'upheld'), sum(status = 'dismissed')"
                f" FROM flags{where} GROUP BY day ORDER BY day",
                params,
            )
            purged_rows = await conn.execute_fetchall(
                f"SELECT count(*) FROM flags{where}{' AND' if where else ' WHERE'} text_purged != 0", params
            )
        per_day = tuple(DayStats(d[0], d[1], d[2], d[3], d[4]) for d in days)
        return FlagStats(
            total=sum(d.flagged for d in per_day),
            open=sum(d.open for d in per_day),
            upheld=sum(d.upheld for d in per_day),
            dismissed=sum(d.dismissed for d in per_day),
            purged=int(next(iter(purged_rows))[0]),
            days=per_day,
        )

    async def server_settings(self, platform: str, server_id: str) -> dict[str, Any]:
        """Settings a server changed at run time (key → JSON value)."""
        async with self._reading() as conn:
            rows = await conn.execute_fetchall(
                "SELECT key, value FROM server_settings WHERE platform = ? AND server_id = ?",
                (platform, server_id),
            )
        return {r["key"]: json.loads(r["value"]) for r in rows}

    async def all_server_settings(self) -> dict[str, dict[str, Any]]:
        """Every server's run-time settings (server id → key → JSON value), whatever the platform."""
        async with self._reading() as conn:
            rows = await conn.execute_fetchall(
                "SELECT server_id, key, value FROM server_settings ORDER BY platform, server_id, key"
            )
        found: dict[str, dict[str, Any]] = {}
        for r in rows:
            found.setdefault(r["server_id"], {})[r["key"]] = json.loads(r["value"])
        return found

    # -- maintenance -------------------------------------------------------------------------------

    async def set_server_setting(self, platform: str, server_id: str, key: str, value: Any, at: datetime) -> None:
        """Store one run-time setting of a server."""
        async with self.transaction() as tx:
            await tx._conn.execute(
                "INSERT INTO server_settings (platform, server_id, key, value, updated_at)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (platform, server_id, key)"
                " DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                (platform, server_id, key, json.dumps(value), to_db_time(at)),
            )

    async def delete_server_setting(self, platform: str, server_id: str, key: str) -> bool:
        """Forget one run-time setting of a server; False if it was not set."""
        async with self.transaction() as tx:
            cursor = await tx._conn.execute(
                "DELETE FROM server_settings WHERE platform = ? AND server_id = ? AND key = ?",
                (platform, server_id, key),
            )
            return cursor.rowcount > 0

    async def purge_text(self, before: datetime, now: datetime, actor: UserRef, note: str) -> int:
        """Remove message text (and matched snippets) of flags created before `before`; keep metadata."""
        purged = 0
        while True:
            # Batches keep each transaction short, so screening is never blocked for long.
            async with self.transaction() as tx:
                rows = list(
                    await tx._conn.execute_fetchall(
                        "SELECT id, reasons FROM flags WHERE text_purged = 0 AND created_at < ?"
                        " ORDER BY created_at LIMIT 500",
                        (to_db_time(before),),
                    )
                )
                when = to_db_time(now)
                await tx._conn.executemany(
                    "UPDATE flags SET text = '', original_text = '', reasons = ?, updated_at = ?,"
                    f" text_purged = CASE WHEN alert_message_id IS NULL THEN {TEXT_PURGED}"
                    f" ELSE {TEXT_PURGED_ALERT_PENDING} END WHERE id = ?",
                    [(scrub_reasons(r["reasons"]), when, r["id"]) for r in rows],
                )
                await tx._conn.executemany(
                    "INSERT INTO audit_events (flag_id, actor_id, actor_name, action, note, at)"
                    " VALUES (?, ?, ?, 'purge', ?, ?)",
                    [(r["id"], actor.id, actor.name, note, when) for r in rows],
                )
            purged += len(rows)
            if len(rows) < 500:
                return purged

    async def purged_alerts(self, platform: str, limit: int = 100) -> list[Flag]:
        """Flags whose text is purged but whose alert on `platform` may still show it, oldest first."""
        async with self._reading() as conn:
            rows = await conn.execute_fetchall(
                "SELECT * FROM flags WHERE text_purged = ? AND alert_platform = ? ORDER BY created_at LIMIT ?",
                (TEXT_PURGED_ALERT_PENDING, platform, limit),
            )
        return [flag_from_row(r) for r in rows]

    async def alert_cleared(self, flag_id: int) -> None:
        """Note that a purged flag's alert no longer shows the message text."""
        async with self.transaction() as tx:
            await tx._conn.execute(
                "UPDATE flags SET text_purged = ? WHERE id = ? AND text_purged = ?",
                (TEXT_PURGED, flag_id, TEXT_PURGED_ALERT_PENDING),
            )

    async def forget_events(self, before: datetime) -> int:
        """Drop processed delivery ids older than `before` (platforms stop retrying within minutes)."""
        async with self.transaction() as tx:
            cur = await tx._conn.execute("DELETE FROM processed_events WHERE seen_at < ?", (to_db_time(before),))
            await cur.close()
            return cur.rowcount


async def _get_flag(conn: aiosqlite.Connection, flag_id: int) -> Flag | None:
    rows = list(await conn.execute_fetchall("SELECT * FROM flags WHERE id = ?", (flag_id,)))
    return flag_from_row(rows[0]) if rows else None


async def _find_flag(conn: aiosqlite.Connection, ref: MessageRef) -> Flag | None:
    rows = list(
        await conn.execute_fetchall(
            "SELECT * FROM flags WHERE platform = ? AND channel_id = ? AND message_id = ?",
            (ref.platform, ref.channel_id, ref.message_id),
        )
    )
    return flag_from_row(rows[0]) if rows else None


def _filters(status: FlagStatus | None, server_id: str | None) -> tuple[str, list[Any]]:
    clauses, params = [], []
    if server_id is not None:
        clauses.append("server_id = ?")
        params.append(server_id)
    if status is not None:
        clauses.append("status = ?")
        params.append(FlagStatus(status).value)
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), params


def _statements(sql: str) -> Sequence[str]:
    """Split a migration into statements (sqlite3.complete_statement handles quotes and comments)."""
    out, current = [], ""
    for line in sql.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            if current.strip():
                out.append(current.strip())
            current = ""
    if current.strip() and not _only_comments(current):
        out.append(current.strip())
    return out


def _only_comments(text: str) -> bool:
    return all(not line.strip() or line.strip().startswith("--") for line in text.splitlines())
