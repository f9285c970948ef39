"""Pure rendering: every embed fits Discord's limits, however big the answer or the flag."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import discord
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dosewise.models import (
    Escalation,
    Flag,
    FlagSource,
    FlagStatus,
    MessageRef,
    ModAction,
    Reason,
    Reply,
    ReplyKind,
    ReviewOutcome,
    Section,
    SourceLink,
    TopicChoice,
    UserRef,
)
from dosewise_discord import render, views

LINK_LINE = re.compile(r"• \[[^\[\]]*\]\(https?://[^()\s]*\)")


def assert_within_limits(embed: discord.Embed) -> None:
    assert len(embed) <= render.TOTAL_LIMIT
    assert len(embed.title or "") <= render.TITLE_LIMIT
    assert len(embed.description or "") <= render.DESCRIPTION_LIMIT
    assert len(embed.fields) <= render.FIELD_COUNT_LIMIT
    for field in embed.fields:
        assert 0 < len(field.name or "") <= render.FIELD_NAME_LIMIT
        assert 0 < len(field.value or "") <= render.FIELD_VALUE_LIMIT
    assert len(embed.footer.text or "") <= render.FOOTER_LIMIT
    assert len(embed.author.name or "") <= render.AUTHOR_LIMIT


def oversized_reply() -> Reply:
    return Reply(
        kind=ReplyKind.ANSWER,
        title="Risks " * 100,
        summary="A long summary sentence about what the evidence shows. " * 200,
        sections=tuple(Section(f"Heading {i} " * 30, "- a bullet line of findings\n" * 150) for i in range(40)),
        sources=tuple(
            SourceLink(f"Author{i} et al. [2021] A (very) long title " * 8, f"https://doi.org/10.1000/x({i})")
            for i in range(200)
        ),
        footer="Not medical advice. " * 300,
        topic="risks",
    )


def test_oversized_reply_fits_every_limit() -> None:
    embed = render.reply_embed(oversized_reply())
    assert_within_limits(embed)
    assert embed.title is not None and embed.title.endswith(render.ELLIPSIS)
    assert embed.description is not None and embed.description.startswith("A long summary")


def test_sources_are_whole_links_even_when_cut() -> None:
    reply = Reply(
        kind=ReplyKind.ANSWER,
        title="Risks",
        summary="Summary.",
        sources=tuple(
            SourceLink(f"Source [{i}] with (parens) " * 5, f"https://example.org/paper({i}) x") for i in range(150)
        ),
    )
    embed = render.reply_embed(reply)
    assert_within_limits(embed)
    source_fields = [f for f in embed.fields if (f.name or "").startswith("Sources")]
    assert source_fields
    lines = [line for f in source_fields for line in (f.value or "").splitlines()]
    links = [line for line in lines if line != render.ELLIPSIS]
    assert links and all(LINK_LINE.fullmatch(line) for line in links), links[:3]


def test_small_reply_is_rendered_untouched() -> None:
    reply = Reply(
        kind=ReplyKind.ANSWER,
        title="Risks",
        summary="What is known about the risks.",
        sections=(Section("Evidence", "- small trials\n- short follow-up"),),
        sources=(SourceLink("Szigeti 2021", "https://doi.org/10.7554/eLife.62878"),),
        footer="Not medical advice.",
    )
    embed = render.reply_embed(reply)
    assert embed.title == "Risks"
    assert [f.name for f in embed.fields] == ["Evidence", "Sources"]
    assert embed.fields[1].value == "• [Szigeti 2021](https://doi.org/10.7554/eLife.62878)"
    assert embed.footer.text == "Not medical advice."


def test_topic_list_and_refusal() -> None:
    topics = tuple(TopicChoice(f"topic-{i}", f"Topic {i}") for i in range(60))
    listing = render.reply_embed(Reply(kind=ReplyKind.TOPICS, title="Topics", summary="Pick one", topics=topics))
    assert_within_limits(listing)
    assert "`topic-0`" in (listing.fields[0].value or "")
    refusal = render.reply_embed(Reply(kind=ReplyKind.REFUSAL, title="I can't help with that", summary="No."))
    assert refusal.colour == render.REFUSAL_COLOUR


@settings(max_examples=60, deadline=None)
@given(
    title=st.text(max_size=400),
    summary=st.text(max_size=6000),
    sections=st.lists(st.tuples(st.text(max_size=300), st.text(max_size=2500)), max_size=30),
    footer=st.text(max_size=2500),
)
def test_any_reply_fits(title: str, summary: str, sections: list[tuple[str, str]], footer: str) -> None:
    reply = Reply(
        kind=ReplyKind.ANSWER,
        title=title,
        summary=summary,
        sections=tuple(Section(h, b) for h, b in sections),
        footer=footer,
    )
    assert_within_limits(render.reply_embed(reply))


def make_flag(**changes: object) -> Flag:
    now = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    base = Flag(
        id=42,
        ref=MessageRef("discord", "1", "2", "3", "https://discord.com/channels/1/2/3"),
        author=UserRef("99", "alice"),
        text="selling ```caps``` dm me",
        score=0.87,
        category="offer",
        reasons=(Reason("offer-sell", "intent", (0, 7), "selling"),),
        source=FlagSource.DETECTOR,
        status=FlagStatus.OPEN,
        created_at=now,
        updated_at=now,
    )
    fields = {f: getattr(base, f) for f in base.__slots__}
    fields.update(changes)
    return Flag(**fields)  # type: ignore[arg-type]


def test_alert_shows_reasons_excerpt_link_author_and_score() -> None:
    embed = render.alert_embed(make_flag(), escalation=Escalation(3, 30, 3600, apply=False))
    assert_within_limits(embed)
    fields = {f.name: f.value or "" for f in embed.fields}
    assert embed.url == "https://discord.com/channels/1/2/3"
    assert "<@99>" in fields["Author"]
    assert "0.87" in fields["Score"] and "offer" in fields["Score"]
    assert "offer-sell" in fields["Why"]
    assert "Consider a timeout of 1 hour." in fields["Repeat offender"]
    # The member's text cannot close the code block it is quoted in.
    assert embed.description is not None and embed.description.count("```") == 2


def test_huge_flag_alert_fits() -> None:
    reasons = tuple(Reason(f"rule-{i}" * 20, "contact", (0, 1), "x" * 500) for i in range(100))
    flag = make_flag(text="buy " * 5000, original_text="sell " * 5000, reasons=reasons)
    embed = render.alert_embed(flag, notes=["Could not delete the message: " + "x" * 2000] * 5)
    assert_within_limits(embed)


def test_reviewed_alert_says_who_did_what() -> None:
    mod = UserRef("7", "bob", is_moderator=True)
    flag = make_flag(
        status=FlagStatus.UPHELD,
        action=ModAction.TIMEOUT,
        reviewed_by=mod,
        reviewed_at=datetime(2026, 1, 2, 4, tzinfo=UTC),
    )
    outcome = ReviewOutcome(flag=flag, action=ModAction.TIMEOUT, moderator=mod, timeout_seconds=1800)
    embed = render.alert_embed(flag, outcome=outcome, notes=["<@99> timed out for 30 min."])
    fields = {f.name: f.value or "" for f in embed.fields}
    assert "time out <@99> for 30 min by <@7> (bob)" in fields["Review"]
    assert fields["Actions"] == "<@99> timed out for 30 min."
    assert embed.colour == render.STATUS_COLOURS[FlagStatus.UPHELD]


def test_truncate_never_exceeds_and_marks_the_cut() -> None:
    assert render.truncate("short", 10) == "short"
    cut = render.truncate("word " * 100, 50)
    assert len(cut) <= 50 and cut.endswith(render.ELLIPSIS)
    assert len(render.truncate("x" * 5000, 1024)) == 1024


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (60, "1 min"),
        (600, "10 min"),
        (5400, "90 min"),
        (3600, "1 hour"),
        (7200, "2 hours"),
        (86400, "1 day"),
        (3 * 86400, "3 days"),
        (7 * 86400, "1 week"),
        (28 * 86400, "4 weeks"),
        (30, "1 min"),
    ],
)
def test_durations_read_like_a_moderator_says_them(seconds: int, text: str) -> None:
    assert render.duration_text(seconds) == text


async def test_alert_view_has_buttons_and_a_timeout_menu_within_discord_limits() -> None:
    # A View needs a running event loop, hence async.
    view = views.alert_view(2**63 - 1, 60)
    rows = view.to_components()
    assert len(rows) == 2  # of Discord's 5
    buttons, menus = (row["components"] for row in rows)
    assert [b["custom_id"].rsplit(":", 1)[1] for b in buttons] == ["dismiss", "uphold", "delete", "ban"]
    [menu] = menus
    assert menu["custom_id"] == f"dosewise:flag:{2**63 - 1}:timeout" and len(menu["custom_id"]) <= 100
    assert [o["value"] for o in menu["options"]] == ["10", "60", "1440", "10080"]
    assert [o["label"] for o in menu["options"]] == ["10 min", "1 hour", "1 day", "1 week"]
    # A configured default already on the list is marked, not repeated; another one is added in order.
    assert [o.get("description") for o in menu["options"]] == [None, "the configured default", None, None]
    assert [o.value for o in views.timeout_options(45)] == ["10", "45", "60", "1440", "10080"]
