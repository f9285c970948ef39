"""Slack budget: a signed `/microdosing` round trip over HTTP on loopback, p99 ≤ 10 ms at 50 concurrent.

The real Bolt app (signature check, ack, answer, respond via response_url) serves on 127.0.0.1; the
Web API and the response_urls are the test suite's fake Slack. A round trip is measured from sending
the signed command until the answer reaches the response_url; the ack alone is reported too.
The app runs in its own process, as in production; the load generator and the fake Slack share the
parent process, so answers are timed where they land.
"""

from __future__ import annotations

import asyncio
import gc
import multiprocessing
import os
import statistics
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
from tests.dosewise_slack.conftest import SIGNING_SECRET, settings_for, sign
from tests.dosewise_slack.fake_slack import TEAM_ID, FakeSlack

from dosewise.core import BotCore
from dosewise_slack.app import build_bot
from dosewise_slack.runner import serve_http

CONCURRENCY = 50
WARMUP = 200
REQUESTS = 3_000
BUDGET_P99_MS = 10.0
TOPICS = ("anxiety", "depression", "", "help", "risks", "does it help with focus?")


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) by nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


async def _serve(fake_port: int, port_out: Connection, stop_in: Connection) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        fake = FakeSlack(port=fake_port)  # not started here: it runs in the load generator's process
        settings = settings_for(fake, Path(tmp))
        core = await BotCore.open(settings)
        bot = build_bot(core, settings)
        runner = await serve_http(bot, "127.0.0.1", 0, settings.slack.path)
        # As `run_slack` does once started: long-lived objects leave the garbage collector's scans.
        gc.collect()
        gc.freeze()
        port_out.send(runner.addresses[0][1])
        cpu = time.process_time()
        await asyncio.get_running_loop().run_in_executor(None, stop_in.recv)
        port_out.send(time.process_time() - cpu)
        await runner.cleanup()
        await bot.aclose()
        await core.close()


def _server_process(fake_port: int, port_out: Connection, stop_in: Connection) -> None:
    asyncio.run(_serve(fake_port, port_out, stop_in))


async def _load(fake: FakeSlack, port: int) -> tuple[list[float], list[float]]:
    url = f"http://127.0.0.1:{port}/slack/events"
    pending: dict[str, asyncio.Future[float]] = {}
    loop = asyncio.get_running_loop()

    def on_answer(key: str) -> None:
        future = pending.pop(key, None)
        if future is not None and not future.done():
            future.set_result(time.perf_counter())

    fake.on_respond = on_answer
    round_trips: list[float] = []
    acks: list[float] = []
    counter = iter(range(10**9))

    async def one(http: aiohttp.ClientSession, record: bool) -> None:
        n = next(counter)
        key = f"b{n}"
        form = urlencode(
            {
                "command": "/microdosing",
                "text": TOPICS[n % len(TOPICS)],
                "user_id": f"U{n % 997:05d}",
                "user_name": "bench",
                "channel_id": "C0GENERAL",
                "team_id": TEAM_ID,
                "response_url": fake.response_url(key),
                "trigger_id": "1.2.3",
            }
        )
        ts = str(int(time.time()))
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": sign(form, ts, SIGNING_SECRET),
        }
        answered = loop.create_future()
        pending[key] = answered
        start = time.perf_counter()
        async with http.post(url, data=form, headers=headers) as response:
            await response.read()
            if response.status != 200:
                raise RuntimeError(f"HTTP {response.status}")
        acked = time.perf_counter()
        done = await asyncio.wait_for(answered, 30)
        if record:
            acks.append((acked - start) * 1000)
            round_trips.append((done - start) * 1000)

    async def worker(http: aiohttp.ClientSession, count: int, record: bool) -> None:
        for _ in range(count):
            await one(http, record)

    connector = aiohttp.TCPConnector(limit=CONCURRENCY)
    async with aiohttp.ClientSession(connector=connector) as http:
        await asyncio.gather(*(worker(http, WARMUP // CONCURRENCY, False) for _ in range(CONCURRENCY)))
        await asyncio.gather(*(worker(http, REQUESTS // CONCURRENCY, True) for _ in range(CONCURRENCY)))
    return round_trips, acks


async def _run() -> tuple[list[float], list[float], float, float, float]:
    fake = await FakeSlack().start()
    context = multiprocessing.get_context("spawn")
    port_in, port_out = context.Pipe(duplex=False)
    stop_in, stop_out = context.Pipe(duplex=False)
    server = context.Process(target=_server_process, args=(fake.port, port_out, stop_in), daemon=True)
    server.start()
    loop = asyncio.get_running_loop()
    try:
        if not await loop.run_in_executor(None, port_in.poll, 60):
            raise RuntimeError("the Slack app did not start")
        port = port_in.recv()
        started, cpu = time.perf_counter(), time.process_time()
        round_trips, acks = await _load(fake, port)
        elapsed, load_cpu = time.perf_counter() - started, time.process_time() - cpu
    finally:
        stop_out.send(True)
        app_cpu = port_in.recv() if await loop.run_in_executor(None, port_in.poll, 30) else float("nan")
        await loop.run_in_executor(None, server.join, 30)
        if server.is_alive():
            server.terminate()
        await fake.close()
    if fake.unknown:
        raise RuntimeError(f"the app called Web API methods the fake does not know: {fake.unknown}")
    return round_trips, acks, elapsed, app_cpu, load_cpu


def main() -> None:
    """Run the benchmark and print p50/p99 for the round trip and the ack."""
    round_trips, acks, elapsed, app_cpu, load_cpu = asyncio.run(_run())
    total = WARMUP + REQUESTS
    p50, p99 = percentile(round_trips, 50), percentile(round_trips, 99)
    verdict = "OK" if p99 <= BUDGET_P99_MS else "OVER BUDGET"
    print(
        f"slack signed /microdosing round trip (ack + answer at response_url), {len(round_trips)} requests, "
        f"{CONCURRENCY} concurrent: p50 {p50:.2f} ms, p99 {p99:.2f} ms "
        f"(budget p99 ≤ {BUDGET_P99_MS:.0f} ms: {verdict})"
    )
    print(
        f"  ack only: p50 {percentile(acks, 50):.2f} ms, p99 {percentile(acks, 99):.2f} ms; "
        f"mean {statistics.fmean(round_trips):.2f} ms; {total / elapsed:,.0f} round trips/s overall"
    )
    print(
        f"  CPU per round trip: app process {app_cpu / total * 1e6:.0f} µs, "
        f"load generator + fake Slack {load_cpu / total * 1e6:.0f} µs ({os.cpu_count()} CPUs)"
    )


if __name__ == "__main__":
    main()
