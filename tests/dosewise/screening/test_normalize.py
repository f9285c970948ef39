"""Text views and their offset maps."""

from __future__ import annotations

import pytest

from dosewise.screening.normalize import Views, deleet, squeeze

VIEW_CASES = [
    # (original, view, expected text of that view)
    ("ＤＭ ｆｏｒ 𝐜𝐚𝐩𝐬", "fold", "dm for caps"),
    ("sеlling асid", "skeleton", "selling acid"),
    ("t\u200cg @shr\u200c00m", "skeleton", "tg @shr00m"),
    ("envío café", "skeleton", "envio cafe"),
    ("need some m u s h r o o m s asap", "squeezed", "need some mushrooms asap"),
    ("d m me", "squeezed", "dm me"),
    ("dmmmm meeee", "squeezed", "dm me"),
    ("sh*roo*ms", "squeezed", "shrooms"),
    ("p-l-u-g needed", "squeezed", "plug needed"),
    ("5hr00m5 and c4p5", "deleet", "shrooms and caps"),
    ("t3l3gr4m @shr00m", "deleet", "telegram @shroom"),
]


@pytest.mark.parametrize(("original", "view", "expected"), VIEW_CASES)
def test_views(original: str, view: str, expected: str) -> None:
    assert Views(original).text(view) == expected


@pytest.mark.parametrize("text", ["450ms", "100mg", "took 0.15g at 3am", "covid", "mdma-assisted t.me"])
def test_leet_leaves_quantities_and_plain_words_alone(text: str) -> None:
    assert deleet(text) == text
    assert squeeze(text) == text


def test_decimals_are_not_joined() -> None:
    assert Views("0.1 g of caps").text("squeezed") == "0.1 g of caps"


@pytest.mark.parametrize(
    ("original", "view", "word", "expected"),
    [
        ("need some m u s h r o o m s asap", "squeezed", "mushrooms", "m u s h r o o m s"),
        ("sеlling \u200bасid", "skeleton", "acid", "асid"),
        ("fresh mush\u2060rooms in", "skeleton", "mushrooms", "mush\u2060rooms"),
        ("ｄｍ ｆｏｒ ｃａｐｓ", "fold", "caps", "ｃａｐｓ"),
        ("shroooooms for saaaale", "squeezed", "sale", "saaaale"),
        ("hey 5hr00m5 here", "deleet", "shrooms", "5hr00m5"),
        ("Straße shrooms", "fold", "shrooms", "shrooms"),
        ("ﬁne tabs", "fold", "tabs", "tabs"),
    ],
)
def test_spans_map_back_to_the_original(original: str, view: str, word: str, expected: str) -> None:
    views = Views(original)
    start = views.text(view).index(word)
    s, e = views.span(view, start, start + len(word))
    assert original[s:e] == expected


def test_spans_through_heavy_zero_width_padding() -> None:
    """Hundreds of invisible characters switch the skeleton to its kept-offsets map."""
    original = "\u200b".join("hello world ") * 40 + "sel\u200bling caps"
    views = Views(original)
    skel = views.text("skeleton")
    start = skel.index("selling")
    s, e = views.span("skeleton", start, start + len("selling caps"))
    assert original[s:e] == "sel\u200bling caps"
    assert views.span("skeleton", 0, 5) == (0, len("\u200b".join("hello")))


def test_emoji_are_read_as_words_and_spans_map_back() -> None:
    text = "🟡👨\u200d🏫 or 🍄 anyone? 💸"
    views = Views(text)
    skel = views.text("skeleton")
    assert "golden" in skel and "teacher" in skel and "shrooms" in skel and "cash" in skel
    start = skel.index("shrooms")
    a, b = views.span("skeleton", start, start + len("shrooms"))
    assert text[a:b] == "🍄"


def test_many_deletions_with_an_emoji_word_keep_honest_spans() -> None:
    text = "\u200b" * 300 + "🔌" + "\u200b" * 300 + "plug"
    views = Views(text)
    skel = views.text("skeleton")
    start = skel.rindex("plug")
    a, b = views.span("skeleton", start, start + 4)
    assert text[a:b] == "plug"
