"""Console input parsing and translation into core requests (pure functions)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from dosewise.models import ModAction
from dosewise.settings import ConsoleSettings
from dosewise_cli import console_translate as ct

CONSOLE = ConsoleSettings(moderators=("alice",), user="bob", channel="general")


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("", ct.Blank()),
        ("   \n", ct.Blank()),
        (":quit", ct.Quit()),
        (":as alice", ct.SwitchUser("alice")),
        (":as", ct.BadInput("usage: :as NAME (one word)")),
        (":edit 3 new words here", ct.EditMessage(3, "new words here")),
        (":edit x y", ct.BadInput("usage: :edit MESSAGE-NUMBER NEW TEXT")),
        (":) nice", ct.ChatLine(":) nice")),
        ("/microdosing does it help anxiety", ct.SlashCommand("microdosing", "does it help anxiety")),
        ("/Flags resolve 2 dismiss", ct.SlashCommand("flags", "resolve 2 dismiss")),
        ("/ not a command", ct.ChatLine("/ not a command")),
        ("1/10 of a dose", ct.ChatLine("1/10 of a dose")),
        ("hello there\n", ct.ChatLine("hello there")),
    ],
)
def test_parse_line(line: str, expected: ct.ConsoleInput) -> None:
    assert ct.parse_line(line) == expected


def test_moderators_come_from_the_config() -> None:
    assert ct.to_user("alice", CONSOLE).is_moderator
    assert not ct.to_user("bob", CONSOLE).is_moderator


def test_messages_are_unique_per_channel_and_number() -> None:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    msg = ct.to_incoming_message(7, "general", ct.to_user("bob", CONSOLE), "hi", at)
    assert (msg.ref.platform, msg.ref.server_id, msg.ref.channel_id, msg.ref.message_id) == (
        "console",
        "console",
        "general",
        "7",
    )
    edited = ct.to_incoming_message(7, "general", msg.author, "hi!", at.replace(minute=1), edited=True)
    assert edited.ref == msg.ref and edited.edited and edited.event_id != msg.event_id


def test_review_requests() -> None:
    mod = ct.to_user("alice", CONSOLE)
    req = ct.to_review("#12 timeout second offence", mod)
    assert (req.flag_id, req.action, req.note, req.moderator) == (
        12,
        ModAction.TIMEOUT,
        "second offence",
        mod,
    )
    for bad in ("", "12", "x dismiss", "12 obliterate"):
        with pytest.raises(ValueError, match="usage: /flags resolve"):
            ct.to_review(bad, mod)
