"""The `/microdosing` content: look topics up, route questions, answer.

Everything expensive (YAML parsing and validation in `content_loader`, the routing index, every topic's
finished `Reply`) happens once in `Content.load`; `answer()` afterwards only normalises the text and does
dict look-ups, so it stays well inside the 0.2 ms budget. Imports stdlib and the core only: never an adapter.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from difflib import SequenceMatcher
from pathlib import Path

from dosewise.content_loader import (
    INDEX_FILE,
    MIN_SOURCES,
    SUMMARY_MAX_CHARS,
    TOPIC_DIR,
    default_content_dir,
    read_tree,
)
from dosewise.content_model import ContentIndex, CrisisLine, Point, Source, Topic
from dosewise.errors import ContentError
from dosewise.models import Reply, ReplyKind, Section, TopicChoice
from dosewise.question_intent import is_sourcing, legal_about_place, normalize, word_set

# Names that lived here before the content code was split up; adapters, the CLI and tests import them.
__all__ = [
    "AUTOCOMPLETE_MAX",
    "INDEX_FILE",
    "MIN_SOURCES",
    "REFUSAL_POINTERS",
    "SUMMARY_MAX_CHARS",
    "TOPIC_DIR",
    "Content",
    "ContentError",
    "CrisisLine",
    "Point",
    "Source",
    "Topic",
    "default_content_dir",
    "normalize",
]

AUTOCOMPLETE_MAX = 25  # Discord refuses more than 25 choices

# Topics a refusal points to, when the tree has them.
REFUSAL_POINTERS = ("harm-reduction", "legal-status")


# --------------------------------------------------------------------------------------------------
# Routing text helpers


def _stem(token: str) -> str:
    """Fold simple plurals so "risks", "studies" and "mushrooms" match their singulars."""
    if len(token) > 4 and token.endswith("ies"):
        return token[:-3] + "y"
    if len(token) > 3 and token.endswith("s") and not token.endswith(("ss", "us", "is")):
        return token[:-1]
    return token


def _deletes(token: str) -> set[str]:
    """The token and every one-character deletion of it (a cheap typo neighbourhood)."""
    return {token, *(token[:i] + token[i + 1 :] for i in range(len(token)))}


# Words that carry no topic signal: asking words and the substances themselves (they appear in almost
# every question, so letting them vote would only add noise).
_STOPWORDS = word_set(
    """
    a an the is are was were be been am it its i im ive id me my mine you your youre we us our they them
    their he she his her to of and or in on at for with from by about into over than then so if as that
    this these those there here do does did doing done can could would should will shall may might must
    not no yes any some anyone someone anybody somebody people person thing things stuff like just really
    very much more most also too even still ever microdosing microdose microdoses microdosed microdoser
    microdosers md dose doses dosing dosed psychedelic psychedelics shroom mushroom magic psilocybin lsd
    acid truffle tab what whats which who whom how why when whatever get getting got help helps helped
    helping work works working worked make makes made take takes taking took use using used good
    bad ok okay hey hi hello please thanks thank question know tell want wanna need
    """
)

# Safety first: a question that mentions these goes to crisis resources whatever else it says.
_CRISIS_RE = re.compile(
    r"\b(suicid\w*|kill(ing)? myself|end(ing)? (my|it all)|want to die|wanna die|self harm\w*|"
    r"hurt(ing)? myself|overdos\w*|od ing)\b"
)

_LIST_WORDS = frozenset({"help", "topics", "topic", "list", "menu", "index", "start", "options", "commands"})


# --------------------------------------------------------------------------------------------------
# Rendering to Reply


def _bullets(points: Iterable[Point], numbers: Mapping[str, int]) -> str:
    lines = []
    for point in points:
        refs = sorted({numbers[s] for s in point.sources if s in numbers})
        suffix = f" [{', '.join(str(n) for n in refs)}]" if refs else ""
        lines.append(f"- {point.text}{suffix}")
    return "\n".join(lines)


def _crisis_body(lines: Iterable[CrisisLine]) -> str:
    return "\n".join(f"- {line.region}: {line.name}, {line.contact}" for line in lines)


def _topic_reply(topic: Topic, index: ContentIndex) -> Reply:
    numbers = {s.id: i for i, s in enumerate(topic.sources, start=1)}
    sections = [
        Section("What people claim", "\n".join(f"- {c}" for c in topic.claims)),
        Section("What the research shows", _bullets(topic.evidence, numbers)),
    ]
    if topic.context:
        sections.append(Section("Context: not microdosing research", _bullets(topic.context, numbers)))
    sections.append(Section("Risks", _bullets(topic.risks, numbers)))
    sections.append(Section("Bottom line", topic.bottom_line))
    if topic.mental_health:
        sections.append(Section("If you need help now", _crisis_body(index.crisis_lines)))
    return Reply(
        kind=ReplyKind.ANSWER,
        title=topic.title,
        summary=topic.summary,
        sections=tuple(sections),
        sources=tuple(s.to_link() for s in topic.sources),
        footer=index.disclaimer,
        topic=topic.slug,
    )


# --------------------------------------------------------------------------------------------------
# Content


# Routing weights: an alias phrase found in the question is the strongest signal, then a keyword, then
# a word of the title; a typo-matched word counts a little less than an exact one.
_W_PHRASE = 3.0
_W_ALIAS_WORD = 2.0
_W_KEYWORD = 2.0
_W_TITLE = 1.0
_FUZZY_FACTOR = 0.8
_ROUTE_THRESHOLD = 1.5
_FUZZY_MIN_LEN = 4
_FUZZY_MAX_LEN = 24  # longer "words" are noise, and their typo neighbourhood grows quadratically
# Questions are short; a pasted essay is cut so answering stays fast whatever arrives.
_MAX_QUESTION_CHARS = 1000
_CRISIS_TOPIC = "crisis-resources"
_GENERAL_TOPIC = "what-is-microdosing"  # where a question about microdosing in general goes
_LEGAL_TOPIC = "legal-status"  # where "legal ... in <place>" goes
_DOSING_TOPIC = "harm-reduction"  # where "how much should i take" goes: it answers without ever giving a dose
# "how much lsd should i take", "how many grams do you use": a dosing question whatever substance it names.
_DOSING_RE = re.compile(
    r"\bhow (?:much|many)\b(?: \w+){0,3}? (?:should|do|would|to)(?: i| we| you| people)? (?:take|use|start|eat|dose)\b"
)


class Content:
    """The validated `/microdosing` content with pre-computed answers and a routing index."""

    def __init__(self, topics: tuple[Topic, ...], disclaimer: str, refusal: str, crisis_lines: tuple[CrisisLine, ...]):
        self._topics = topics
        self.disclaimer = disclaimer
        self.refusal_text = refusal
        self.crisis_lines = crisis_lines
        index = ContentIndex(tuple(t.slug for t in topics), disclaimer, refusal, crisis_lines)
        self._by_slug = {t.slug: t for t in topics}
        self._choices = tuple(t.choice for t in topics)
        self._answers = {t.slug: _topic_reply(t, index) for t in topics}
        # Exact look-up: slug, slug with spaces, title and every alias, normalised.
        self._lookup: dict[str, str] = {}
        for topic in topics:
            for name in (topic.slug, topic.title, *topic.aliases):
                self._lookup.setdefault(normalize(name), topic.slug)
        self._build_routing()
        self._topics_reply = Reply(
            kind=ReplyKind.TOPICS,
            title="Microdosing topics",
            summary="Pick a topic, or ask a question in your own words (for example: does it help anxiety?).",
            footer=disclaimer,
            topics=self._choices,
        )
        self._no_match_reply = Reply(
            kind=ReplyKind.TOPICS,
            title="Microdosing topics",
            summary="I couldn't match that to a topic. Here is what I can answer; pick one or rephrase.",
            footer=disclaimer,
            topics=self._choices,
        )
        pointers = tuple(self._by_slug[s].choice for s in REFUSAL_POINTERS if s in self._by_slug)
        self._refusal_reply = Reply(
            kind=ReplyKind.REFUSAL,
            title="No sourcing help",
            summary=refusal,
            sections=(Section("Instead", "\n".join(f"- {c.title} (/microdosing {c.slug})" for c in pointers)),)
            if pointers
            else (),
            footer=disclaimer,
            topics=pointers,
        )

    # -- loading -------------------------------------------------------------------------------------

    @classmethod
    def load(cls, root: Path | None = None) -> Content:
        """Load and validate the whole tree; any problem raises `ContentError` listing all of them."""
        topics, index = read_tree(root)
        return cls(topics, index.disclaimer, index.refusal, index.crisis_lines)

    # -- look-ups ------------------------------------------------------------------------------------

    def topics(self) -> tuple[TopicChoice, ...]:
        """Every topic in index order."""
        return self._choices

    def all_topics(self) -> tuple[Topic, ...]:
        """Every full topic in index order."""
        return self._topics

    def find(self, slug_or_alias: str) -> Topic | None:
        """The topic whose slug, title or alias is exactly this text (case and punctuation ignored)."""
        slug = self._lookup.get(normalize(slug_or_alias))
        return self._by_slug[slug] if slug else None

    def is_sourcing_request(self, text: str) -> bool:
        """True when the text asks where or how to buy, get, order or source a substance."""
        norm = normalize(text[:_MAX_QUESTION_CHARS])
        return is_sourcing(norm.split(), norm)

    # -- routing -------------------------------------------------------------------------------------

    def _build_routing(self) -> None:
        """Pre-compute token weights, alias phrases and the typo neighbourhood of every known word."""
        tokens: dict[str, dict[str, float]] = {}
        phrases: list[tuple[str, str, float]] = []

        def vote(word: str, slug: str, weight: float) -> None:
            word = _stem(word)
            if word in _STOPWORDS or not word:
                return
            per_topic = tokens.setdefault(word, {})
            per_topic[slug] = max(per_topic.get(slug, 0.0), weight)

        for topic in self._topics:
            for word in normalize(topic.title).split():
                vote(word, topic.slug, _W_TITLE)
            for word in topic.slug.split("-"):
                vote(word, topic.slug, _W_TITLE)
            for name in (*topic.aliases, *topic.keywords):
                words = normalize(name).split()
                if len(words) == 1:
                    vote(words[0], topic.slug, _W_ALIAS_WORD if name in topic.aliases else _W_KEYWORD)
                elif words:
                    phrases.append((f" {' '.join(words)} ", topic.slug, _W_PHRASE + 0.5 * (len(words) - 1)))
        self._token_weights = tokens
        self._phrases = tuple(phrases)
        neighbours: dict[str, set[str]] = {}
        for word in tokens:
            if len(word) >= _FUZZY_MIN_LEN:
                for variant in _deletes(word):
                    neighbours.setdefault(variant, set()).add(word)
        self._neighbours = neighbours
        self._order = {t.slug: i for i, t in enumerate(self._topics)}

    def _scores(self, norm: str) -> dict[str, float]:
        scores: dict[str, float] = {}
        padded = f" {norm} "
        for phrase, slug, weight in self._phrases:
            if phrase in padded:
                scores[slug] = scores.get(slug, 0.0) + weight
        tokens = norm.split()
        # A legal qualifier about a place is a legal-status question however the rest is worded.
        if _LEGAL_TOPIC in self._by_slug and legal_about_place(tokens, norm):
            scores[_LEGAL_TOPIC] = scores.get(_LEGAL_TOPIC, 0.0) + _W_KEYWORD
        # Weighted like an alias phrase: the substance named in between is a stopword and would not vote.
        if _DOSING_TOPIC in self._by_slug and _DOSING_RE.search(norm):
            scores[_DOSING_TOPIC] = scores.get(_DOSING_TOPIC, 0.0) + _W_PHRASE
        for word in dict.fromkeys(_stem(t) for t in tokens):
            if word in _STOPWORDS:
                continue
            weights = self._token_weights.get(word)
            factor = 1.0
            if weights is None and _FUZZY_MIN_LEN <= len(word) <= _FUZZY_MAX_LEN:
                weights = self._fuzzy(word)
                factor = _FUZZY_FACTOR
            if not weights:
                continue
            for slug, weight in weights.items():
                scores[slug] = scores.get(slug, 0.0) + weight * factor
        return scores

    def _fuzzy(self, word: str) -> dict[str, float]:
        """Weights of known words one edit away from `word` (insert, delete, substitute, swap)."""
        found: dict[str, float] = {}
        for variant in _deletes(word):
            for known in self._neighbours.get(variant, ()):
                for slug, weight in self._token_weights[known].items():
                    found[slug] = max(found.get(slug, 0.0), weight)
        return found

    def _route_normalized(self, norm: str) -> str | None:
        if _CRISIS_RE.search(norm) and _CRISIS_TOPIC in self._by_slug:
            return _CRISIS_TOPIC
        scores = self._scores(norm)
        slug = max(scores, key=lambda s: (scores[s], -self._order[s])) if scores else None
        if slug is not None and scores[slug] >= _ROUTE_THRESHOLD:
            return slug
        # "what even is microdosing", "tell me about microdosing": nothing but the word itself.
        if _GENERAL_TOPIC in self._by_slug and any(t.startswith("microdos") for t in norm.split()):
            return _GENERAL_TOPIC
        return None

    def route(self, question: str) -> str | None:
        """The slug of the topic that best fits a free-text question, or None when nothing fits."""
        norm = normalize(question[:_MAX_QUESTION_CHARS])
        exact = self._lookup.get(norm)
        return exact if exact else self._route_normalized(norm)

    def autocomplete(self, prefix: str, limit: int = AUTOCOMPLETE_MAX) -> tuple[TopicChoice, ...]:
        """Topics whose title, slug or aliases fit what has been typed so far (fuzzy, at most 25)."""
        limit = max(0, min(limit, AUTOCOMPLETE_MAX))
        typed = normalize(prefix[:_MAX_QUESTION_CHARS])
        if not typed:
            return self._choices[:limit]
        routed = self._route_normalized(typed)
        scored: list[tuple[float, int, TopicChoice]] = []
        for i, topic in enumerate(self._topics):
            best = 2.2 if topic.slug == routed else 0.0
            for name in (topic.slug.replace("-", " "), normalize(topic.title), *map(normalize, topic.aliases)):
                if name.startswith(typed):
                    best = max(best, 3.0)
                elif f" {typed}" in f" {name}":
                    best = max(best, 2.5)
                elif typed in name:
                    best = max(best, 2.0)
                elif len(typed) >= 3:
                    ratio = SequenceMatcher(None, typed, name[: len(typed) + 1]).ratio()
                    if ratio >= 0.75:
                        best = max(best, 1.5 * ratio)
            if best > 0:
                scored.append((best, i, topic.choice))
        scored.sort(key=lambda item: (-item[0], item[1]))
        return tuple(choice for _, _, choice in scored[:limit])

    # -- answering -----------------------------------------------------------------------------------

    def reply_for(self, slug: str) -> Reply:
        """The pre-built answer of one topic (KeyError for an unknown slug)."""
        return self._answers[slug]

    def answer(self, text: str) -> Reply:
        """Answer `/microdosing TEXT`: a topic, the topic list, or a refusal for sourcing requests."""
        norm = normalize(text[:_MAX_QUESTION_CHARS])
        if not norm or norm in _LIST_WORDS:
            return self._topics_reply
        exact = self._lookup.get(norm)
        if exact:
            return self._answers[exact]
        # Someone in crisis gets help lines before anything else, even inside a sourcing request.
        if _CRISIS_RE.search(norm) and _CRISIS_TOPIC in self._answers:
            return self._answers[_CRISIS_TOPIC]
        tokens = norm.split()
        if is_sourcing(tokens, norm):
            return self._refusal_reply
        slug = self._route_normalized(norm)
        return self._answers[slug] if slug else self._no_match_reply
