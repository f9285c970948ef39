"""Properties over arbitrary Unicode: screening never raises and every span is honest."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from dosewise.screening import default_detector
from dosewise.screening.normalize import VIEW_NAMES, Views

# Arbitrary text, plus text built from the pieces evasions are made of, so that rules do fire.
PIECES = st.sampled_from(
    ["shrooms", "s.h.r.o.o.m.s", "dm", "d m", "@plug_x", "tg", "selling", "\u200b", "\u2060", "а", "о", "с",
     "ｄｍ", "𝐜𝐚𝐩𝐬", "5hr00m5", "🍄", "$40", "ß", "ﬁ", "e\u0301", "İ", "  ", ".", "*", "ooo", "\U0001f17f\ufe0f"]
)  # fmt: skip
VIEW_TEXTS = st.one_of(st.text(), st.lists(st.one_of(PIECES, st.text(max_size=3)), max_size=30).map("".join))
# The detector also gets lone surrogates: JSON input ("\ud800") and broken clients deliver them, and RE2
# cannot encode them, so `screen` replaces them before building views (which never see one).
ANY_CHAR = st.characters(blacklist_categories=())
TEXTS = st.one_of(
    VIEW_TEXTS,
    st.text(ANY_CHAR),
    st.lists(st.one_of(PIECES, st.text(ANY_CHAR, max_size=3)), max_size=30).map("".join),
)


@settings(max_examples=300, deadline=None)
@given(TEXTS)
def test_screen_never_raises_and_spans_are_valid(text: str) -> None:
    verdict = default_detector().screen(text)
    assert 0.0 <= verdict.score <= 1.0
    assert verdict.flagged == (verdict.category is not None)
    for reason in verdict.reasons:
        start, end = reason.span
        assert 0 <= start <= end <= len(text)
        assert text[start:end] == reason.match


@settings(max_examples=300, deadline=None)
@given(VIEW_TEXTS, st.data())
def test_view_spans_stay_inside_the_original(text: str, data: st.DataObject) -> None:
    views = Views(text)
    for view in VIEW_NAMES:
        n = len(views.text(view))
        a = data.draw(st.integers(0, n))
        b = data.draw(st.integers(a, n))
        start, end = views.span(view, a, b)
        assert 0 <= start <= end <= len(text)
    # The whole of every view maps back to (a part of) the original; an unchanged view maps exactly.
    if views.text("skeleton") == text:
        assert views.span("skeleton", 0, len(text)) == (0, len(text))


LEETISH = st.lists(
    st.sampled_from(["a", "s", "hr", "0", "5", "10", "ug", "!", "@", "$", "|", "3pm", "shrooms", " ", ".", "1g"]),
    max_size=12,
).map("".join)


@settings(max_examples=300, deadline=None)
@given(st.one_of(LEETISH, st.text(alphabet="abcs015!@$| .gmu", max_size=20)))
def test_deleet_sentinel_never_misses_a_change(text: str) -> None:
    """When the cheap sentinel does not fire, the de-leeted view must equal the skeleton."""
    import re2

    from dosewise.screening.detector import _SENTINELS
    from dosewise.screening.normalize import deleet

    skel = Views(text).text("skeleton")
    if not re2.search(_SENTINELS["deleet"], skel):
        assert deleet(skel) == skel


@settings(max_examples=300, deadline=None)
@given(TEXTS)
def test_fast_paths_agree_with_the_explained_verdict(text: str) -> None:
    detector = default_detector()
    quick, full = detector.screen(text), detector.screen(text, explain=True)
    assert (quick.flagged, quick.score, quick.category) == (full.flagged, full.score, full.category)


SPACED = st.lists(
    st.sampled_from(["a", "b", "k", "1", "6", "0", " ", "  ", "   ", ".", "_", " / ", " - ", "\n", ",", "ab", "+"]),
    max_size=16,
).map("".join)


@settings(max_examples=400, deadline=None)
@given(st.one_of(SPACED, st.text(alphabet="abk016 ._/-\n,+", max_size=24)))
def test_squeeze_sentinel_never_misses_a_change(text: str) -> None:
    """When the cheap sentinel does not fire, the squeezed view must equal the skeleton."""
    import re2

    from dosewise.screening.detector import _SENTINELS
    from dosewise.screening.normalize import squeeze

    skel = Views(text).text("skeleton")
    if not re2.search(_SENTINELS["squeezed"], skel):
        assert squeeze(skel) == skel


@settings(max_examples=400, deadline=None)
@given(st.lists(st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=7), min_size=1, max_size=6),
       st.sampled_from([" ", ".", "_", "-"]), st.sampled_from(["  ", "   ", " / ", " - ", "\n"]))  # fmt: skip
def test_spaced_words_are_read_back_as_words(words: list[str], inner: str, between: str) -> None:
    """Letters spaced by one separator, words by a wider gap: the squeezed view reads the words back,
    separated by single spaces, and each word's span covers exactly its spaced letters."""
    if inner in between:
        between = "  " if inner != " " else " / "
    spaced = [inner.join(w) for w in words]
    text = between.join(spaced)
    views = Views(text)
    squeezed = views.text("squeezed")
    if all(len(w) == 1 for w in words):
        return  # no gap inside a word, so nothing tells letters from words
    assert squeezed == " ".join(words)
    pos = 0
    for word, original in zip(words, spaced, strict=True):
        start = squeezed.index(word, pos)
        a, b = views.span("squeezed", start, start + len(word))
        assert text[a:b] == original
        pos = start + len(word)


def test_a_lone_surrogate_does_not_hide_a_sourcing_message() -> None:
    text = "selling shrooms \ud800 dm me on telegram @caps_plug"
    verdict = default_detector().screen(text)
    assert verdict.flagged
    assert all(text[r.span[0] : r.span[1]] == r.match for r in verdict.reasons)
