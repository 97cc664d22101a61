"""One key space for the spellings of a place name: Kryvyi Rih, Kryvyy Rih and Kryvyj Rih meet.

Both the gazetteer's names and the article's words are mapped here before the automaton, so a
transliteration variant costs no extra key: diacritics and apostrophes drop, ya/ia/ja and
yi/iy/y/j become i, kh becomes h, q becomes k, a doubled letter counts once, and the Arabic article
(al-, el-, ad-, ed-, ash- ...) is one word "al". A word's key depends on the word alone, so the
text is keyed word by word (cached: words repeat) and hits map back to the original words' spans.
"""

from __future__ import annotations

import re
from functools import lru_cache

from services.text.clean import ascii_fold

_APOSTROPHES = str.maketrans(dict.fromkeys("'’ʼ‘`´ʻ"))
_ARTICLE = re.compile(r"^(?:al|el|ad|ed|ar|er|as|es|ash|esh|at|et|az|ez|an|en|ul|il)-(?=\w)")
_DOUBLE = re.compile(r"(\w)\1+")
_ARTICLE_WORDS = frozenset(
    [
        "al",
        "el",
        "ad",
        "ed",
        "ar",
        "er",
        "as",
        "es",
        "ash",
        "esh",
        "at",
        "et",
        "az",
        "ez",
        "an",
        "en",
        "ul",
        "il",
    ]
)  # the Arabic article written as its own word ("El Fasher", "Ed Daein")


@lru_cache(maxsize=65536)
def word_key(word: str) -> str:
    """The key of one word of text or of a name ('Kryvyi' -> 'krivi', 'al-Bab' -> 'al bab')."""
    w = ascii_fold(word).translate(_APOSTROPHES).lower()
    w = _ARTICLE.sub("al ", w)
    w = (
        w.replace("-", " ")
        .replace("kh", "h")
        .replace("ou", "u")
        .replace("q", "k")
        .replace("j", "i")
        .replace("y", "i")
    )
    w = _DOUBLE.sub(r"\1", w)
    return " ".join("al" if p in _ARTICLE_WORDS else p for p in w.split())


MARK = "\x02"  # starts every word in key space: the text never holds it, so the gazetteer's one
# automaton walks no key when it scans the text itself (lower-case keys matched inside ordinary
# words cost 60 % more enrichment CPU), and a key hit always starts at a word


def marked(key: str) -> str:
    """A key as the automaton holds it and `keyed` writes it: each word after MARK."""
    return MARK + key.replace(" ", " " + MARK)


def name_key(name: str) -> str:
    """The key of a whole name: its words' keys, one space apart."""
    return " ".join(k for k in (word_key(w) for w in _WORD.findall(name)) if k)


# A word of text: letters, then letters, digits, hyphens and apostrophes inside it.
_WORD = re.compile(r"[^\W\d_](?:[\w'’ʼ-]*\w)?")
# The words of the text that can be part of a name: capitalised ones and the Arabic article and
# the small words inside names ("Deir ez-Zor", "Rostov on Don"); keying only these keeps the
# keyed text a tenth of the article (every word cost 40 % more enrichment CPU).
_NAME_WORD = re.compile(
    r"(?<![\w'’ʼ-])(?:[A-ZÀ-ÖØ-ÞĀ-ſ]|(?:al|el|ad|ed|ar|er|as|es|ash|esh|at|et|az|ez|an|en|ul|il|"
    r"on|de|la|le|na|i)(?![\w'’ʼ]))(?:[\w'’ʼ-]*\w)?"
)


def keyed(text: str) -> tuple[str, dict[int, int], dict[int, int]]:
    """The text's name words in key space, and maps from a key word's start/end offset to the
    original word's start/end offset. Words separated by anything but spaces (or by a word that
    is not a name word) are kept apart by ' | '."""
    parts: list[str] = []
    starts: dict[int, int] = {}
    ends: dict[int, int] = {}
    pos = 0
    last_end = -1
    for m in _NAME_WORD.finditer(text):
        k = word_key(m.group())
        if not k:
            continue
        k = marked(k)
        if last_end >= 0:
            gap = text[last_end : m.start()]
            sep = " " if gap.isspace() and len(gap) <= 3 else " | "
            parts.append(sep)
            pos += len(sep)
        starts[pos] = m.start()
        parts.append(k)
        pos += len(k)
        ends[pos] = m.end()
        last_end = m.end()
    return "".join(parts), starts, ends
