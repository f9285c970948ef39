"""Core outcomes → Block Kit, within Slack's limits, without a network."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from dosewise.models import (
    Category,
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
from dosewise_slack.render import (
    DeleteResult,
    chunks,
    escape,
    link,
    render_alert,
    render_home,
    render_reply,
    render_reviewed,
)
from dosewise_slack.translate import parse_button_id

WHEN = datetime(2026, 1, 2, 3, 4, tzinfo=UTC)


def flag(**extra: Any) -> Flag:
    base = Flag(
        id=12,
        ref=MessageRef("slack", "T1", "C1", "1700000000.000100"),
        author=UserRef("U1", "alice"),
        text="shrooms for sale <!channel> dm me",
        score=0.87,
        category=Category.OFFER.value,
        reasons=(
            Reason("offer.for_sale", "intent", (8, 16), "for sale"),
            Reason("contact.dm_me", "contact", (27, 32), "dm me"),
        ),
        source=FlagSource.DETECTOR,
        status=FlagStatus.OPEN,
        created_at=WHEN,
        updated_at=WHEN,
    )
    return replace(base, **extra)


def all_text(blocks: Any) -> str:
    return json.dumps(blocks, ensure_ascii=False)


def section_texts(blocks: tuple[dict[str, Any], ...]) -> list[str]:
    return [b["text"]["text"] for b in blocks if b["type"] == "section" and "text" in b]


def check_limits(blocks: Any, max_blocks: int = 50) -> None:
    assert len(blocks) <= max_blocks
    for block in blocks:
        if block["type"] == "section":
            if "text" in block:
                assert len(block["text"]["text"]) <= 3000
            for field in block.get("fields", []):
                assert len(field["text"]) <= 2000
            assert len(block.get("fields", [])) <= 10
        if block["type"] == "header":
            assert len(block["text"]["text"]) <= 150
        if block["type"] == "actions":
            assert len(block["elements"]) <= 25


def test_answer_has_sections_linked_sources_and_fallback() -> None:
    reply = Reply(
        kind=ReplyKind.ANSWER,
        title="Microdosing & anxiety",
        summary="Evidence is thin.",
        sections=(Section("What is claimed", "- calmer\n- fewer worries"), Section("Risks", "- a <b> c")),
        sources=(
            SourceLink("Szigeti et al. 2021, eLife", "https://doi.org/10.7554/eLife.62878"),
            SourceLink("odd", "javascript:alert(1)"),
        ),
        footer="Not medical advice.",
        topic="anxiety",
    )
    message = render_reply(reply)
    assert message.blocks[0] == {"type": "header", "text": {"type": "plain_text", "text": "Microdosing & anxiety"}}
    texts = section_texts(message.blocks)
    assert "*What is claimed*\n• calmer\n• fewer worries" in texts
    assert any("a &lt;b&gt; c" in t for t in texts)
    assert any("<https://doi.org/10.7554/eLife.62878|Szigeti et al. 2021, eLife>" in t for t in texts)
    assert "javascript:" not in "".join(t for t in texts if "<javascript" in t)
    assert message.text.startswith("Microdosing &amp; anxiety: Evidence is thin.")
    assert message.blocks[-1]["type"] == "context"
    check_limits(message.blocks)


def test_long_answers_are_split_and_capped() -> None:
    body = "\n".join(f"- point {i} " + "x" * 200 for i in range(1000))
    reply = Reply(kind=ReplyKind.ANSWER, title="T" * 400, summary="s" * 7000, sections=(Section("Huge", body),))
    message = render_reply(reply)
    check_limits(message.blocks)
    assert len(message.blocks) == 50
    assert message.blocks[-1]["type"] == "context"
    assert len(message.text) <= 3000
    assert list(chunks("a\n" * 5, 4)) == ["a\na", "a\na", "a"]


def test_topic_list() -> None:
    reply = Reply(
        kind=ReplyKind.TOPICS,
        title="Topics",
        summary="Pick one.",
        topics=(TopicChoice("anxiety", "Anxiety"), TopicChoice("ptsd", "PTSD")),
    )
    message = render_reply(reply)
    assert any("`/microdosing anxiety`" in t for t in section_texts(message.blocks))
    assert "anxiety" in message.text and "ptsd" in message.text


def test_alert_shows_reasons_excerpt_author_score_and_five_buttons() -> None:
    message = render_alert(flag(), permalink="https://x.slack.com/archives/C1/p1700000000000100")
    text = all_text(message.blocks)
    assert "Flag #12 · offer · score 0.87" in text
    assert "`offer.for_sale` (intent)" in text and "`contact.dm_me`" in text
    assert "<@U1>" in text and "<#C1>" in text
    assert "<https://x.slack.com/archives/C1/p1700000000000100|open message>" in text
    # The member's text cannot ping anyone: escaped and verbatim.
    assert "<!channel>" not in text and "&lt;!channel&gt;" in text
    quoted = [b for b in message.blocks if b["type"] == "section" and b.get("text", {}).get("verbatim")]
    assert quoted
    (actions,) = [b for b in message.blocks if b["type"] == "actions"]
    ids = [e["action_id"] for e in actions["elements"]]
    assert [parse_button_id(i) for i in ids] == [(12, a) for a in ModAction]
    assert all(e["value"] == e["action_id"] for e in actions["elements"])
    assert "<!channel>" not in message.text
    check_limits(message.blocks)


def test_alert_for_an_edit_shows_both_texts_and_policy_notes() -> None:
    edited = flag(text="now innocent", original_text="shrooms for sale")
    escalation = Escalation(upheld=3, window_days=30, timeout_seconds=3600, apply=False)
    message = render_alert(edited, escalation=escalation, hidden=DeleteResult.NO_ADMIN_TOKEN, stored=False)
    text = all_text(message.blocks)
    assert "Message now (edited)" in text and "As first flagged" in text
    assert "remove it by hand" in text
    assert "Repeat offender: 3 upheld flags in 30 days" in text
    assert "queued" in text


def test_reviewed_alert_says_who_did_what_and_what_slack_cannot_do() -> None:
    mod = UserRef("UMOD", "mia", is_moderator=True)
    reviewed = flag(status=FlagStatus.UPHELD, reviewed_by=mod, reviewed_at=WHEN, action=ModAction.DELETE)
    outcome = ReviewOutcome(flag=reviewed, action=ModAction.DELETE, moderator=mod, delete_message=True)
    no_token = all_text(render_reviewed(outcome, delete=DeleteResult.NO_ADMIN_TOKEN).blocks)
    assert "Upheld (delete the message)* by <@UMOD>" in no_token
    assert "bot token cannot delete" in no_token and "delete it by hand" in no_token
    assert '"actions"' not in no_token
    done = all_text(render_reviewed(outcome, delete=DeleteResult.DELETED).blocks)
    assert "The message was deleted." in done and "by hand" not in done
    failed = all_text(render_reviewed(outcome, delete=DeleteResult.FAILED, delete_error="ratelimited").blocks)
    assert "ratelimited" in failed

    timeout = ReviewOutcome(
        flag=replace(reviewed, action=ModAction.TIMEOUT), action=ModAction.TIMEOUT, moderator=mod, timeout_seconds=3600
    )
    text = all_text(render_reviewed(timeout).blocks)
    assert "Slack has no timeouts" in text and "60 min" in text
    ban = ReviewOutcome(flag=replace(reviewed, action=ModAction.BAN), action=ModAction.BAN, moderator=mod, ban=True)
    assert "Slack bots cannot ban" in all_text(render_reviewed(ban).blocks)
    dismissed = replace(reviewed, status=FlagStatus.DISMISSED, action=ModAction.DISMISS)
    message = render_reviewed(ReviewOutcome(flag=dismissed, action=ModAction.DISMISS, moderator=mod))
    assert "Dismissed* by <@UMOD>" in all_text(message.blocks)
    assert "Not done" not in all_text(message.blocks)
    assert message.text == "Flag #12 dismissed by <@UMOD>"


def test_alert_of_a_reviewed_flag_has_no_buttons() -> None:
    mod = UserRef("UMOD", "mia", is_moderator=True)
    reviewed = flag(status=FlagStatus.DISMISSED, reviewed_by=mod, reviewed_at=WHEN, action=ModAction.DISMISS)
    text = all_text(render_alert(reviewed).blocks)
    assert '"actions"' not in text and "Dismissed* by <@UMOD>" in text


def test_purged_text_is_not_shown() -> None:
    text = all_text(render_alert(flag(text="", text_purged=True)).blocks)
    assert "purged" in text


def test_home_for_moderators_and_members() -> None:
    flags = [flag(id=i, text="y" * 5000) for i in range(1, 41)]
    view = render_home(flags, is_moderator=True)
    assert view["type"] == "home"
    check_limits(view["blocks"], 100)
    assert "Open flags (30+)" in all_text(view["blocks"])
    assert sum(1 for b in view["blocks"] if b["type"] == "actions") == 30
    member = render_home(flags, is_moderator=False)
    assert '"actions"' not in all_text(member["blocks"]) and "Report to moderators" in all_text(member["blocks"])
    empty = render_home([], is_moderator=True)
    assert "No open flags" in all_text(empty["blocks"])


def test_escaping_helpers() -> None:
    assert escape("a & <b>") == "a &amp; &lt;b&gt;"
    assert link("https://e.org/a|b>c", "x|y") == "<https://e.org/a%7Cb%3Ec|x¦y>"
    assert link("ftp://e.org", "label") == "label"
