"""Lookalike characters that NFKC leaves alone, folded to the Latin letter they imitate.

NFKC already folds fullwidth, mathematical and most compatibility letters; this table covers the
homoglyphs it does not: Cyrillic, Greek, Armenian, Latin small capitals and a few emoji letters.
Every value is one lowercase ASCII letter, so folding never changes a text's length.
"""

from __future__ import annotations

_PAIRS = (
    # Cyrillic (lowercase: views are casefolded before this table applies).
    "аa бb вb гr дd еe ёe ѐe єe зz иu йu іi їi јj кk лn мm нh оo пn рp сc тt уy ўy хx ьb ъb"
    " ѕs һh ԁd ԛq ԝw ґr ғf қk ңh үy ұy һh ӏl ѵv ѡw ӑa ӓa ӧo ӱy"
    # Greek.
    " αa άa βb γy δd εe έe ζz ηn ήn θo ιi ίi ϊi κk λl μu νv ξe οo όo πn ρp σo ςs τt υu ύu ϋu"
    " φf χx ψw ωw ώw ϲc ϳj ϐb ϱp ϵe"
    # Armenian.
    " աw բp գq դq եb զq հh ոn սu ցg օo"
    # Latin letters without a decomposition, and small capitals.
    " ıi ȷj łl đd øo ħh ŀl ƅb ɑa ɡg ɩi ɪi ʀr ɴn ʟl ʏy ʙb ɢg ʜh ʍm ɯw ɔc ǝe ɐa"
    " ᴀa ᴃb ᴄc ᴅd ᴇe ꜰf ᴊj ᴋk ᴍm ᴏo ᴘp ꜱs ᴛt ᴜu ᴠv ᴡw ᴢz ǫq"
)


def _build() -> dict[int, str]:
    table: dict[int, str] = {}
    for pair in _PAIRS.split():
        table[ord(pair[0])] = pair[1]
    # Emoji letters used to spell words: 🅰-🆉 (negative squared), 🅐-🅩 (negative circled),
    # 🇦-🇿 (regional indicators).
    for base in (0x1F170, 0x1F150, 0x1F1E6):
        for i in range(26):
            table[base + i] = chr(ord("a") + i)
    return table


CONFUSABLES: dict[int, str] = _build()
