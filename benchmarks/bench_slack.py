"""Slack budget: a signed `/microdosing` round trip over HTTP on loopback, p99 ≤ 10 ms at 50 concurrent.

The real app (signature check, answer in the acknowledgement) serves on 127.0.0.1 in its own process, as
in production; its Web API is the test suite's fake Slack. The load is a closed loop: 50 workers, each
on its own keep-alive connection, sends a correctly signed slash command and sends the next one when the
response (which carries the answer) has arrived. A round trip is timed from writing the request to
reading the whole response.

The load generator speaks HTTP/1.1 itself (asyncio protocol, pre-rendered headers, HMAC per request):
with 2 cores it shares the machine with the app, and a heavier client (aiohttp's costs about 300 µs of
CPU per request) would measure itself rather than the app. `BENCH_SLACK_CLIENT=aiohttp` uses aiohttp's
client instead, for comparison. The app and the load generator are pinned to different CPUs (as the
app would have its own core in production); `BENCH_SLACK_PIN=0` leaves placement to the scheduler.
`BENCH_SLACK_PROFILE=out.prof` runs the app under cProfile during the measured phase and writes the
profile there (the figures are then slower, of course).
"""

from __future__ import annotations

import asyncio
import cProfile
import gc
import multiprocessing
import os
import re
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
WARMUP = 500
REQUESTS = 5_000
BUDGET_P99_MS = 10.0
TOPICS = ("anxiety", "depression", "", "help", "risks", "does it help with focus?")
PATH = "/slack/events"
PIN = os.environ.get("BENCH_SLACK_PIN", "1") != "0"
CONTENT_LENGTH = re.compile(rb"\r\ncontent-length:[ \t]*(\d+)", re.IGNORECASE)


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) by nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


# -- the app's process ---------------------------------------------------------------------------------


async def _serve(fake_port: int, port_out: Connection, control: Connection, profile: str) -> None:
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
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, control.recv)  # the warm-up is over
        profiler = cProfile.Profile() if profile else None
        cpu = time.process_time()
        if profiler is not None:
            profiler.enable()
        await loop.run_in_executor(None, control.recv)  # the measured phase is over
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(profile)
        port_out.send(time.process_time() - cpu)
        await runner.cleanup()
        await bot.aclose()
        await core.close()


def _pin(cpu: int) -> None:
    """Keep this process on one CPU (when there are two or more), so app and load never share a core."""
    if PIN and hasattr(os, "sched_setaffinity") and len(os.sched_getaffinity(0)) >= 2:
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[cpu]})


def _server_process(fake_port: int, port_out: Connection, control: Connection, profile: str) -> None:
    _pin(0)
    asyncio.run(_serve(fake_port, port_out, control, profile))


# -- the load generator ----------------------------------------------------------------------------------


def _signed_command(n: int, fake: FakeSlack) -> bytes:
    """One slash command as Slack sends it: form body, timestamp and v0 signature, as raw HTTP/1.1."""
    form = urlencode(
        {
            "token": "legacy-verification-token",
            "team_id": TEAM_ID,
            "team_domain": "bench",
            "channel_id": "C0GENERAL",
            "channel_name": "general",
            "user_id": f"U{n % 997:05d}",
            "user_name": "bench",
            "command": "/microdosing",
            "text": TOPICS[n % len(TOPICS)],
            "api_app_id": "A0APP",
            "response_url": fake.response_url(f"b{n}"),
            "trigger_id": f"{n}.2.3",
        }
    )
    ts = str(int(time.time()))
    head = (
        f"POST {PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: Slackbot 1.0 (+https://api.slack.com/robots)\r\n"
        f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(form)}\r\n"
        f"X-Slack-Request-Timestamp: {ts}\r\nX-Slack-Signature: {sign(form, ts, SIGNING_SECRET)}\r\n\r\n"
    )
    return (head + form).encode()


class _Connection(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection: write a request, wait for the whole response (Content-Length)."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.waiter: asyncio.Future[tuple[int, bytes]] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0 or self.waiter is None or self.waiter.done():
            return
        match = CONTENT_LENGTH.search(self.buffer, 0, end + 2)
        if match is None:
            self.waiter.set_exception(RuntimeError("a response without Content-Length"))
            return
        total = end + 4 + int(match.group(1))
        if len(self.buffer) >= total:
            status = int(self.buffer[9:12])
            body = bytes(self.buffer[end + 4 : total])
            del self.buffer[:total]
            self.waiter.set_result((status, body))

    def connection_lost(self, exc: Exception | None) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(exc or ConnectionError("the app closed the connection"))

    async def request(self, data: bytes) -> tuple[int, bytes]:
        assert self.transport is not None
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(data)
        return await self.waiter


class _RawClient:
    """50 keep-alive connections, opened once and used for the warm-up and the measured phase."""

    def __init__(self, fake: FakeSlack, port: int) -> None:
        self.fake, self.port = fake, port
        self.connections: list[_Connection] = []

    async def __aenter__(self) -> _RawClient:
        loop = asyncio.get_running_loop()
        for _ in range(CONCURRENCY):
            _, conn = await loop.create_connection(_Connection, "127.0.0.1", self.port)
            self.connections.append(conn)
        return self

    async def __aexit__(self, *exc: object) -> None:
        for conn in self.connections:
            if conn.transport is not None:
                conn.transport.close()

    async def run(self, count: int, counter: list[int], times: list[float]) -> None:
        async def worker(conn: _Connection) -> None:
            for _ in range(count):
                counter[0] += 1
                data = _signed_command(counter[0], self.fake)
                start = time.perf_counter()
                status, body = await conn.request(data)
                times.append((time.perf_counter() - start) * 1000)
                if status != 200 or b'"blocks"' not in body:
                    raise RuntimeError(f"HTTP {status}: no answer in the response: {body[:200]!r}")

        await asyncio.gather(*(worker(conn) for conn in self.connections))


class _AiohttpClient:
    """aiohttp's client with a 50-connection pool (for comparison: it costs the load side more CPU)."""

    def __init__(self, fake: FakeSlack, port: int) -> None:
        self.fake, self.url = fake, f"http://127.0.0.1:{port}{PATH}"
        self.http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=CONCURRENCY))

    async def __aenter__(self) -> _AiohttpClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.http.close()

    async def run(self, count: int, counter: list[int], times: list[float]) -> None:
        async def worker() -> None:
            for _ in range(count):
                counter[0] += 1
                head, _, form = _signed_command(counter[0], self.fake).partition(b"\r\n\r\n")
                lines = head.decode().split("\r\n")[1:]
                skip = ("Host", "Content-Length")
                headers = dict(line.split(": ", 1) for line in lines if not line.startswith(skip))
                start = time.perf_counter()
                async with self.http.post(self.url, data=form, headers=headers) as response:
                    body = await response.read()
                times.append((time.perf_counter() - start) * 1000)
                if response.status != 200 or b'"blocks"' not in body:
                    raise RuntimeError(f"HTTP {response.status}: no answer in the response: {body[:200]!r}")

        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))


async def _run(client: str, profile: str) -> tuple[list[float], float, float, float]:
    fake = await FakeSlack().start()
    context = multiprocessing.get_context("spawn")
    port_in, port_out = context.Pipe(duplex=False)
    control_in, control_out = context.Pipe(duplex=False)
    server = context.Process(target=_server_process, args=(fake.port, port_out, control_in, profile), daemon=True)
    server.start()
    _pin(1)
    loop = asyncio.get_running_loop()
    counter = [0]
    try:
        if not await loop.run_in_executor(None, port_in.poll, 60):
            raise RuntimeError("the Slack app did not start")
        port = port_in.recv()
        async with (_AiohttpClient if client == "aiohttp" else _RawClient)(fake, port) as load:
            await load.run(WARMUP // CONCURRENCY, counter, [])
            control_out.send("measure")
            gc.collect()
            round_trips: list[float] = []
            started, cpu = time.perf_counter(), time.process_time()
            await load.run(REQUESTS // CONCURRENCY, counter, round_trips)
            elapsed, load_cpu = time.perf_counter() - started, time.process_time() - cpu
    finally:
        control_out.send("stop")
        app_cpu = port_in.recv() if await loop.run_in_executor(None, port_in.poll, 60) else float("nan")
        await loop.run_in_executor(None, server.join, 30)
        if server.is_alive():
            server.terminate()
        await fake.close()
    if fake.responses:
        raise RuntimeError(f"{len(fake.responses)} answers went to a response_url instead of the response")
    if fake.unknown:
        raise RuntimeError(f"the app called Web API methods the fake does not know: {fake.unknown}")
    return round_trips, elapsed, app_cpu, load_cpu


def main() -> None:
    """Run the benchmark and print p50/p99 of the round trip, the throughput and CPU per request."""
    client = os.environ.get("BENCH_SLACK_CLIENT", "raw")
    profile = os.environ.get("BENCH_SLACK_PROFILE", "")
    round_trips, elapsed, app_cpu, load_cpu = asyncio.run(_run(client, profile))
    count = len(round_trips)
    p50, p99 = percentile(round_trips, 50), percentile(round_trips, 99)
    verdict = "OK" if p99 <= BUDGET_P99_MS else "OVER BUDGET"
    print(
        f"slack signed /microdosing round trip (request → response carrying the answer), {count} requests, "
        f"{CONCURRENCY} concurrent (closed loop): p50 {p50:.2f} ms, p99 {p99:.2f} ms "
        f"(budget p99 ≤ {BUDGET_P99_MS:.0f} ms: {verdict}){' [cProfile on]' if profile else ''}"
    )
    print(
        f"  {count / elapsed:,.0f} requests/s; mean {statistics.fmean(round_trips):.2f} ms, "
        f"max {max(round_trips):.2f} ms; load client: {client}"
    )
    print(
        f"  CPU per request: app process {app_cpu / count * 1e6:.0f} µs, "
        f"load generator + fake Slack {load_cpu / count * 1e6:.0f} µs ({os.cpu_count()} CPUs)"
    )


if __name__ == "__main__":
    main()
