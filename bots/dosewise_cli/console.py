"""The console adapter: a local chat room on stdin/stdout that uses the same core as the platforms."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TextIO

from dosewise.core import BotCore
from dosewise.errors import DosewiseError
from dosewise.models import IncomingMessage, ReportRequest, ReviewOutcome, utcnow
from dosewise.settings import Settings
from dosewise_cli import console_render as cr
from dosewise_cli import console_translate as ct
from dosewise_cli.render_text import render_reply


class ConsoleSession:
    """One console chat room: who is speaking, the messages posted, and what moderators did."""

    def __init__(
        self,
        core: BotCore,
        settings: Settings,
        out: TextIO,
        *,
        color: bool = False,
        now: Callable[[], datetime] = utcnow,
    ) -> None:
        self.core = core
        self.console = settings.console
        self.out = out
        self.style = cr.Style(color)
        self.color = color
        self.now = now
        self.user = ct.to_user(self.console.user, self.console)
        self.messages: dict[int, IncomingMessage] = {}
        self.deleted: set[int] = set()
        self.timeouts: dict[str, datetime] = {}
        self.banned: set[str] = set()

    def say(self, text: str) -> None:
        """Write one block of output."""
        if text:
            print(text, file=self.out, flush=True)

    async def handle(self, line: str) -> bool:
        """Handle one input line; False means the session is over."""
        item = ct.parse_line(line)
        match item:
            case ct.Quit():
                return False
            case ct.Blank():
                pass
            case ct.BadInput(problem):
                self.say(problem)
            case ct.SwitchUser(name):
                self.user = ct.to_user(name, self.console)
                role = " (moderator)" if self.user.is_moderator else ""
                self.say(self.style.dim(f"now speaking as {name}{role}"))
            case ct.EditMessage(number, text):
                await self._edit(number, text)
            case ct.SlashCommand(name, args):
                await self._command(name, args)
            case ct.ChatLine(text):
                await self._post(text)
        return True

    async def _post(self, text: str) -> None:
        if self.user.id in self.banned:
            self.say(f"{self.user.name} is banned and cannot post.")
            return
        until = self.timeouts.get(self.user.id)
        if until is not None and until > self.now():
            self.say(f"{self.user.name} is timed out until {until:%H:%M} UTC and cannot post.")
            return
        number = len(self.messages) + 1
        message = ct.to_incoming_message(number, self.console.channel, self.user, text, self.now())
        self.messages[number] = message
        self.say(cr.render_posted(number, self.console.channel, self.user.name, text, self.style))
        await self._screen(message)

    async def _edit(self, number: int, text: str) -> None:
        old = self.messages.get(number)
        if old is None or number in self.deleted:
            self.say(f"there is no message {number} to edit")
            return
        if old.author.id != self.user.id:
            self.say("you can only edit your own messages")
            return
        message = ct.to_incoming_message(number, old.ref.channel_id, self.user, text, self.now(), edited=True)
        self.messages[number] = message
        self.say(cr.render_posted(number, old.ref.channel_id, self.user.name, text, self.style, edited=True))
        await self._screen(message)

    async def _screen(self, message: IncomingMessage) -> None:
        outcome = await self.core.screen(message)
        if outcome.flag is None:
            return
        if outcome.hide:
            self.deleted.add(int(message.ref.message_id))
        self.say(cr.render_alert(outcome, self.style))

    async def _command(self, name: str, args: str) -> None:
        if name in ("microdosing", "md"):
            reply = self.core.answer(ct.to_command_request(self.console.channel, self.user, args))
            self.say(render_reply(reply, color=self.color))
        elif name == "topics":
            reply = self.core.answer(ct.to_command_request(self.console.channel, self.user, ""))
            self.say(render_reply(reply, color=self.color))
        elif name == "help":
            self.say(cr.HELP)
        elif name == "report":
            await self._report(args)
        elif name == "flags":
            await self._flags(args)
        else:
            self.say(f"unknown command /{name}; /help lists the commands")

    async def _report(self, args: str) -> None:
        number, _, note = args.partition(" ")
        message = self.messages.get(int(number)) if number.isdigit() else None
        if message is None:
            self.say("usage: /report MESSAGE-NUMBER [note]")
            return
        outcome = await self.core.report(ReportRequest(message=message, reporter=self.user, note=note.strip()))
        self.say(self.style.ok("  thanks, the moderators will take a look."))
        self.say(cr.render_alert(outcome, self.style, report=True))

    async def _flags(self, args: str) -> None:
        # Checked here for a helpful message; the core checks again on every review.
        if not self.user.is_moderator:
            self.say(f"only moderators can review flags ({self.user.name} is not a moderator).")
            return
        sub, _, rest = args.partition(" ")
        try:
            if sub in ("", "list"):
                flags = await self.core.pending_flags(ct.SERVER_ID)
                self.say(cr.render_flag_list(flags, self.style))
            elif sub == "show" and rest.strip().lstrip("#").isdigit():
                flag = await self.core.get_flag(int(rest.strip().lstrip("#")))
                self.say(cr.render_flag(flag, self.style))
            elif sub == "resolve":
                try:
                    request = ct.to_review(rest, self.user)
                except ValueError as exc:
                    self.say(str(exc))
                    return
                outcome = await self.core.review(request)
                self._carry_out(outcome)
                self.say(cr.render_review(outcome, self.style))
            else:
                self.say("usage: /flags [list] | /flags show ID | /flags resolve ID ACTION [note]")
        except DosewiseError as exc:
            self.say(exc.user_message)

    def _carry_out(self, outcome: ReviewOutcome) -> None:
        """Do in the console room what a platform would do: delete, time out, ban."""
        author = outcome.flag.author
        if outcome.delete_message and outcome.flag.ref.message_id.isdigit():
            self.deleted.add(int(outcome.flag.ref.message_id))
        if outcome.timeout_seconds:
            self.timeouts[author.id] = self.now() + timedelta(seconds=outcome.timeout_seconds)
        if outcome.ban:
            self.banned.add(author.id)


async def run_console(core: BotCore, settings: Settings, stdin: TextIO = sys.stdin, out: TextIO = sys.stdout) -> None:
    """Run the console room until end of input or `:quit`."""
    interactive = stdin.isatty() and out.isatty()
    session = ConsoleSession(core, settings, out, color=interactive)
    if interactive:
        session.say(
            cr.Style(True).bold("Dosewise console")
            + f" — #{settings.console.channel} as {session.user.name}. /help for commands, :quit to leave."
        )
    while True:
        if interactive:
            out.write(session.style.dim(f"{session.user.name}> "))
            out.flush()
        # A thread keeps the event loop free (flag retries run in the background) while we wait for input.
        line = await asyncio.to_thread(stdin.readline)
        if not line or not await session.handle(line):
            break
