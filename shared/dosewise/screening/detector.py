"""The sourcing detector: views -> one RE2 set search per distinct view -> scored `Verdict`."""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from operator import attrgetter
from pathlib import Path
from typing import Any

import re2

from dosewise.models import Category, Reason, Verdict
from dosewise.screening.normalize import SQUEEZE_SENTINEL, VIEW_NAMES, Views
from dosewise.screening.rules import Rule, RulePack, compile_regex, load_packs

DEFAULT_FLAG_THRESHOLD = 0.5
# Each rule reports at most this many matches: enough to place it in every window of a long post
# without letting a hostile 40,000-character message produce an unbounded list.
_MAX_HITS_PER_RULE = 24
_MAX_REASONS = 24
# Texts up to this length may be searched with Python's backtracking `re` to locate spans.
_SHORT_TEXT = 1000
# Later distinct rules of one family count for less: five ways of saying "dm me" are one signal.
_DIMINISH = 0.5
_CATEGORY_ORDER = (Category.OFFER, Category.REQUEST, Category.REFERRAL, Category.LOGISTICS)
# Bound on the cache of unflagged verdicts by matched rule set (ordinary chat repeats a few sets).
_QUICK_CACHE = 8192
# A turn in the sentence: what follows is read without the dampeners before it. English "but" needs no
# comma; the other languages' words do, as several also mean something else ("maar" is also "just").
_CONTRAST = re.compile(
    r"(?i)\bbut\b|,\s*(?:however|though|yet|aber|doch|pero|sin\s+embargo|mais|maar|ale|jednak|mas|por[eé]m)\b"
)
# A negation right before a negatable dampener's match ("not the lion's mane stuff", "isn't a scam", "nicht die
# aus dem Reformhaus") cancels it: the writer sets the benign thing apart from what they are after. The gate is
# searched first; only a message that has one of these words and a negatable dampener takes the span path.
_NEGATION_GATE = re.compile(r"(?i)\b(?:not|isn\W?t|aren\W?t|wasn\W?t|nicht|niet|nao|não|nie)\b")
_NEGATED = re.compile(
    r"(?i)\b(?:not|isn\W?t|aren\W?t|wasn\W?t|nicht|niet|nao|não|nie)\s+(?:(?:just|only|even|really|exactly|simply|"
    r"the|a|an|that|this|those|these|some|any|your|nur|die|der|das|den|het|de|o|a|os|as|um|uma)\s+){0,2}$"
)
# Broken UTF-16 halves: RE2 cannot encode them, so they are screened as U+FFFD.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
# Sentence ends: punctuation followed by a space, a line break, a semicolon. A window-scope dampener
# ("therapist", "research", "clinic") only weighs on the sentences it is in, so an ask in one sentence
# of a long post is judged without the benign words of the sentences around it.
_SENTENCE_END = re.compile(r"[.!?…。]+[\"'’”)\]]*\s+|\n\s*|;\s+")


@dataclass(frozen=True, slots=True)
class _Hit:
    """One match of one rule, with its span in the original text."""

    rule: Rule
    start: int
    end: int


_HIT_ORDER = attrgetter("start", "end")


@dataclass(frozen=True, slots=True)
class _SetGroup:
    """An RE2 set over the rules of a run of views whose texts are equal in a given message.

    Entries with no rule are sentinels: they say whether the squeezed or de-leeted view can differ
    from the skeleton, so those views are only built and searched when they can add something.
    """

    matcher: Any
    entries: tuple[tuple[Rule | None, str], ...]


_LEET_TEXT = "leet_text"
# Sentinels searched with the skeleton: a squeeze or a leet reading can only change a text that
# matches them. When one fires, the derived views are searched with their own patterns.
_SENTINELS = {
    "squeezed": SQUEEZE_SENTINEL,
    # A token changes only if it holds a letter and a leet character and is not a number with a unit
    # of up to 4 letters: a letter before a leet character (a trailing "!" is punctuation), a symbol
    # before a letter or digit+letter, a digit before 5+ letters, or a number+unit glued to "!".
    # "10ug", "3pm", "0.1g" and "hi!" pass.
    "deleet": "[a-z][0-9@$|]|[a-z]![a-z0-9@$!|]|[@$!|][a-z]|[@$!|][0-9]+[a-z]|[0-9][a-z]{5}|[0-9][a-z]{1,4}!",
    # Narrower than the deleet sentinel, which also fires on a handle ("@plug_x"): a leading "@" is kept,
    # so only an "@" inside a token counts. When this does not fire, the de-leeted text is the skeleton
    # and need not be built (the deleet sentinel alone still decides which patterns are searched).
    _LEET_TEXT: "[a-z][0-9@$|]|[a-z]![a-z0-9@$!|]|[$!|][a-z]|[0-9@$!|]@[a-z]|[@$!|][0-9]+[a-z]|[0-9][a-z]{5}"
    + "|[0-9][a-z]{1,4}!",
}
_DERIVED = ("squeezed", "deleet")
# A cached quick verdict may be None ("take the full path"): this marks a key not seen yet.
_UNKNOWN = Verdict(flagged=False, score=-1.0)


def _view_runs() -> list[tuple[str, ...]]:
    """Every run of consecutive views (texts that are equal are searched once, as a run)."""
    return [VIEW_NAMES[i:j] for i in range(len(VIEW_NAMES)) for j in range(i + 1, len(VIEW_NAMES) + 1)]


class Detector:
    """A compiled rule pack plus allowlist and threshold; `screen` judges one text."""

    def __init__(self, pack: RulePack, allowlist: Sequence[str], flag_threshold: float) -> None:
        self.pack = pack
        self.flag_threshold = flag_threshold
        self._combos = tuple((frozenset(c.signals), c.bonus) for c in pack.combos)
        self._py_regexes: dict[tuple[str, str], re.Pattern[str] | None] = {}
        self._groups: dict[tuple[str, ...], _SetGroup | None] = {run: self._compile_group(run) for run in _view_runs()}
        # ASCII fast path: for ASCII text every view but squeezed/deleet is `text.lower()`, so one search
        # of the raw RE2 set over all four views decides a short message unless a sentinel fires.
        ascii_group = self._groups[VIEW_NAMES]
        assert ascii_group is not None
        self._ascii_set = ascii_group.matcher._set  # the C++ set: skips the wrapper's type checks
        self._ascii_rules = tuple(rule for rule, _ in ascii_group.entries)
        self._ascii_sentinels = frozenset(i for i, (rule, _) in enumerate(ascii_group.entries) if rule is None)
        self._ascii_window_damp = frozenset(
            i for i, (rule, _) in enumerate(ascii_group.entries) if rule and rule.weight < 0 and rule.scope == "window"
        )
        self._ascii_damp = frozenset(i for i, (rule, _) in enumerate(ascii_group.entries) if rule and rule.weight < 0)
        self._ascii_negatable = frozenset(
            i for i, (rule, _) in enumerate(ascii_group.entries) if rule and rule.negatable
        )
        self._ascii_nested = frozenset(
            i for i, (rule, _) in enumerate(ascii_group.entries) if rule and rule.negatable and rule.scope == "window"
        )
        self._ascii_substance = frozenset(
            i for i, (rule, _) in enumerate(ascii_group.entries) if rule and rule.signal == "substance"
        )
        self._quick: dict[tuple[int, ...], Verdict | None] = {}
        self._short = 2 * pack.window  # a message this long is one window
        self._scores: dict[tuple[tuple[str, ...], bool], tuple[float, Category | None]] = {}
        phrases = [p.strip() for p in allowlist if p.strip()]
        self._allow = (
            compile_regex("|".join(re2.escape(Views(p).text("skeleton")) for p in phrases)) if phrases else None
        )

    @classmethod
    def build(
        cls,
        extra_packs: Sequence[Path] = (),
        allowlist: Sequence[str] = (),
        flag_threshold: float = DEFAULT_FLAG_THRESHOLD,
    ) -> Detector:
        """Load the default pack plus `extra_packs`, compile every pattern once, return a detector."""
        return cls(load_packs(extra_packs), tuple(allowlist), flag_threshold)

    def _compile_group(self, run: tuple[str, ...]) -> _SetGroup | None:
        entries: list[tuple[Rule | None, str]] = []
        for rule in self.pack.rules:
            # The texts of the run are equal, so one of the rule's views stands for all of them.
            view = next((v for v in run if v in rule.views), None)
            if view is not None:
                entries.append((rule, view))
        if not entries:
            return None
        if "skeleton" in run:
            entries.extend((None, name) for name in _SENTINELS)
        opts = re2.Options()
        opts.log_errors = False
        opts.max_mem = 256 << 20
        matcher = re2.Set.SearchSet(opts)
        for entry_rule, view in entries:
            matcher.Add(entry_rule.sources_by_view[view] if entry_rule is not None else _SENTINELS[view])
        matcher.Compile()
        return _SetGroup(matcher, tuple(entries))

    def _screen_surrogates(self, text: str, explain: bool) -> Verdict:
        # A lone surrogate (broken UTF-16 from a client, or JSON "\ud800") cannot be encoded for RE2.
        # U+FFFD has the same length, so spans still index the original; matches are read from it.
        verdict = self.screen(_LONE_SURROGATE.sub("\ufffd", text), explain)
        reasons = tuple(replace(r, match=text[r.span[0] : r.span[1]]) for r in verdict.reasons)
        return replace(verdict, reasons=reasons)

    def screen(self, text: str, explain: bool = False) -> Verdict:
        """Judge one message: flagged or not, a score in [0, 1], a category and the reasons.

        Reasons are listed for flagged messages; `explain=True` lists them for every message.
        """
        if not text:
            return Verdict(flagged=False, score=0.0)
        views = None
        if not text.isascii():
            if _LONE_SURROGATE.search(text):
                return self._screen_surrogates(text, explain)
            views = Views(text)
        key: tuple[int, ...] | None = None  # the set search of the skeleton, when already done
        if not explain and self._allow is None and len(text) <= self._short:
            # When the folded text is the skeleton (all ASCII chat, most chat with emoji or accents), every
            # view is that text unless a sentinel fires, and one set search decides an unflagged message.
            if views is None:
                key = tuple(self._ascii_set.Match(text.lower().encode()))
            elif views.text("fold") == views.text("skeleton"):
                key = tuple(self._ascii_set.Match(views.text("fold").encode()))
            quick = None if key is None else self._screen_quick(text, key)
            if quick is not None:
                return quick
        if views is None:
            views = Views(text)
        matched = self._match(views, key)
        if not any(rule.weight > 0 for rule, _ in matched.values()):
            return self._verdict(text, 0.0, None, [], explain)
        short = len(text) <= self._short
        known: tuple[float, Category | None] | None = None
        negated = (any(rule.negatable for rule, _ in matched.values()) and bool(_NEGATION_GATE.search(text))) or (
            any(rule.negatable and rule.scope == "window" for rule, _ in matched.values())
            and any(rule.signal == "substance" for rule, _ in matched.values())
        )
        split = (
            negated
            or (
                any(r.weight < 0 and r.scope == "window" for r, _ in matched.values())
                and bool(_SENTENCE_END.search(text, 0, len(text) - 1))
            )
            or (any(r.weight < 0 for r, _ in matched.values()) and bool(_CONTRAST.search(text)))
        )
        if short and self._allow is None and not split:
            # Fast path: a short message is one window, so its score needs no spans at all.
            known = self._evaluate([rule for rule, _ in matched.values()])
            if round(known[0], 3) < self.flag_threshold and not explain:
                return Verdict(flagged=False, score=round(known[0], 3))
        hits = self._hits(views, matched)
        if negated:
            hits = self._drop_negated(hits, text)
        if known is not None and len({h.rule.id for h in hits}) == len(matched):
            # Every rule that fired has a span: the window is the same rule set, already scored.
            score, category, chosen = known[0], known[1], hits
        else:
            score, category, chosen = self._score(hits, text)
        return self._verdict(text, score, category, chosen, explain)

    def _screen_quick(self, text: str, key: tuple[int, ...]) -> Verdict | None:
        """The verdict of a short message that is not flagged, or None to take the full path.

        `key` is what the set over all four views found in the message's folded text, which must equal its
        skeleton.
        """
        if not self._ascii_window_damp.isdisjoint(key) and _SENTENCE_END.search(text, 0, len(text) - 1):
            return None  # a dampener weighs only on its own sentence: score the sentences
        if not self._ascii_damp.isdisjoint(key) and _CONTRAST.search(text):
            return None  # "…, but …": the clause after the turn is read without the dampeners before it
        if not self._ascii_negatable.isdisjoint(key) and (
            _NEGATION_GATE.search(text)
            or (not self._ascii_nested.isdisjoint(key) and not self._ascii_substance.isdisjoint(key))
        ):
            return None  # "not the lion's mane stuff", "spicy lion's mane": such a dampener may drop, by its span
        verdict = self._quick.get(key, _UNKNOWN)
        if verdict is not _UNKNOWN:
            return verdict
        verdict = None
        if self._ascii_sentinels.isdisjoint(key):
            rules = [r for r in (self._ascii_rules[i] for i in key) if r is not None]
            score = self._evaluate(rules, with_category=False)[0] if any(r.weight > 0 for r in rules) else 0.0
            if round(score, 3) < self.flag_threshold:
                verdict = Verdict(flagged=False, score=round(score, 3))
        if len(self._quick) >= _QUICK_CACHE:
            self._quick.clear()
        self._quick[key] = verdict
        return verdict

    def _verdict(self, text: str, score: float, category: Category | None, hits: list[_Hit], explain: bool) -> Verdict:
        score = round(score, 3)
        flagged = score >= self.flag_threshold
        if not (flagged or explain):
            return Verdict(flagged=False, score=score)
        reasons = tuple(
            Reason(rule=h.rule.id, signal=h.rule.signal, span=(h.start, h.end), match=text[h.start : h.end])
            for h in hits[:_MAX_REASONS]
        )
        # A flag always carries a category; evidence made only of substances and quantities reads as an offer.
        shown = (category or Category.OFFER) if flagged else None
        return Verdict(flagged=flagged, score=score, category=shown, reasons=reasons)

    def _search(
        self, run: tuple[str, ...], text: str, found: dict[str, tuple[Rule, str]], done: Sequence[int] | None = None
    ) -> set[str]:
        """Search one run of equal views; record rules that fired and return the sentinels that did.

        `done` is the result of this very search when the caller already has it.
        """
        group = self._groups[run]
        sentinels: set[str] = set()
        if group is not None:
            for index in (group.matcher.Match(text) or ()) if done is None else done:
                rule, view = group.entries[index]
                if rule is None:
                    sentinels.add(view)
                else:
                    found.setdefault(rule.id, (rule, view))
        return sentinels

    def _match(self, views: Views, key: Sequence[int] | None = None) -> dict[str, tuple[Rule, str]]:
        """Rules that fired, each with the first view it fired in (`key`: the skeleton's search, if done)."""
        found: dict[str, tuple[Rule, str]] = {}
        folded, skel = views.text("fold"), views.text("skeleton")
        head: tuple[str, ...] = ("skeleton", *_DERIVED)
        if folded != skel:
            self._search(("fold",), folded, found)
            key = None
        else:
            head = ("fold", *head)
        # First assume the derived views equal the skeleton (true for most chat) and search once.
        sentinels = self._search(head, skel, found, key)
        if not sentinels:
            for view in _DERIVED:
                views.assume_unchanged(view)
            return found
        # They may differ: keep only what fired on fold/skeleton and search the derived views for real.
        found = {k: (r, v) for k, (r, v) in found.items() if v in ("fold", "skeleton")}
        if "squeezed" not in sentinels:
            views.assume_unchanged("squeezed")
        if _LEET_TEXT not in sentinels:
            views.assume_unchanged("deleet")
        squeezed, leet = views.text("squeezed"), views.text("deleet")
        if squeezed == leet:
            self._search(_DERIVED, squeezed, found)
        else:
            self._search(("squeezed",), squeezed, found)
            self._search(("deleet",), leet, found)
        return found

    def _hits(self, views: Views, matched: dict[str, tuple[Rule, str]]) -> list[_Hit]:
        """Every match of every rule that fired, in original offsets, allowlisted spans removed."""
        hits: list[_Hit] = []
        for rule, view in matched.values():
            text = views.text(view)
            # Short texts use Python's `re` for positions (several times faster per call than the
            # RE2 wrapper); its worst case is bounded by the length cap. Long texts stay on RE2.
            regex = self._short_regex(rule, view) if len(text) <= _SHORT_TEXT else None
            finder = regex.finditer(text) if regex is not None else rule.regex_by_view[view].finditer(text)
            plain = views.keeps_offsets(view)
            for n, m in enumerate(finder):
                if n >= _MAX_HITS_PER_RULE:
                    break
                start, end = m.span()
                if end > start:
                    if not plain:
                        start, end = views.span(view, start, end)
                    if end > start:
                        hits.append(_Hit(rule, start, end))
        if self._allow is not None:
            hits = self._drop_allowlisted(views, hits)
        hits.sort(key=_HIT_ORDER)
        return hits

    @staticmethod
    def _drop_negated(hits: list[_Hit], text: str) -> list[_Hit]:
        """Hits without the negatable dampeners that follow a negation or sit inside a substance's match.

        "not the lion's mane stuff" sets the legal product apart from what is asked for, and "spicy lion's mane"
        is a code name that merely contains one.
        """
        names = [(h.start, h.end) for h in hits if h.rule.signal == "substance"]
        return [
            h
            for h in hits
            if not h.rule.negatable
            or not (
                _NEGATED.search(text, max(0, h.start - 40), h.start)
                or any(s <= h.start and h.end <= e and (s, e) != (h.start, h.end) for s, e in names)
            )
        ]

    def _short_regex(self, rule: Rule, view: str) -> re.Pattern[str] | None:
        """The rule's pattern for `view` compiled by Python `re` (None if `re` cannot read it)."""
        if not rule.builtin:
            # A pack from a config is checked by RE2 only: `re` could backtrack exponentially on it.
            return None
        key = (rule.id, view)
        if key not in self._py_regexes:
            try:
                self._py_regexes[key] = re.compile(rule.sources_by_view[view], re.ASCII)
            except re.error:
                self._py_regexes[key] = None
        return self._py_regexes[key]

    def _drop_allowlisted(self, views: Views, hits: list[_Hit]) -> list[_Hit]:
        assert self._allow is not None
        skel = views.text("skeleton")
        allowed = [views.span("skeleton", m.start(), m.end()) for m in self._allow.finditer(skel)]
        return [h for h in hits if not any(s <= h.start and h.end <= e for s, e in allowed)]

    def _score(self, hits: list[_Hit], text: str) -> tuple[float, Category | None, list[_Hit]]:
        """Score every window around a positive hit and keep the best one.

        A window is the hits within `window` characters of a positive hit (the whole of a short message).
        When a window-scope dampener is among them and the text has several sentences, the window is also
        scored as the anchor's sentence alone and with each neighbouring sentence, and the best reading
        counts: a "therapist" in the sentence before must not hide "does anyone know someone who could
        sell me some?", while a dampener in the ask's own sentence still weighs on it.
        """
        window = self.pack.window
        global_damp = [h for h in hits if h.rule.scope == "message"]
        sentence_of = self._sentences(hits, text)
        turns = self._turns(hits, text)
        if len(text) <= 2 * window:
            best = self._best_reading(hits, hits, global_damp, sentence_of, turns)
            return best
        starts = [h.start for h in hits]
        best = (0.0, None, [])
        last_anchor = -window
        for h in hits:
            if h.rule.weight <= 0 or h.start - last_anchor < window // 2:
                continue
            last_anchor = h.start
            local = hits[bisect_left(starts, h.start - window) : bisect_right(starts, h.start + window)]
            found = self._best_reading([h], local, global_damp, sentence_of, turns)
            if found[0] > best[0] or not best[2]:
                best = found
        return best

    def _sentences(self, hits: list[_Hit], text: str) -> dict[int, int] | None:
        """Sentence number of each hit (by its start), or None when sentences need not be told apart."""
        if not any(h.rule.weight < 0 and h.rule.scope == "window" for h in hits):
            return None
        # Only the stretch holding hits is split: a 40,000-character post is not walked end to end.
        lo, hi = hits[0].start, hits[-1].end
        ends = [m.end() for m in _SENTENCE_END.finditer(text, lo, hi)]
        if not ends:
            return None
        return {h.start: bisect_right(ends, h.start) for h in hits}

    def _turns(self, hits: list[_Hit], text: str) -> list[int]:
        """Where the text turns ("…, but …", "…, aber …") after a dampener; empty when nothing can turn."""
        damp = [h.start for h in hits if h.rule.weight < 0]
        if not damp:
            return []
        first = min(damp)
        return [m.end() for m in _CONTRAST.finditer(text, first)]

    def _best_reading(
        self,
        anchors: list[_Hit],
        local: list[_Hit],
        global_damp: list[_Hit],
        sentence_of: dict[int, int] | None,
        turns: Sequence[int] = (),
    ) -> tuple[float, Category | None, list[_Hit]]:
        """The best score of `local` read whole, by the anchors' sentence and neighbours, or after a turn.

        "I don't sell, but my cousin does, I can pass on his number": what follows a "but" is read without
        the dampeners before it, so a refusal, a warning or a legal option does not cover an ask after it.
        A dampener after the turn still counts, and an ask before it gains nothing.
        """
        groups: list[list[_Hit]] = [local]
        global_by_group: list[list[_Hit]] = [global_damp]
        for a in anchors:
            if a.rule.weight <= 0:
                continue
            turn = max((t for t in turns if t <= a.start), default=None)
            if turn is not None:
                groups.append([x for x in local if x.start >= turn])
                global_by_group.append([g for g in global_damp if g.start >= turn])
        if sentence_of is not None:
            seen: set[tuple[int, int]] = set()
            for a in anchors:
                if a.rule.weight <= 0:
                    continue
                s = sentence_of[a.start]
                for lo, hi in ((s, s), (s - 1, s), (s, s + 1)):
                    if (lo, hi) not in seen:
                        seen.add((lo, hi))
                        groups.append([x for x in local if lo <= sentence_of[x.start] <= hi])
                        global_by_group.append(global_damp)
        best: tuple[float, Category | None, list[_Hit]] = (0.0, None, [])
        for group, damp in zip(groups, global_by_group, strict=True):
            chosen = group + [g for g in damp if g not in group]
            score, category = self._evaluate(list({x.rule.id: x.rule for x in chosen}.values()))
            if score > best[0] or not best[2]:
                best = (score, category, sorted(chosen, key=lambda x: (x.start, x.end)))
        return best

    def _evaluate(self, rules: Sequence[Rule], with_category: bool = True) -> tuple[float, Category | None]:
        """Score one window from its distinct rules: (family totals + combos) x dampening, in [0, 1]."""
        # Keyed by the rules in order (float sums depend on it): flagged chat repeats a few rule lists too.
        key = (tuple([rule.id for rule in rules]), with_category)
        found = self._scores.get(key)
        if found is None:
            found = self._evaluate_uncached(rules, with_category)
            if len(self._scores) >= _QUICK_CACHE:
                self._scores.clear()
            self._scores[key] = found
        return found

    def _evaluate_uncached(self, rules: Sequence[Rule], with_category: bool) -> tuple[float, Category | None]:
        by_family: dict[str, list[float]] = {}
        factor = 1.0
        for rule in rules:
            if rule.weight < 0:
                factor *= 1.0 - min(-rule.weight, 0.95)
            elif rule.signal in by_family:
                by_family[rule.signal].append(rule.weight)
            else:
                by_family[rule.signal] = [rule.weight]
        raw = 0.0
        present: set[str] = set()
        for family, weights in by_family.items():
            if len(weights) == 1:
                total = weights[0]
            else:
                weights.sort(reverse=True)
                total = sum(w * _DIMINISH**k for k, w in enumerate(weights))
            raw += total
            if total >= self.pack.combo_min:
                present.add(family)
        for signals, bonus in self._combos:
            if signals <= present:
                raw += bonus
        if self.pack.anchors and self.pack.anchors.isdisjoint(by_family):
            factor *= self.pack.unanchored_factor
        score = min(max(min(raw, self.pack.saturation) * factor, 0.0), 1.0)
        if not with_category:
            return score, None
        # The category is the one argued for by the most evidence (distinct rules, summed).
        per_category: dict[Category, float] = {}
        for rule in rules:
            if rule.weight > 0 and rule.category is not None:
                per_category[rule.category] = per_category.get(rule.category, 0.0) + rule.weight
        category = max(_CATEGORY_ORDER, key=lambda c: per_category.get(c, 0.0)) if per_category else None
        return score, category


@lru_cache(maxsize=1)
def default_detector() -> Detector:
    """The detector of the default pack with default settings, built once per process."""
    return Detector.build()
