"""Discord path: MESSAGE_CREATE on the gateway → alert POSTed to the mod channel, through the fake Discord.

The real discord.py client and the real core (SQLite in a temporary directory) run against the fake from
`tests.dosewise_discord.fake_discord` on 127.0.0.1. For 1,000 messages (about 1 in 10 flagged) we time:

- flagged: the fake sending MESSAGE_CREATE → the fake receiving the alert POST for that message;
- not flagged: the fake sending MESSAGE_CREATE → the bot's `dosewise_screened` event for it.

Two runs: paced (an even rate a busy community would never exceed) and a burst (all 1,000 at once, so
the figures include queueing behind each other). Figures only; no budget is asserted.
"""

from __future__ import annotations

import asyncio
import logging
import random
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.dosewise_discord.fake_discord import FakeDiscord, Recorded, running_fake

from dosewise.core import BotCore
from dosewise.settings import DiscordSettings, Settings
from dosewise_discord import build_client

MESSAGES = 1_000
FLAGGED_EVERY = 10
PACED_RATE = 200  # messages per second

CHAT = (
    "good morning everyone, how did you sleep",
    "I read the placebo study everyone keeps quoting, interesting design",
    "has anyone tried journaling alongside their therapy sessions",
    "the blinding problem in these trials is real, people can tell",
    "my therapist suggested a sleep diary before changing anything",
    "what does the research say about mood over several weeks",
    "thanks for sharing, that took courage",
    "please remember the crisis lines pinned in the welcome channel",
    "I think expectancy explains a lot of the reported benefits",
    "is there any data on long-term effects on the heart valves",
    "the meetup next week is about meditation and breathing",
    "reminder: be kind, everyone here is on their own path",
)
SOURCING = (
    "selling shrooms, dm me on telegram, discreet shipping, pay with crypto",
    "anyone know where to buy acid? dm me",
    "got caps for sale, 3g for 30, check my bio",
    "who has a plug for tabs? message me on wickr",
    "vendor with stealth shipping, pm for the menu",
)


@dataclass
class Run:
    """Send times and completion times of one run, keyed by message id."""

    sent: dict[str, float] = field(default_factory=dict)
    flagged: set[str] = field(default_factory=set)
    alerted: dict[str, float] = field(default_factory=dict)
    screened: dict[str, float] = field(default_factory=dict)
    done: asyncio.Event = field(default_factory=asyncio.Event)
    # Set once every message is sent: before that, a bot that keeps up would look finished.
    expected: int | None = None

    def check_done(self) -> None:
        finished = len(self.alerted) + sum(1 for m in self.screened if m not in self.flagged)
        if self.expected is not None and finished >= self.expected:
            self.done.set()


def _texts(count: int, rng: random.Random) -> list[tuple[str, bool]]:
    texts = []
    for i in range(count):
        if i % FLAGGED_EVERY == FLAGGED_EVERY - 1:
            texts.append((rng.choice(SOURCING), True))
        else:
            texts.append((rng.choice(CHAT), False))
    return texts


def _percentiles(values: list[float]) -> str:
    if not values:
        return "n=0"
    ms = sorted(v * 1000 for v in values)
    p50 = statistics.median(ms)
    p99 = ms[min(len(ms) - 1, round(0.99 * (len(ms) - 1)))]
    return f"p50 {p50:6.2f} ms   p99 {p99:6.2f} ms   max {ms[-1]:6.2f} ms   (n={len(ms)})"


async def _run(fake: FakeDiscord, client: Any, texts: list[tuple[str, bool]], rate: float | None) -> Run:
    run = Run()
    mod_path = f"/channels/{fake.mod_channel_id}/messages"

    def on_request(rec: Recorded) -> None:
        if rec.method == "POST" and rec.path == mod_path and isinstance(rec.body, dict):
            url = rec.body["embeds"][0].get("url", "")
            message_id = url.rsplit("/", 1)[-1]
            if message_id in run.sent and message_id not in run.alerted:
                run.alerted[message_id] = rec.at
                run.check_done()

    async def on_dosewise_screened(incoming: Any, outcome: Any) -> None:
        if incoming.ref.message_id in run.sent:
            run.screened.setdefault(incoming.ref.message_id, time.perf_counter())
            run.check_done()

    fake.listeners.append(on_request)
    client.on_dosewise_screened = on_dosewise_screened
    start = time.perf_counter()
    for i, (text, flagged) in enumerate(texts):
        if rate is not None:
            # Open loop: each message leaves at its slot, whether or not the bot has caught up.
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
        payload = fake.message_payload(fake.general_id, fake.alice, text)
        if flagged:
            run.flagged.add(payload["id"])
        fake.messages[int(payload["id"])] = payload
        run.sent[payload["id"]] = time.perf_counter()
        await fake.dispatch("MESSAGE_CREATE", payload)
    run.expected = len(run.sent)
    run.check_done()
    await asyncio.wait_for(run.done.wait(), 60)
    fake.listeners.remove(on_request)
    del client.on_dosewise_screened
    return run


def _report(name: str, run: Run, elapsed: float) -> None:
    alert_ms = [run.alerted[m] - run.sent[m] for m in run.alerted]
    clean_ms = [run.screened[m] - run.sent[m] for m in run.screened if m not in run.flagged]
    print(f"  {name}: {len(run.sent)} messages, {len(run.flagged)} flagged, {elapsed:.2f} s")
    print(f"    MESSAGE_CREATE → alert POST (flagged)      {_percentiles(alert_ms)}")
    print(f"    MESSAGE_CREATE → screened (not flagged)    {_percentiles(clean_ms)}")


async def _bench() -> None:
    rng = random.Random(11)
    with tempfile.TemporaryDirectory() as tmp:
        async with running_fake() as fake:
            fake.echo_bot_messages = True  # as on Discord: the bot's own alerts come back and are skipped
            settings = Settings(
                database=Path(tmp) / "bench.db",
                discord=DiscordSettings(token="bench", mod_channel=str(fake.mod_channel_id)),
            )
            core = await BotCore.open(settings)
            client = build_client(core, settings, guild_ready_timeout=0.05)
            task = asyncio.create_task(client.start("bench"))
            try:
                await asyncio.wait_for(client.wait_until_ready(), 20)
                await _run(fake, client, _texts(50, rng), PACED_RATE)  # warm-up: connections, caches
                for name, rate in ((f"paced {PACED_RATE}/s", float(PACED_RATE)), ("burst", None)):
                    started = time.perf_counter()
                    run = await _run(fake, client, _texts(MESSAGES, rng), rate)
                    _report(name, run, time.perf_counter() - started)
                if fake.unknown:
                    print(f"  fake saw unknown routes: {sorted(set(fake.unknown))}")
            finally:
                await client.close()
                await asyncio.gather(task, return_exceptions=True)
                await core.close()


def main() -> None:
    """Run the Discord benchmark and print p50/p99 latencies."""
    logging.getLogger("discord").setLevel(logging.ERROR)
    print("discord: gateway MESSAGE_CREATE → alert POST / screening done, via the fake Discord on loopback")
    asyncio.run(_bench())


if __name__ == "__main__":
    main()
