"""Pure rendering of core results into Discord embeds that always fit Discord's limits (no network)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import discord

from dosewise.models import (
    Escalation,
    Flag,
    FlagSource,
    FlagStatus,
    ModAction,
    Reply,
    ReplyKind,
    ReviewOutcome,
    SourceLink,
)

# Discord's embed limits (https://discord.com/developers/docs/resources/message#embed-object-embed-limits).
TITLE_LIMIT = 256
DESCRIPTION_LIMIT = 4096
FIELD_NAME_LIMIT = 256
FIELD_VALUE_LIMIT = 1024
FIELD_COUNT_LIMIT = 25
FOOTER_LIMIT = 2048
AUTHOR_LIMIT = 256
TOTAL_LIMIT = 6000

ELLIPSIS = "…"
BLANK = "\u200b"  # Discord rejects empty field names and values.
EXCERPT_LIMIT = 900
MAX_REASONS = 8

ANSWER_COLOUR = discord.Colour.teal()
REFUSAL_COLOUR = discord.Colour.orange()
STATUS_COLOURS = {
    FlagStatus.OPEN: discord.Colour.orange(),
    FlagStatus.UPHELD: discord.Colour.red(),
    FlagStatus.DISMISSED: discord.Colour.light_grey(),
}


def truncate(text: str, limit: int) -> str:
    """Shorten to at most `limit` characters, preferring a word boundary, marking the cut with "…"."""
    if len(text) <= limit:
        return text
    if limit <= len(ELLIPSIS):
        return text[:limit]
    cut = text[: limit - len(ELLIPSIS)]
    space = cut.rfind(" ")
    # Only back off to a word boundary when it costs little; a 1,000-character word is cut anyway.
    if space >= len(cut) * 0.8:
        cut = cut[:space]
    return cut.rstrip() + ELLIPSIS


def truncate_lines(text: str, limit: int) -> str:
    """Shorten to whole lines where possible, so a markdown link is never cut in half."""
    if len(text) <= limit:
        return text
    kept = ""
    for line in text.splitlines():
        candidate = f"{kept}\n{line}" if kept else line
        if len(candidate) + len(ELLIPSIS) + 1 > limit:
            break
        kept = candidate
    return f"{kept}\n{ELLIPSIS}" if kept else truncate(text, limit)


def chunk_lines(text: str, limit: int) -> list[str]:
    """Split text into pieces of at most `limit` characters, at line breaks where possible."""
    chunks: list[str] = []
    current = ""
    for line in text.splitlines():
        line = truncate(line, limit)
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) <= limit:
            current = candidate
            continue
        if current:
            chunks.append(current)
        current = line
    if current:
        chunks.append(current)
    return chunks


@dataclass(frozen=True, slots=True)
class EmbedParts:
    """The text of an embed before it is fitted to Discord's limits."""

    title: str
    description: str = ""
    fields: tuple[tuple[str, str, bool], ...] = ()
    footer: str = ""
    author: str = ""
    url: str | None = None
    colour: discord.Colour | None = None
    timestamp: datetime | None = None


def fit(parts: EmbedParts) -> discord.Embed:
    """Build an embed whose every part and whose total stay within Discord's limits."""
    title = truncate(parts.title, TITLE_LIMIT)
    footer = truncate(parts.footer, FOOTER_LIMIT)
    author = truncate(parts.author, AUTHOR_LIMIT)
    fields = [
        (truncate(name, FIELD_NAME_LIMIT) or BLANK, truncate_lines(value, FIELD_VALUE_LIMIT) or BLANK, inline)
        for name, value, inline in parts.fields[:FIELD_COUNT_LIMIT]
    ]
    description = truncate(parts.description, DESCRIPTION_LIMIT)
    fixed = len(title) + len(footer) + len(author)
    field_total = sum(len(n) + len(v) for n, v, _ in fields)
    if fixed + len(description) + field_total > TOTAL_LIMIT:
        # Keep a readable description, then let fields have what is left, dropping the tail.
        description = truncate(description, max(min(len(description), 1000), TOTAL_LIMIT - fixed - field_total))
        budget = TOTAL_LIMIT - fixed - len(description)
        kept: list[tuple[str, str, bool]] = []
        for name, value, inline in fields:
            if len(name) + len(value) <= budget:
                kept.append((name, value, inline))
                budget -= len(name) + len(value)
                continue
            room = budget - len(name)
            if room >= 40:
                kept.append((name, truncate_lines(value, room), inline))
            break
        fields = kept
    embed = discord.Embed(
        title=title or None,
        description=description or None,
        url=parts.url,
        colour=parts.colour,
        timestamp=parts.timestamp,
    )
    if author:
        embed.set_author(name=author)
    for name, value, inline in fields:
        embed.add_field(name=name, value=value, inline=inline)
    if footer:
        embed.set_footer(text=footer)
    return embed


def _link(source: SourceLink) -> str:
    """A markdown link that survives brackets in the label and parentheses in the URL."""
    label = truncate(source.label.replace("[", "(").replace("]", ")"), 200)
    url = source.url.replace(" ", "%20").replace("(", "%28").replace(")", "%29")
    if not url.startswith(("https://", "http://")):
        return f"• {label}"
    return f"• [{label}]({url})"


def _split_field(name: str, body: str) -> list[tuple[str, str, bool]]:
    """One field per chunk of at most 1,024 characters; later chunks say they continue."""
    chunks = chunk_lines(body, FIELD_VALUE_LIMIT) or [BLANK]
    return [(name if i == 0 else f"{name} (cont.)", chunk, False) for i, chunk in enumerate(chunks)]


def reply_embed(reply: Reply) -> discord.Embed:
    """A `/microdosing` answer, topic list or refusal as one embed, with sources as links."""
    fields: list[tuple[str, str, bool]] = []
    for section in reply.sections:
        fields.extend(_split_field(section.heading, section.body))
    if reply.kind is ReplyKind.TOPICS and reply.topics:
        listing = "\n".join(f"• **{t.title}** — `{t.slug}`" for t in reply.topics)
        fields.extend(_split_field("Topics", listing))
    if reply.sources:
        fields.extend(_split_field("Sources", "\n".join(_link(s) for s in reply.sources)))
    colour = REFUSAL_COLOUR if reply.kind is ReplyKind.REFUSAL else ANSWER_COLOUR
    return fit(
        EmbedParts(
            title=reply.title or "Microdosing",
            description=reply.summary,
            fields=tuple(fields),
            footer=reply.footer,
            colour=colour,
        )
    )


def _excerpt(text: str) -> str:
    """Member text shown verbatim in a code block, so markdown and mentions cannot take effect."""
    safe = text.replace("```", "ˋˋˋ")
    return f"```\n{truncate(safe, EXCERPT_LIMIT)}\n```"


_UNITS = ((7 * 86400, "week"), (86400, "day"), (3600, "hour"))


def duration_text(seconds: int) -> str:
    """A duration as a moderator would say it: "10 min", "1 hour", "3 days", "1 week"."""
    for size, unit in _UNITS:
        if seconds >= size and seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}" if count == 1 else f"{count} {unit}s"
    return f"{max(1, seconds // 60)} min"


def review_summary(flag: Flag, outcome: ReviewOutcome | None = None) -> str:
    """Who reviewed a flag, what they decided, and when."""
    action = outcome.action if outcome is not None else flag.action
    moderator = outcome.moderator if outcome is not None else flag.reviewed_by
    if action is None or moderator is None:
        return flag.status.value.capitalize()
    what = {
        ModAction.DISMISS: "Dismissed",
        ModAction.UPHOLD: "Upheld",
        ModAction.DELETE: "Upheld — delete the message",
        ModAction.TIMEOUT: "Upheld — time out the author",
        ModAction.BAN: "Upheld — ban the author",
    }[action]
    if action is ModAction.TIMEOUT and outcome is not None and outcome.timeout_seconds:
        what = f"Upheld — time out <@{flag.author.id}> for {duration_text(outcome.timeout_seconds)}"
    when = f" <t:{int(flag.reviewed_at.timestamp())}:R>" if flag.reviewed_at else ""
    return f"{what} by <@{moderator.id}> ({moderator.name}){when}"


def escalation_advice(escalation: Escalation) -> str:
    """Repeat-offender advice in a moderator's words."""
    verb = "Applied" if escalation.apply else "Consider"
    return (
        f"{escalation.upheld} upheld flags in {escalation.window_days} days. "
        f"{verb} a timeout of {duration_text(escalation.timeout_seconds)}."
    )


def alert_embed(
    flag: Flag,
    *,
    escalation: Escalation | None = None,
    outcome: ReviewOutcome | None = None,
    notes: Sequence[str] = (),
) -> discord.Embed:
    """The moderator alert for a flag: reasons, excerpt, jump link, author, score; review and results."""
    reported = flag.source is FlagSource.REPORT
    fields: list[tuple[str, str, bool]] = [
        ("Author", f"<@{flag.author.id}> ({flag.author.name or flag.author.id})", True),
        ("Score", f"{flag.score:.2f} · {flag.category or 'n/a'}", True),
        ("Where", f"<#{flag.ref.channel_id}> · [jump to message]({flag.ref.permalink})", True)
        if flag.ref.permalink
        else ("Where", f"<#{flag.ref.channel_id}>", True),
    ]
    if flag.reporter is not None:
        fields.append(("Reported by", f"<@{flag.reporter.id}> ({flag.reporter.name})", True))
    if flag.reasons:
        lines = [f"• `{r.rule}` ({r.signal}): “{truncate(r.match, 80)}”" for r in flag.reasons[:MAX_REASONS]]
        if len(flag.reasons) > MAX_REASONS:
            lines.append(f"• … and {len(flag.reasons) - MAX_REASONS} more")
        fields.append(("Why", "\n".join(lines), False))
    elif reported:
        fields.append(("Why", "Reported by a member", False))
    if flag.original_text and flag.original_text != flag.text:
        fields.append(("First flagged text (before an edit)", _excerpt(flag.original_text), False))
    if escalation is not None:
        fields.append(("Repeat offender", escalation_advice(escalation), False))
    if flag.status is not FlagStatus.OPEN or outcome is not None:
        fields.append(("Review", review_summary(flag, outcome), False))
    if notes:
        fields.append(("Actions", "\n".join(notes), False))
    text = "*(message text purged after the retention period)*" if flag.text_purged else _excerpt(flag.text)
    kind = "Reported message" if reported else f"Possible sourcing ({flag.category or 'unknown'})"
    return fit(
        EmbedParts(
            title=f"Flag #{flag.id} — {kind}",
            description=text,
            fields=tuple(fields),
            footer=f"Dosewise · {flag.status.value}",
            url=flag.ref.permalink or None,
            colour=STATUS_COLOURS.get(flag.status),
            timestamp=flag.created_at,
        )
    )


def flags_list_embed(flags: Sequence[Flag], title: str = "Open flags") -> discord.Embed:
    """A moderator's queue: one line per flag, oldest first."""
    if not flags:
        return fit(EmbedParts(title=title, description="Nothing to review.", colour=ANSWER_COLOUR))
    lines = []
    for flag in flags:
        link = f"[#{flag.id}]({flag.ref.permalink})" if flag.ref.permalink else f"#{flag.id}"
        preview = truncate(" ".join(flag.text.split()), 60).replace("`", "ˋ")
        lines.append(
            f"{link} · {flag.score:.2f} {flag.category} · <@{flag.author.id}> "
            f"<t:{int(flag.created_at.timestamp())}:R> · `{preview}`"
        )
    return fit(
        EmbedParts(
            title=title,
            description="\n".join(chunk_lines("\n".join(lines), DESCRIPTION_LIMIT)[:1]),
            footer="Use /flags show <id> to review one.",
            colour=STATUS_COLOURS[FlagStatus.OPEN],
        )
    )
