"""Conversion between stored SQLite rows and the model objects: times, reasons as JSON, flags, audit."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from typing import Any

from dosewise.models import (
    AuditEvent,
    Flag,
    FlagSource,
    FlagStatus,
    MessageRef,
    ModAction,
    Reason,
    UserRef,
)

# Columns written when a flag is inserted, in order (id is chosen by SQLite).
FLAG_COLUMNS = (
    "platform",
    "server_id",
    "channel_id",
    "message_id",
    "permalink",
    "author_id",
    "author_name",
    "text",
    "original_text",
    "score",
    "category",
    "reasons",
    "source",
    "status",
    "created_at",
    "updated_at",
    "reporter_id",
    "reporter_name",
    "note",
)


def to_db_time(value: datetime) -> str:
    """Encode an aware datetime as fixed-width UTC ISO text, which sorts in time order."""
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r}: Dosewise stores aware UTC times only")
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def from_db_time(value: str) -> datetime:
    """Decode a stored time."""
    return datetime.fromisoformat(value).astimezone(UTC)


def reasons_to_json(reasons: tuple[Reason, ...]) -> str:
    """Encode reasons as a JSON list of objects (readable with `sqlite3` and `jq`)."""
    return json.dumps(
        [{"rule": r.rule, "signal": r.signal, "span": list(r.span), "match": r.match} for r in reasons],
        ensure_ascii=False,
    )


def reasons_from_json(value: str) -> tuple[Reason, ...]:
    """Decode stored reasons."""
    items: list[dict[str, Any]] = json.loads(value or "[]")
    return tuple(
        Reason(
            rule=str(i.get("rule", "")),
            signal=str(i.get("signal", "")),
            span=(int(i["span"][0]), int(i["span"][1])) if i.get("span") else (0, 0),
            match=str(i.get("match", "")),
        )
        for i in items
    )


def flag_values(flag: Flag) -> tuple[Any, ...]:
    """The values of FLAG_COLUMNS for a new flag."""
    return (
        flag.ref.platform,
        flag.ref.server_id,
        flag.ref.channel_id,
        flag.ref.message_id,
        flag.ref.permalink,
        flag.author.id,
        flag.author.name,
        flag.text,
        flag.original_text,
        flag.score,
        flag.category,
        reasons_to_json(flag.reasons),
        flag.source.value,
        flag.status.value,
        to_db_time(flag.created_at),
        to_db_time(flag.updated_at),
        flag.reporter.id if flag.reporter else None,
        flag.reporter.name if flag.reporter else None,
        flag.note,
    )


def flag_from_row(row: sqlite3.Row) -> Flag:
    """Build a Flag from a `SELECT * FROM flags` row."""
    alert = None
    if row["alert_message_id"] is not None:
        alert = MessageRef(
            platform=row["alert_platform"],
            server_id=row["alert_server_id"],
            channel_id=row["alert_channel_id"],
            message_id=row["alert_message_id"],
            permalink=row["alert_permalink"] or "",
        )
    reporter = None
    if row["reporter_id"] is not None:
        reporter = UserRef(id=row["reporter_id"], name=row["reporter_name"] or "")
    reviewer = None
    if row["reviewed_by_id"] is not None:
        reviewer = UserRef(id=row["reviewed_by_id"], name=row["reviewed_by_name"] or "", is_moderator=True)
    return Flag(
        id=row["id"],
        ref=MessageRef(
            platform=row["platform"],
            server_id=row["server_id"],
            channel_id=row["channel_id"],
            message_id=row["message_id"],
            permalink=row["permalink"],
        ),
        author=UserRef(id=row["author_id"], name=row["author_name"]),
        text=row["text"],
        score=row["score"],
        category=row["category"],
        reasons=reasons_from_json(row["reasons"]),
        source=FlagSource(row["source"]),
        status=FlagStatus(row["status"]),
        created_at=from_db_time(row["created_at"]),
        updated_at=from_db_time(row["updated_at"]),
        original_text=row["original_text"],
        reporter=reporter,
        reviewed_by=reviewer,
        reviewed_at=from_db_time(row["reviewed_at"]) if row["reviewed_at"] else None,
        action=ModAction(row["action"]) if row["action"] else None,
        note=row["note"],
        alert_ref=alert,
        text_purged=bool(row["text_purged"]),
    )


def audit_from_row(row: sqlite3.Row) -> AuditEvent:
    """Build an AuditEvent from a `SELECT * FROM audit_events` row."""
    return AuditEvent(
        id=row["id"],
        flag_id=row["flag_id"],
        actor_id=row["actor_id"],
        actor_name=row["actor_name"],
        action=row["action"],
        note=row["note"],
        at=from_db_time(row["at"]),
    )


def scrub_reasons(value: str) -> str:
    """Drop the matched text from stored reasons (it is a piece of the message); keep rule and span."""
    return reasons_to_json(
        tuple(Reason(rule=r.rule, signal=r.signal, span=r.span, match="") for r in reasons_from_json(value))
    )
