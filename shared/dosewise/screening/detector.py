"""The sourcing detector: views -> one RE2 set search per distinct view -> scored `Verdict`."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import re2

from dosewise.models import Category, Reason, Verdict
from dosewise.screening.normalize import VIEW_NAMES, Views
from dosewise.screening.rules import Combo, Rule, RulePack, compile_regex, load_packs

DEFAULT_FLAG_THRESHOLD = 0.5
# Each rule reports at most this many matches: enough to place it in every window of a long post
# without letting a hostile 40,000-character message produce an unbounded list.
_MAX_HITS_PER_RULE = 24
_MAX_REASONS = 24
# Later distinct rules of one family count for less: five ways of saying "dm me" are one signal.
_DIMINISH = 0.5
_CATEGORY_ORDER = (Category.OFFER, Category.REQUEST, Category.REFERRAL, Category.LOGISTICS)


@dataclass(frozen=True, slots=True)
class _Hit:
    """One match of one rule, with its span in the original text."""

    rule: Rule
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class _SetGroup:
    """An RE2 set over the rules of a run of views whose texts are equal in a given message."""

    matcher: Any
    entries: tuple[tuple[Rule, str], ...]


def _view_runs() -> list[tuple[str, ...]]:
    """Every run of consecutive views (texts that are equal are searched once, as a run)."""
    return [VIEW_NAMES[i:j] for i in range(len(VIEW_NAMES)) for j in range(i + 1, len(VIEW_NAMES) + 1)]


class Detector:
    """A compiled rule pack plus allowlist and threshold; `screen` judges one text."""

    def __init__(self, pack: RulePack, allowlist: Sequence[str], flag_threshold: float) -> None:
        self.pack = pack
        self.flag_threshold = flag_threshold
        self._groups: dict[tuple[str, ...], _SetGroup | None] = {run: self._compile_group(run) for run in _view_runs()}
        phrases = [p.strip().casefold() for p in allowlist if p.strip()]
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
        entries: list[tuple[Rule, str]] = []
        for rule in self.pack.rules:
            # The texts of the run are equal, so one of the rule's views stands for all of them.
            view = next((v for v in run if v in rule.views), None)
            if view is not None:
                entries.append((rule, view))
        if not entries:
            return None
        opts = re2.Options()
        opts.log_errors = False
        opts.max_mem = 256 << 20
        matcher = re2.Set.SearchSet(opts)
        for rule, view in entries:
            matcher.Add(rule.sources_by_view[view])
        matcher.Compile()
        return _SetGroup(matcher, tuple(entries))

    def screen(self, text: str) -> Verdict:
        """Judge one message: flagged or not, a score in [0, 1], a category and the reasons."""
        if not text:
            return Verdict(flagged=False, score=0.0)
        views = Views(text)
        hits = self._hits(views)
        if not any(h.rule.weight > 0 for h in hits):
            return Verdict(flagged=False, score=0.0)
        score, category, chosen = self._score(hits, len(text))
        reasons = tuple(
            Reason(rule=h.rule.id, signal=h.rule.signal, span=(h.start, h.end), match=text[h.start : h.end])
            for h in chosen[:_MAX_REASONS]
        )
        score = round(score, 3)
        flagged = score >= self.flag_threshold
        # A flag always carries a category; evidence made only of substances and quantities reads as an offer.
        shown = (category or Category.OFFER) if flagged else None
        return Verdict(flagged=flagged, score=score, category=shown, reasons=reasons)

    def _hits(self, views: Views) -> list[_Hit]:
        """Every match of every rule that fired, in original offsets, allowlisted spans removed."""
        found: dict[str, tuple[Rule, str]] = {}
        i = 0
        while i < len(VIEW_NAMES):
            j = i + 1
            text = views.text(VIEW_NAMES[i])
            while j < len(VIEW_NAMES) and views.text(VIEW_NAMES[j]) == text:
                j += 1
            group = self._groups[VIEW_NAMES[i:j]]
            if group is not None:
                for index in group.matcher.Match(text) or ():
                    rule, view = group.entries[index]
                    found.setdefault(rule.id, (rule, view))
            i = j
        if not found:
            return []
        hits: list[_Hit] = []
        for rule, view in found.values():
            for n, m in enumerate(rule.regex_by_view[view].finditer(views.text(view))):
                if n >= _MAX_HITS_PER_RULE:
                    break
                if m.end() > m.start():
                    start, end = views.span(view, m.start(), m.end())
                    if end > start:
                        hits.append(_Hit(rule, start, end))
        if self._allow is not None:
            hits = self._drop_allowlisted(views, hits)
        hits.sort(key=lambda h: (h.start, h.end))
        return hits

    def _drop_allowlisted(self, views: Views, hits: list[_Hit]) -> list[_Hit]:
        assert self._allow is not None
        skel = views.text("skeleton")
        allowed = [views.span("skeleton", m.start(), m.end()) for m in self._allow.finditer(skel)]
        return [h for h in hits if not any(s <= h.start and h.end <= e for s, e in allowed)]

    def _score(self, hits: list[_Hit], length: int) -> tuple[float, Category | None, list[_Hit]]:
        """Score every window around a positive hit and keep the best one."""
        window = self.pack.window
        global_damp = [h for h in hits if h.rule.scope == "message"]
        if length <= 2 * window:
            score, category = _evaluate(hits, self.pack.combos)
            return score, category, hits
        starts = [h.start for h in hits]
        best: tuple[float, Category | None, list[_Hit]] = (-1.0, None, [])
        last_anchor = -window
        for h in hits:
            if h.rule.weight <= 0 or h.start - last_anchor < window // 2:
                continue
            last_anchor = h.start
            lo = bisect_left(starts, h.start - window)
            hi = bisect_right(starts, h.start + window)
            local = hits[lo:hi]
            chosen = local + [g for g in global_damp if g not in local]
            score, category = _evaluate(chosen, self.pack.combos)
            if score > best[0]:
                best = (score, category, sorted(chosen, key=lambda x: (x.start, x.end)))
        return best


def _family_totals(hits: Iterable[_Hit]) -> tuple[dict[str, float], float]:
    """Per positive family: the strongest rule counts fully, each further distinct rule less.

    Also returns the dampening factor: each distinct dampener rule keeps ``1 - |weight|`` of the
    score, so a warning or a quoted rule scales the evidence down instead of cancelling a fixed amount.
    """
    by_family: dict[str, dict[str, float]] = {}
    damp: dict[str, float] = {}
    for h in hits:
        if h.rule.weight < 0:
            damp[h.rule.id] = h.rule.weight
        else:
            by_family.setdefault(h.rule.signal, {})[h.rule.id] = h.rule.weight
    totals: dict[str, float] = {}
    for family, weights in by_family.items():
        ordered = sorted(weights.values(), reverse=True)
        totals[family] = sum(w * _DIMINISH**k for k, w in enumerate(ordered))
    factor = 1.0
    for w in damp.values():
        factor *= 1.0 - min(-w, 0.95)
    return totals, factor


def _evaluate(hits: list[_Hit], combos: Sequence[Combo]) -> tuple[float, Category | None]:
    """Score one window: (family totals + combo bonuses) x dampening factor, clamped to [0, 1]."""
    totals, factor = _family_totals(hits)
    raw = sum(totals.values())
    for combo in combos:
        if all(totals.get(s, 0.0) > 0 for s in combo.signals):
            raw += combo.bonus
    # The category is the one argued for by the most evidence (distinct rules, summed).
    per_rule = {h.rule.id: h.rule for h in hits if h.rule.weight > 0 and h.rule.category is not None}
    per_category: dict[Category, float] = {}
    for rule in per_rule.values():
        assert rule.category is not None
        per_category[rule.category] = per_category.get(rule.category, 0.0) + rule.weight
    category = max(_CATEGORY_ORDER, key=lambda c: per_category.get(c, 0.0)) if per_category else None
    return min(max(raw * factor, 0.0), 1.0), category


@lru_cache(maxsize=1)
def default_detector() -> Detector:
    """The detector of the default pack with default settings, built once per process."""
    return Detector.build()
