"""Free-text questions, phrased as members ask them, reach the right topic; sourcing requests are refused."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dosewise.content import AUTOCOMPLETE_MAX, Content
from dosewise.models import ReplyKind

RESPONSES = Path(__file__).resolve().parents[2] / "responses"


@pytest.fixture(scope="module")
def content() -> Content:
    return Content.load(RESPONSES)


ROUTED = [
    ("does it help anxiety", "anxiety"),
    ("does microdosing help with social anxiety??", "anxiety"),
    ("can shrooms calm my nerves before presentations", "anxiety"),
    ("will microdosing make my panic attacks worse", "anxiety"),
    ("anxeity", "anxiety"),
    ("is microdosing good for depression", "depression"),
    ("has anyone used it instead of antidepressants for depresion", "depression"),
    ("i've been feeling really low, would md help my mood", "depression"),
    ("does psilocybin microdosing help mdd", "depression"),
    ("is it legal in oregon", "legal-status"),
    ("is microdosing legal in colorado now?", "legal-status"),
    ("can i get arrested for having truffles", "legal-status"),
    ("is psilocybin decriminalized in australia", "legal-status"),
    ("is it legal to buy a scale", "legal-status"),
    ("where can i get truffles legally in the netherlands", "legal-status"),
    ("where can i legally buy shrooms in my state", "legal-status"),
    ("can i buy truffles legally in new zealand", "legal-status"),
    ("i'm on lithium", "contraindications-and-interactions"),
    ("can i microdose while on sertraline", "contraindications-and-interactions"),
    ("mixing lsd with my ssris ok?", "contraindications-and-interactions"),
    ("my brother has bipolar, should i avoid it", "contraindications-and-interactions"),
    ("is it just placebo", "placebo-and-expectancy"),
    ("isnt it all just the placebo effect lol", "placebo-and-expectancy"),
    ("do people break blind in these studies", "placebo-and-expectancy"),
    ("can it help my ptsd", "ptsd"),
    ("microdosing for combat trauma, any veterans here?", "ptsd"),
    ("does it help with flashbacks", "ptsd"),
    ("will it make me more creative", "creativity-and-focus"),
    ("microdosing for adhd focus at work", "creativity-and-focus"),
    ("does it boost productivity", "creativity-and-focus"),
    ("is microdosing safe", "risks-and-side-effects"),
    ("what are the side effects", "risks-and-side-effects"),
    ("can it damage your heart valves", "risks-and-side-effects"),
    ("is there a risk of psychosis", "risks-and-side-effects"),
    ("is it addictive", "risks-and-side-effects"),
    ("are shrooms addictive?", "risks-and-side-effects"),
    ("can you get addicted to lsd", "risks-and-side-effects"),
    ("what even is microdosing", "what-is-microdosing"),
    ("whats the fadiman protocol", "what-is-microdosing"),
    ("how much is a microdose", "what-is-microdosing"),
    ("does the stamets stack do anything", "what-is-microdosing"),
    ("how do i test what i have, reagent kit?", "harm-reduction"),
    ("harm reduction tips pls", "harm-reduction"),
    ("how much should I take", "harm-reduction"),
    ("what dose", "harm-reduction"),
    ("what dose should i start with", "harm-reduction"),
    ("how much lsd should i take for anxiety", "harm-reduction"),
    ("how many grams of truffles do you take", "harm-reduction"),
    ("i feel like i want to kill myself", "crisis-resources"),
    ("having a bad trip right now, scared", "crisis-resources"),
    ("suicidal and on shrooms", "crisis-resources"),
    ("where can i read the research", "reading-the-evidence"),
    ("are there any real studies or just anecdotes", "reading-the-evidence"),
    ("what does the science say", "reading-the-evidence"),
]


@pytest.mark.parametrize(("question", "slug"), ROUTED)
def test_questions_route_to_the_right_topic(content: Content, question: str, slug: str) -> None:
    assert content.route(question) == slug
    reply = content.answer(question)
    assert reply.kind is ReplyKind.ANSWER
    assert reply.topic == slug


def test_there_are_at_least_thirty_questions() -> None:
    assert len(ROUTED) >= 30
    assert len({slug for _, slug in ROUTED}) == 12


@pytest.mark.parametrize("question", ["", "help", "the weather is nice today", "asdf ghjk"])
def test_nothing_fits_gives_the_topic_list(content: Content, question: str) -> None:
    assert content.route(question) is None
    reply = content.answer(question)
    assert reply.kind is ReplyKind.TOPICS
    assert len(reply.topics) == 12


REFUSED = [
    "where can i buy shrooms",
    "Where can I buy shrooms?",
    "anyone have a plug",
    "any1 got a good plug in toronto",
    "who sells microdose capsules",
    "how do i get lsd",
    "where do you guys get your truffles",
    "looking to order some dried mushrooms online",
    "best place to buy psilocybin",
    "can someone hook me up",
    "where can i get some?",
    "anyone selling?",
    "is there a dark web shop for tabs",
    "where can i legally buy shrooms",
    "where can i get legal shrooms",
    "where can i buy shrooms in the netherlands",
    "where can i get illegal shrooms in the uk",
    "where can i legally get shrooms in my city",
    "anyone have a plug in the netherlands legally",
    "dónde comprar hongos",
    "donde puedo conseguir lsd",
    "alguien vende hongos?",
    "onde comprar cogumelos",
    "où acheter des truffes",
    "wo kann ich pilze kaufen",
    "waar kan ik truffels kopen",
    "dove comprare funghi",
    "WHERE TO BUY 5HR00MS".replace("5HR00MS", "shrooms"),
]


@pytest.mark.parametrize("question", REFUSED)
def test_sourcing_requests_are_refused(content: Content, question: str) -> None:
    reply = content.answer(question)
    assert reply.kind is ReplyKind.REFUSAL, question
    assert "no sourcing" in reply.summary.lower()
    assert [c.slug for c in reply.topics] == ["harm-reduction", "legal-status"]
    assert reply.sources == ()
    assert content.is_sourcing_request(question)


NOT_REFUSED = [
    "is it legal to buy a scale",
    "where can i read the research",
    "where can i find research on shrooms and anxiety",
    "how do i get help",
    "where can i find a therapist",
    "how do i get into a clinical trial",
    "is it legal to buy truffles in the netherlands",
    "where can i get truffles legally in the netherlands",
    "i reported a vendor who scammed people",
    "does the source of the claim matter",
    "i bought a test kit, how does it work",
    "anyone have experience with shrooms and anxiety",
    "in order to feel better should i microdose",
    "my depression score went down after shrooms",
    "how do you get it to stop making you anxious",
]


@pytest.mark.parametrize("question", NOT_REFUSED)
def test_hard_negatives_are_not_refused(content: Content, question: str) -> None:
    assert not content.is_sourcing_request(question)
    assert content.answer(question).kind is not ReplyKind.REFUSAL


# An amount of a substance: digits with a unit, or a fraction of a dose in words.
_AMOUNT_RE = re.compile(
    r"\d+(?:[.,]\d+)?\s*(?:mg|µg|ug|mcg|g|ml|micrograms?|milligrams?|grams?)\b|\b(?:tenth|twentieth|\d+/\d+)\b",
    re.IGNORECASE,
)


@pytest.mark.parametrize("question", ["how much should I take", "what dose", "how much lsd should i take"])
def test_dosing_questions_never_get_a_dose(content: Content, question: str) -> None:
    reply = content.answer(question)
    assert reply.topic == "harm-reduction"
    # The answer itself; citations describe study designs (years, sample sizes, trial doses), not advice.
    answer = "\n".join([reply.title, reply.summary, *(f"{s.heading}\n{s.body}" for s in reply.sections)])
    assert not _AMOUNT_RE.search(answer), _AMOUNT_RE.search(answer)


def test_exact_topic_names_win_over_everything(content: Content) -> None:
    assert content.answer("harm-reduction").topic == "harm-reduction"
    assert content.answer("Legal status (not legal advice)").topic == "legal-status"


def test_autocomplete_empty_prefix_lists_topics_in_order(content: Content) -> None:
    assert content.autocomplete("") == content.topics()
    assert len(content.autocomplete("", limit=3)) == 3


@pytest.mark.parametrize(
    ("prefix", "first"),
    [
        ("anx", "anxiety"),
        ("dep", "depression"),
        ("side eff", "risks-and-side-effects"),
        ("plac", "placebo-and-expectancy"),
        ("lith", "contraindications-and-interactions"),
        ("legl", "legal-status"),
        ("creativty", "creativity-and-focus"),
        ("pts", "ptsd"),
        ("is it legal in oregon", "legal-status"),
    ],
)
def test_autocomplete_is_fuzzy_on_titles_and_aliases(content: Content, prefix: str, first: str) -> None:
    choices = content.autocomplete(prefix)
    assert choices and choices[0].slug == first, choices
    assert len(choices) <= AUTOCOMPLETE_MAX


def test_autocomplete_caps_the_limit(content: Content) -> None:
    assert len(content.autocomplete("", limit=500)) == 12
    assert content.autocomplete("", limit=0) == ()
    assert content.autocomplete("zzzzzzzz") == ()


def test_crisis_comes_before_a_refusal(content: Content) -> None:
    reply = content.answer("i want to kill myself, where can i buy shrooms")
    assert reply.kind is ReplyKind.ANSWER
    assert reply.topic == "crisis-resources"


def test_huge_hostile_input_is_answered(content: Content) -> None:
    assert content.answer("x" * 40_000).kind is ReplyKind.TOPICS
    assert content.answer("anxiety " * 5_000).topic == "anxiety"
    assert content.autocomplete("y" * 40_000) == ()
