"""Read and validate the `responses/` tree: every problem is collected and raised as one `ContentError`.

Each problem names its file and key (`responses/microdosing/risks.yaml: sources[1].doi: ...`), so one run
reports everything a content editor has to fix.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

import yaml

import dosewise
from dosewise.content_model import ContentIndex, CrisisLine, Point, Source, Topic
from dosewise.errors import ContentError
from dosewise.question_intent import normalize

TOPIC_DIR = "microdosing"
INDEX_FILE = "_index.yaml"
SUMMARY_MAX_CHARS = 300  # a summary must be shorter than this: it is the first thing a member reads
MIN_SOURCES = 2

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


def _read_index(data: Any, label: str, problems: _Problems) -> ContentIndex | None:
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
    return ContentIndex(tuple(order), texts["disclaimer"], texts["sourcing_refusal"], tuple(lines))


def default_content_dir() -> Path:
    """The checkout's `responses/` when running from source, else the copy packaged in the wheel."""
    package = Path(dosewise.__file__).resolve().parent
    checkout = package.parents[1] / "responses"
    if (checkout / TOPIC_DIR / INDEX_FILE).is_file():
        return checkout
    return package / "_responses"


def read_tree(root: Path | None = None) -> tuple[tuple[Topic, ...], ContentIndex]:
    """Load and validate the whole tree; any problem raises `ContentError` listing all of them."""
    root = Path(root) if root is not None else default_content_dir()
    problems = _Problems()
    folder = root / TOPIC_DIR
    prefix = root.name
    if not folder.is_dir():
        raise ContentError([f"{prefix}/{TOPIC_DIR}: folder: not found (looked in {folder})"])
    index_label = f"{prefix}/{TOPIC_DIR}/{INDEX_FILE}"
    index_path = folder / INDEX_FILE
    index: ContentIndex | None = None
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
    return ordered, index


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
