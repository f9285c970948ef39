"""Options shared by several subcommands, and loading Settings from them."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from dosewise.settings import Settings, load_settings, resolve_config_path


def add_config_option(parser: argparse.ArgumentParser) -> None:
    """Accept `--config` after the subcommand too (`dosewise config check --config FILE`)."""
    # SUPPRESS keeps a value given before the subcommand from being overwritten by this default.
    parser.add_argument("--config", default=argparse.SUPPRESS, help="YAML config file")


def add_db_option(parser: argparse.ArgumentParser) -> None:
    """Add `--db PATH`, which overrides the config's database."""
    parser.add_argument("--db", default=None, help="SQLite database (default: from config, else ./dosewise.db)")


def settings_from(args: argparse.Namespace) -> Settings:
    """Load Settings from `--config` / $DOSEWISE_CONFIG / ./config.yaml, applying `--db` if given."""
    settings = load_settings(resolve_config_path(getattr(args, "config", None)))
    return settings.with_database(getattr(args, "db", None))


def store_subcommand(
    actions: argparse._SubParsersAction[argparse.ArgumentParser],
    name: str,
    help_text: str,
    func: Callable[[argparse.Namespace], int],
) -> argparse.ArgumentParser:
    """Add a subcommand that works on the store: it takes `--config` and `--db` and runs `func`."""
    parser = actions.add_parser(name, help=help_text)
    add_config_option(parser)
    add_db_option(parser)
    parser.set_defaults(func=func)
    return parser
