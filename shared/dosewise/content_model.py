"""The `/microdosing` content as data: topics, their points and sources, and what `_index.yaml` holds.

Frozen dataclasses built by `content_loader` once the YAML is valid; imports stdlib and `models` only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from dosewise.models import SourceLink, TopicChoice


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


@dataclass(frozen=True, slots=True)
class ContentIndex:
    """What `_index.yaml` holds: the topic order, the shared texts and the crisis lines."""

    order: tuple[str, ...]
    disclaimer: str
    refusal: str
    crisis_lines: tuple[CrisisLine, ...]


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
