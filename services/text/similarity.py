"""Near-duplicate fingerprints and the one similarity: bottom-k MinHash of word shingles (made by
enrichment, read by the story index), and a SimHash for an article that arrives without one."""

from __future__ import annotations

import hashlib
import re
import sys
import zlib
from array import array
from collections.abc import Sequence
from itertools import pairwise
from typing import Any

_TOKEN = re.compile(r"\w+(?:[-'’]\w+)*")


_MASK = 0xFFFFFFFF
_LOW32 = b"\xff\xff\xff\xff\0\0\0\0"  # one 64-bit lane (little-endian) with its low 32 bits set
_BIG_ENDIAN = sys.byteorder == "big"
assert array("Q").itemsize == 8


def lower_words(words: list[str]) -> list[str]:
    """`[w.lower() for w in words]` with one `lower()` call: a word holds no space, no character
    lower-cases to a space, and the one context rule of `lower()` (a final sigma) stops at a
    space, so lower-casing the words joined by spaces gives the same words."""
    return " ".join(words).lower().split(" ") if words else []


def fingerprint(words: list[str], k: int = 64, lows: list[str] | None = None) -> list[int]:
    """Bottom-k MinHash of word 3-shingles: one cheap hash per shingle instead of k permutations.

    Words are hashed once with CRC-32 (stable across processes, unlike `hash()`); a shingle's hash
    is a multiply-xor-shift mix of its three word hashes a, b, c (lower-cased words):

        h = a * 0x9E3779B1 ^ b * 0x85EBCA77 ^ c * 0xC2B2AE3D;  ((h >> 31) ^ h) & 0xFFFFFFFF

    The shift and the mask distribute over xor, so that is the xor of each word's own mix
    (`((p >> 31) ^ p) & 0xFFFFFFFF` of p = a * 0x9E3779B1, ...). The words' mixes are computed
    all at once on one big integer with a 64-bit lane per word (a 32-bit hash times a 32-bit
    constant fills a lane and never carries into the next; the mask drops what the shift moves
    in from the next lane), and a shingle is the xor of lanes i, i+1 and i+2: the same numbers
    as per shingle in Python, several times faster. `lows`: `lower_words(words)`, if at hand.
    """
    return fingerprint_of_lows(lower_words(words) if lows is None else lows, k)


def fingerprint_of_lows(lows: list[str], k: int = 64) -> list[int]:
    """`fingerprint` of the words whose `lower_words` are `lows` (the words are not needed:
    `" ".join(lows)` is `" ".join(words).lower()`)."""
    if not lows:
        return []
    n = len(lows)
    if n < 3:
        return [zlib.crc32(" ".join(lows).encode())]
    lanes = array("Q", map(zlib.crc32, map(str.encode, lows)))
    if _BIG_ENDIAN:
        lanes.byteswap()
    h = int.from_bytes(lanes.tobytes(), "little")
    low32 = int.from_bytes(_LOW32 * n, "little")
    a, b, c = h * 0x9E3779B1, h * 0x85EBCA77, h * 0xC2B2AE3D
    mixed = (
        (((a >> 31) ^ a) & low32)
        ^ ((((b >> 31) ^ b) & low32) >> 64)
        ^ ((((c >> 31) ^ c) & low32) >> 128)
    )
    shingles = array("Q", mixed.to_bytes(8 * n, "little"))
    if _BIG_ENDIAN:
        shingles.byteswap()
    return sorted(set(shingles[: n - 2]))[:k]  # lanes n-2 and n-1 hold no whole shingle


def simhash(text: str, shingle: int = 2) -> int:
    """64-bit SimHash over word shingles: near-duplicate texts differ in a few bits only."""
    if text.isascii():  # casefold is lower() here and keeps every token's span: one pass
        words = _TOKEN.findall(text.lower())
    else:
        words = [w.casefold() for w in _TOKEN.findall(text)]
    if shingle == 2 and len(words) >= 2:
        grams = set(map(" ".join, pairwise(words)))
    else:
        grams = {" ".join(words[i : i + shingle]) for i in range(max(1, len(words) - shingle + 1))}
    blake2b = hashlib.blake2b
    digests = b"".join([blake2b(g.encode(), digest_size=8).digest() for g in grams])
    # bit b of the hash is set when most shingles have it set: a byte column's bit counted as
    # the ones of the column read as one integer, masked to that bit of every byte
    half = len(grams) / 2
    masks = [int.from_bytes(bytes([1 << bit]) * len(grams), "big") for bit in range(8)]
    out = 0
    for j in range(8):  # byte j of the big-endian digests
        column = int.from_bytes(digests[j::8], "big")
        for bit in range(8):
            if (column & masks[bit]).bit_count() > half:
                out |= 1 << (8 * (7 - j) + bit)
    return out


def hamming(a: int, b: int) -> int:
    return (a ^ b).bit_count()


def fingerprint_of(article: Any) -> str:
    """A SimHash of title and body (16 hex), or enrichment's fingerprint when it is such a string;
    empty when the article carries enrichment's MinHash.

    Enrichment's bottom-k MinHash (a list of ints, issue 3) is what the story index reads
    (`minhash_of`, `minhash_similarity`); the SimHash is only its fallback, for an article without
    one, so it is not computed when the MinHash is there (it was 15 % of tagging's CPU, issue 20).
    """
    given = getattr(article, "fingerprint", None)
    if isinstance(given, str) and given:
        return given
    if minhash_of(article) is not None:
        return ""
    return f"{simhash(article.title + chr(10) + article.body):016x}"


def minhash_of(article: Any) -> tuple[int, ...] | None:
    """Enrichment's bottom-k MinHash (ascending 32-bit hashes of word shingles), if it has one."""
    given = getattr(article, "fingerprint", None)
    if isinstance(given, list | tuple) and given and all(isinstance(h, int) for h in given):
        return tuple(given)
    return None


def minhash_similarity(a: Sequence[int], b: Sequence[int]) -> float:
    """Estimated Jaccard of two bottom-k sketches: |A ∩ B ∩ bottom-k(A ∪ B)| / k."""
    k = min(len(a), len(b))
    if k == 0:
        return 0.0
    union_k = set(sorted(set(a) | set(b))[:k])
    return len(set(a) & set(b) & union_k) / k
