"""Plain-text rendering of a `Reply` for the terminal (`dosewise ask` and the console adapter)."""

from __future__ import annotations

import textwrap

from dosewise.models import Reply, ReplyKind

WIDTH = 88

# ANSI styles; only used when the caller asks for colour (a TTY), so piped output stays clean.
_BOLD = "\033[1m"
_DIM = "\033[2m"
_CYAN = "\033[36m"
_YELLOW = "\033[33m"
_RESET = "\033[0m"


def _style(text: str, code: str, color: bool) -> str:
    return f"{code}{text}{_RESET}" if color else text


def _wrap(text: str, indent: str = "", width: int = WIDTH) -> list[str]:
    """Wrap one paragraph; bullet lines (`- `) get a hanging indent."""
    if text.startswith("- "):
        return textwrap.wrap(
            text[2:], width=width, initial_indent=f"{indent}  - ", subsequent_indent=f"{indent}    "
        ) or [f"{indent}  -"]
    return textwrap.wrap(text, width=width, initial_indent=indent, subsequent_indent=indent) or [""]


def render_reply(reply: Reply, *, color: bool = False) -> str:
    """Render a reply as readable plain text: title, summary, sections, numbered sources, footer."""
    out: list[str] = []
    title_code = _YELLOW if reply.kind is ReplyKind.REFUSAL else _CYAN
    out.append(_style(reply.title, _BOLD + title_code, color))
    out.append(_style("=" * min(len(reply.title), WIDTH), title_code, color))
    if reply.summary:
        out.extend(_wrap(reply.summary))
    for section in reply.sections:
        out.append("")
        out.append(_style(section.heading, _BOLD, color))
        for line in section.body.splitlines():
            if line.strip():
                out.extend(_wrap(line.strip()))
    # A refusal already names its pointers in a section; listing them twice reads as noise.
    if reply.topics and reply.kind is not ReplyKind.REFUSAL:
        out.append("")
        out.append(_style("Topics" if reply.kind is ReplyKind.TOPICS else "See also", _BOLD, color))
        slug_width = max(len(t.slug) for t in reply.topics)
        for choice in reply.topics:
            out.append(f"  {choice.slug.ljust(slug_width)}  {choice.title}")
    if reply.sources:
        out.append("")
        out.append(_style("Sources", _BOLD, color))
        for number, source in enumerate(reply.sources, start=1):
            out.extend(
                textwrap.wrap(source.label, width=WIDTH, initial_indent=f"  [{number}] ", subsequent_indent=" " * 6)
            )
            out.append(" " * 6 + _style(source.url, _CYAN, color))
    if reply.footer:
        out.append("")
        out.extend(_style(line, _DIM, color) for line in _wrap(reply.footer))
    return "\n".join(out) + "\n"
