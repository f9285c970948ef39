"""Invariants behind the detector's shortcuts: a sentinel that lets it skip building a view, de-leeting the
whole text at once, and span maps built over only the prefix of a long text that a span needs."""

from __future__ import annotations

import re

import re2
from hypothesis import given, settings
from hypothesis import strategies as st

from dosewise.screening.detector import _LEET_TEXT, _SENTINELS
from dosewise.screening.normalize import _LEET, VIEW_NAMES, Views, deleet

LEETISH = st.lists(
    st.sampled_from(["a", "s", "hr", "0", "5", "10", "ug", "!", "@", "$", "|", "3pm", "shrooms", " ", ".", "1g", "@x"]),
    max_size=12,
).map("".join)
LEET_TEXTS = st.one_of(LEETISH, st.text(alphabet="abcs0125!@$| .,gmuA\u00e9", max_size=24))

_TOKEN = re.compile(r"(?<![a-z0-9@$!|])[a-z0-9@$!|]*[0-9@$!|][a-z0-9@$!|]*")


def _deleet_token_by_token(text: str) -> str:
    """The de-leet reading spelled out one token at a time (the definition `deleet` must agree with)."""

    def read(m: re.Match[str]) -> str:
        token = m.group()
        if not re.search("[a-z]", token) or re.fullmatch(r"[0-9]+[a-z]{0,4}", token):
            return token
        head = "@" if token[0] == "@" else ""
        tail = "!" if token[-1] == "!" and len(token) > 1 else ""
        return head + token[len(head) : len(token) - len(tail)].translate(_LEET) + tail

    return _TOKEN.sub(read, text)


@settings(max_examples=300, deadline=None)
@given(LEET_TEXTS)
def test_leet_text_sentinel_never_misses_a_change(text: str) -> None:
    """When the narrow leet sentinel does not fire, the de-leeted text is the text itself."""
    if not re2.search(_SENTINELS[_LEET_TEXT], text):
        assert deleet(text) == text


@settings(max_examples=300, deadline=None)
@given(LEET_TEXTS)
def test_deleet_agrees_with_reading_each_token(text: str) -> None:
    assert deleet(text) == _deleet_token_by_token(text)


UNITS = st.text(
    alphabet=["a", "b", "s", "0", "5", "@", " ", ".", "\n", "\u200b", "\u0430", "\u00df", "\ufb01", "\U0001f344", "A"],
    min_size=1,
    max_size=12,
)


@settings(max_examples=60, deadline=None)
@given(UNITS, st.integers(min_value=20, max_value=200), st.lists(st.tuples(st.floats(0, 1), st.integers(0, 40))))
def test_prefix_maps_agree_with_whole_maps(unit: str, repeat: int, picks: list[tuple[float, int]]) -> None:
    """A span asked early (mapped over a prefix) maps as it would with the map of the whole text."""
    text = unit * repeat
    for view in VIEW_NAMES:
        whole, lazy = Views(text), Views(text)
        n = len(whole.text(view))
        whole.span(view, n, n)  # builds every map of the chain over the whole text
        for at, width in picks:
            start = int(at * at * n)  # most spans near the start, where prefixes are short
            end = min(n, start + width)
            assert lazy.span(view, start, end) == whole.span(view, start, end)
