"""Pure enrichment: `enrich(raw) -> EnrichedArticle`. Data files under `data/`; no I/O per article.

Every offset in the output is into `EnrichedArticle.text` (cleaned title + "\\n\\n" + cleaned body).
English-only steps (numbers, casualties, dates, tone) run only when the text is detected as English.
"""

from __future__ import annotations

from collections import Counter

from schemas import EnrichedArticle, RawArticle, StageTimes
from schemas.base import utcnow
from schemas.enriched import TEXT_SEPARATOR
from services.enrichment import dates, gazetteer, numbers, signals
from services.text import similarity
from services.text.clean import clean
from services.text.lexicon import LANGUAGES as NATIVE_LANGUAGES
from services.text.phrases import bounded_spans
from services.text.sentences import split_spans

WORDS_PER_MINUTE = 238
ENGLISH_MIN_CONFIDENCE = 0.5


def warm_up() -> None:
    """Load every data file and model now, so the first article is not the slow one."""
    gazetteer.load()
    enrich(RawArticle(title="Warm-up", body="Officials in Kyiv said on Tuesday 3 people died."))


def _language(text: str, declared: str | None) -> tuple[str, float]:
    lang, conf = signals.detect_language(text)
    if declared and conf < ENGLISH_MIN_CONFIDENCE:
        return declared.split("-")[0].lower(), conf
    return lang, conf


def enrich(raw: RawArticle) -> EnrichedArticle:
    title = clean(raw.title)
    body = clean(raw.body)
    text = title + TEXT_SEPARATOR + body
    lang, conf = _language(text, raw.language)
    english = lang == "en"
    spans = bounded_spans(text, split_spans(text))  # the matchers read no longer sentence
    lows, tokens = signals.lows_and_tokens(text)  # the lower-cased words: as many as the words
    found = gazetteer.scan(text)  # one automaton pass: names, title and date words
    entities = gazetteer.find_entities(text, found=found)
    if lang in NATIVE_LANGUAGES:  # names in their own script: Київ, كييف, 基辅
        known = {s.start for e in entities for s in e.spans}
        entities += [
            e for e in gazetteer.native_places(text, lang) if e.spans[0].start not in known
        ]
    published = raw.times.published
    times = dates.time_mentions(text, published, found.dates) if english else []
    taken = [(t.start, t.end) for t in times]
    sentences = signals.sentences_with_polarity(text, spans, english)
    countries = Counter[str]()
    for e in entities:
        if e.type == "place" and e.country:
            countries[e.country] += e.mentions
    return EnrichedArticle(
        id=raw.id,
        title=title,
        body=body,
        url=raw.url,
        source=raw.source,
        language=lang,
        language_confidence=min(1.0, max(0.0, conf)),
        language_declared=raw.language,
        entities=entities,
        countries=[c for c, _ in countries.most_common()],
        word_count=len(lows),
        sentence_count=len(spans),
        reading_time_s=round(len(lows) * 60 / WORDS_PER_MINUTE),
        sentences=sentences,
        quantities=numbers.quantities(text, taken) if english else [],
        casualties=numbers.casualties(text) if english else [],
        time_mentions=times,
        tone=signals.tone(lows, sentences, english, lows),  # it reads only the words' number
        key_phrases=signals.key_phrases(text, tokens=tokens) if english else [],
        fingerprint=similarity.fingerprint_of_lows(lows),
        times=StageTimes(**{**raw.times.model_dump(), "enriched": utcnow()}),
    )
