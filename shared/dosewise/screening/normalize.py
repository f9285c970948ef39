"""Text views of a message, each with a map back to offsets in the original text.

Views (each built from the one before it):

- ``fold``: per-character NFKC + casefold (fullwidth and mathematical letters become ASCII).
- ``skeleton``: ``fold`` without format/zero-width characters and combining marks, with Cyrillic,
  Greek and other lookalikes folded to Latin and accents stripped (``é`` -> ``e``), and a moderate
  set of emoji read as the word they stand for (``🔌`` -> `` plug ``, see ``EMOJI_WORDS``), so the
  lexicon rules cover ``🍄 anyone?`` and ``🟡👨‍🏫`` (golden teacher) without emoji patterns.
- ``squeezed``: ``skeleton`` with spaced-out letters joined (``s.h.r.o.o.m.s``, ``d m me``; a wider gap
  between spaced words becomes one space: ``n e e d  a  p l u g`` -> ``need a plug``),
  symbols inside words dropped (``sh*roo*ms``) and runs of 3+ repeated letters cut to one
  (``shroooooms`` -> ``shroms``). Patterns for this view are squeezed the same way at load time.
- ``deleet``: ``skeleton`` with leetspeak digits and symbols read as letters, inside words only,
  then squeezed. Only lexicon rules use it: ``450ms`` must not turn into a word.

Building a view's text is cheap (``str.translate`` and one ``re.sub``); the offset maps are only
computed when a rule matched in that view and its span has to be reported, and then only over the
stretch of text that reaches the span (a hit near the start of a 40,000-character post maps a prefix).
"""

from __future__ import annotations

import re
import sys
import unicodedata
from bisect import bisect_left, bisect_right
from collections import Counter
from itertools import accumulate, chain
from operator import add, sub

import re2

from dosewise.screening.confusables import CONFUSABLES

VIEW_NAMES = ("fold", "skeleton", "squeezed", "deleet")

# Characters that hide inside words without showing: they are deleted from the skeleton even when
# their category is not Cf (Hangul fillers, braille blank, combining grapheme joiner...).
_INVISIBLE = frozenset((0x034F, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x2800, 0x3164, 0xFFA0, 0x180E))
# A table that grows with every distinct code point seen; past this size new entries are computed
# each time instead of stored, so hostile input cannot grow memory without bound.
_TABLE_LIMIT = 50_000


class _FoldTable(dict[int, str]):
    """Code point -> NFKC casefold, computed on first use (for `str.translate`)."""

    def __missing__(self, cp: int) -> str:
        value = unicodedata.normalize("NFKC", chr(cp)).casefold()
        if len(self) < _TABLE_LIMIT:
            self[cp] = value
        return value


class _SkeletonTable(dict[int, str]):
    """Code point of a folded text -> its skeleton: "" (drop), a Latin lookalike, or itself."""

    def __missing__(self, cp: int) -> str:
        value = _skeleton_char(cp)
        if len(self) < _TABLE_LIMIT:
            self[cp] = value
        return value


def _skeleton_char(cp: int) -> str:
    ch = chr(cp)
    if cp in _INVISIBLE or unicodedata.category(ch) in ("Cf", "Mn", "Me"):
        return ""
    if cp in _EMOJI_CODES:
        return _EMOJI_CODES[cp]
    if cp in CONFUSABLES:
        return CONFUSABLES[cp]
    if cp < 0x80:
        return ch
    base = "".join(c for c in unicodedata.normalize("NFD", ch) if not unicodedata.combining(c))
    # Only take the stripped form when it is still one character, so folding keeps lengths.
    if len(base) == 1:
        return CONFUSABLES.get(ord(base), base)
    return ch


# Emoji read as words in the skeleton (with spaces, so word boundaries hold). Person emoji are
# dropped so that a profession sequence reads as its object (👨‍🏫 -> "teacher").
EMOJI_WORDS: dict[str, str] = {
    "🍄": "shrooms", "🔌": "plug", "💊": "pills", "🌵": "cactus", "🍫": "chocolate", "🍬": "candy",
    "🍭": "candy", "❄": "snow", "🐸": "toad", "🟡": "golden", "🏫": "teacher", "💸": "cash", "💰": "cash",
    "💵": "cash", "💶": "cash", "💷": "cash", "💴": "cash", "🤑": "cash", "📦": "package", "📬": "package",
    "📫": "package", "📮": "package", "✉": "mail", "🚚": "delivery", "📩": "dm", "📥": "dm",
    "👨": "", "👩": "", "🧑": "",
}  # fmt: skip
_EMOJI_CODES = {ord(k): f" {v} " if v else "" for k, v in EMOJI_WORDS.items()}

_FOLD = _FoldTable()
_SKELETON = _SkeletonTable()

# One pass finds every squeeze edit; the branches are exclusive at any position.
#  run:   single letters or digits separated by 1-3 separator chars ("s.h.r.o.o.m.s", "d m",
#         "p-l-u-g", "o z  f o r  1 6 0"); see `_squeeze_run` for how words inside a run are told apart.
#  inner: symbols that never belong inside a word, between two letters ("sh*roo*ms", "sh|rooms");
#         dots, dashes, underscores and apostrophes stay, or every "don't" and "t.me" would differ.
#  rep:   a letter repeated 3+ times ("shroooooms", "dmmmm").
_SQUEEZE = re.compile(
    r"(?P<run>(?<![a-z0-9])[a-z0-9](?:[ .\-_*·•/|+~\n]{1,3}[a-z0-9](?![a-z0-9])|[.,][0-9](?![a-z0-9]))+)"
    r"|(?P<inner>(?<=[a-z])[*·•|~]+(?=[a-z]))"
    r"|(?P<rep>([a-z])\4\4+)"
)
# `squeeze` can only change a text that matches this (a spaced single letter next to another single letter or
# digit, symbols inside words, a letter repeated 3+ times); the detector searches it with the skeleton.
SQUEEZE_SENTINEL = (
    "(?:^|[^a-z0-9])(?:[a-z][ .\\-_*·•/|+~\\n]{1,3}[a-z0-9]|[0-9][ .\\-_*·•/|+~\\n]{1,3}[a-z])(?:[^a-z0-9]|$)"
    + "|[a-z][*·•|~]+[a-z]|"
    + "|".join(c * 3 for c in "abcdefghijklmnopqrstuvwxyz")
)
_SQUEEZE_SENTINEL = re2.compile(SQUEEZE_SENTINEL)
_RUN_GAPS = re.compile(r"[ .,\-_*·•/|+~\n]+")
_TWO_LETTERS = re.compile(r"[a-z][^a-z]*[a-z]")
_DECIMAL = re.compile(r"[0-9][.,][0-9]")


# The gaps of a run as three lists: starts, ends (relative to the run) and characters kept (1: a word
# break, read as one space; 0: a gap inside a word, dropped).
_Gaps = tuple[list[int], list[int], list[int]]
_NO_GAPS: _Gaps = ([], [], [])


def _run_gaps(run: str) -> _Gaps:
    """The gaps of a run of single characters and which of them are word breaks.

    The narrowest gap is the one between letters of a word; a wider gap, or one holding a line break or a
    different separator (" / " among "."), separates words: "n e e d  a  p l u g" is "need a plug" and
    "m_d_m_a + k_e_t" is "mdma ket". A run with fewer than two letters ("1 - 2", "0.1 g") is left alone,
    and so is a decimal point or comma between two digits ("0.1").
    """
    if not _TWO_LETTERS.search(run):
        return _NO_GAPS
    if _DECIMAL.search(run):
        found = [
            (m.start(), m.end(), m.group())
            for m in _RUN_GAPS.finditer(run)
            if not (m.group() in ".," and run[m.start() - 1].isdigit() and run[m.end()].isdigit())
        ]
        gaps = [g for _, _, g in found]
        starts, ends = [a for a, _, _ in found], [b for _, b, _ in found]
    else:
        # Without decimals a run is one character, a gap, one character...: offsets follow from the lengths
        # (gap i ends at 1 + i + the length of gaps 0..i), with no match object per gap.
        gaps = _RUN_GAPS.findall(run)
        lengths = list(map(len, gaps))
        ends = list(map(add, range(1, len(gaps) + 1), accumulate(lengths)))
        starts = list(map(sub, ends, lengths))
    counts = Counter(gaps)  # in order of first occurrence
    inside = [g for g in counts if "\n" not in g]
    if not inside:
        return starts, ends, [1] * len(gaps)
    # The gap between letters: the shortest, and of those the most frequent, the first seen on a tie
    # ("a.b c.d.e" -> ".").
    shortest = min(map(len, inside))
    narrow = max([g for g in inside if len(g) == shortest], key=counts.__getitem__)
    return starts, ends, [0 if g == narrow else 1 for g in gaps]


# Squeezed forms of short runs already seen: hostile posts repeat the same run thousands of times, and
# a run with mixed gaps costs several microseconds to read. Bounded like the character tables.
_RUN_CACHE: dict[str, str] = {}
_RUN_CACHE_LIMIT = 4096
_CACHED_RUN_LEN = 64


def _squeeze_run(run: str) -> str:
    found = _RUN_CACHE.get(run)
    if found is None:
        found = _squeeze_run_uncached(run)
        if len(run) <= _CACHED_RUN_LEN:
            if len(_RUN_CACHE) >= _RUN_CACHE_LIMIT:
                _RUN_CACHE.clear()
            _RUN_CACHE[run] = found
    return found


# Gaps of short runs already seen, for the squeezed view's map; and of the last long run, which is read
# twice (for the text, then for the map) when a hostile post is one run of spaced letters. Never mutated.
_GAPS_CACHE: dict[str, _Gaps] = {}
_LONG_RUN: list[tuple[str, _Gaps]] = []


def _cached_gaps(run: str) -> _Gaps:
    found = _GAPS_CACHE.get(run)
    if found is not None:
        return found
    if len(run) > _CACHED_RUN_LEN:
        last = _LONG_RUN[0] if _LONG_RUN else None
        if last is not None and last[0] == run:
            return last[1]
        found = _run_gaps(run)
        _LONG_RUN[:] = [(run, found)]
        return found
    found = _run_gaps(run)
    if len(_GAPS_CACHE) >= _RUN_CACHE_LIMIT:
        _GAPS_CACHE.clear()
    _GAPS_CACHE[run] = found
    return found


def _squeeze_run_uncached(run: str) -> str:
    if not _TWO_LETTERS.search(run):
        return run
    if not _DECIMAL.search(run) and "\n" not in run:
        kinds = set(_RUN_GAPS.findall(run))
        if len(kinds) == 1:
            return _RUN_GAPS.sub("", run)  # one kind of gap ("s.h.r.o.o.m.s", "d m"): one word
    starts, ends, keeps = _cached_gaps(run)
    if not starts:
        return run
    pieces = [run[b:a] for b, a in zip([0, *ends], starts, strict=False)]
    spaces = [" " if keep else "" for keep in keeps]
    return "".join(chain.from_iterable(zip(pieces, spaces, strict=True))) + run[ends[-1] :]


# Leet characters (inside a token of letters, digits and these; see `deleet`) read as letters.
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "6": "g", "7": "t",
                       "8": "b", "9": "g", "@": "a", "$": "s", "!": "i", "|": "l"})  # fmt: skip


# A region where a stage's output differs from its input: (out_start, out_end, in_start, in_end) says that
# out[out_start:out_end] came from in[in_start:in_end] (a deletion has out_start == out_end). Plain tuples:
# a map is built for each flagged message, and making an object per edit was most of its cost.
Edit = tuple[int, int, int, int]


# The `limit` of a map that covers its whole text.
_WHOLE = sys.maxsize


class StageMap:
    """Maps offsets in one stage's output back to its input, from a sorted list of edits.

    A map built from the edits of a prefix is exact for output offsets up to `limit`: every edit that
    starts at or before `limit` is in the list, and the bisections never look past the first one that
    does not.
    """

    __slots__ = ("_edits", "_out_ends", "limit")

    def __init__(self, edits: list[Edit], limit: int = _WHOLE) -> None:
        self._edits = edits
        self._out_ends = [e[1] for e in edits]
        self.limit = limit

    def start(self, p: int) -> int:
        """Input offset of the character that produced output character `p`."""
        k = bisect_right(self._out_ends, p)
        if k < len(self._edits) and self._edits[k][0] <= p:
            return self._edits[k][2]
        if k == 0:
            return p
        e = self._edits[k - 1]
        return e[3] + (p - e[1])

    def end(self, p: int) -> int:
        """Input offset just after the character that produced output character `p - 1`."""
        k = bisect_left(self._out_ends, p)
        if k < len(self._edits) and self._edits[k][0] < p:
            return self._edits[k][3]
        if k == 0:
            return p
        e = self._edits[k - 1]
        return e[3] + (p - e[1])


class _KeptMap:
    """Maps offsets of a stage that only deletes characters, from the list of kept input offsets.

    Used instead of edits when deletions are many and scattered (hostile zero-width padding), where
    one list comprehension is cheaper than one edit per run.
    """

    __slots__ = ("_kept", "_n", "limit")

    def __init__(self, kept: list[int], n: int, limit: int = _WHOLE) -> None:
        self._kept = kept
        self._n = n
        self.limit = limit  # exact up to this output offset (built from a prefix: len(kept) - 1)

    def start(self, p: int) -> int:
        """Input offset of the character that produced output character `p`."""
        return self._kept[p] if p < len(self._kept) else self._n

    def end(self, p: int) -> int:
        """Input offset just after the character that produced output character `p - 1`."""
        return self._kept[p - 1] + 1 if p > 0 else 0


# Past this many deleted characters the skeleton map is built as a _KeptMap.
_MANY_DELETIONS = 256


class _MarkTable(dict[int, str]):
    """Code point -> itself when its translation in `table` is one character, else a NUL mark.

    Translating with it keeps the length and shows where a translation changes lengths, so edits
    are found by one C-level pass instead of a Python loop over every character.
    """

    def __init__(self, table: dict[int, str]) -> None:
        super().__init__()
        self.table = table

    def __missing__(self, cp: int) -> str:
        value = chr(cp) if cp and len(self.table[cp]) == 1 else "\x00"
        if len(self) < _TABLE_LIMIT:
            self[cp] = value
        return value


_MARKS = re.compile("\x00+")
_FOLD_MARKS = _MarkTable(_FOLD)
_SKELETON_MARKS = _MarkTable(_SKELETON)


def _table_edits(text: str, marks: _MarkTable, marked: str | None = None) -> list[Edit]:
    """Edits made by translating `text` with `marks.table`: one edit per run of changed characters.

    `marked` is `text.translate(marks)` when the caller already has it.
    """
    edits: list[Edit] = []
    shift = 0  # output offset minus input offset so far
    for m in _MARKS.finditer(text.translate(marks) if marked is None else marked):
        start, end = m.span()
        # Most runs are one character (a zero-width space, an emoji): a table lookup, no slice.
        width = len(marks.table[ord(text[start])]) if end - start == 1 else len(text[start:end].translate(marks.table))
        edits.append((start + shift, start + shift + width, start, end))
        shift += width - (end - start)
    return edits


def fold(text: str) -> str:
    """Casefolded NFKC, computed character by character so that offsets can be mapped back."""
    if text.isascii():
        return text.lower()
    return text.translate(_FOLD)


def skeleton(folded: str) -> str:
    """Drop invisible characters and marks, fold lookalikes to Latin (input: a `fold` text)."""
    if folded.isascii():
        return folded
    return folded.translate(_SKELETON)


def _squeeze_sub(m: re.Match[str]) -> str:
    if m.lastgroup == "run":
        return _squeeze_run(m.group())
    if m.lastgroup == "inner":
        return ""
    return m.group()[0]


def squeeze(text: str) -> str:
    """Join spaced-out letters, drop separators inside words, cut runs of 3+ letters to one."""
    return _SQUEEZE.sub(_squeeze_sub, text)


def squeeze_edits(text: str) -> list[Edit]:
    """The deletions `squeeze` makes in `text`, as edits."""
    return _squeeze_edits(text, _WHOLE)[0]


def _squeeze_edits(text: str, upto: int) -> tuple[list[Edit], int]:
    """The edits of `squeeze` that start in the output up to `upto` (at least), and the offset they cover.

    The scan stops at the first match that lies past `upto` in the output and does not touch the last
    edit (it would be merged into it), so a hit near the start of a long post reads only that stretch.
    """
    edits: list[Edit] = []
    shift = 0  # input offset minus output offset so far
    for m in _SQUEEZE.finditer(text):
        base = m.start()
        if base - shift > upto and not (edits and edits[-1][3] == base):
            # Every later edit starts in the output at or after base - shift.
            return edits, base - shift - 1
        if m.lastgroup == "run":
            # `keep` output characters (a space between words) stand for the whole gap. A gap never touches
            # an edit before it (a run starts and ends with a kept character), so nothing is joined.
            starts, ends, keeps = _cached_gaps(m.group())
            for a, b, keep in zip(starts, ends, keeps, strict=True):
                out = base + a - shift
                edits.append((out, out + keep, base + a, base + b))
                shift += b - a - keep
        else:
            if m.lastgroup != "inner":
                base += 1  # a repeated letter keeps its first
            end = m.end()
            if edits and edits[-1][3] == base:
                # Touches the edit before ("aaa*b"): one edit, so each output offset falls in at most one.
                last = edits[-1]
                edits[-1] = (last[0], base - shift, last[2], end)
            else:
                edits.append((base - shift, base - shift, base, end))
            shift += end - base
    return edits, _WHOLE


def _prefix(text: str, out_len: int, table: dict[int, str], marks: _MarkTable, upto: int) -> tuple[int, int]:
    """A prefix of `text` whose translation maps output offsets up to `upto`: (its length, the limit).

    `out_len` is the length of the whole translation. The prefix starts from the length that the average
    ratio predicts and grows by doubling until its translation is longer than `upto` and it does not end
    inside a run of changed characters (which would split that run's edit); (len(text), _WHOLE) at the end.
    """
    n = (upto + 64) * len(text) // max(out_len, 1) + 64
    while n < len(text) and upto < out_len - 1:
        out = len(text[:n].translate(table))
        if out > upto and marks[ord(text[n - 1])] != "\x00":
            # Edits after the prefix start in the output at `out` or later.
            return n, out - 1
        n *= 2
    return len(text), _WHOLE


# What a leet reading of the whole text must give back, each starting at a token start or ending at a token
# end: a token without letters ("$50", "@@") or a number with a unit ("450ms", "3am") is left as it is,
# and so are a token's leading "@" (a handle) and trailing "!" (punctuation). Everything else in a token
# is read as letters, and outside tokens there is nothing to read.
_LEET_KEEP = re.compile(
    r"(?<![a-z0-9@$!|])(?:[0-9@$!|]+|[0-9]+[a-z]{0,4})(?![a-z0-9@$!|])"
    r"|(?<![a-z0-9@$!|])@"
    r"|(?<=[a-z0-9@$!|])!(?![a-z0-9@$!|])"
)


def deleet(text: str) -> str:
    """Read leetspeak inside words as letters ("5hr00m5" -> "shrooms"); same length as input."""
    # One translation of the whole text, then the few kept stretches copied back: no Python call per token.
    read = text.translate(_LEET)
    if read == text:
        return text
    pieces: list[str] = []
    last = 0
    for m in _LEET_KEEP.finditer(text):
        start, end = m.span()
        pieces.append(read[last:start])
        pieces.append(m.group())
        last = end
    pieces.append(read[last:])
    return "".join(pieces)


class Views:
    """The views of one message; `text(view)` and `span(view, start, end)` -> original offsets.

    ``fold`` and ``skeleton`` are built at once; ``squeezed`` and ``deleet`` on first use, or never
    when the caller knows (from a cheap sentinel search) that they equal the skeleton.
    """

    __slots__ = ("_leet", "_maps", "_original", "_plain", "_texts")

    def __init__(self, original: str) -> None:
        self._original = original
        folded = fold(original)
        self._texts: dict[str, str] = {"fold": folded, "skeleton": skeleton(folded)}
        self._leet: str | None = None
        self._maps: dict[str, StageMap | _KeptMap] = {}
        self._plain: set[str] = set()  # views whose every stage was found to keep offsets

    def text(self, view: str) -> str:
        """The text of one view."""
        found = self._texts.get(view)
        if found is None:
            skel = self._texts["skeleton"]
            if view == "squeezed":
                found = squeeze(skel)
            elif view == "deleet":
                leet = self._leet = deleet(skel)
                if leet == skel:
                    found = self.text("squeezed")
                else:
                    # Squeezing a text the sentinel does not match changes nothing (and makes no edits).
                    found = squeeze(leet) if _SQUEEZE_SENTINEL.search(leet) else leet
            else:
                raise KeyError(view)
            self._texts[view] = found
        return found

    def assume_unchanged(self, view: str) -> None:
        """Record that `view` equals the view it is derived from (the caller checked it cannot differ)."""
        if view == "squeezed":
            self._texts["squeezed"] = self._texts["skeleton"]
            self._maps["squeezed"] = _IDENTITY
        elif view == "deleet":
            self._leet = self._texts["skeleton"]
            self._texts["deleet"] = self.text("squeezed")

    def _map(self, stage: str, upto: int) -> StageMap | _KeptMap:
        """The map of one stage, exact for output offsets up to `upto` at least."""
        found = self._maps.get(stage)
        if found is None or found.limit < upto:
            # A map outgrown by a later span is rebuilt over at least twice its stretch, so spans spread
            # over a long post cost a logarithmic number of builds.
            found = self._build_map(stage, upto if found is None else max(upto, 2 * found.limit + 1))
            self._maps[stage] = found
        return found

    def _build_map(self, stage: str, upto: int) -> StageMap | _KeptMap:
        if stage == "fold":
            original = self._original
            # Every character folds to one or more characters, so equal lengths mean none changed length
            # (a NUL is the one character the edit finder marks even so).
            if original.isascii() or (len(self._texts["fold"]) == len(original) and "\x00" not in original):
                return _IDENTITY
            n, limit = _prefix(original, len(self._texts["fold"]), _FOLD, _FOLD_MARKS, upto)
            return StageMap(_table_edits(original[:n], _FOLD_MARKS), limit)
        if stage == "skeleton":
            return self._skeleton_map(self._texts["fold"], upto)
        if stage == "squeezed":
            return StageMap(*_squeeze_edits(self._texts["skeleton"], upto))
        self.text("deleet")
        assert self._leet is not None
        if self._leet == self._texts["skeleton"]:
            return self._map("squeezed", upto)
        if self._texts["deleet"] == self._leet:
            return _IDENTITY
        return StageMap(*_squeeze_edits(self._leet, upto))

    def _skeleton_map(self, folded: str, upto: int) -> StageMap | _KeptMap:
        if folded.isascii():
            return _IDENTITY
        skeleton_len = len(self._texts["skeleton"])
        n, limit = _prefix(folded, skeleton_len, _SKELETON, _SKELETON_MARKS, upto)
        if limit != _WHOLE:
            skeleton_len = limit + 1  # the prefix's translation
        folded = folded[:n]
        marked = folded.translate(_SKELETON_MARKS)
        marks = marked.count("\x00")
        if not marks:
            return _IDENTITY if limit == _WHOLE else StageMap([], limit)  # lookalikes only: one for one
        # A kept-offset map only describes deletions: not when an emoji became a word.
        if marks > _MANY_DELETIONS and skeleton_len == len(folded) - marks:
            return _KeptMap([i for i, c in enumerate(marked) if c != "\x00"], len(folded), limit)
        return StageMap(_table_edits(folded, _SKELETON_MARKS, marked), limit)

    def keeps_offsets(self, view: str) -> bool:
        """Whether offsets in `view` are already offsets in the original text (so far as is known yet)."""
        return view in self._plain or (
            self._original.isascii() and (view in ("fold", "skeleton") or self._maps.get(view) is _IDENTITY)
        )

    def span(self, view: str, start: int, end: int) -> tuple[int, int]:
        """Map a [start, end) span of a view back to the original text."""
        if view in self._plain:
            return start, max(end, start)
        if self._original.isascii() and (view in ("fold", "skeleton") or self._maps.get(view) is _IDENTITY):
            # Plain ASCII: lowercasing keeps offsets, and this view was found equal to the skeleton.
            return start, end
        plain = True
        for stage in _CHAINS[view]:
            m = self._map(stage, max(start, end))
            if m is not _IDENTITY:
                plain = False
                start, end = m.start(start), m.end(end)
            end = max(end, start)
        if plain:
            self._plain.add(view)
        return start, end


_IDENTITY = StageMap([])
_CHAINS = {
    "fold": ("fold",),
    "skeleton": ("skeleton", "fold"),
    "squeezed": ("squeezed", "skeleton", "fold"),
    "deleet": ("deleet", "skeleton", "fold"),
}
