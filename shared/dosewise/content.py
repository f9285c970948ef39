"""The `/microdosing` content: load and validate `responses/`, look topics up, route questions, answer.

Everything expensive (YAML parsing, validation, the routing index, every topic's finished `Reply`)
happens once in `Content.load`; `answer()` afterwards only normalises the text and does dict look-ups,
so it stays well inside the 0.2 ms budget. Imports stdlib and yaml only: never an adapter.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from difflib import SequenceMatcher
from pathlib import Path
from typing import Any

import yaml

import dosewise
from dosewise.errors import ContentError
from dosewise.models import Reply, ReplyKind, Section, SourceLink, TopicChoice

TOPIC_DIR = "microdosing"
INDEX_FILE = "_index.yaml"
SUMMARY_MAX_CHARS = 300  # a summary must be shorter than this: it is the first thing a member reads
MIN_SOURCES = 2
AUTOCOMPLETE_MAX = 25  # Discord refuses more than 25 choices

# Topics a refusal points to, when the tree has them.
REFUSAL_POINTERS = ("harm-reduction", "legal-status")

_SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_DOI_RE = re.compile(r"^10\.\d{4,9}/\S+$")

_TOPIC_KEYS_REQUIRED = (
    "slug",
    "title",
    "aliases",
    "summary",
    "claims",
    "evidence",
    "risks",
    "bottom_line",
    "reviewed",
    "sources",
)
_TOPIC_KEYS_OPTIONAL = ("keywords", "context", "mental_health")
_SOURCE_KEYS_REQUIRED = ("id", "authors", "year", "title", "journal", "design", "n")
_SOURCE_KEYS_OPTIONAL = ("doi", "url", "note")
_INDEX_KEYS = ("order", "disclaimer", "sourcing_refusal", "crisis_lines")
_CRISIS_KEYS = ("region", "name", "contact")


# --------------------------------------------------------------------------------------------------
# Data


@dataclass(frozen=True, slots=True)
class Source:
    """One citation of a topic, as written in its YAML file."""

    id: str
    authors: str
    year: int | str
    title: str
    journal: str
    design: str
    n: int | str
    doi: str = ""
    url: str = ""
    note: str = ""

    @property
    def link(self) -> str:
        """The resolvable link: the DOI resolver when there is a DOI, else the verified URL."""
        return f"https://doi.org/{self.doi}" if self.doi else self.url

    @property
    def label(self) -> str:
        """A one-line human citation: short authors, year, title, journal, design and sample size."""
        n = f"{self.n:,}" if isinstance(self.n, int) else self.n
        journal = "Journal not verified" if self.journal == "not verified" else self.journal
        design = self.design[:1].upper() + self.design[1:]
        label = f"{_short_authors(self.authors)} ({self.year}). {self.title}. {journal}. {design}; n = {n}."
        if self.note:
            label += f" Note: {self.note}."
        return label

    def to_link(self) -> SourceLink:
        """Return the platform-neutral citation."""
        return SourceLink(label=self.label, url=self.link)


@dataclass(frozen=True, slots=True)
class Point:
    """One bullet of evidence, context or risk, with the ids of the sources it rests on."""

    text: str
    sources: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CrisisLine:
    """A verified crisis or emergency line."""

    region: str
    name: str
    contact: str


@dataclass(frozen=True, slots=True)
class Topic:
    """One `/microdosing` topic, validated."""

    slug: str
    title: str
    aliases: tuple[str, ...]
    keywords: tuple[str, ...]
    summary: str
    claims: tuple[str, ...]
    evidence: tuple[Point, ...]
    context: tuple[Point, ...]
    risks: tuple[Point, ...]
    bottom_line: str
    reviewed: date
    sources: tuple[Source, ...]
    mental_health: bool = False

    @property
    def choice(self) -> TopicChoice:
        """The topic as offered in lists and autocomplete."""
        return TopicChoice(slug=self.slug, title=self.title)


# --------------------------------------------------------------------------------------------------
# Text helpers


def normalize(text: str) -> str:
    """Fold text for matching: accents stripped, casefolded, apostrophes dropped, other punctuation spaced."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    # "what's" and "i'm" become one token each, like members usually type them without apostrophes.
    stripped = stripped.replace("'", "").replace("\u2019", "").replace("`", "")
    return " ".join(re.sub(r"[^0-9a-z]+", " ", stripped).split())


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


def _short_authors(authors: str) -> str:
    """'Szigeti B, Kartner L, ...' -> 'Szigeti et al.'; organisations are kept whole."""
    parts = [p.strip() for p in authors.split(",") if p.strip()]
    if len(parts) <= 1:
        return authors.strip()
    first = parts[0].split(" ")[0] if re.search(r"\s[A-Z-]{1,4}$", parts[0]) else parts[0]
    if len(parts) == 2 and not parts[1].startswith("et al"):
        second = parts[1].split(" ")[0]
        return f"{first} & {second}"
    return f"{first} et al."


def _words(text: str) -> frozenset[str]:
    """A word set written as whitespace-separated text, which is easier to read and extend."""
    return frozenset(text.split())


# Words that carry no topic signal: asking words and the substances themselves (they appear in almost
# every question, so letting them vote would only add noise).
_STOPWORDS = _words(
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
# Sourcing-request detection (refusals)

# Substance words in English and a few other languages, after `normalize` (accents stripped).
_SUBSTANCES = _words(
    """
    shroom shrooms mushroom mushrooms psilocybin psilocybine psilocibina psilocybe cubensis truffle truffles
    lsd acid tabs tab blotter blotters microdoses caps capsules gummies chocolates spores
    hongos hongo setas cogumelos champignons truffes pilze truffel trueffel truffels paddos paddo funghi
    tartufi acido dmt mescaline ayahuasca peyote mdma molly ecstasy ketamine psychedelics psychedelic
    1plsd 1p ald52 psilocin
    """
)
# A bare "it"/"some" after a buying verb counts when nothing else follows (or only a place word).
_PRONOUNS = frozenset({"it", "them", "some", "any", "one", "these", "those", "algo", "eso", "esos"})
_PLACE_WORDS = frozenset(
    {"online", "near", "nearby", "here", "in", "from", "locally", "legally", "around", "now", "today", "cheap"}
)
_FILLERS = _words(
    """
    a an the some any good real legit quality cheap me us my of dried fresh magic micro microdose microdosing
    de des du la las los el un una unos unas algunos ein eine einige het een del dei di il le les o os as um
    uma umas uns pure clean few little bit your ur yer their our his her legal illegal lawful
    """
)
_STRONG_VERBS = _words(
    """
    buy buying purchase purchasing order ordering cop copping score scoring source sourcing sell sells
    selling ship shipping comprar compro compra compramos conseguir consigo consegue consiguen pedir
    encargar acheter achete commander kaufen kaufe bestellen bestelle kopen koop comprare ordinare
    vender vende venden vendem verkauft vend vendre vendent verkopen verkoopt
    """
)
_WEAK_VERBS = _words(
    """
    get find obtain grab have has got pick tiene tienen tienes tem encontrar encuentro achar trouver
    trouve finden bekommen krijgen vinden trovare trovo hat
    """
)
_REQUESTERS = _words(
    """
    where how who anyone anybody someone somebody any1 donde como quien alguien onde quem alguem ou wo
    wer jemand waar hoe iemand wie dove chi qualcuno want need looking
    """
)
_LEGAL_WORDS = frozenset({"legal", "legally", "illegal", "law", "laws", "decriminalized", "decriminalised"})
# "legally"/"legal" as a qualifier ("get truffles legally in ..."); "illegal" and "law" are left out on purpose:
# "where can i get illegal shrooms in the uk" is still a request.
_LEGAL_QUALIFIERS = frozenset({"legal", "legally", "lawful", "lawfully"})
# Places whose law a member may ask about, after `normalize`: generic words, countries and regions, US states,
# Canadian provinces and Australian states. Cities are left out: "legally in my city" asks for a shop.
_JURISDICTIONS = _words(
    """
    country countries state states province provinces jurisdiction jurisdictions territory nation
    eu europe usa america uk britain england scotland wales ireland canada australia mexico jamaica
    netherlands holland nl germany france spain portugal italy belgium luxembourg switzerland austria
    denmark sweden norway finland iceland poland czechia slovakia hungary romania bulgaria greece croatia
    slovenia serbia estonia latvia lithuania ukraine russia turkey israel india china japan korea thailand
    vietnam indonesia malaysia singapore philippines nepal brazil argentina chile colombia peru ecuador
    bolivia uruguay paraguay venezuela guatemala honduras nicaragua panama bahamas nz nigeria kenya ghana
    morocco egypt
    alabama alaska arizona arkansas california colorado connecticut delaware florida georgia hawaii idaho
    illinois indiana iowa kansas kentucky louisiana maine maryland massachusetts michigan minnesota
    mississippi missouri montana nebraska nevada ohio oklahoma oregon pennsylvania tennessee texas utah
    vermont virginia washington wisconsin wyoming dc
    alberta ontario quebec manitoba saskatchewan newfoundland yukon nunavut queensland victoria tasmania
    """
) | {
    "new zealand",
    "united states",
    "united kingdom",
    "northern ireland",
    "south africa",
    "costa rica",
    "puerto rico",
    "czech republic",
    "dominican republic",
    "el salvador",
    "sri lanka",
    "hong kong",
    "south korea",
    "new york",
    "new mexico",
    "new jersey",
    "new hampshire",
    "north carolina",
    "south carolina",
    "north dakota",
    "south dakota",
    "west virginia",
    "rhode island",
    "british columbia",
    "nova scotia",
    "new brunswick",
    "new south wales",
    "northern territory",
    "south australia",
    "western australia",
}
_IN_JURISDICTION_RE = re.compile(
    r"\b(?:in|within|across|throughout|under)\s+(?:the\s+|my\s+|our\s+|your\s+|this\s+)?(?:"
    + "|".join(re.escape(name) for name in sorted(_JURISDICTIONS, key=len, reverse=True))
    + r")\b"
)
_SLANG_RE = re.compile(
    r"\b(?:have|has|got|know|need|any|a|trusted|reliable|legit|good|recommend|recommended|looking for|find|"
    r"dm|hmu)\s+(?:a\s+|an\s+|good\s+|legit\s+|reliable\s+|trusted\s+)?"
    r"(?:plug|connect|dealer|vendor|supplier|hookup|camello)s?\b"
    r"|\bhook (?:me|us) up\b|\bfor sale\b|\bdark ?web\b|\bdarknet\b|\bonion (?:link|site)s?\b"
)
# People warning about or reporting sellers are not asking for one.
_REPORTING_RE = re.compile(r"\b(report\w*|scam\w*|warn\w*|beware|avoid\w*|banned)\b")


def _legal_about_place(tokens: list[str], norm: str) -> bool:
    """True when "legal"/"legally" comes with a place: "... truffles legally in the netherlands"."""
    return any(t in _LEGAL_QUALIFIERS for t in tokens) and _IN_JURISDICTION_RE.search(norm) is not None


def _is_sourcing(tokens: list[str], norm: str) -> bool:
    """True when the (normalised) text asks where or how to get a substance."""
    if _SLANG_RE.search(norm) and not _REPORTING_RE.search(norm):
        return True
    has_requester = any(t in _REQUESTERS for t in tokens)
    # "is it legal to buy X" is a legal question, not a request; "where can i legally buy X" still is.
    if not has_requester and any(t in _LEGAL_WORDS for t in tokens):
        return False
    # "where can i get truffles legally in the netherlands" asks what the law there allows: the legal-status
    # topic answers that without helping anyone source anything.
    if _legal_about_place(tokens, norm):
        return False
    for i, tok in enumerate(tokens):
        strong = tok in _STRONG_VERBS
        if not strong and not (tok in _WEAK_VERBS and has_requester):
            continue
        # "anyone selling?", "where can i buy": the object is implied by the channel's topic.
        if strong and has_requester and i == len(tokens) - 1:
            return True
        if _object_is_substance(tokens, i + 1):
            return True
        # Verb-final languages put the object first: "wo kann ich pilze kaufen".
        if strong and any(t in _SUBSTANCES for t in tokens[max(0, i - 3) : i]):
            return True
    return False


def _object_is_substance(tokens: list[str], start: int) -> bool:
    """Scan the words after a buying verb: a substance (or a bare "it"/"some") makes it a request."""
    for j in range(start, min(start + 5, len(tokens))):
        tok = tokens[j]
        if tok in _SUBSTANCES:
            return True
        if tok in _PRONOUNS:
            rest = tokens[j + 1 : j + 2]
            if not rest or rest[0] in _PLACE_WORDS or rest[0] in _SUBSTANCES:
                return True
            if tok in ("some", "any"):
                continue  # "some dried shrooms": keep looking for the noun
            return False
        if tok in _FILLERS or tok in ("up",):
            continue
        return False  # any other noun ("a scale", "help", "research") ends the object
    return False


# --------------------------------------------------------------------------------------------------
# Validation


class _Problems:
    """Collects `FILE: key: what is wrong` lines so one run reports every problem at once."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def add(self, file: str, key: str, message: str) -> None:
        """Record one problem."""
        self.lines.append(f"{file}: {key}: {message}")


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe loader that rejects duplicate keys (PyYAML silently keeps the last one)."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
        seen.add(key)
    return dict(loader.construct_mapping(node))


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _read_yaml(path: Path, label: str, problems: _Problems) -> Any:
    """Parse one file; syntax errors are reported with their line number."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        problems.add(label, "file", f"cannot be read ({exc})")
        return None
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)  # a SafeLoader subclass: safe
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "yaml"
        reason = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        problems.add(label, where, f"invalid YAML syntax: {reason}")
        return None


class _TopicReader:
    """Validates one topic file's mapping and builds its `Topic` (or records why not)."""

    def __init__(self, data: Mapping[str, Any], label: str, stem: str, problems: _Problems) -> None:
        self.data = data
        self.label = label
        self.stem = stem
        self.problems = problems

    def bad(self, key: str, message: str) -> None:
        """Record a problem with `key`."""
        self.problems.add(self.label, key, message)

    def text(self, key: str, *, max_chars: int | None = None) -> str:
        """A required non-empty string."""
        value = self.data.get(key)
        if value is None:
            self.bad(key, "missing")
            return ""
        if not isinstance(value, str) or not value.strip():
            self.bad(key, "must be non-empty text")
            return ""
        value = " ".join(value.split())
        if max_chars is not None and len(value) >= max_chars:
            self.bad(key, f"too long: {len(value)} characters (must be under {max_chars})")
        return value

    def strings(self, key: str, *, required: bool = True, lower: bool = False) -> tuple[str, ...]:
        """A list of non-empty strings."""
        value = self.data.get(key)
        if value is None:
            if required:
                self.bad(key, "missing")
            return ()
        if not isinstance(value, list) or (required and not value):
            self.bad(key, "must be a non-empty list of text")
            return ()
        out: list[str] = []
        for i, item in enumerate(value):
            if not isinstance(item, str) or not item.strip():
                self.bad(
                    f"{key}[{i}]", f"must be text (got {item!r}); put it in quotes if it is a number or contains ': '"
                )
                continue
            if lower and item != item.lower():
                self.bad(f"{key}[{i}]", f"must be lower-case: {item!r}")
            out.append(" ".join(item.split()))
        return tuple(out)

    def points(self, key: str, source_ids: set[str], cited: set[str], *, required: bool = True) -> tuple[Point, ...]:
        """A list of bullets: plain text, or `{text, sources: [ids]}`."""
        value = self.data.get(key)
        if value is None:
            if required:
                self.bad(key, "missing")
            return ()
        if not isinstance(value, list) or (required and not value):
            self.bad(key, "must be a non-empty list of points")
            return ()
        out: list[Point] = []
        for i, item in enumerate(value):
            where = f"{key}[{i}]"
            if isinstance(item, str) and item.strip():
                out.append(Point(" ".join(item.split())))
                continue
            if not isinstance(item, dict):
                self.bad(where, "must be text or a mapping with `text` and `sources`")
                continue
            unknown = set(item) - {"text", "sources"}
            if unknown:
                self.bad(where, f"unknown key(s) {sorted(unknown)} (expected text, sources)")
            text = item.get("text")
            if not isinstance(text, str) or not text.strip():
                self.bad(f"{where}.text", "missing or empty")
                continue
            ids = item.get("sources", [])
            if not isinstance(ids, list) or not all(isinstance(s, str) for s in ids):
                self.bad(f"{where}.sources", "must be a list of source ids")
                ids = []
            for sid in ids:
                if sid not in source_ids:
                    self.bad(f"{where}.sources", f"unknown source id {sid!r}")
            cited.update(ids)
            out.append(Point(" ".join(text.split()), tuple(ids)))
        return tuple(out)

    def sources(self) -> tuple[Source, ...]:
        """The `sources` list: at least two, each with a DOI or an https URL."""
        value = self.data.get("sources")
        if value is None:
            self.bad("sources", "missing")
            return ()
        if not isinstance(value, list):
            self.bad("sources", "must be a list")
            return ()
        if len(value) < MIN_SOURCES:
            self.bad("sources", f"needs at least {MIN_SOURCES} sources (has {len(value)})")
        out: list[Source] = []
        seen: set[str] = set()
        for i, item in enumerate(value):
            where = f"sources[{i}]"
            if not isinstance(item, dict):
                self.bad(where, "must be a mapping")
                continue
            ok = True
            unknown = set(item) - set(_SOURCE_KEYS_REQUIRED) - set(_SOURCE_KEYS_OPTIONAL)
            if unknown:
                self.bad(where, f"unknown key(s) {sorted(unknown)}")
            for key in _SOURCE_KEYS_REQUIRED:
                val = item.get(key)
                if val is None or (isinstance(val, str) and not val.strip()):
                    self.bad(f"{where}.{key}", "missing")
                    ok = False
                elif key in ("year", "n"):
                    if isinstance(val, bool) or not isinstance(val, int | str):
                        self.bad(f"{where}.{key}", "must be a number or text")
                        ok = False
                    elif key == "year" and isinstance(val, int) and not 1900 <= val <= 2100:
                        self.bad(f"{where}.year", f"implausible year {val}")
                elif not isinstance(val, str):
                    self.bad(f"{where}.{key}", "must be text")
                    ok = False
            doi = item.get("doi") or ""
            url = item.get("url") or ""
            if not doi and not url:
                self.bad(where, "needs a doi or a url")
                ok = False
            if doi and (not isinstance(doi, str) or not _DOI_RE.match(doi)):
                self.bad(f"{where}.doi", f"not a bare DOI like 10.1234/abc (got {doi!r})")
                ok = False
            if url and (not isinstance(url, str) or not url.startswith("https://") or " " in url):
                self.bad(f"{where}.url", f"must be an https:// link (got {url!r})")
                ok = False
            sid = item.get("id")
            if isinstance(sid, str):
                if sid in seen:
                    self.bad(f"{where}.id", f"duplicate source id {sid!r}")
                seen.add(sid)
            if not ok:
                continue
            note = item.get("note") or ""
            out.append(
                Source(
                    id=str(sid),
                    authors=" ".join(str(item["authors"]).split()),
                    year=item["year"],
                    title=" ".join(str(item["title"]).split()),
                    journal=" ".join(str(item["journal"]).split()),
                    design=" ".join(str(item["design"]).split()),
                    n=item["n"],
                    doi=str(doi),
                    url=str(url),
                    note=" ".join(str(note).split()),
                )
            )
        return tuple(out)

    def reviewed(self) -> date:
        """The review date (YAML date or ISO text)."""
        value = self.data.get("reviewed")
        if isinstance(value, date):
            return value
        if isinstance(value, str):
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
        self.bad("reviewed", "missing or not a date like 2026-11-24" if value is None else f"not a date: {value!r}")
        return date.min

    def build(self) -> Topic | None:
        """Validate every key; return the topic, or None if anything was wrong."""
        before = len(self.problems.lines)
        unknown = set(self.data) - set(_TOPIC_KEYS_REQUIRED) - set(_TOPIC_KEYS_OPTIONAL)
        for key in sorted(unknown, key=str):
            self.bad(str(key), "unknown key (typo?)")
        slug = self.text("slug")
        if slug and not _SLUG_RE.match(slug):
            self.bad("slug", f"must be lower-case words joined by hyphens (got {slug!r})")
        elif slug and slug != self.stem:
            self.bad("slug", f"{slug!r} does not match the file name {self.stem!r}")
        title = self.text("title", max_chars=120)
        aliases = self.strings("aliases", lower=True)
        keywords = self.strings("keywords", required=False, lower=True)
        summary = self.text("summary", max_chars=SUMMARY_MAX_CHARS)
        claims = self.strings("claims")
        sources = self.sources()
        ids = {s.id for s in sources}
        cited: set[str] = set()
        evidence = self.points("evidence", ids, cited)
        context = self.points("context", ids, cited, required=False)
        risks = self.points("risks", ids, cited)
        bottom_line = self.text("bottom_line")
        reviewed = self.reviewed()
        mental_health = self.data.get("mental_health", False)
        if not isinstance(mental_health, bool):
            self.bad("mental_health", "must be true or false")
            mental_health = False
        for source in sources:
            if source.id not in cited:
                self.bad("sources", f"{source.id!r} is never cited by a point (remove it or cite it)")
        if len(self.problems.lines) > before:
            return None
        return Topic(
            slug=slug,
            title=title,
            aliases=aliases,
            keywords=keywords,
            summary=summary,
            claims=claims,
            evidence=evidence,
            context=context,
            risks=risks,
            bottom_line=bottom_line,
            reviewed=reviewed,
            sources=sources,
            mental_health=mental_health,
        )


@dataclass(frozen=True, slots=True)
class _Index:
    order: tuple[str, ...]
    disclaimer: str
    refusal: str
    crisis_lines: tuple[CrisisLine, ...]


def _read_index(data: Any, label: str, problems: _Problems) -> _Index | None:
    """Validate `_index.yaml`."""
    if not isinstance(data, dict):
        problems.add(label, "file", "must be a mapping with order, disclaimer, sourcing_refusal, crisis_lines")
        return None
    before = len(problems.lines)
    for key in sorted(set(data) - set(_INDEX_KEYS), key=str):
        problems.add(label, str(key), "unknown key (typo?)")
    order = data.get("order")
    if not isinstance(order, list) or not order or not all(isinstance(s, str) for s in order):
        problems.add(label, "order", "must be a non-empty list of topic slugs")
        order = []
    for slug in {s for s in order if order.count(s) > 1}:
        problems.add(label, "order", f"{slug!r} is listed more than once")
    texts: dict[str, str] = {}
    for key in ("disclaimer", "sourcing_refusal"):
        value = data.get(key)
        if not isinstance(value, str) or not value.strip():
            problems.add(label, key, "missing or empty")
            value = ""
        texts[key] = " ".join(value.split())
    lines: list[CrisisLine] = []
    raw_lines = data.get("crisis_lines")
    if not isinstance(raw_lines, list) or not raw_lines:
        problems.add(label, "crisis_lines", "must be a non-empty list")
        raw_lines = []
    for i, item in enumerate(raw_lines):
        if not isinstance(item, dict) or any(
            not isinstance(item.get(k), str) or not item[k].strip() for k in _CRISIS_KEYS
        ):
            problems.add(label, f"crisis_lines[{i}]", "needs region, name and contact as text")
            continue
        lines.append(CrisisLine(*(" ".join(item[k].split()) for k in _CRISIS_KEYS)))
    if len(problems.lines) > before:
        return None
    return _Index(tuple(order), texts["disclaimer"], texts["sourcing_refusal"], tuple(lines))


def default_content_dir() -> Path:
    """The checkout's `responses/` when running from source, else the copy packaged in the wheel."""
    package = Path(dosewise.__file__).resolve().parent
    checkout = package.parents[1] / "responses"
    if (checkout / TOPIC_DIR / INDEX_FILE).is_file():
        return checkout
    return package / "_responses"


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


def _topic_reply(topic: Topic, index: _Index) -> Reply:
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
        index = _Index(tuple(t.slug for t in topics), disclaimer, refusal, crisis_lines)
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
        root = Path(root) if root is not None else default_content_dir()
        problems = _Problems()
        folder = root / TOPIC_DIR
        prefix = root.name
        if not folder.is_dir():
            raise ContentError([f"{prefix}/{TOPIC_DIR}: folder: not found (looked in {folder})"])
        index_label = f"{prefix}/{TOPIC_DIR}/{INDEX_FILE}"
        index_path = folder / INDEX_FILE
        index: _Index | None = None
        if index_path.is_file():
            index = _read_index(_read_yaml(index_path, index_label, problems), index_label, problems)
        else:
            problems.add(index_label, "file", "missing")
        topics: dict[str, Topic] = {}
        files = sorted(p for p in folder.iterdir() if p.suffix in (".yaml", ".yml") and not p.name.startswith("_"))
        for path in files:
            label = f"{prefix}/{TOPIC_DIR}/{path.name}"
            data = _read_yaml(path, label, problems)
            if data is None and not any(line.startswith(label) for line in problems.lines):
                problems.add(label, "file", "is empty")
                continue
            if data is None:
                continue
            if not isinstance(data, dict):
                problems.add(label, "file", "must be a mapping of keys (slug, title, ...)")
                continue
            topic = _TopicReader(data, label, path.stem, problems).build()
            if topic is not None:
                topics[topic.slug] = topic
        stems = {p.stem for p in files}
        if index is not None:
            for slug in index.order:
                if slug not in stems:
                    problems.add(index_label, "order", f"unknown topic {slug!r} (no {slug}.yaml)")
            for stem in sorted(stems - set(index.order)):
                problems.add(f"{prefix}/{TOPIC_DIR}/{stem}.yaml", "slug", f"not listed in {INDEX_FILE} order")
        _check_alias_clashes(topics, prefix, problems)
        if problems.lines:
            raise ContentError(problems.lines)
        assert index is not None  # no problems means the index was read
        ordered = tuple(topics[slug] for slug in index.order)
        return cls(ordered, index.disclaimer, index.refusal, index.crisis_lines)

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
        return _is_sourcing(norm.split(), norm)

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
        if _LEGAL_TOPIC in self._by_slug and _legal_about_place(tokens, norm):
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
        if _is_sourcing(tokens, norm):
            return self._refusal_reply
        slug = self._route_normalized(norm)
        return self._answers[slug] if slug else self._no_match_reply


def _check_alias_clashes(topics: Mapping[str, Topic], prefix: str, problems: _Problems) -> None:
    """An alias or title may lead to one topic only."""
    owner: dict[str, str] = {}
    for topic in topics.values():
        for i, name in enumerate((topic.slug, topic.title, *topic.aliases)):
            key = normalize(name)
            other = owner.get(key)
            if other is not None and other != topic.slug:
                where = "aliases" if i >= 2 else "title"
                problems.add(
                    f"{prefix}/{TOPIC_DIR}/{topic.slug}.yaml", where, f"{name!r} is already used by topic {other!r}"
                )
            owner.setdefault(key, topic.slug)
