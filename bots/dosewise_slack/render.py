"""Pure rendering of core outcomes as Slack Block Kit, within Slack's limits.

Limits honoured (https://docs.slack.dev/reference/block-kit): section text 3,000 characters, header
150, 50 blocks in a message, 100 in a Home tab, 10 section fields of 2,000, context text 3,000.
Member-written text is escaped and shown `verbatim`, so a quoted `@channel` or link cannot ping or
unfurl in the moderators' channel.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from dosewise.models import (
    Escalation,
    Flag,
    FlagSource,
    FlagStatus,
    ModAction,
    Reply,
    ReplyKind,
    ReviewOutcome,
    UserRef,
)
from dosewise_slack.translate import button_id

SECTION_LIMIT = 3000
HEADER_LIMIT = 150
FIELD_LIMIT = 2000
CONTEXT_LIMIT = 3000
MESSAGE_BLOCKS = 50
HOME_BLOCKS = 100
FALLBACK_LIMIT = 3000
EXCERPT_LIMIT = 1200
HOME_EXCERPT_LIMIT = 280
REASONS_SHOWN = 10
BUTTON_TEXT_LIMIT = 75
# Each flag in the Home tab takes 3 blocks; 30 flags plus the header stay well under 100.
HOME_FLAGS = 30

Block = dict[str, Any]

REVIEW_BUTTONS: tuple[tuple[ModAction, str, str | None], ...] = (
    (ModAction.DISMISS, "Dismiss", None),
    (ModAction.UPHOLD, "Uphold", "primary"),
    (ModAction.DELETE, "Delete message", "danger"),
    (ModAction.TIMEOUT, "Timeout", None),
    (ModAction.BAN, "Ban", "danger"),
)

PAST_TENSE = {
    ModAction.DISMISS: "dismissed",
    ModAction.UPHOLD: "upheld",
    ModAction.DELETE: "upheld (delete the message)",
    ModAction.TIMEOUT: "upheld (time the author out)",
    ModAction.BAN: "upheld (ban the author)",
}


class DeleteResult(StrEnum):
    """What happened when the adapter tried to delete a member's message."""

    NOT_ASKED = "not_asked"
    DELETED = "deleted"
    NO_ADMIN_TOKEN = "no_admin_token"
    ALREADY_GONE = "already_gone"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class SlackMessage:
    """Blocks plus the fallback text Slack shows in notifications and to screen readers."""

    text: str
    blocks: tuple[Block, ...]

    def as_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for chat.postMessage, chat.update or a response_url."""
        return {"text": self.text, "blocks": list(self.blocks)}


# -- text helpers -----------------------------------------------------------------------------------


def escape(text: str) -> str:
    """Escape the three characters Slack's mrkdwn treats as markup."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int) -> str:
    """At most `limit` characters, with an ellipsis when cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def clip_escaped(text: str, limit: int) -> str:
    """Escape, then clip without cutting an `&amp;`-style entity in half."""
    out = escape(text)
    if len(out) <= limit:
        return out
    cut = out[: limit - 1]
    amp = cut.rfind("&")
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]
    return cut + "…"


def one_line(text: str) -> str:
    """Collapse whitespace runs (newlines included) to single spaces."""
    return " ".join(text.split())


def quote(text: str, limit: int = EXCERPT_LIMIT) -> str:
    """Member text as an escaped mrkdwn block quote."""
    body = clip_escaped(text.strip(), limit) or "(no text)"
    return "\n".join("&gt; " + line for line in body.splitlines())


def safe_url(url: str) -> str:
    """A URL fit inside `<url|label>`: the characters that would end the link are percent-encoded."""
    return url.strip().replace(" ", "%20").replace("|", "%7C").replace("<", "%3C").replace(">", "%3E")


def link(url: str, label: str) -> str:
    """A mrkdwn link; anything but http(s) is shown as text so no odd scheme becomes clickable."""
    shown = escape(label or url)
    if not url.lower().startswith(("https://", "http://")):
        return shown
    return f"<{safe_url(url)}|{shown.replace('|', '¦')}>"


def mention(user: UserRef) -> str:
    """A user mention, or their name when the id is not a Slack user id."""
    if user.id[:1] in ("U", "W") and user.id.isalnum():
        return f"<@{user.id}>"
    return escape(user.name or user.id)


def channel_mention(channel_id: str) -> str:
    """A channel mention when the id looks like one."""
    if channel_id[:1] in ("C", "G") and channel_id.isalnum():
        return f"<#{channel_id}>"
    return escape(channel_id)


def plain_bullets(body: str) -> str:
    """Turn the core's `- ` bullet lines into Slack bullets, escaping the rest."""
    lines = []
    for line in body.splitlines():
        stripped = line.lstrip()
        if stripped.startswith("- "):
            indent = "    " if len(line) - len(stripped) >= 2 else ""
            lines.append(f"{indent}• {escape(stripped[2:])}")
        else:
            lines.append(escape(line))
    return "\n".join(lines)


def chunks(text: str, limit: int = SECTION_LIMIT) -> Iterator[str]:
    """Split text at line breaks into pieces of at most `limit` characters (long lines are cut)."""
    piece = ""
    for line in text.splitlines():
        while len(line) > limit:
            if piece:
                yield piece
                piece = ""
            yield line[:limit]
            line = line[limit:]
        candidate = f"{piece}\n{line}" if piece else line
        if len(candidate) > limit:
            yield piece
            piece = line
        else:
            piece = candidate
    if piece.strip():
        yield piece


def section(text: str, *, verbatim: bool = False) -> Block:
    """A mrkdwn section (the caller keeps `text` within 3,000 characters)."""
    obj: dict[str, Any] = {"type": "mrkdwn", "text": text[:SECTION_LIMIT]}
    if verbatim:
        obj["verbatim"] = True
    return {"type": "section", "text": obj}


def header(text: str) -> Block:
    """A plain-text header of at most 150 characters."""
    return {"type": "header", "text": {"type": "plain_text", "text": clip(one_line(text), HEADER_LIMIT)}}


def context(text: str) -> Block:
    """A one-element mrkdwn context line."""
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text[:CONTEXT_LIMIT]}]}


def divider() -> Block:
    """A divider block."""
    return {"type": "divider"}


def cap_blocks(blocks: list[Block], limit: int = MESSAGE_BLOCKS, note: str = "") -> tuple[Block, ...]:
    """Keep at most `limit` blocks; when cut, the last one says so."""
    if len(blocks) <= limit:
        return tuple(blocks)
    return (*blocks[: limit - 1], context(note or "…(shortened to fit Slack's limits)"))


# -- /microdosing answers ---------------------------------------------------------------------------


def render_reply(reply: Reply) -> SlackMessage:
    """A `/microdosing` answer (or topic list, or refusal) as Block Kit sections plus fallback text."""
    blocks: list[Block] = []
    if reply.title:
        blocks.append(header(reply.title))
    if reply.summary:
        blocks.extend(section(c) for c in chunks(plain_bullets(reply.summary)))
    for part in reply.sections:
        body = f"*{escape(one_line(part.heading))}*\n{plain_bullets(part.body)}"
        blocks.extend(section(c) for c in chunks(body))
    if reply.kind is ReplyKind.TOPICS and reply.topics:
        lines = [f"• *{escape(t.title)}* — `/microdosing {escape(t.slug)}`" for t in reply.topics]
        blocks.extend(section(c) for c in chunks("*Topics*\n" + "\n".join(lines)))
        blocks.append(context("`/microdosing share TOPIC` posts an answer for the whole channel to see."))
    if reply.sources:
        lines = [f"• {link(s.url, s.label)}" for s in reply.sources]
        blocks.extend(section(c) for c in chunks("*Sources*\n" + "\n".join(lines)))
    if reply.footer:
        blocks.extend(context(c) for c in chunks(plain_bullets(reply.footer), CONTEXT_LIMIT))
    if not blocks:
        blocks.append(section("Nothing to show."))
    fallback = one_line(f"{reply.title}: {reply.summary}" if reply.title else reply.summary)
    if reply.kind is ReplyKind.TOPICS and reply.topics:
        fallback = one_line(f"{fallback} Topics: " + ", ".join(t.slug for t in reply.topics))
    return SlackMessage(
        text=clip_escaped(fallback or "Dosewise", FALLBACK_LIMIT),
        blocks=cap_blocks(blocks, note="…the rest did not fit in one Slack message."),
    )


@functools.lru_cache(maxsize=512)
def command_response(reply: Reply, response_type: str = "ephemeral") -> bytes:
    """The slash command's HTTP response (JSON): the answer itself, sent as the acknowledgement.

    Cached per reply: members ask the same few topics, so each answer is rendered and encoded once.
    """
    message = render_reply(reply)
    body = {"response_type": response_type, **message.as_kwargs()}
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def render_notice(text: str) -> SlackMessage:
    """A short message to one person (a refusal, a thank-you, an error they can act on)."""
    return SlackMessage(text=escape(text), blocks=(section(escape(text)),))


# -- moderator alerts -------------------------------------------------------------------------------


def slack_date(when: datetime) -> str:
    """A date Slack shows in each reader's own time zone (with a UTC fallback)."""
    fallback = when.strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(when.timestamp())}^{{date_short_pretty}} {{time}}|{fallback}>"


def _reasons(flag: Flag) -> str:
    lines = []
    for reason in flag.reasons[:REASONS_SHOWN]:
        match = clip_escaped(one_line(reason.match), 120)
        lines.append(f"• `{escape(reason.rule)}` ({escape(reason.signal)}): “{match}”")
    if len(flag.reasons) > REASONS_SHOWN:
        lines.append(f"• …and {len(flag.reasons) - REASONS_SHOWN} more")
    if not lines:
        lines.append("• reported by a member" if flag.source is FlagSource.REPORT else "• (no reasons recorded)")
    return clip("*Why*\n" + "\n".join(lines), SECTION_LIMIT)


def _headline(flag: Flag) -> str:
    mark = {FlagStatus.OPEN: "⚑", FlagStatus.UPHELD: "✔", FlagStatus.DISMISSED: "✖"}[flag.status]
    state = "" if flag.status is FlagStatus.OPEN else f" · {flag.status.value}"
    return f"{mark} Flag #{flag.id} · {flag.category or 'flag'} · score {flag.score:.2f}{state}"


def _flag_blocks(flag: Flag, permalink: str) -> list[Block]:
    where = link(permalink, "open message") if permalink else f"ts {escape(flag.ref.message_id)}"
    source = "detector" if flag.source is FlagSource.DETECTOR else "member report"
    if flag.reporter is not None:
        source = f"reported by {mention(flag.reporter)}"
    fields = [
        f"*Author*\n{mention(flag.author)}",
        f"*Channel*\n{channel_mention(flag.ref.channel_id)}",
        f"*Message*\n{where}",
        f"*Source*\n{source}",
    ]
    blocks: list[Block] = [
        header(_headline(flag)),
        {"type": "section", "fields": [{"type": "mrkdwn", "text": clip(f, FIELD_LIMIT)} for f in fields]},
        section(_reasons(flag)),
    ]
    if flag.text_purged:
        blocks.append(context("_The message text was purged after the retention period._"))
    else:
        edited = bool(flag.original_text) and flag.original_text != flag.text
        label = "*Message now (edited)*" if edited else "*Message*"
        blocks.append(section(f"{label}\n{quote(flag.text)}", verbatim=True))
        if edited:
            blocks.append(section(f"*As first flagged*\n{quote(flag.original_text)}", verbatim=True))
    blocks.append(context(f"Flagged {slack_date(flag.created_at)} · workspace {escape(flag.ref.server_id)}"))
    return blocks


def review_buttons(flag_id: int) -> Block:
    """The actions block with the five review buttons; ids are `dosewise:flag:<id>:<action>`."""
    elements: list[Block] = []
    for action, label, style in REVIEW_BUTTONS:
        ident = button_id(flag_id, action)
        button: Block = {
            "type": "button",
            "action_id": ident,
            "value": ident,
            "text": {"type": "plain_text", "text": clip(label, BUTTON_TEXT_LIMIT)},
        }
        if style:
            button["style"] = style
        if action in (ModAction.DELETE, ModAction.BAN):
            button["confirm"] = {
                "title": {"type": "plain_text", "text": f"{label}?"},
                "text": {"type": "plain_text", "text": f"{label} for flag #{flag_id}: this upholds the flag."},
                "confirm": {"type": "plain_text", "text": label},
                "deny": {"type": "plain_text", "text": "Cancel"},
            }
        elements.append(button)
    return {"type": "actions", "block_id": f"dosewise:review:{flag_id}", "elements": elements}


def _hide_note(result: DeleteResult, error: str) -> str:
    return {
        DeleteResult.NOT_ASKED: "",
        DeleteResult.DELETED: "Policy: the message was hidden (deleted with the admin token).",
        DeleteResult.ALREADY_GONE: "Policy: the message was already gone.",
        DeleteResult.NO_ADMIN_TOKEN: "⚠ Policy says hide this message, but a Slack bot token cannot delete a "
        "member's message and no admin token is set: *remove it by hand*.",
        DeleteResult.FAILED: f"⚠ Hiding the message failed (`{escape(error)}`): *remove it by hand*.",
    }[result]


def render_alert(
    flag: Flag,
    *,
    permalink: str = "",
    escalation: Escalation | None = None,
    hidden: DeleteResult = DeleteResult.NOT_ASKED,
    hide_error: str = "",
    stored: bool = True,
) -> SlackMessage:
    """The moderators' alert for a flag: reasons with rule ids, excerpt, link, author, score, buttons.

    A flag that is no longer open is shown with its review state instead of buttons.
    """
    blocks = _flag_blocks(flag, permalink or flag.ref.permalink)
    notes = [_hide_note(hidden, hide_error)] if hidden is not DeleteResult.NOT_ASKED else []
    if escalation is not None:
        verb = "Apply" if escalation.apply else "Consider"
        notes.append(
            f"Repeat offender: {escalation.upheld} upheld flags in {escalation.window_days} days. "
            f"{verb} a {escalation.timeout_seconds // 60}-minute timeout — Slack has none, so restrict "
            "them by hand (e.g. remove them from the channel)."
        )
    if not stored:
        notes.append("⚠ The database is busy: this flag is queued and the buttons work once it is stored.")
    if notes:
        blocks.append(section("\n".join(notes)))
    if flag.status is FlagStatus.OPEN:
        blocks.append(review_buttons(flag.id))
    elif flag.reviewed_by is not None:
        blocks.append(context(_review_line(flag, flag.reviewed_by, flag.action)))
    text = f"Flag #{flag.id}: {flag.category} (score {flag.score:.2f}) by {mention(flag.author)}"
    if not flag.text_purged:
        text += f": {clip_escaped(one_line(flag.text), 200)}"
    return SlackMessage(text=text, blocks=cap_blocks(blocks))


def _review_line(flag: Flag, moderator: UserRef, action: ModAction | None) -> str:
    what = PAST_TENSE.get(action, flag.status.value) if action is not None else flag.status.value
    when = ""
    if flag.reviewed_at is not None:
        when = " " + slack_date(flag.reviewed_at)
    note = f" — “{clip_escaped(one_line(flag.note), 300)}”" if flag.note else ""
    return f"*{what.capitalize()}* by {mention(moderator)}{when}{note}"


def review_notes(outcome: ReviewOutcome, delete: DeleteResult, delete_error: str = "") -> tuple[str, ...]:
    """What was done for a review on Slack and, explicitly, what could not be done."""
    author = mention(outcome.flag.author)
    notes: list[str] = []
    if outcome.delete_message or delete is not DeleteResult.NOT_ASKED:
        notes.append(
            {
                DeleteResult.NOT_ASKED: "",
                DeleteResult.DELETED: "✔ The message was deleted.",
                DeleteResult.ALREADY_GONE: "✔ The message was already deleted.",
                DeleteResult.NO_ADMIN_TOKEN: "⚠ *Not done:* a Slack bot token cannot delete a member's "
                "message — *delete it by hand* (message menu → Delete), or configure SLACK_ADMIN_TOKEN.",
                DeleteResult.FAILED: f"⚠ *Not done:* deleting the message failed (`{escape(delete_error)}`) — "
                "*delete it by hand*.",
            }[delete]
        )
    if outcome.timeout_seconds or outcome.action is ModAction.TIMEOUT:
        minutes = max(1, outcome.timeout_seconds // 60) if outcome.timeout_seconds else 0
        span = f" for {minutes} min" if minutes else ""
        notes.append(
            f"⚠ *Not done:* Slack has no timeouts. To silence {author}{span}, remove them from the "
            "channel or restrict their posting by hand."
        )
    if outcome.ban or outcome.action is ModAction.BAN:
        notes.append(
            f"⚠ *Not done:* Slack bots cannot ban. A workspace admin must deactivate {author} "
            "(or remove them from the channels) by hand."
        )
    return tuple(n for n in notes if n)


def render_reviewed(
    outcome: ReviewOutcome,
    *,
    permalink: str = "",
    delete: DeleteResult = DeleteResult.NOT_ASKED,
    delete_error: str = "",
) -> SlackMessage:
    """The alert updated in place after a review: who did what, and what could not be done on Slack."""
    flag = outcome.flag
    blocks = _flag_blocks(flag, permalink or flag.ref.permalink)
    blocks.append(divider())
    blocks.append(section(_review_line(flag, outcome.moderator, outcome.action)))
    notes = review_notes(outcome, delete, delete_error)
    if notes:
        blocks.append(section(clip("\n".join(notes), SECTION_LIMIT)))
    text = f"Flag #{flag.id} {PAST_TENSE[outcome.action]} by {mention(outcome.moderator)}"
    return SlackMessage(text=text, blocks=cap_blocks(blocks))


# -- App Home ---------------------------------------------------------------------------------------

ABOUT = (
    "*Dosewise* gives balanced, sourced answers about microdosing and mental health, and helps the "
    "moderators keep this workspace free of drug sourcing.\n\n"
    "• Type `/microdosing` for the list of topics, or `/microdosing <topic or question>` for an answer "
    "with its sources. Answers are shown only to you.\n"
    "• See a message that offers or asks for drugs? Open its menu (⋯) and choose *Report to moderators*.\n"
    "• Messages in channels the app is in are screened for sourcing; flagged ones go to the moderators, "
    "who decide. Nothing is removed automatically unless the workspace chose that."
)


def render_home(flags: Sequence[Flag], *, is_moderator: bool, more: bool = False) -> Block:
    """The App Home view: open flags with review buttons for moderators, an about page for others."""
    if not is_moderator:
        return {"type": "home", "blocks": [header("Dosewise"), section(ABOUT)]}
    shown = list(flags[:HOME_FLAGS])
    blocks: list[Block] = [header(f"Open flags ({len(shown)}{'+' if more or len(flags) > HOME_FLAGS else ''})")]
    if not shown:
        blocks.append(section("No open flags. 🎉"))
    for flag in shown:
        summary = (
            f"*#{flag.id}* · {escape(flag.category or 'flag')} · {flag.score:.2f} · {mention(flag.author)} "
            f"in {channel_mention(flag.ref.channel_id)} · " + ", ".join(f"`{escape(r.rule)}`" for r in flag.reasons[:5])
        )
        text = "_(text purged)_" if flag.text_purged else quote(one_line(flag.text), HOME_EXCERPT_LIMIT)
        blocks.append(section(clip(f"{summary}\n{text}", SECTION_LIMIT), verbatim=True))
        blocks.append(review_buttons(flag.id))
        blocks.append(divider())
    if more or len(flags) > HOME_FLAGS:
        blocks.append(context("More flags are waiting: review these first, or use `dosewise flags` on the server."))
    blocks.append(context(ABOUT.split("\n\n")[0]))
    return {"type": "home", "blocks": list(cap_blocks(blocks, HOME_BLOCKS))}
