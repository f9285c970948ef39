"""`/microdosing` answers in the core: per-call time for slugs, aliases, questions and refusals."""

from __future__ import annotations

import statistics
import time

from dosewise.content import Content
from dosewise.models import CommandRequest, Platform, UserRef

BUDGET_MS = 0.2
QUERIES = (
    "risks",
    "depression",
    "does it help anxiety",
    "is it legal in oregon",
    "i'm on lithium, is that ok",
    "is it just placebo?",
    "can microdosing help my ptsd",
    "where can i buy shrooms",
    "",
    "help",
    "something about cats",
    "x" * 40_000,
)


def main() -> None:
    """Time `Content.answer` (the body of `BotCore.answer`) over a mix of real queries."""
    content = Content.load()
    user = UserRef("u1", "member")
    requests = [CommandRequest(Platform.CONSOLE, "s", "c", user, q) for q in QUERIES]
    for request in requests:  # warm-up: first calls fill caches
        content.answer(request.text)
    samples: list[float] = []
    rounds = 2_000
    for _ in range(rounds):
        for request in requests:
            start = time.perf_counter()
            content.answer(request.text)
            samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    p50 = statistics.median(samples)
    p99 = samples[int(len(samples) * 0.99)]
    verdict = "within" if p99 <= BUDGET_MS else "OVER"
    print(
        f"answer: {len(samples)} calls over {len(QUERIES)} query kinds: p50 {p50:.4f} ms, p99 {p99:.4f} ms, "
        f"max {samples[-1]:.4f} ms (budget {BUDGET_MS} ms: p99 {verdict})"
    )


if __name__ == "__main__":
    main()
