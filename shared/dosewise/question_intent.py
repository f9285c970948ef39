"""What a free-text question is after, before any topic routing: a sourcing ask, or the law of a place.

A sourcing ask is refused whatever topic it mentions; "legal(ly) ... in <place>" asks what the law there
allows and goes to the legal-status topic. Works on `normalize`d text, so it also owns that folding.
"""

from __future__ import annotations

import re
import unicodedata


def normalize(text: str) -> str:
    """Fold text for matching: accents stripped, casefolded, apostrophes dropped, other punctuation spaced."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    # "what's" and "i'm" become one token each, like members usually type them without apostrophes.
    stripped = stripped.replace("'", "").replace("\u2019", "").replace("`", "")
    return " ".join(re.sub(r"[^0-9a-z]+", " ", stripped).split())


def word_set(text: str) -> frozenset[str]:
    """A word set written as whitespace-separated text, which is easier to read and extend."""
    return frozenset(text.split())


# Substance words in English and a few other languages, after `normalize` (accents stripped).
_SUBSTANCES = word_set(
    """
    shroom shrooms mushroom mushrooms psilocybin psilocybine psilocibina psilocybe cubensis truffle truffles
    lsd acid tabs tab blotter blotters microdoses caps capsules gummies chocolates spores
    hongos hongo setas cogumelos champignons truffes pilze truffel trueffel truffels paddos paddo funghi
    tartufi acido dmt mescaline ayahuasca peyote mdma molly ecstasy ketamine psychedelics psychedelic
    1plsd 1p ald52 psilocin
    """
)
# A bare "it"/"some" after a buying verb counts when nothing else follows (or only a place word).
_PRONOUNS = frozenset({"it", "them", "some", "any", "one", "these", "those", "algo", "eso", "esos"})
_PLACE_WORDS = frozenset(
    {"online", "near", "nearby", "here", "in", "from", "locally", "legally", "around", "now", "today", "cheap"}
)
_FILLERS = word_set(
    """
    a an the some any good real legit quality cheap me us my of dried fresh magic micro microdose microdosing
    de des du la las los el un una unos unas algunos ein eine einige het een del dei di il le les o os as um
    uma umas uns pure clean few little bit your ur yer their our his her legal illegal lawful
    """
)
_STRONG_VERBS = word_set(
    """
    buy buying purchase purchasing order ordering cop copping score scoring source sourcing sell sells
    selling ship shipping comprar compro compra compramos conseguir consigo consegue consiguen pedir
    encargar acheter achete commander kaufen kaufe bestellen bestelle kopen koop comprare ordinare
    vender vende venden vendem verkauft vend vendre vendent verkopen verkoopt
    """
)
_WEAK_VERBS = word_set(
    """
    get find obtain grab have has got pick tiene tienen tienes tem encontrar encuentro achar trouver
    trouve finden bekommen krijgen vinden trovare trovo hat
    """
)
_REQUESTERS = word_set(
    """
    where how who anyone anybody someone somebody any1 donde como quien alguien onde quem alguem ou wo
    wer jemand waar hoe iemand wie dove chi qualcuno want need looking
    """
)
_LEGAL_WORDS = frozenset({"legal", "legally", "illegal", "law", "laws", "decriminalized", "decriminalised"})
# "legally"/"legal" as a qualifier ("get truffles legally in ..."); "illegal" and "law" are left out on purpose:
# "where can i get illegal shrooms in the uk" is still a request.
_LEGAL_QUALIFIERS = frozenset({"legal", "legally", "lawful", "lawfully"})
# Places whose law a member may ask about, after `normalize`: generic words, countries and regions, US states,
# Canadian provinces and Australian states. Cities are left out: "legally in my city" asks for a shop.
_JURISDICTIONS = word_set(
    """
    country countries state states province provinces jurisdiction jurisdictions territory nation
    eu europe usa america uk britain england scotland wales ireland canada australia mexico jamaica
    netherlands holland nl germany france spain portugal italy belgium luxembourg switzerland austria
    denmark sweden norway finland iceland poland czechia slovakia hungary romania bulgaria greece croatia
    slovenia serbia estonia latvia lithuania ukraine russia turkey israel india china japan korea thailand
    vietnam indonesia malaysia singapore philippines nepal brazil argentina chile colombia peru ecuador
    bolivia uruguay paraguay venezuela guatemala honduras nicaragua panama bahamas nz nigeria kenya ghana
    morocco egypt
    alabama alaska arizona arkansas california colorado connecticut delaware florida georgia hawaii idaho
    illinois indiana iowa kansas kentucky louisiana maine maryland massachusetts michigan minnesota
    mississippi missouri montana nebraska nevada ohio oklahoma oregon pennsylvania tennessee texas utah
    vermont virginia washington wisconsin wyoming dc
    alberta ontario quebec manitoba saskatchewan newfoundland yukon nunavut queensland victoria tasmania
    """
) | {
    "new zealand",
    "united states",
    "united kingdom",
    "northern ireland",
    "south africa",
    "costa rica",
    "puerto rico",
    "czech republic",
    "dominican republic",
    "el salvador",
    "sri lanka",
    "hong kong",
    "south korea",
    "new york",
    "new mexico",
    "new jersey",
    "new hampshire",
    "north carolina",
    "south carolina",
    "north dakota",
    "south dakota",
    "west virginia",
    "rhode island",
    "british columbia",
    "nova scotia",
    "new brunswick",
    "new south wales",
    "northern territory",
    "south australia",
    "western australia",
}
_IN_JURISDICTION_RE = re.compile(
    r"\b(?:in|within|across|throughout|under)\s+(?:the\s+|my\s+|our\s+|your\s+|this\s+)?(?:"
    + "|".join(re.escape(name) for name in sorted(_JURISDICTIONS, key=len, reverse=True))
    + r")\b"
)
_SLANG_RE = re.compile(
    r"\b(?:have|has|got|know|need|any|a|trusted|reliable|legit|good|recommend|recommended|looking for|find|"
    r"dm|hmu)\s+(?:a\s+|an\s+|good\s+|legit\s+|reliable\s+|trusted\s+)?"
    r"(?:plug|connect|dealer|vendor|supplier|hookup|camello)s?\b"
    r"|\bhook (?:me|us) up\b|\bfor sale\b|\bdark ?web\b|\bdarknet\b|\bonion (?:link|site)s?\b"
)
# People warning about or reporting sellers are not asking for one.
_REPORTING_RE = re.compile(r"\b(report\w*|scam\w*|warn\w*|beware|avoid\w*|banned)\b")


def legal_about_place(tokens: list[str], norm: str) -> bool:
    """True when "legal"/"legally" comes with a place: "... truffles legally in the netherlands"."""
    return any(t in _LEGAL_QUALIFIERS for t in tokens) and _IN_JURISDICTION_RE.search(norm) is not None


def is_sourcing(tokens: list[str], norm: str) -> bool:
    """True when the (normalised) text asks where or how to get a substance."""
    if _SLANG_RE.search(norm) and not _REPORTING_RE.search(norm):
        return True
    has_requester = any(t in _REQUESTERS for t in tokens)
    # "is it legal to buy X" is a legal question, not a request; "where can i legally buy X" still is.
    if not has_requester and any(t in _LEGAL_WORDS for t in tokens):
        return False
    # "where can i get truffles legally in the netherlands" asks what the law there allows: the legal-status
    # topic answers that without helping anyone source anything.
    if legal_about_place(tokens, norm):
        return False
    for i, tok in enumerate(tokens):
        strong = tok in _STRONG_VERBS
        if not strong and not (tok in _WEAK_VERBS and has_requester):
            continue
        # "anyone selling?", "where can i buy": the object is implied by the channel's topic.
        if strong and has_requester and i == len(tokens) - 1:
            return True
        if _object_is_substance(tokens, i + 1):
            return True
        # Verb-final languages put the object first: "wo kann ich pilze kaufen".
        if strong and any(t in _SUBSTANCES for t in tokens[max(0, i - 3) : i]):
            return True
    return False


def _object_is_substance(tokens: list[str], start: int) -> bool:
    """Scan the words after a buying verb: a substance (or a bare "it"/"some") makes it a request."""
    for j in range(start, min(start + 5, len(tokens))):
        tok = tokens[j]
        if tok in _SUBSTANCES:
            return True
        if tok in _PRONOUNS:
            rest = tokens[j + 1 : j + 2]
            if not rest or rest[0] in _PLACE_WORDS or rest[0] in _SUBSTANCES:
                return True
            if tok in ("some", "any"):
                continue  # "some dried shrooms": keep looking for the noun
            return False
        if tok in _FILLERS or tok in ("up",):
            continue
        return False  # any other noun ("a scale", "help", "research") ends the object
    return False
