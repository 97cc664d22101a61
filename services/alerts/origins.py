"""Independent origins: how many independent sources stand behind a story.

Pure. A wire story reprinted by twelve outlets is one source, not twelve. Two articles are of
one origin when they carry the same wire byline ("(Reuters)", "(AP)", "— AFP": the agency is the
source, whoever prints it), come from the same publisher (the host of their canonical URL: an
outlet's follow-ups are its own), or their texts are near-identical (a reprint under another
name). Each article gets an `Origin` mark: its key (a 32-bit hash of the agency, else of the host,
else of the article id) and a short text sketch (the bottom 16 hashes of its MinHash; the SimHash
when it has none). A story keeps the marks of its first `MAX_ORIGINS` origins, so its record
stays bounded; past that, an article counts as a new origin unless it matches one of those kept.
A mark holds the latest text of its agency or publisher (what a reprint copies).
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass
from urllib.parse import urlsplit

from schemas.ids import canonical_url
from services.text.similarity import hamming, minhash_similarity

MAX_ORIGINS = 12  # origin marks kept per story record (about 140 bytes each)
MARK_HASHES = 16  # MinHash hashes of an origin's text kept in its mark
MIN_SHARED = (
    0.6  # estimated Jaccard of near-identical texts (copies 0.7-0.85, edits of one wire 0.5)
)
MAX_BITS = 3  # SimHash bits (of 64) between two near-identical texts without a MinHash

# wire agencies by the names their bylines use; the value is the one origin they stand for
WIRES = {
    "reuters": "reuters",
    "ap": "ap",
    "associated press": "ap",
    "afp": "afp",
    "agence france-presse": "afp",
    "dpa": "dpa",
    "xinhua": "xinhua",
    "tass": "tass",
    "ria novosti": "ria",
    "interfax": "interfax",
    "interfax-ukraine": "interfax",
    "ukrinform": "ukrinform",
    "unian": "unian",
    "anadolu": "anadolu",
    "efe": "efe",
    "ansa": "ansa",
    "kyodo": "kyodo",
    "yonhap": "yonhap",
    "pti": "pti",
}
_NAMES = "|".join(sorted((re.escape(w) for w in WIRES), key=len, reverse=True))
# "KYIV (Reuters) -", "(AP) —": a parenthesised agency; "— AFP" / "AFP -": a dashed one at the
# start or the end of the body. Case matters for the short names (AP, AFP), not for the rest.
_PAREN = re.compile(rf"\((?P<w>(?i:{_NAMES}))\)")
_LEAD = re.compile(rf"^\W{{0,3}}(?P<w>(?i:{_NAMES}))\s*[—–-]\s")
_TAIL = re.compile(rf"[—–-]\s*(?P<w>(?i:{_NAMES}))\s*\W{{0,2}}$")
_HEAD = 400  # characters of the body's start a byline is looked for in


def wire_of(body: str) -> str | None:
    """The wire agency the body's byline names, if any."""
    head, tail = body[:_HEAD], body[-80:]
    for pattern, text in ((_PAREN, head), (_LEAD, head), (_TAIL, tail)):
        m = pattern.search(text)
        if m is not None:
            return WIRES.get(m.group("w").lower())
    return None


def publisher_of(url: str | None) -> str | None:
    """The host of the article's canonical URL, without "www.": one outlet, one origin."""
    if not url:
        return None
    host = urlsplit(canonical_url(url)).hostname or ""
    return host.removeprefix("www.") or None


def _hash(text: str) -> int:
    return zlib.crc32(text.encode("utf-8"))


@dataclass(frozen=True)
class Origin:
    """One article's origin mark: its key and a short sketch of its text."""

    key: int  # 32-bit hash of "wire:<agency>", "site:<host>" or "article:<id>"
    text: tuple[int, ...]  # MARK_HASHES bottom MinHash hashes, or (SimHash,); () none

    def same(self, other: Origin) -> bool:
        """The same agency or publisher, or near-identical texts."""
        if self.key == other.key:
            return True
        a, b = self.text, other.text
        if len(a) == len(b) == 1:
            return hamming(a[0], b[0]) <= MAX_BITS
        if len(a) > 1 and len(b) > 1:
            return minhash_similarity(a, b) >= MIN_SHARED
        return False

    def encode(self) -> str:
        """Hex: 8 for the key, then 8 a MinHash hash or 16 the SimHash."""
        if len(self.text) == 1:
            return f"{self.key:08x}{self.text[0]:016x}"
        return f"{self.key:08x}" + "".join(f"{h:08x}" for h in self.text)

    @classmethod
    def decode(cls, s: str) -> Origin:
        key, rest = int(s[:8], 16), s[8:]
        if len(rest) == 16:
            return cls(key, (int(rest, 16),))
        return cls(key, tuple(int(rest[i : i + 8], 16) for i in range(0, len(rest), 8)))


def origin_of(
    article_id: str,
    url: str | None,
    body: str,
    minhash: tuple[int, ...] | None,
    simhash: int | None,
) -> Origin:
    wire = wire_of(body)
    site = publisher_of(url)
    key = f"wire:{wire}" if wire else f"site:{site}" if site else f"article:{article_id}"
    text = minhash[:MARK_HASHES] if minhash else (simhash,) if simhash is not None else ()
    return Origin(_hash(key), text)


def count_in(marks: list[Origin], count: int, mark: Origin) -> tuple[list[Origin], int]:
    """The story's marks and origin count once an article of origin `mark` joins it. A known
    agency's or publisher's mark takes the article's text: reprints copy the latest version."""
    for i, m in enumerate(marks):
        if m.key == mark.key:
            return [*marks[:i], mark, *marks[i + 1 :]], count
        if m.same(mark):
            return marks, count
    return (marks if len(marks) >= MAX_ORIGINS else [*marks, mark]), count + 1
