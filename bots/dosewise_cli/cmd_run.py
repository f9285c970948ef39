"""`dosewise run [console|discord|slack]`: open the core and hand it to one adapter."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os

from dosewise.core import BotCore
from dosewise.settings import Settings
from dosewise_cli.options import add_config_option, add_db_option, settings_from

log = logging.getLogger(__name__)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `run` command."""
    run = sub.add_parser(
        "run",
        help="start the bot (default: discord with DISCORD_TOKEN, slack with SLACK_BOT_TOKEN, else console)",
    )
    run.add_argument("platform", nargs="?", choices=("console", "discord", "slack"), help="which adapter to run")
    run.add_argument("--port", type=int, default=None, help="Slack HTTP mode: port to listen on")
    add_config_option(run)
    add_db_option(run)
    run.set_defaults(func=run_command)


def choose_platform(explicit: str | None, env: dict[str, str] | os._Environ[str]) -> str:
    """The adapter to run: the one named, else the one whose token is set, else the console."""
    if explicit:
        return explicit
    if env.get("DISCORD_TOKEN"):
        return "discord"
    if env.get("SLACK_BOT_TOKEN"):
        return "slack"
    return "console"


def run_command(args: argparse.Namespace) -> int:
    """Load settings, open the core, run the chosen adapter until it stops."""
    settings = settings_from(args)
    if args.log_level is None:
        logging.getLogger().setLevel(settings.log_level)
    platform = choose_platform(args.platform, os.environ)
    return asyncio.run(_run(platform, settings, args.port))


async def _run(platform: str, settings: Settings, port: int | None) -> int:
    core = await BotCore.open(settings)
    try:
        # Adapters are imported only when chosen: the console must not need discord or slack loaded.
        if platform == "discord":
            from dosewise_discord.runner import run_discord

            await run_discord(core, settings)
        elif platform == "slack":
            from dosewise_slack.runner import run_slack

            await run_slack(core, settings, port)
        else:
            from dosewise_cli.console import run_console

            await run_console(core, settings)
    finally:
        await core.close()
    return 0
