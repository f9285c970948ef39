"""`dosewise topics` and `dosewise ask`: the `/microdosing` answers from the terminal."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from dosewise.content import Content
from dosewise_cli.options import add_config_option, settings_from
from dosewise_cli.render_text import render_reply


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `topics` and `ask` commands."""
    topics = sub.add_parser("topics", help="list the /microdosing topics (slug and title)")
    _add_content_options(topics)
    topics.set_defaults(func=run_topics)

    ask = sub.add_parser("ask", help="answer like /microdosing: a topic, an alias or a question")
    _add_content_options(ask)
    ask.add_argument("text", nargs="*", metavar="TOPIC-OR-QUESTION", help="e.g. risks, or: is it legal in oregon")
    ask.add_argument("--color", action="store_true", default=None, help="colour the output (default: if a TTY)")
    ask.set_defaults(func=run_ask)


def _add_content_options(parser: argparse.ArgumentParser) -> None:
    add_config_option(parser)
    parser.add_argument(
        "--content-dir", type=Path, default=None, help="the responses/ folder (default: the bundled content)"
    )


def _load(args: argparse.Namespace) -> Content:
    """Load the content from `--content-dir`, else the config's `content_dir`, else the bundled tree.

    The config is loaded like every other command loads it, so a missing or broken `--config` file is an
    error here too (ConfigError), not silently ignored; a ContentError likewise reaches main(), exit 2.
    """
    settings = settings_from(args)
    return Content.load(args.content_dir or settings.content_dir)


def run_topics(args: argparse.Namespace) -> int:
    """Print one line per topic: slug and title."""
    content = _load(args)
    choices = content.topics()
    width = max((len(c.slug) for c in choices), default=0)
    for choice in choices:
        print(f"{choice.slug.ljust(width)}  {choice.title}")
    return 0


def run_ask(args: argparse.Namespace) -> int:
    """Print the rendered answer for a topic, alias or free-text question."""
    content = _load(args)
    color = sys.stdout.isatty() if args.color is None else bool(args.color)
    print(render_reply(content.answer(" ".join(args.text)), color=color), end="")
    return 0
