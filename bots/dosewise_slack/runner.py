"""`dosewise run slack`: serve the adapter over HTTP (signed requests) or Socket Mode (app token)."""

from __future__ import annotations

import asyncio
import gc
import logging

from aiohttp import web
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler

from dosewise.core import BotCore
from dosewise.errors import ConfigError
from dosewise.settings import Settings, SlackSettings
from dosewise_slack.app import SlackBot, build_bot

log = logging.getLogger(__name__)


def check_settings(slack: SlackSettings) -> list[str]:
    """What is missing to start in the configured mode (secrets are named, never shown)."""
    problems = []
    if not slack.bot_token:
        problems.append("environment: SLACK_BOT_TOKEN: not set (the bot token, xoxb-…)")
    if slack.mode == "socket" and not slack.app_token:
        problems.append("environment: SLACK_APP_TOKEN: not set (Socket Mode needs an app-level token, xapp-…)")
    if slack.mode == "http" and not slack.signing_secret:
        problems.append("environment: SLACK_SIGNING_SECRET: not set (HTTP mode verifies every request with it)")
    if not slack.mod_channel:
        log.warning("slack.mod_channel is not set: flags are stored but no alert is posted")
    return problems


async def serve_http(bot: SlackBot, host: str, port: int, path: str) -> web.AppRunner:
    """Start the HTTP front door; the caller cleans up the returned runner."""
    runner = web.AppRunner(bot.web_app(path), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    log.info("Slack HTTP mode: listening on %s", ", ".join(str(a) for a in runner.addresses))
    return runner


async def run_slack(core: BotCore, settings: Settings, port: int | None = None) -> None:
    """Run the Slack adapter until cancelled: HTTP mode on `port` (or slack.port), or Socket Mode."""
    slack = settings.slack
    problems = check_settings(slack)
    if problems:
        raise ConfigError(problems)
    bot = build_bot(core, settings)
    # Retention reaches the mod channel too: purged flags get their alert re-rendered without the text.
    core.attach_alert_clearer("slack", bot.clear_alert)
    # Content, rules and the app are built and live forever: keep them out of every GC scan (shorter
    # collector pauses under load; the benchmark's tail latency drops with it).
    gc.collect()
    gc.freeze()
    try:
        if slack.mode == "socket":
            handler = AsyncSocketModeHandler(bot.app, app_token=slack.app_token, web_client=bot.client)
            # slack_bolt leaves these two methods unannotated.
            await handler.connect_async()  # type: ignore[no-untyped-call]
            log.info("Slack Socket Mode: connected")
            try:
                await asyncio.Event().wait()
            finally:
                await handler.close_async()  # type: ignore[no-untyped-call]
        else:
            runner = await serve_http(bot, slack.host, slack.port if port is None else port, slack.path)
            try:
                await asyncio.Event().wait()
            finally:
                await runner.cleanup()
    finally:
        await bot.aclose()
