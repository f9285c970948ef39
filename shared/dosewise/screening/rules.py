"""Rule packs: YAML files of signals that moderators can read and extend, compiled once with RE2.

A pack is a mapping with ``rules`` (and optionally ``terms``, ``combos``, ``scoring``):

```yaml
terms:                           # named word lists, written {{name}} inside patterns
  drug: 'ket|molly|tabs|caps'
rules:
  - id: offer.selling            # unique across all loaded packs
    signal: intent_offer         # one of SIGNALS
    weight: 0.35                 # added to the score (negative for dampeners)
    views: [skeleton, squeezed]  # optional; see dosewise.screening.normalize
    category: offer              # optional; defaults from the signal
    scope: window                # optional; "message" makes a dampener cover the whole message
    negatable: false             # optional, dampeners only: "not the lion's mane stuff" does not dampen
    languages: [en]              # optional, documentation only
    comment: why this rule exists
    patterns: ['\\bselling\\b']  # RE2 syntax, lowercase, no accents (views are folded)
  - id: offer.does
    signal: intent_offer
    weight: 0.3
    patterns: ['\\bdoes\\s+{{drug}}\\b']  # {{drug}} becomes (?:ket|molly|tabs|caps)
combos:
  - id: combo.offer_substance
    signals: [intent_offer, substance]
    bonus: 0.2
```
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import re2
import yaml

from dosewise.errors import RulePackError
from dosewise.models import Category
from dosewise.screening.normalize import VIEW_NAMES

# The signal families a rule can belong to, and the category each one argues for.
SIGNALS: Mapping[str, Category | None] = {
    "substance": None,
    "sourcing_term": Category.REQUEST,
    "intent_offer": Category.OFFER,
    "intent_request": Category.REQUEST,
    "contact": Category.REFERRAL,
    "referral": Category.REFERRAL,
    "logistics": Category.LOGISTICS,
    "payment": Category.LOGISTICS,
    "price": Category.OFFER,
    "quantity": None,
    "commerce": Category.OFFER,
    "dampener": None,
}
DEFAULT_VIEWS = ("skeleton", "squeezed")
# Views whose text has had runs of letters cut: their patterns are squeezed the same way.
_SQUEEZED_VIEWS = frozenset(("squeezed", "deleet"))
_RULE_KEYS = frozenset(
    ("id", "signal", "weight", "views", "category", "scope", "negatable", "languages", "comment", "patterns", "pattern")
)


@dataclass(frozen=True, slots=True)
class Rule:
    """One compiled rule: its patterns joined into one RE2 regex per view."""

    id: str
    signal: str
    weight: float
    views: tuple[str, ...]
    category: Category | None
    scope: str
    source: str
    sources_by_view: Mapping[str, str]
    regex_by_view: Mapping[str, Any]
    # Shipped with Dosewise (tested): only such rules may also run on a backtracking engine (`re`).
    builtin: bool = False
    # A dampener whose match right after a negation ("not the lion's mane stuff", "isn't a scam") is dropped.
    negatable: bool = False


@dataclass(frozen=True, slots=True)
class Combo:
    """A bonus added when every listed signal fired within one window."""

    id: str
    signals: tuple[str, ...]
    bonus: float


@dataclass(frozen=True, slots=True)
class RulePack:
    """Rules and combos from one or more files, in load order."""

    rules: tuple[Rule, ...]
    combos: tuple[Combo, ...]
    window: int
    # Evidence with none of these families (e.g. "selling" + a price) is about something else.
    anchors: frozenset[str] = frozenset()
    unanchored_factor: float = 1.0
    # A family takes part in combos only from this total on (a weak hint does not earn a bonus).
    combo_min: float = 0.0
    # Positive evidence is capped here before dampeners multiply it (inf: no cap).
    saturation: float = float("inf")


def squeeze_pattern(pattern: str) -> str:
    """Rewrite doubled letters as ``x{1,2}`` so a pattern still matches in a squeezed view.

    The squeezed view cuts runs of three or more letters to one, so "shrooms" may appear as
    "shroms"; escapes, character classes, group headers and ``\\p{...}`` are copied unchanged.
    """
    out: list[str] = []
    i, n = 0, len(pattern)
    in_class = False
    while i < n:
        c = pattern[i]
        if c == "\\":
            j = i + 2
            if i + 1 < n and pattern[i + 1] in "pP" and j < n and pattern[j] == "{":
                j = pattern.find("}", j) + 1 or n
            out.append(pattern[i:j])
            i = j
            continue
        if in_class:
            in_class = c != "]"
            out.append(c)
            i += 1
            continue
        if c == "[":
            in_class = True
            out.append(c)
            # A "]" right after "[" or "[^" is a literal, not the end of the class.
            for lit in ("^", "]"):
                if i + 1 < n and pattern[i + 1] == lit:
                    out.append(lit)
                    i += 1
            i += 1
            continue
        if c == "(" and i + 1 < n and pattern[i + 1] == "?":
            j = i + 2
            while j < n and pattern[j] not in ":)>":
                j += 1
            out.append(pattern[i : j + 1])
            i = j + 1
            continue
        if c.isalpha():
            j = i
            while j < n and pattern[j] == c:
                j += 1
            # When the last letter of the run carries a quantifier it is kept apart ("oo+").
            quantified = j < n and pattern[j] in "*+?{"
            plain = j - i - quantified
            out.append(f"{c}{{1,2}}" if plain >= 2 else c * plain)
            if quantified:
                out.append(c)
            i = j
            continue
        out.append(c)
        i += 1
    return "".join(out)


def _options() -> Any:
    opts = re2.Options()
    opts.log_errors = False
    opts.max_mem = 64 << 20
    return opts


def compile_regex(source: str) -> Any:
    """Compile one RE2 pattern (raises `re2.error` on bad syntax)."""
    return re2.compile(source, _options())


def _fail(path: str, rule_id: str, problem: str) -> RulePackError:
    return RulePackError(f"{path}: rule {rule_id}: {problem}")


_TERM = re2.compile(r"\{\{([a-z_]+)\}\}")


def _expand(path: str, rule_id: str, pattern: str, terms: Mapping[str, str]) -> str:
    """Replace each ``{{name}}`` in a pattern by the named term list, as a non-capturing group."""
    out: list[str] = []
    last = 0
    for m in _TERM.finditer(pattern):
        name = m.group(1)
        if name not in terms:
            raise _fail(path, rule_id, f"unknown term {{{{{name}}}}} (define it under 'terms')")
        out.append(pattern[last : m.start()])
        out.append(f"(?:{terms[name]})")
        last = m.end()
    out.append(pattern[last:])
    return "".join(out)


def _terms(path: str, raw: Any, known: Mapping[str, str]) -> dict[str, str]:
    """The pack's ``terms`` added to those already known (a term may use earlier terms)."""
    terms = dict(known)
    if raw is None:
        return terms
    if not isinstance(raw, Mapping):
        raise RulePackError(f"{path}: 'terms' must map names to patterns")
    for name, value in raw.items():
        if not isinstance(name, str) or not re2.fullmatch(r"[a-z_]+", name) or not isinstance(value, str) or not value:
            raise RulePackError(f"{path}: term {name!r}: a lowercase name and a non-empty pattern")
        terms[name] = _expand(path, f"term {name}", value, terms)
    return terms


def _rule(
    path: str, raw: Any, seen: set[str], terms: Mapping[str, str] | None = None, *, builtin: bool = False
) -> Rule:
    if not isinstance(raw, Mapping):
        raise _fail(path, "?", "each rule must be a mapping")
    rule_id = raw.get("id")
    if not isinstance(rule_id, str) or not rule_id:
        raise _fail(path, "?", "missing field 'id'")
    if rule_id in seen:
        raise _fail(path, rule_id, "duplicate id")
    unknown = sorted(set(raw) - _RULE_KEYS)
    if unknown:
        raise _fail(path, rule_id, f"unknown field(s) {', '.join(unknown)}")
    signal = raw.get("signal")
    if signal is None:
        raise _fail(path, rule_id, "missing field 'signal'")
    if signal not in SIGNALS:
        raise _fail(path, rule_id, f"unknown signal {signal!r} (one of {', '.join(SIGNALS)})")
    weight = raw.get("weight")
    if weight is None:
        raise _fail(path, rule_id, "missing field 'weight'")
    if isinstance(weight, bool) or not isinstance(weight, int | float):
        raise _fail(path, rule_id, "'weight' must be a number")
    patterns = raw.get("patterns", raw.get("pattern"))
    if isinstance(patterns, str):
        patterns = [patterns]
    if not patterns or not isinstance(patterns, list) or not all(isinstance(p, str) and p for p in patterns):
        raise _fail(path, rule_id, "missing field 'patterns' (a non-empty list of strings)")
    views = raw.get("views", list(DEFAULT_VIEWS))
    if not isinstance(views, list) or not views or any(v not in VIEW_NAMES for v in views):
        raise _fail(path, rule_id, f"'views' must be a list of {', '.join(VIEW_NAMES)}")
    category_raw = raw.get("category")
    try:
        category = Category(category_raw) if category_raw is not None else SIGNALS[signal]
    except ValueError:
        raise _fail(path, rule_id, f"unknown category {category_raw!r}") from None
    scope = raw.get("scope", "window")
    if scope not in ("window", "message"):
        raise _fail(path, rule_id, "'scope' must be 'window' or 'message'")
    negatable = raw.get("negatable", False)
    if not isinstance(negatable, bool) or (negatable and weight >= 0):
        raise _fail(path, rule_id, "'negatable' must be true or false, and only a dampener can be negatable")
    source = "|".join(f"(?:{_expand(path, rule_id, p, terms or {})})" for p in patterns)
    sources: dict[str, str] = {}
    regexes: dict[str, Any] = {}
    for view in views:
        sources[view] = squeeze_pattern(source) if view in _SQUEEZED_VIEWS else source
        try:
            regexes[view] = compile_regex(sources[view])
        except re2.error as exc:
            raise _fail(path, rule_id, f"bad pattern: {exc}") from None
    seen.add(rule_id)
    return Rule(
        id=rule_id,
        signal=signal,
        weight=float(weight),
        views=tuple(views),
        category=category,
        scope=scope,
        source=source,
        sources_by_view=sources,
        regex_by_view=regexes,
        builtin=builtin,
        negatable=negatable,
    )


def _combo(path: str, raw: Any) -> Combo:
    if not isinstance(raw, Mapping) or not isinstance(raw.get("id"), str):
        raise RulePackError(f"{path}: combo ?: missing field 'id'")
    combo_id = raw["id"]
    signals = raw.get("signals")
    if not isinstance(signals, list) or len(signals) < 2 or any(s not in SIGNALS for s in signals):
        raise RulePackError(f"{path}: combo {combo_id}: 'signals' must list two or more known signals")
    bonus = raw.get("bonus")
    if isinstance(bonus, bool) or not isinstance(bonus, int | float):
        raise RulePackError(f"{path}: combo {combo_id}: missing field 'bonus' (a number)")
    return Combo(combo_id, tuple(signals), float(bonus))


def _read(path: str, text: str) -> Mapping[str, Any]:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise RulePackError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(data, Mapping) or not isinstance(data.get("rules", []), list):
        raise RulePackError(f"{path}: a rule pack is a mapping with a 'rules' list")
    return data


def default_pack_text() -> str:
    """The YAML text of the rule pack shipped inside the package."""
    return resources.files("dosewise.screening").joinpath("rules/default.yaml").read_text(encoding="utf-8")


def load_packs(extra: Sequence[Path] = (), include_default: bool = True) -> RulePack:
    """Load the default pack (unless told not to) then each extra pack, validating every rule."""
    sources: list[tuple[str, str, bool]] = []
    if include_default:
        sources.append(("default.yaml", default_pack_text(), True))
    for path in extra:
        try:
            sources.append((str(path), Path(path).read_text(encoding="utf-8"), False))
        except OSError as exc:
            raise RulePackError(f"{path}: cannot read rule pack: {exc.strerror}") from None
    rules: list[Rule] = []
    combos: list[Combo] = []
    window = 160
    anchors: frozenset[str] = frozenset()
    unanchored_factor = 1.0
    combo_min = 0.0
    saturation = float("inf")
    seen: set[str] = set()
    terms: dict[str, str] = {}
    for name, text, builtin in sources:
        data = _read(name, text)
        terms = _terms(name, data.get("terms"), terms)
        rules.extend(_rule(name, raw, seen, terms, builtin=builtin) for raw in data.get("rules") or [])
        combos.extend(_combo(name, raw) for raw in data.get("combos") or [])
        scoring = data.get("scoring") or {}
        if not isinstance(scoring, Mapping):
            raise RulePackError(f"{name}: 'scoring' must be a mapping")
        window = int(scoring.get("window", window))
        if "anchors" in scoring:
            if not isinstance(scoring["anchors"], list) or any(a not in SIGNALS for a in scoring["anchors"]):
                raise RulePackError(f"{name}: scoring: 'anchors' must list known signals")
            anchors = frozenset(scoring["anchors"])
        unanchored_factor = float(scoring.get("unanchored_factor", unanchored_factor))
        combo_min = float(scoring.get("combo_min", combo_min))
        saturation = float(scoring.get("saturation", saturation))
    return RulePack(tuple(rules), tuple(combos), window, anchors, unanchored_factor, combo_min, saturation)
