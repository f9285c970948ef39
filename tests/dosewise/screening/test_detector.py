"""The detector on short messages (each fixed false positive/negative) and on the whole dev set."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dosewise.models import Category
from dosewise.screening import Detector, default_detector

DATA = Path(__file__).resolve().parents[2] / "data"
DEV_SET = DATA / "dev_set.jsonl"
# A second labelled set in other styles (long posts, slang, jargon, seven languages), kept as a regression.
TUNE_SET = DATA / "screening_tune.jsonl"
# A third, independently written set (long posts, spaced words, verb families, report frames), a regression.
HOLDOUT_SET = DATA / "screening_holdout1.jsonl"
# A fourth, independently written set (meet-ups, marketplace jargon, reversed text, quoted vendor DMs), a regression.
HOLDOUT2_SET = DATA / "screening_holdout2.jsonl"
# A fifth, independently written set (asks buried in long posts, regional slang, market jargon, 7 languages).
HOLDOUT3_SET = DATA / "screening_holdout3.jsonl"
# Own cases of the fourth pass, written per mechanism in the hidden set's styles (long posts, regional slang,
# seven languages, spam posing as harm reduction, hard negatives); every one must be judged right.
OWN4_SET = DATA / "screening_own4.jsonl"
# Own cases of the fifth pass, one small family per mechanism (positives and look-alike negatives in several
# languages), written fresh after a blind set named the missing mechanisms; every one must be judged right.
OWN5_SET = DATA / "screening_own5.jsonl"
# Own cases of the sixth pass: indirect phrasing (implied asks, code words, third-person referrals, hand-overs
# without a drug word, gifts of "extra"), each mechanism with look-alike negatives; every one must be judged right.
OWN6_SET = DATA / "screening_own6.jsonl"

# Messages that must be flagged: one per intent, evasion style and language, and every false
# negative fixed while tuning the pack.
SOURCING = [
    ("selling caps", Category.OFFER),
    ("wtb tabs", Category.REQUEST),
    ("plug anyone?", Category.REQUEST),
    ("ｔｇ ＠ｍｉｃｒｏ＿ｃａｐｓ＿ｅｘ", Category.REFERRAL),
    ("w1ckr: tr1ppy_v3nd0r_ex", Category.REFERRAL),
    ("wh3r3 c4n 1 g3t 50m3 p51l0cyb1n", Category.REQUEST),
    ("dmmmm meeee for the goodieeeees", None),
    ("send 60 to the paypal as friends and family, not goods and services lol", Category.LOGISTICS),
    ("passing through chicago on the 14th, can deliver to anyone who preordered", None),
    ("if youre in amsterdam ask for 'the mushroom guy' at the cafe by the canal, he has the real ones", None),
    ("looking for ket, my prescription ended and i can't afford the clinic anymore, anyone help?", None),
    ("can you vacuum seal them and send in a book this time? last one smelled", None),
    ("festival entrance at 4, i'll have a green backpack, bring exact change", None),
    ("could someone in the eu send me a small amount? i'll cover shipping + extra", Category.REQUEST),
    ("ship to my work address not home pls, my parents check the mail", Category.LOGISTICS),
    ("honestly just use the dnm, vendor 'TrippyTom_example' has the cleanest tabs i've had", None),
    ("i have what you need for the protocol. not posting details here, just reply and i'll reach out", None),
    ("signal number in my profile if you're looking", Category.REFERRAL),
    ("sеlling асid \u200btabs, рm for рriсе", Category.OFFER),
    ("s.h.r.o.o.m.s available, d m me", Category.OFFER),
    ("sh*roo*ms avail, dm", Category.OFFER),
    ("vendo setas para microdosis, envíos a toda españa, escríbeme", Category.OFFER),
    ("wer kann mir pilze besorgen? zahle gut", Category.REQUEST),
    ("iemand een adresje voor paddo's? dm aub", Category.REQUEST),
    ("sprzedam grzybki, wysyłka cała polska, pisz na priv", Category.OFFER),
    ("je vends des champis, livraison discrète, écris-moi", Category.OFFER),
    ("vendo cogumelos secos, entrego em sp, chama no privado", Category.OFFER),
    ("btc or xmr only, i'll send the wallet address in dm", Category.LOGISTICS),
    ("anyone plugged in around manchester? need tabs for the weekend", Category.REQUEST),
    ("menu dropping friday 🍄 tap in before restock sells out, escrow available, vouches in bio", None),
    ("accepting BTC/XMR/USDT only, cashapp for regulars. caps 30ct for 70", None),
    ("Stay safe fam! Always test your stuff. PS: clean caps, hmu on tele @safe_dose_supply", None),
    ("alguém sabe onde comprar cogumelos em BH? pago no pix", Category.REQUEST),
    ("qui a des champis à vendre sur lyon ? je paie en cash", None),
    ("wie heeft er paddo's voor me? kan contant betalen in utrecht", Category.REQUEST),
    ("szukam kogoś kto ogarnie kwas w warszawie", Category.REQUEST),
    ("where do u guys cop ur micro caps? mine ran dry", Category.REQUEST),
    ("i'm a grower, been at it 6 yrs, can supply the whole server at a fair price honestly", None),
    ("anyone willing to share some of their harvest? happy to pay or trade", Category.REQUEST),
    # Written for the generalisation pass (not from any eval set), one group per mechanism:
    # defanged links, quantity + strain, dead drops, emoji words, private paid sessions, regional and
    # foreign slang, a buried ask in a long post, spam posing as harm-reduction advice.
    ("menu + vouches: t . me/fungi_drop_x, serious buyers only", None),
    ("hit my telegram dot me slash goldiesNZ for the list", None),
    ("order via shroomshop(at)protonmail, btc only, ships tracked", None),
    ("hxxps://capsplug[.]shop has the full menu, remove the brackets", None),
    ("can do an eighth of GT or a zip of B+, meet at the tesco car park, cash", None),
    ("half oz of apes left, same spot as last time, bring exact change", None),
    ("got a qp of goldtops going cheap, pick up in Ponsonby", None),
    ("3g of PE for 40, collection only", None),
    ("🍄🍄 anyone? 💸 ready, can meet in town", None),
    ("🔌 needed for 🍫 in melbourne, will pay cash", None),
    ("who's got 🌵 or 🐸? need it for a ceremony, paying well", None),
    ("💊💊 restock this friday 📦 worldwide, dm", None),
    ("I host ceremonies at my house in Brighton, £250 per person, medicine included. message me to book", None),
    ("unlicensed but experienced guide, I can do a journey in your home for 400 cash incl. the truffles", None),
    ("hola, alguien que me pase unos honguitos en CDMX? pago por transferencia", None),
    ("vendo derrumbes secos, entrega en mano en Medellín, escribeme al privado", None),
    ("alguém tem cogu pra vender em Floripa? pago no pix na hora", None),
    ("faço chá de cogumelo, 50 reais o copo, chama no zap", None),
    ("Hat jemand Pilze oder Pappen in Hamburg? Zahle bar, schreib mir per PN", None),
    ("verkaufe Teile und Pappen, Versand diskret, Bezahlung in XMR", None),
    ("qqn a des champis ou des buvards sur Paris ? je paie en espèces", None),
    ("je vends de la taz et des buvards, livraison en main propre", None),
    ("Iemand paddo's over? Kan betalen via Tikkie, ophalen in Rotterdam", None),
    ("mam łysiczki na sprzedaż, 5g za 100 zł, odbiór osobisty albo paczkomat", None),
    ("ktoś ma kwas? płacę blikiem, Kraków", None),
    (
        "Long post sorry. I've been microdosing for about a year now, mostly for depression, and it's helped a lot"
        " with my mood and focus at work. My old connect moved away though, so if anyone in Leeds has libs or cubes"
        " going, drop me a message, happy to pay whatever. Anyway, hope everyone's week is going well.",
        None,
    ),
    ("anyone holding gummies in Sydney? need some for the weekend, can send via PayID", None),
    ("the drop is today at 5, usual corner, bring cash", None),
    ("my mate in Brisbane does caps and MD, message me and I'll put you in touch", None),
    (
        "PSA from your friendly HR team: always test your stuff! 🧪 clean B+ caps available,"
        " tap in via the link in my bio",
        None,
    ),
    ("taking orders for next week, GTs and PE, vouched seller, escrow ok", None),
    ("restock done ✅ menu updated, GT/PE/APE, escrow or XMR, vouches pinned", None),
    ("yo anyone in Wellington sorting goldies this arvo? keen as, can pay cash", None),
    ("who's got libs? need a bag for the weekend, can meet in Leeds city centre", None),
    ("tengo monguis frescos, te los llevo a domicilio, pago por nequi o efectivo", None),
    ("Oferuję papierki 150ug, wysyłka InPost, płatność BLIK, pisz priv", None),
    ("J'ai des champis mexicains dispo, remise en main propre sur Lyon, 10€ le gramme", None),
    ("Verkaufe Pilze (Cubensis), 10g 80€, Versand per DHL, Zahlung per Überweisung", None),
    ("Tenho cogumelos mágicos, envio por Sedex pra todo Brasil, pix", None),
    ("Heb nog truffels en lsd over, ophalen in Utrecht, betalen via Tikkie", None),
    (
        "Honestly the group sessions here are great, but for anyone who wants a one-on-one I run private"
        " ceremonies at home, $200 and the medicine is included. DM.",
        None,
    ),
    ("signal: fungi_guy . 42, menu there", None),
    ("contact me on tg: caps_nz (no @ cuz automod)", None),
    # Third pass, written before fixing, one group per mechanism (not from any labelled set).
    # 1. spaced letters with wider gaps between words, mixed with digits
    ("w t s  p e n i s  e n v y  c a p s ,  t g  i n  b i o", None),
    ("a n y o n e  s e l l i n g  m d m a  i n  l e e d s ?", None),
    ("h.a.v.e  m.o.l.l.y / d.m  m.e", None),
    ("v e n d o  s e t a s\nm a n d a m e  m d", None),
    # 2. verb families and inflections, several languages
    ("my cousin's mate sorts caps and tabs, I'll pass on his number if you want", None),
    ("she'll hook you up with molly, tell her the server sent you", None),
    ("gotta re-up on the goldies before the weekend, anyone?", None),
    ("ordered 2 sheets of tabs from overseas, do you reckon customs will open it?", None),
    ("posted the caps yesterday with aus post express, tracking is in your dm", None),
    ("wie heeft er keta voor me in gent? kan vanavond ophalen", None),
    ("kto ma grzybki w krakowie? odbiór osobisty", None),
    ("j'ai envoyé le virement, on se retrouve où pour les buvards ?", None),
    # 3. contact + substance without a verb
    ("ring 0161 496 0732 for caps, say you came from the server", None),
    ("mdma / ket — 07700 900123 — mention my name", None),
    ("discord(dot)gg/xyzCaps , verified buyers only, ask an admin", None),
    # 4. asks buried in long posts
    (
        "My therapist has been great and I've read every study on microdosing I could find. Sleep is better, "
        "mood is better, and the journalling really helps. Does anyone know where I could get some caps around "
        "Leeds? Happy to pay. Thanks for being such a kind group.",
        None,
    ),
    (
        "I started the Fadiman protocol after a long research rabbit hole and my clinic visits have gone down. "
        "If anyone can point me to someone local for mushrooms I'd be grateful, DM me if you can help. "
        "Also what journalling apps do you use?",
        None,
    ),
    (
        "Sharing what worked for me: lion's mane, niacin and a steady routine. Our psilocybin blend ships "
        "discreetly worldwide, 30 caps for $60, order through the link in bio.",
        None,
    ),
    # Fourth pass (holdout2 errors used only to name the missing mechanisms; cases written fresh).
    # 1. sourcing words in other registers and languages, "where would I get", lapsed legal access
    ("any of you lot got caps round Cork? my usual fella's moved to Dublin", None),
    ("Kennt jemand ne Quelle für Pappen in Wien?", None),
    ("t'as pas un plan champis sur Marseille ? mon ancien dealer a disparu", None),
    ("where would I get a bit of molly in Glasgow for Saturday?", None),
    ("need a ket connect, my esketamine isn't covered anymore and the waitlist is months. dm pls", None),
    # 2. meet-ups, hand-overs at a time and place, marketplace order talk, customs disguise, dispatch
    ("ok deal, half oz for 90. I'll be waiting outside the Shell station on Route 9 at 8", None),
    ("Bizum hecho, te las dejo mañana a las 7 en la puerta del metro? las setas digo", None),
    ("przelew poszedł, podrzucisz grzybki jutro o 18 pod Żabkę?", None),
    ("vendor hasn't updated tracking in 9 days, did he even ship? I finalized early like an idiot", None),
    ("escrow released, stealth was perfect, will reorder next month", None),
    ("declare it as tea samples on the CN22 and use a padded envelope with no return address", None),
    ("envoi sans expéditeur, emballage neutre, paiement en XMR", None),
    # 3. vendor posts that carry the new dampener words still flag
    ("don't dm me here, telegram @caps_x_demo, ships discreet, xmr only", None),
    ("is it legal? who cares lol. selling GT caps 10 for $40, hmu", None),
    ("got reported last time so wickr only now: fungi_depot_x. menu updated", None),
    # 4. reversed words, pig latin, spaced phone numbers, talk of spelling a handle backwards
    ("gnilles sbat, em egassem", None),
    ("anyone-way ot-gay olly-may? an-cay ay-pay", None),
    ("c a l l   0 7 7 0 0   9 0 0 4 5 6   f o r   t a b s", None),
    ("she writes her tg name backwards so the filter can't find it: xpsmoorhs", None),
    ("got proper crystal K in, 2 zone delivery tonight", None),
    # 5. an ask after a turn ("…, but …") is read without the refusal or warning before it
    ("I don't sell, but my cousin does, I can pass on his number", None),
    ("nunca compro a desconocidos, pero si necesitas setas escríbeme por privado", None),
    ("ich verkaufe nichts, aber mein kumpel hat noch pilze, schreib mir", None),
]

# Messages that must not be flagged: hard negatives, including every false positive fixed.
ORDINARY = [
    "got a dm from @microdose_helper_example saying they sell caps. reported to mods, don't engage",
    "can anyone recommend a vendor for lion's mane powder that ships to canada?",
    "long story short: paid a 'plug' from another server $150 in btc for caps, got ghosted. please don't do it",
    "anyone have a good source for a used copy of 'psilocybin mushrooms of the world'?",
    "beware of telegram 'plugs', a friend lost $300 to one",
    "my plug is the outlet behind my couch 🔌 charges my phone every night",
    "need a plug for motivation tbh, mine ran out in 2019",
    "dm me if you want the amazon link for the scale, it's the one everyone recommends",
    "dm me if you want the name of my oregon facilitator, she was great",
    "reminder: rule 3 - no sourcing. no asking, no offering, no dms about it. instant ban",
    "i would never sell my caps, i only grow for myself and it's legal here",
    "the only tabs i have are 47 chrome tabs",
    "hmu if you want to join our sunday hiking group, we meet at 9",
    "selling my old road bike, anyone in portland want it cheap?",
    "is 10ug of lsd too much for a first microdose?",
    "took 450ms to load lol, my 5g phone is slow",
    "Oregon service centers list prices on their sites, my session cost $1200 including the facilitator",
    "mods: someone is posting 'menu dropping friday' spam with a telegram link, can you ban them?",
    "selling my old microscope, great for looking at spore prints lol, $80",
    "please don't buy from people in dms here, I lost $200 to a fake vendor on telegram last year",
    "Welche Feinwaage nutzt ihr? Meine zeigt nur 0,1g an",
    "les champis m'ont beaucoup aidé pour l'anxiété, mais j'ai arrêté après 3 mois",
    "zelle is down again, can't pay my rent lol",
    "never buy from telegram plugs, they are all scammers, learned the hard way",
    "",
    # Hard negatives of the generalisation pass: legal products and gear, crypto talk, scam warnings
    # in six languages, clinic and therapy prices, culinary mushrooms, drops and meet-ups of other
    # kinds, dosing amounts, ordinary referrals.
    "selling my spare reagent kit (marquis + mecke), $20, local pickup",
    "anyone know a good place to buy a capsule filler? mine broke",
    "lol I get my shrooms from Tesco, portobello are the dealers of the mushroom world",
    "is anyone else buying BTC at these prices or am I crazy",
    "XMR or BTC for privacy? asking for a general crypto discussion",
    "got scammed by a telegram 'plug', lost 150 in BTC. not buying again, just warning you all",
    "Uwaga! Fałszywe konto oferuje grzybki i prosi o BLIK. Nie płaćcie, zgłoście do modów.",
    "Ojo: hay una cuenta falsa vendiendo hongos por Bizum. No paguen nada y repórtenla a los mods.",
    "Cuidado, perfil falso vendendo cogumelos no pix. Não paguem, denunciem aos moderadores.",
    "Achtung, ein Fake-Account verkauft angeblich Pilze per PayPal. Nicht bezahlen, bitte den Mods melden.",
    "Attention, un faux compte vend des champis contre du PayPal. Ne payez pas, signalez-le aux modos.",
    "Bought a lion's mane grow kit for my mum, first flush this week, going in a stir fry",
    "DanceSafe has fentanyl test strips back in stock, get them before festival season",
    "my ketamine infusions cost $450 each at the clinic, insurance won't cover it",
    "the clinic quoted us $12k for psilocybin-assisted therapy, is that normal?",
    "Oregon service center sessions are around $1000, my facilitator was lovely",
    "NL: truffels zijn legaal in de smartshop, gewoon even binnenlopen",
    "ordered a grow kit of pink oysters, they fruited in 8 days",
    "the new album drop is tomorrow, usual release time",
    "meet at the usual spot for the hike on sunday, bring snacks",
    "my guy in Auckland does great tattoos, DM me and I'll pass on his number",
    "I used to take 0.1g of PE, now I'm on 0.15 of GT, any thoughts on which felt better?",
    "ate too much chocolate 🍫 lol, feeling sick",
    "🍄 season is here! found some chanterelles on my walk",
    "anyone else's partner judge them for microdosing? mine thinks I'm an addict",
    "I never buy from strangers online, way too risky. grow your own if legal where you are",
    "paid $40 for a reagent kit from bunk police, worth every cent",
    "what's the going rate for a therapist in london? mine charges £90 a session",
    "my restock of veggie capsules arrived, 1000 size 0 from amazon",
    "I got banned from a server for asking about sources, fair enough tbh",
    "how do you all store your dried cubes? mason jar + desiccant?",
    "my dealer of choice is the library, free books lol",
    "Cuánto cuesta una sesión de psilocibina legal en Países Bajos? Busco info de retiros legales",
    "Ik ben naar een smartshop gegaan en heb truffels gekocht, legaal hier",
    "moja terapeutka mówi że mikrodawkowanie to nie jest dla każdego",
    "the drop in my mood after the third week was real",
    "Vorsicht vor Fake-Shops die Pappen verkaufen, nichts überweisen!",
    "ne payez jamais un vendeur sur telegram, c'est toujours une arnaque, signalez aux modos",
    "anyone else tracking sleep with an oura ring while microdosing?",
    "Just got my prescription for ketamine lozenges from my psychiatrist, $150/month",
    # Third pass hard negatives, one group per mechanism.
    "s e e  y o u  a l l  a t  t h e  m e e t u p",
    "d o n ' t  s e l l  y o u r  s o u l  l o l",
    "he sells insurance, ask him if you need a quote",
    "my sister does yoga and pilates, she'll sort you a class pass",
    "ordered a book on psilocybin research, royal mail lost it again",
    "I'll give you his number, he's a great plumber",
    "@mods someone just posted a menu with tabs and caps in #general, can you nuke it?",
    "reported the account to the mods, it was offering caps for btc. it's been deleted now",
    "DM I just got: 'selling molly, tg @x_ex'. I've reported it and sent the screenshot to modmail.",
    "Ich habe den Account gemeldet, er hat Pilze gegen Bitcoin angeboten. Nicht bezahlen!",
    "Zgłosiłem to do moderatorów, ktoś sprzedawał grzybki za blika. Nie płaćcie!",
    "That 'vendor' is a scam: they ask for $40 in btc for caps and vanish.",
    "I'm a harm reduction nurse, not a dealer; I won't tell anyone where to buy, ask me about dosing.",
    "my plug is the socket by the kettle, supplies power to the whole kitchen, best vendor ever",
    "need a uk plug adapter for my capsule machine, anyone?",
    "My therapist suggested a clinic. Ketamine infusions there cost $500 each, insurance covers some.",
    # Fourth pass hard negatives.
    "anyone have experience with psilocybin for depression?",
    "Hat jemand Erfahrungen mit Psilocybin bei Angst?",
    "my sister picked me up from the Aldi car park at 6, silver civic, such a tiny car lol",
    "customs form for my etsy shop: do I declare handmade soap as a gift or merchandise?",
    "did you ship the birthday present to grandma yet?",
    "I'll release escrow on the house once the inspection is done, then you'll have the money",
    "I'll be outside the clinic at 9 for my intake, first psilocybin session at the service center, so nervous",
    "I used to buy caps off a guy at uni, never again, the anxiety wasn't worth it",
    "I'll be at the station at 6:15, can you pick me up? train from Leeds",
    # reports quoting a vendor DM, French/Spanish negation, no-contact asks, papers, legal status, joke pivots
    'heads up: received this DM an hour after joining "caps + tabs, xmr only, t.me/fungal_express" — '
    "blocked and reported",
    'recibí este mensaje privado: "vendo setas, envío discreto, pago en btc" — ya lo reporté a los mods',
    "pls nuke @caps_depot_x, keeps dropping his menu in every channel",
    "they asked for $80 in BTC then wanted another 'shipping fee'. obviously nothing arrived",
    "Je ne fournis rien et je ne file aucun contact, pas la peine de m'écrire.",
    "No vendo nada ni paso contactos, no me escriban por privado",
    "please don't PM me about where to get truffles, I don't have any",
    "anyone have the full text of the Carhart-Harris psilocybin paper? my uni doesn't have access",
    "is it legal to grow cubensis in Germany? I heard possession is tolerated but selling is a crime",
    "are the magic mushroom stores in Vancouver actually legal? they advertise openly",
    "my dealer of dad jokes is my father, no refunds",
    "looking for a reliable source of vitamin d in winter, any tips?",
    "learning guitar, anyone got good tabs for wonderwall?",
    "fun fact: 'stressed' spelled backwards is 'desserts'",
    "call 555 0199 for the dentist appointment, they're great",
    "text 07700 900123 for details about the choir",
    "dm me for details about the sunday integration circle",
    # a turn does not rescue an ask made before it, nor drop a dampener after it
    "I was offered shrooms but I said no",
    "someone DMed me offering caps but I blocked and reported them",
    "I don't sell anything but I do make pottery, dm me for commissions",
]


@pytest.fixture(scope="module")
def detector() -> Detector:
    return default_detector()


@pytest.mark.parametrize(("text", "category"), SOURCING)
def test_sourcing_is_flagged(detector: Detector, text: str, category: Category | None) -> None:
    verdict = detector.screen(text)
    assert verdict.flagged, verdict
    assert verdict.score >= detector.flag_threshold
    assert verdict.category is not None
    if category is not None:
        assert verdict.category == category
    assert any(r.signal != "dampener" for r in verdict.reasons)


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_talk_is_not_flagged(detector: Detector, text: str) -> None:
    verdict = detector.screen(text)
    assert not verdict.flagged, verdict
    assert verdict.category is None
    assert 0.0 <= verdict.score < detector.flag_threshold


def test_reasons_point_at_the_original_text(detector: Detector) -> None:
    text = "sel\u200bling ta\u200bbs, tele\u200bgram @tab\u200bhouse_ex"
    verdict = detector.screen(text)
    rules = {r.rule for r in verdict.reasons}
    assert {"offer.selling", "contact.app"} <= rules
    for reason in verdict.reasons:
        assert text[reason.span[0] : reason.span[1]] == reason.match
    selling = next(r for r in verdict.reasons if r.rule == "offer.selling")
    assert selling.match == "sel\u200bling"


def test_long_post_with_the_ask_buried_in_the_middle(detector: Detector) -> None:
    filler = "i have been microdosing for a while and journaling every day about sleep and mood. " * 6
    text = filler + "anyway if anyone here sells golden teachers, dm me, will pay well. " + filler
    verdict = detector.screen(text)
    assert verdict.flagged
    assert all(len(filler) - 200 <= r.span[0] <= len(text) - len(filler) + 200 for r in verdict.reasons)


def test_scattered_words_in_a_long_post_do_not_add_up(detector: Detector) -> None:
    text = (
        "my first trip was on shrooms years ago. "
        + "since then i have read a lot about integration and therapy and sleep. " * 8
        + "my parents once opened a package of mine and it was only books."
    )
    assert not detector.screen(text).flagged


def test_allowlist_phrase_neutralises_its_matches() -> None:
    text = "selling tickets to the golden teachers concert, dm me"
    assert default_detector().screen(text).flagged
    relaxed = Detector.build(allowlist=["Golden Teachers concert"])
    assert not relaxed.screen(text).flagged


def test_threshold_is_configurable() -> None:
    text = "anyone know where to get penis envy?"
    score = default_detector().screen(text).score
    assert 0 < score < 1
    assert Detector.build(flag_threshold=score).screen(text).flagged
    assert not Detector.build(flag_threshold=min(1.0, score + 0.01)).screen(text).flagged


def test_hostile_40k_message_is_screened_whole(detector: Detector) -> None:
    text = ("s.h.r.o.o.m.s d m me @plug_x 🍄 $50 \u200b" * 1200)[:40_000]
    verdict = detector.screen(text)
    assert verdict.flagged
    assert 0 < len(verdict.reasons) <= 24
    for reason in verdict.reasons:
        assert text[reason.span[0] : reason.span[1]] == reason.match


def _load(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


@pytest.mark.parametrize(
    "path",
    [DEV_SET, TUNE_SET, HOLDOUT_SET, HOLDOUT2_SET, HOLDOUT3_SET],
    ids=["dev", "tune", "holdout1", "holdout2", "holdout3"],
)
def test_labelled_set_quality(detector: Detector, path: Path) -> None:
    """The thresholds of the issue, with the definitions of the shared score.py."""
    tp = fp = fn = ev_tp = ev_n = 0
    for item in _load(path):
        if item["label"] == "ambiguous":
            continue
        y, p = item["label"] == "sourcing", detector.screen(item["text"]).flagged
        tp += y and p
        fp += p and not y
        fn += y and not p
        if y and any(w in item["kind"] for w in ("evasive", "obfusc")):
            ev_n += 1
            ev_tp += p
    precision, recall = tp / (tp + fp), tp / (tp + fn)
    assert precision >= 0.97, (precision, fp)
    assert recall >= 0.93, (recall, fn)
    assert ev_tp / ev_n >= 0.90


def test_own_cases_of_the_fourth_pass(detector: Detector) -> None:
    wrong = [
        (item["id"], item["label"], item["text"])
        for item in _load(OWN4_SET)
        if detector.screen(item["text"]).flagged != (item["label"] == "sourcing")
    ]
    assert not wrong, wrong


def test_own_cases_of_the_fifth_pass(detector: Detector) -> None:
    wrong = [
        (item["id"], item["label"], item["text"])
        for item in _load(OWN5_SET)
        if detector.screen(item["text"]).flagged != (item["label"] == "sourcing")
    ]
    assert not wrong, wrong


def test_own_cases_of_the_sixth_pass(detector: Detector) -> None:
    wrong = [
        (item["id"], item["label"], item["text"])
        for item in _load(OWN6_SET)
        if detector.screen(item["text"]).flagged != (item["label"] == "sourcing")
    ]
    assert not wrong, wrong
