"""Fixtures: a running fake Discord, a real discord.py client on it, and the strict failure checks.

A test fails on any ERROR logged by discord.py or by us, on any REST call the fake did not understand,
and on a client task that died (discord.py only logs exceptions raised in event handlers).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import discord
import pytest

from tests.dosewise_discord.fake_discord import FakeDiscord, running_fake

TOKEN = "fake-token-never-logged"
WATCHED_LOGGERS = ("discord", "dosewise", "dosewise_discord")


class _Collect(logging.Handler):
    """Keeps ERROR records, and every record (any level, with its traceback) that shows the token."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self.leaks: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        shown = self.format(record)
        if TOKEN in shown:
            self.leaks.append(shown)
        if record.levelno >= logging.ERROR:
            self.records.append(record)


@pytest.fixture(autouse=True)
def error_logs() -> Iterator[list[logging.LogRecord]]:
    """Every ERROR record from discord.py or Dosewise; the test fails on one, or on any log showing the token."""
    handler = _Collect()
    loggers = [logging.getLogger(name) for name in WATCHED_LOGGERS]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        # DEBUG too: discord.py logs its HTTP requests there, where a token would show first.
        logger.setLevel(logging.DEBUG)
    try:
        yield handler.records
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.removeHandler(handler)
            logger.setLevel(level)
    problems = [f"{r.name}: {r.getMessage()}\n{r.exc_text or ''}" for r in handler.records]
    assert not problems, "ERROR logged:\n" + "\n".join(problems)
    assert not handler.leaks, "the bot token was logged:\n" + "\n".join(handler.leaks)


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    """A fake Discord on 127.0.0.1 with discord.py pointed at it; no unknown route may be called."""
    async with running_fake() as server:
        yield server
        assert server.unknown == [], f"REST calls the fake did not understand: {server.unknown}"


@dataclass
class RunningClient:
    """A started client, its task, and (for bot tests) its core."""

    client: discord.Client
    task: asyncio.Task[None]
    core: Any = None


async def start_client(client: discord.Client, *, within: float = 10.0) -> RunningClient:
    """Log in and connect to the fake; return once READY and the guilds have arrived."""
    task = asyncio.create_task(client.start(TOKEN))
    ready = asyncio.create_task(client.wait_until_ready())
    done, _ = await asyncio.wait({task, ready}, timeout=within, return_when=asyncio.FIRST_COMPLETED)
    if ready not in done:
        ready.cancel()
        await client.close()
        if task.done():
            raise AssertionError(f"client stopped during startup: {task.exception()!r}")
        raise AssertionError("client did not become ready")
    return RunningClient(client, task)


async def stop_client(running: RunningClient) -> None:
    """Close the client, first checking its task is still alive."""
    if running.task.done():
        raise AssertionError(f"the client task died: {running.task.exception()!r}")
    await running.client.close()
    await asyncio.wait_for(running.task, 10)


def bot_settings(tmp_path: Path, fake: FakeDiscord, **discord_options: Any) -> Any:
    """Settings for a bot on the fake: a temp SQLite file, the fake's mod channel, the Moderator role."""
    from dosewise.settings import DiscordSettings, Settings

    config = DiscordSettings(
        token=TOKEN,
        mod_channel=str(fake.mod_channel_id),
        moderator_roles=("Moderator",),
        default_timeout_minutes=30,
    )
    return Settings(database=tmp_path / "dosewise.db", discord=replace(config, **discord_options))


async def start_bot(settings: Any) -> RunningClient:
    """Open a real core on `settings` and start the real Dosewise client on the fake."""
    from dosewise.core import BotCore
    from dosewise_discord import build_client

    core = await BotCore.open(settings)
    try:
        running = await start_client(build_client(core, settings, guild_ready_timeout=0.05))
    except BaseException:
        await core.close()
        raise
    running.core = core
    return running


async def stop_bot(running: RunningClient) -> None:
    """Stop the client, then close the core."""
    try:
        await stop_client(running)
    finally:
        await running.core.close()


@pytest.fixture
async def bot(tmp_path: Path, fake: FakeDiscord) -> AsyncIterator[RunningClient]:
    """The Dosewise bot, running against the fake with a fresh database."""
    running = await start_bot(bot_settings(tmp_path, fake))
    try:
        yield running
    finally:
        await stop_bot(running)
