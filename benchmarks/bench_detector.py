"""Detector throughput on a realistic chat stream, against a naive one-`re`-per-rule loop, and the
time to screen a hostile 40,000-character message. Budgets: >= 100,000 msg/s, >= 4x naive, <= 20 ms."""

from __future__ import annotations

import random
import re
import statistics
import time

from dosewise.screening import Detector, default_detector
from dosewise.screening.normalize import Views

SEED = 20240611
STREAM = 60_000
HOSTILE_LEN = 40_000
PASSES = 3

ORDINARY = [
    "day {n} of microdosing, mood is {mood} and sleep was {sleep}",
    "anyone else feel {mood} on dose days? curious if it's just me",
    "took {dose} this morning, felt a little {mood} around {time}",
    "what's a normal microdose of dried cubes? i've seen 0.1 to 0.3",
    "thanks for sharing, that really helps {emoji}",
    "lol same",
    "having a rough week, depression is back. sending love to everyone here",
    "my therapist finally listened when i told her about my history",
    "does the creativity thing wear off after a few weeks?",
    "fadiman or stamets protocol? which did you start with",
    "good morning everyone {emoji}",
    "anyone watching the game tonight?",
    "new paper on psilocybin for depression, effect size was decent",
    "please test your stuff, reagents are cheap {emoji}",
    "my cat looks at me like she's the one who's been microdosing",
    "what size capsules do ppl use, 00 or 0?",
    "went for a {time} run without forcing myself. small win",
    "is {dose} of lsd too much for a first microdose?",
    "oregon service center fees are steep, hope that comes down",
    "the afterglow from last weekend is still here tbh, colors feel brighter",
    "ich mikrodosiere seit zwei monaten und meine stimmung ist besser",
    "alguém aqui faz microdose pra ansiedade? queria ouvir experiências",
    "scam alert: people in dms offering caps are scammers, report them",
    "reminder: no sourcing, no vendor names, read the rules",
    "https://pubmed.ncbi.nlm.nih.gov/{n} good review on neuroplasticity",
]
SOURCING = [
    "selling {drug}, {price} each, dm",
    "anyone got a plug for {drug} near {city}?",
    "wtb {drug}, will pay {price}",
    "hmu on telegram @{handle} for {drug}, ships worldwide 📦",
    "got {drug} in stock, discreet shipping, btc or xmr only",
    "where can i get {drug} in {city}? need a source asap",
    "my guy is on wickr: {handle}, tell him i sent you",
    "vendo {drug} para microdosis, envíos a toda españa",
]
DRUGS = ["shrooms", "golden teachers", "caps", "lsd tabs", "molly", "ket", "penis envy"]
CITIES = ["austin", "leeds", "berlin", "toronto", "portland"]
HOMOGLYPHS = {"a": "а", "e": "е", "o": "о", "c": "с", "p": "р"}


def _evade(text: str, rng: random.Random) -> str:
    style = rng.randrange(5)
    if style == 0:
        return "".join(HOMOGLYPHS.get(ch, ch) if rng.random() < 0.5 else ch for ch in text)
    if style == 1:
        return text.replace("s", "5").replace("o", "0").replace("e", "3")
    if style == 2:
        return "\u200b".join(text.split(" "))
    if style == 3:
        return " ".join(text[:20]) + text[20:]
    return text.replace("dm", "d.m").replace("shrooms", "shroooooms")


def make_stream(n: int, seed: int = SEED) -> list[str]:
    """A chat stream from a fixed seed: 90% ordinary talk, 10% sourcing (half of it evasive)."""
    rng = random.Random(seed)
    fill = {
        "mood": ["calm", "floaty", "irritable", "good", "focused"],
        "sleep": ["great", "rough", "ok"],
        "dose": ["0.1g", "10ug", "0.15", "half a cap"],
        "time": ["11", "noon", "3pm", "morning"],
        "emoji": ["🙏", "💜", "🌱", "", "😊"],
        "n": [str(i) for i in range(1, 90)],
        "drug": DRUGS,
        "city": CITIES,
        "price": ["$25", "40€", "£30", "60"],
        "handle": ["fungi_plug", "caps_dealer", "shroomery_x", "tabhouse"],
    }
    out: list[str] = []
    for _ in range(n):
        sourcing = rng.random() < 0.10
        template = rng.choice(SOURCING if sourcing else ORDINARY)
        text = re.sub(r"\{(\w+)\}", lambda m: rng.choice(fill[m.group(1)]), template)
        if sourcing and rng.random() < 0.5:
            text = _evade(text, rng)
        out.append(text)
    return out


def hostile_messages() -> dict[str, str]:
    """Messages of HOSTILE_LEN characters built to stress each stage."""
    return {
        "evasion soup": ("s.h.r.o.o.m.s d m me @plug_x 🍄 $50 \u200bsеll " * 2000)[:HOSTILE_LEN],
        "one long word": "a" * HOSTILE_LEN,
        "spaced letters": ("d m " * HOSTILE_LEN)[:HOSTILE_LEN],
        "leet tokens": ("5hr00m5 c4p5 " * HOSTILE_LEN)[:HOSTILE_LEN],
        "zero-width": ("\u200b\u2060a" * HOSTILE_LEN)[:HOSTILE_LEN],
        "separators": ("a" + "*" * 30 + "b " + "." * 40) * (HOSTILE_LEN // 74),
    }


def _rate(fn: object, stream: list[str]) -> float:
    """Messages per second over the best of `PASSES` passes (as `timeit` does: on a shared machine the
    slower passes measure the other processes, not the screener)."""
    assert callable(fn)
    fn(stream[0])
    best = float("inf")
    for _ in range(PASSES):
        start = time.perf_counter()
        for text in stream:
            fn(text)
        best = min(best, time.perf_counter() - start)
    return len(stream) / best


def naive_screener(detector: Detector) -> object:
    """The same views and rules, but every rule's pattern searched separately with Python `re`."""
    compiled = [(view, re.compile(rule.sources_by_view[view])) for rule in detector.pack.rules for view in rule.views]

    def screen(text: str) -> int:
        views = Views(text)
        return sum(1 for view, rx in compiled if rx.search(views.text(view)))

    return screen


def main() -> None:
    """Print throughput, the naive comparison and the hostile-message timings."""
    detector = default_detector()
    stream = make_stream(STREAM)
    # Warm RE2's lazily built automata as a long-running bot would be warm.
    for text in stream[:5000]:
        detector.screen(text)
    fast = _rate(detector.screen, stream)
    naive = _rate(naive_screener(detector), stream[:10_000])
    flagged = sum(detector.screen(t).flagged for t in stream)
    print(f"detector   {fast:>10,.0f} msg/s  ({len(stream):,} messages, {flagged / len(stream):.1%} flagged)")
    print(f"naive re   {naive:>10,.0f} msg/s  (one Python re per rule and view; both best of {PASSES} passes)")
    print(f"ratio      {fast / naive:>10.1f}x    budget >= 100,000 msg/s and >= 4x")
    worst = 0.0
    for name, text in hostile_messages().items():
        times = []
        for _ in range(5):
            start = time.perf_counter()
            detector.screen(text)
            times.append((time.perf_counter() - start) * 1000)
        worst = max(worst, max(times))
        print(f"40k {name:15} p50 {statistics.median(times):6.2f} ms  max {max(times):6.2f} ms")
    print(f"40k worst  {worst:6.2f} ms   budget <= 20 ms")


if __name__ == "__main__":
    main()
