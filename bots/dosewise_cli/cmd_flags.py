"""`dosewise flags …`: list, show, resolve, export, stats and purge flags in the store, for operators."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import json
import re
import sys
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any, TextIO

from dosewise.errors import InputError, StoreError
from dosewise.models import Flag, FlagStatus, ModAction, ReviewRequest, UserRef
from dosewise.moderation import ModerationService
from dosewise.server_detectors import ServerDetectors
from dosewise.settings import Settings
from dosewise.store import Store
from dosewise.store_rows import to_db_time
from dosewise_cli.options import settings_from, store_subcommand

_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]")
EXPORT_FIELDS = (
    "id",
    "status",
    "platform",
    "server_id",
    "channel_id",
    "message_id",
    "permalink",
    "author_id",
    "author_name",
    "score",
    "category",
    "source",
    "reasons",
    "text",
    "original_text",
    "text_purged",
    "created_at",
    "updated_at",
    "reporter",
    "reviewed_by",
    "reviewed_at",
    "action",
    "note",
)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `flags` command group."""
    flags = sub.add_parser("flags", help="review and manage flagged messages in the store")
    actions = flags.add_subparsers(dest="flags_command", metavar="ACTION", required=True)

    def action(name: str, help_text: str, func: Callable[[argparse.Namespace], int]) -> argparse.ArgumentParser:
        return store_subcommand(actions, name, help_text, func)

    statuses = [s.value for s in FlagStatus]
    ls = action("list", "list flags, newest first", list_command)
    ls.add_argument("--status", choices=statuses, help="only flags with this status")
    ls.add_argument("--server", help="only flags from this server / workspace id")
    ls.add_argument("--limit", type=int, default=50, help="at most this many (default 50)")
    ls.add_argument("--format", choices=("table", "jsonl"), default="table")

    show = action("show", "one flag with both texts, its reasons and audit trail", show_command)
    show.add_argument("id", type=int)

    resolve = action("resolve", "review a flag as a moderator", resolve_command)
    resolve.add_argument("id", type=int)
    resolve.add_argument("--action", required=True, choices=[a.value for a in ModAction])
    resolve.add_argument("--note", default="", help="why (kept in the audit trail)")
    resolve.add_argument(
        "--moderator", required=True, type=_moderator_name, help="who is deciding (recorded in the audit trail)"
    )
    resolve.add_argument("--timeout-seconds", type=int, default=None, help="for --action timeout")

    export = action("export", "every flag as CSV or JSON lines", export_command)
    export.add_argument("--format", choices=("csv", "jsonl"), default="csv")
    export.add_argument("--status", choices=statuses)
    export.add_argument("--server")
    export.add_argument("--output", "-o", help="write to this file instead of standard output")

    stats = action("stats", "flags per day and the share dismissed (false positives moderators see)", stats_command)
    stats.add_argument("--server")

    action("purge", "apply retention now: remove message text older than retention_days", purge_command)


# -- commands ---------------------------------------------------------------------------------------


def list_command(args: argparse.Namespace) -> int:
    """Print flags as a table or JSON lines."""

    async def go(service: ModerationService) -> None:
        status = FlagStatus(args.status) if args.status else None
        flags = await service.flags(status, args.server, max(args.limit, 0))
        if args.format == "jsonl":
            for flag in flags:
                print(json.dumps(flag_record(flag), ensure_ascii=False))
            return
        rows = [
            (
                str(f.id),
                f.status.value,
                f.ref.server_id,
                f.ref.channel_id,
                f.author.name or f.author.id,
                f"{f.score:.2f}",
                f.category,
                f.created_at.strftime("%Y-%m-%d %H:%M"),
                _preview(f),
            )
            for f in flags
        ]
        header = ("ID", "STATUS", "SERVER", "CHANNEL", "AUTHOR", "SCORE", "CATEGORY", "CREATED (UTC)", "TEXT")
        _print_table(header, rows)
        if not rows:
            print("no flags")

    return _run(args, go)


def show_command(args: argparse.Namespace) -> int:
    """Print one flag in full."""

    async def go(service: ModerationService) -> None:
        flag = await service.get_flag(args.id)
        events = await service.audit(flag.id)
        out = [
            f"Flag #{flag.id}  {flag.status.value}  score {flag.score:.2f}  {flag.category}  ({flag.source.value})",
            f"message:  {flag.ref.platform} server {flag.ref.server_id} channel {flag.ref.channel_id}"
            f" message {flag.ref.message_id}",
        ]
        if flag.ref.permalink:
            out.append(f"link:     {flag.ref.permalink}")
        out.append(f"author:   {_who(flag.author)}")
        if flag.reporter:
            out.append(f"reporter: {_who(flag.reporter)}")
        out.append(f"created:  {_time(flag.created_at)}   updated: {_time(flag.updated_at)}")
        if flag.text_purged:
            out.append("text:     (removed by the retention policy)")
        elif flag.original_text:
            out.append(f"original text (as flagged): {flag.original_text}")
            out.append(f"current text (edited):      {flag.text}")
        else:
            out.append(f"text:     {flag.text}")
        out.append("reasons:")
        out.extend(
            f"  - {r.rule} [{r.signal}]" + (f" {r.match!r} at {r.span[0]}-{r.span[1]}" if r.match else "")
            for r in flag.reasons
        )
        if flag.reviewed_by:
            when = _time(flag.reviewed_at) if flag.reviewed_at else "?"
            action = flag.action.value if flag.action else "?"
            note = f" — {flag.note}" if flag.note else ""
            out.append(f"review:   {action} by {_who(flag.reviewed_by)} at {when}{note}")
        if flag.alert_ref:
            out.append(f"alert:    channel {flag.alert_ref.channel_id} message {flag.alert_ref.message_id}")
        out.append("audit trail:")
        out.extend(
            f"  {_time(e.at)}  {e.action:<9} {e.actor_name or e.actor_id}" + (f" — {e.note}" if e.note else "")
            for e in events
        )
        print(_printable("\n".join(out)))

    return _run(args, go)


def resolve_command(args: argparse.Namespace) -> int:
    """Review a flag; the operator at the terminal is trusted as a moderator."""

    async def go(service: ModerationService) -> None:
        moderator = UserRef(id=f"cli:{args.moderator}", name=args.moderator, is_moderator=True)
        outcome = await service.review(
            ReviewRequest(
                flag_id=args.id,
                action=ModAction(args.action),
                moderator=moderator,
                note=args.note,
                timeout_seconds=args.timeout_seconds,
            )
        )
        flag = outcome.flag
        print(f"Flag #{flag.id} {flag.status.value} ({outcome.action.value}) by {args.moderator}.")
        todo = []
        if outcome.delete_message:
            todo.append("delete the message")
        if outcome.timeout_seconds:
            todo.append(f"time out {_who(flag.author)} for {outcome.timeout_seconds // 60} minutes")
        if outcome.ban:
            todo.append(f"ban {_who(flag.author)}")
        if todo:
            # The CLI has no platform connection: say plainly what still has to be done by hand.
            print(f"Recorded only; on {flag.ref.platform}, {' and '.join(todo)} yourself.")
        if outcome.escalation:
            e = outcome.escalation
            print(f"Repeat offender: {e.upheld} upheld flags in {e.window_days} days.")

    return _run(args, go)


def export_command(args: argparse.Namespace) -> int:
    """Write every matching flag as CSV or JSON lines."""
    settings = _settings(args)
    status = FlagStatus(args.status) if args.status else None
    with contextlib.ExitStack() as stack:
        out: TextIO = sys.stdout
        if args.output:
            out = _open_output(args.output)
            # On an error the file is only tidied up: the failure was already reported, naming the path.
            stack.callback(_close_quietly, out)

        async def go(service: ModerationService) -> None:
            records = (flag_record(f) async for f in service.store.iter_flags(status, args.server))
            if not args.output:
                await _write_export(records, args.format, out)
                return
            try:
                count = await _write_export(records, args.format, out)
                # Closed here, not on leaving the block: a full disk often shows only when the buffer is flushed.
                out.close()
            except OSError as exc:
                raise InputError(f"{args.output}: cannot write: {exc.strerror or exc}") from None
            print(f"exported {count} flags to {args.output}", file=sys.stderr)

        return _run(args, go, settings)


def stats_command(args: argparse.Namespace) -> int:
    """Print flags per day and the dismissed share."""

    async def go(service: ModerationService) -> None:
        stats = await service.stats(args.server)
        rows = [(d.day, str(d.flagged), str(d.open), str(d.upheld), str(d.dismissed)) for d in stats.days]
        _print_table(("DAY", "FLAGGED", "OPEN", "UPHELD", "DISMISSED"), rows)
        share = stats.dismissed_share
        shown = f"{share:.1%}" if share is not None else "n/a (nothing reviewed yet)"
        print(
            f"total {stats.total}: {stats.open} open, {stats.upheld} upheld, {stats.dismissed} dismissed;"
            f" text purged on {stats.purged}"
        )
        print(f"dismissed share of reviewed flags (false-positive rate): {shown}")

    return _run(args, go)


def purge_command(args: argparse.Namespace) -> int:
    """Apply the retention period now."""

    async def go(service: ModerationService) -> None:
        purged = await service.purge()
        days = service.settings.retention_days
        print(f"removed the message text of {purged} flags older than {days} days (metadata and audit kept)")

    return _run(args, go)


# -- helpers ---------------------------------------------------------------------------------------


def flag_record(flag: Flag) -> dict[str, Any]:
    """A flag as a flat, JSON-ready mapping (the export format)."""
    return {
        "id": flag.id,
        "status": flag.status.value,
        "platform": flag.ref.platform,
        "server_id": flag.ref.server_id,
        "channel_id": flag.ref.channel_id,
        "message_id": flag.ref.message_id,
        "permalink": flag.ref.permalink,
        "author_id": flag.author.id,
        "author_name": flag.author.name,
        "score": round(flag.score, 4),
        "category": flag.category,
        "source": flag.source.value,
        "reasons": [{"rule": r.rule, "signal": r.signal, "span": list(r.span), "match": r.match} for r in flag.reasons],
        "text": flag.text,
        "original_text": flag.original_text,
        "text_purged": flag.text_purged,
        "created_at": to_db_time(flag.created_at),
        "updated_at": to_db_time(flag.updated_at),
        "reporter": flag.reporter.id if flag.reporter else "",
        "reviewed_by": flag.reviewed_by.name or flag.reviewed_by.id if flag.reviewed_by else "",
        "reviewed_at": to_db_time(flag.reviewed_at) if flag.reviewed_at else "",
        "action": flag.action.value if flag.action else "",
        "note": flag.note,
    }


async def _write_export(records: Any, fmt: str, out: TextIO) -> int:
    count = 0
    writer = csv.DictWriter(out, fieldnames=EXPORT_FIELDS) if fmt == "csv" else None
    if writer:
        writer.writeheader()
    async for record in records:
        if writer:
            writer.writerow({**record, "reasons": json.dumps(record["reasons"], ensure_ascii=False)})
        else:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
        count += 1
    return count


def _open_output(path: str) -> TextIO:
    """Open the export file; a missing folder or a permission problem is an error naming the path."""
    try:
        return Path(path).open("w", encoding="utf-8", newline="")
    except OSError as exc:
        raise InputError(f"{path}: cannot write: {exc.strerror or exc}") from None


def _close_quietly(out: TextIO) -> None:
    with contextlib.suppress(OSError):
        out.close()


def _moderator_name(value: str) -> str:
    """Parse `--moderator`: the name goes into the audit trail, so a blank one would record nobody."""
    name = value.strip()
    if not name:
        raise argparse.ArgumentTypeError("must name the moderator, not be blank")
    if not name.isprintable():
        raise argparse.ArgumentTypeError("must be printable text (no control characters or line breaks)")
    return name


def _settings(args: argparse.Namespace) -> Settings:
    settings = settings_from(args)
    path = Path(settings.database)
    # Reading or resolving flags in a database that does not exist is a typo, not a reason to create one.
    if not path.exists():
        raise StoreError(f"{path}: no such database (use --db PATH or set `database:` in the config)")
    return settings


def _run(
    args: argparse.Namespace,
    go: Callable[[ModerationService], Awaitable[None]],
    settings: Settings | None = None,
) -> int:
    """Open the store named by `--db` / the config, run one command against it, close it."""
    settings = settings or _settings(args)

    async def main() -> None:
        service = await _open(settings)
        try:
            await go(service)
        finally:
            await service.close(within=5.0)
            await service.store.close()

    asyncio.run(main())
    return 0


async def _open(settings: Settings) -> ModerationService:
    # A longer busy timeout than the bot's: an operator can wait a moment for a running bot's write.
    store = await Store.open(settings.database, busy_timeout=5.0)
    # Detectors compile lazily, and the flag commands never screen, so nothing is compiled here.
    return ModerationService(store, settings, ServerDetectors(settings))


def _print_table(header: tuple[str, ...], rows: Iterable[tuple[str, ...]]) -> None:
    rows = list(rows)
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(header)]
    for row in (header, *rows):
        print(_printable("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()))


def _preview(flag: Flag, width: int = 60) -> str:
    if flag.text_purged:
        return "(text purged)"
    text = " ".join(flag.text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _printable(text: str) -> str:
    """Neutralise control characters: message text is untrusted and must not drive the operator's terminal."""
    return _CONTROL.sub("\N{REPLACEMENT CHARACTER}", text)


def _who(user: UserRef) -> str:
    return f"{user.name} ({user.id})" if user.name and user.name != user.id else user.id


def _time(value: Any) -> str:
    return str(value.strftime("%Y-%m-%d %H:%M:%S UTC"))
