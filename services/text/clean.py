"""Text normalisation and sentence splitting; every later offset is into the text made here."""

from __future__ import annotations

import html
import re
import unicodedata
from html.parser import HTMLParser
from pathlib import Path

DATA = Path(__file__).parent / "data"

_BLOCK = frozenset(
    [
        "p",
        "div",
        "br",
        "li",
        "ul",
        "ol",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "tr",
        "table",
        "blockquote",
        "section",
        "article",
        "header",
        "footer",
        "figure",
        "figcaption",
        "pre",
        "hr",
        "dd",
        "dt",
    ]
)
_SKIP = frozenset(("script", "style", "noscript", "template", "head", "iframe", "svg"))
# What clean() replaces or drops: looked for with `in` (a C character search each), cheaper
# than a regex character class tried at every position.
_INVISIBLE_OR_CR = "\u00ad\u200b\u200c\u200d\u2060\ufeff\r"
_TAG = re.compile(r"</?[A-Za-z][^<>]*>")
_HTML_HINT = re.compile(r"<[A-Za-z/!]|&[#A-Za-z]")
# Zero-width and soft-hyphen characters break matching of names that look identical.
_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u2060\ufeff"), None)


class _Stripper(HTMLParser):
    """Keeps text, drops scripts/styles, turns block elements into line breaks."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self.skipping += 1
        elif tag in _BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag in _BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def ascii_fold(name: str) -> str:
    """'Khān Yūnis' -> 'Khan Yunis': how names with diacritics are usually written in English."""
    return "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c))


def strip_html(raw: str) -> str:
    if "<" not in raw and "&" not in raw:  # two C character searches rule most texts out
        return raw
    if not _HTML_HINT.search(raw):
        return raw
    if "<" not in raw:
        return html.unescape(raw)
    # html.parser is quadratic on constructs that never close: at the end of the input it gives
    # each "<" up as text and rescans the rest from the next one (`"<a " * n`: 60 KB cost 36 s,
    # issue 27). Every construct ends with ">", so after the last one none can close: that tail
    # is text, its "<" escaped so the parser reads it in one pass.
    cut = raw.rfind(">") + 1
    p = _Stripper()
    try:
        p.feed(raw[:cut])
        if cut < len(raw):
            p.feed(raw[cut:].replace("<", "&lt;"))
        p.close()
    except AssertionError:  # the stdlib parser asserts on some malformed markup ("<![0")
        return html.unescape(_TAG.sub("\n", raw))  # tags as line breaks, the rest kept as text
    return "".join(p.parts)


def clean(raw: str) -> str:
    """HTML stripped, entities decoded, NFC, runs of spaces collapsed, paragraphs one '\\n' apart."""
    text = strip_html(raw)
    if not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    if any(c in text for c in _INVISIBLE_OR_CR):
        text = text.replace("\r\n", "\n").replace("\r", "\n").translate(_INVISIBLE)
    # Each line's whitespace runs as one space, its ends stripped, blank lines dropped: what
    # the regexes [^\S\n ][^\S\n]*| [^\S\n]+ -> " ", then  *\n\s* -> "\n" and strip() did, in C
    # string methods instead of two scans trying a pattern at every space (3x faster).
    return "\n".join(filter(None, [" ".join(line.split()) for line in text.split("\n")]))
