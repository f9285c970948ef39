"""Pure rendering of core outcomes as console text (ANSI colour only when interactive)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from dosewise.models import Flag, FlagStatus, ReviewOutcome, ScreenOutcome

EXCERPT = 160

HELP = """\
Commands:
  /microdosing [topic or question]   a balanced, sourced answer (alone: the topic list)
  /topics                            list the topics
  /report N [note]                   report message N to the moderators
  /flags                             moderators: list open flags
  /flags show ID                     moderators: one flag with its reasons
  /flags resolve ID ACTION [note]    moderators: dismiss | uphold | delete | timeout | ban
  /help                              this help
  :as NAME                           speak as NAME (moderators are listed in the config)
  :edit N TEXT                       edit your message N (it is screened again)
  :quit                              leave
Any other line is a message posted to the channel and screened."""


@dataclass(frozen=True, slots=True)
class Style:
    """ANSI styling, or none when output is piped."""

    color: bool = False

    def _wrap(self, code: str, text: str) -> str:
        return f"\033[{code}m{text}\033[0m" if self.color else text

    def bold(self, text: str) -> str:
        """Bold text."""
        return self._wrap("1", text)

    def dim(self, text: str) -> str:
        """Dimmed text."""
        return self._wrap("2", text)

    def alert(self, text: str) -> str:
        """Red text for moderator alerts."""
        return self._wrap("1;31", text)

    def ok(self, text: str) -> str:
        """Green text for confirmations."""
        return self._wrap("32", text)


def excerpt(text: str, limit: int = EXCERPT) -> str:
    """One line of at most `limit` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def render_posted(number: int, channel: str, author: str, text: str, style: Style, *, edited: bool = False) -> str:
    """Echo a posted message with its number, so it can be edited or reported."""
    tag = " (edited)" if edited else ""
    return f"{style.dim(f'[{number}]')} #{channel} {style.bold(author)}: {text}{style.dim(tag)}"


def render_reasons(flag: Flag) -> list[str]:
    """One line per detector reason: rule id, signal, and the matched text."""
    return [f"    - {r.rule} ({r.signal}): {excerpt(r.match, 60)!r}" for r in flag.reasons]


def render_alert(outcome: ScreenOutcome, style: Style, *, report: bool = False) -> str:
    """The moderator alert for a new or updated flag; `report=True` when a member's /report produced it."""
    flag = outcome.flag
    if flag is None:
        return ""
    if outcome.is_new:
        head = f"FLAG #{flag.id}"
    elif report:
        # The core answers a report on an already-flagged message with that flag (is_new=False), as it does
        # an edit; only the caller knows which it was, and nothing about the message changed here.
        state = "" if flag.status is FlagStatus.OPEN else f", {flag.status}"
        head = f"already flagged (#{flag.id}{state}), report noted"
    else:
        head = f"FLAG UPDATED (message edited) #{flag.id}"
    lines = [
        style.alert(f"  ⚑ {head}: {flag.category} (score {flag.score:.2f}) by {flag.author.name}"),
        f"    message {flag.ref.permalink or flag.ref.message_id}: {excerpt(flag.text)!r}",
    ]
    if flag.original_text and flag.original_text != flag.text:
        lines.append(f"    first text: {excerpt(flag.original_text)!r}")
    lines.extend(render_reasons(flag))
    if outcome.hide:
        lines.append("    policy: the message was hidden")
    if outcome.escalation is not None:
        esc = outcome.escalation
        verb = "applied" if esc.apply else "recommended"
        lines.append(
            f"    repeat offender: {esc.upheld} upheld flags in {esc.window_days} days; "
            f"timeout of {esc.timeout_seconds // 60} min {verb}"
        )
    if not outcome.stored:
        lines.append("    (the database is busy: this flag is queued and will be stored when it recovers)")
    if flag.status is FlagStatus.OPEN:  # a reviewed flag cannot be resolved again
        lines.append(style.dim(f"    moderators: /flags resolve {flag.id} dismiss|uphold|delete|timeout|ban [note]"))
    return "\n".join(lines)


def render_flag_list(flags: Sequence[Flag], style: Style) -> str:
    """Open flags, one line each."""
    if not flags:
        return "No open flags."
    rows = [style.bold(f"{len(flags)} open flag(s):")]
    for f in flags:
        when = f.created_at.strftime("%Y-%m-%d %H:%M")
        rows.append(f"  #{f.id} {when} {f.category:9} {f.score:.2f} {f.author.name}: {excerpt(f.text, 80)!r}")
    return "\n".join(rows)


def render_flag(flag: Flag, style: Style) -> str:
    """One flag in full: texts, reasons, review state."""
    lines = [
        style.bold(f"Flag #{flag.id} [{flag.status}] {flag.category} (score {flag.score:.2f}, {flag.source})"),
        f"  author: {flag.author.name}   message: {flag.ref.permalink or flag.ref.message_id}",
        f"  text: {flag.text!r}" if not flag.text_purged else "  text: (purged after the retention period)",
    ]
    if flag.original_text and flag.original_text != flag.text:
        lines.append(f"  first text: {flag.original_text!r}")
    if flag.reporter is not None:
        lines.append(f"  reported by: {flag.reporter.name}")
    lines.extend(render_reasons(flag))
    if flag.status is not FlagStatus.OPEN and flag.reviewed_by is not None:
        note = f" — {flag.note}" if flag.note else ""
        lines.append(f"  reviewed: {flag.action} by {flag.reviewed_by.name}{note}")
    return "\n".join(lines)


def render_review(outcome: ReviewOutcome, style: Style) -> str:
    """Confirm a review and say what was carried out in the console."""
    flag = outcome.flag
    done = [f"flag #{flag.id} {flag.status} by {outcome.moderator.name} ({outcome.action})"]
    if outcome.delete_message:
        done.append(f"message {flag.ref.message_id} deleted")
    if outcome.timeout_seconds:
        done.append(f"{flag.author.name} timed out for {outcome.timeout_seconds // 60} min")
    if outcome.ban:
        done.append(f"{flag.author.name} banned")
    return style.ok("  ✓ " + "; ".join(done))
