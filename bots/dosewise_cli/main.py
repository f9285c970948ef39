"""Entry point of the `dosewise` command: builds the parser from one module per command group."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from dosewise.errors import DosewiseError
from dosewise_cli import cmd_config, cmd_content, cmd_flags, cmd_run, cmd_scan, cmd_servers

# Each module contributes its subcommands; the order is the order of `dosewise --help`.
COMMAND_MODULES = (cmd_run, cmd_content, cmd_scan, cmd_flags, cmd_servers, cmd_config)
# The same levels the config's `log_level` accepts.
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


class OneLineErrorParser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line on stderr (exit status 2), like every other error."""

    def error(self, message: str) -> NoReturn:
        """Print `PROG: error: MESSAGE` with a pointer to --help instead of the full usage block."""
        # Subcommand parsers inherit this class (argparse creates them with the parent's type).
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """Return the full argument parser."""
    parser = OneLineErrorParser(
        prog="dosewise",
        description="Balanced /microdosing answers and sourcing moderation for Discord, Slack, console.",
    )
    parser.add_argument("--config", help="YAML config file (default: $DOSEWISE_CONFIG or ./config.yaml if present)")
    parser.add_argument(
        "--log-level",
        default=None,
        type=str.upper,  # applied before the choices check, so `--log-level debug` is accepted
        choices=LOG_LEVELS,
        help="DEBUG, INFO, WARNING or ERROR, any case (default from config)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMAND_MODULES:
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        # `dosewise` alone (and `make run`) starts the bot.
        args = parser.parse_args([*(argv or sys.argv[1:]), "run"])
    logging.basicConfig(
        level=args.log_level or "WARNING",
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        status: int = args.func(args)
    except DosewiseError as exc:
        print(f"dosewise: {exc.user_message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `dosewise scan … | head`: the reader left; say nothing more (and let Python not complain at exit).
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    return status


if __name__ == "__main__":
    sys.exit(main())
