"""Native lexicons: one YAML file per language, validated with `file:line` errors, compiled to regexes.

A lexicon mirrors the English taxonomy (same event ids, weapon classes and trap kinds); weights,
rules and severities stay in the taxonomy, so an alert means the same whatever the language.

The phrase language is the English one (`word*` any ending, `...` a gap inside one clause) over
text folded by `fold`, plus morphology:

- a plain word in a language with a Snowball stemmer (PyStemmer) is stemmed when the file loads
  and matched as a prefix ("ракетами" reaches the stem "ракет"); `=word` keeps a word exact (short
  function words, where a prefix would reach unrelated words);
- `prefixes:` lists clitics that attach to the front of a word (Arabic و ف ب ل ك ال, Hebrew
  ו ה ב ל מ ש כ): every word may carry up to `max_prefixes` of them;
- `contexts:` holds the native words of the taxonomy's `contexts:` lists (actors, explosive, naval,
  state_cyber): an event whose English `requires:` is one of them needs one of these words in its
  sentence or the one before or after it (`armed_context` for the others);
- `spaced: false` (Chinese): words are matched without word boundaries and `...` is a gap of up
  to `gap_chars` characters.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import ahocorasick
import Stemmer
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from services.text.phrases import gap_regex

DATA = Path(__file__).parent / "data"
LEXICONS = DATA / "lexicons"
TAXONOMY = Path(__file__).resolve().parent / "data" / "taxonomy.yaml"
LANGUAGES = ("ru", "uk", "ar", "fa", "he", "tr", "zh", "fr", "es", "de", "pt")
MIN_STEM = 3  # a shorter stem would reach unrelated words: the word is then matched exactly

# ---- folding ------------------------------------------------------------------------------
# Length-preserving character maps applied before lower(): Turkish İ/ı (whose lower() is two
# characters or an ASCII i under re.I), Russian ё, Arabic/Persian letter variants, non-ASCII
# digits. Marks that only decorate a word (Arabic harakat, tatweel, Hebrew niqqud, ZWNJ, bidi
# controls) are deleted, and an offset map keeps the original positions.
_MAP: dict[int, int | None] = {
    0x130: ord("i"),  # İ
    0x131: ord("i"),  # ı
    0x401: ord("е"),  # Ё
    0x451: ord("е"),  # ё
    0x623: ord("ا"),  # أ
    0x625: ord("ا"),  # إ
    0x622: ord("ا"),  # آ
    0x671: ord("ا"),  # ٱ
    0x649: ord("ي"),  # ى
    0x6CC: ord("ي"),  # Persian ی
    0x6A9: ord("ك"),  # Persian ک
    0x629: ord("ه"),  # ة
    0x6C0: ord("ه"),  # ۀ
    0x5BE: ord("-"),  # Hebrew maqaf
    0x2019: ord("'"),
    0x2BC: ord("'"),
}
for _i in range(10):
    _MAP[0x660 + _i] = ord("0") + _i  # Arabic-Indic digits
    _MAP[0x6F0 + _i] = ord("0") + _i  # Persian digits
    _MAP[0xFF10 + _i] = ord("0") + _i  # full-width digits
_DELETED = [*range(0x64B, 0x660), 0x670, 0x640, *range(0x591, 0x5BE), *range(0x5BF, 0x5C8)]
_DELETED += [0x200C, 0x200D, 0x200E, 0x200F, 0xAD, *range(0x202A, 0x202F), *range(0x2066, 0x206A)]
for _c in _DELETED:
    _MAP[_c] = None
_DELETE = re.compile("[" + "".join(chr(c) for c in _DELETED) + "]")


@dataclass(frozen=True)
class Folded:
    """Text folded for matching, and where each of its characters was in the original."""

    text: str
    original: str
    positions: tuple[int, ...] | None  # None: same length, offsets are the same

    def span(self, start: int, end: int) -> tuple[int, int]:
        """A span of the folded text as a span of the original."""
        if self.positions is None:
            return start, end
        if end <= start:
            at = self.positions[start] if start < len(self.positions) else len(self.original)
            return at, at
        return self.positions[start], self.positions[end - 1] + 1


def fold(text: str) -> Folded:
    """Lower-cased, variant letters unified, decoration deleted; offsets kept by `Folded.span`."""
    mapped = text.translate(_MAP)
    if len(mapped) == len(text):
        return Folded(mapped.lower(), text, None)
    keep = [i for i, ch in enumerate(text) if not _DELETE.match(ch)]
    return Folded(mapped.lower(), text, tuple(keep))


def fold_word(word: str) -> str:
    return fold(word).text


# ---- the file model -----------------------------------------------------------------------
Phrases = list[str]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class WindowTrap(_Model):
    """Cue words before the term (within `window` words), and optional ones right after it."""

    window: int = Field(6, ge=1, le=20)
    cues: Phrases = Field(min_length=1)
    after: Phrases = []
    after_window: int = Field(4, ge=1, le=12)


class HistoricalTrap(_Model):
    cues: Phrases = Field(min_length=1)
    years_back: int = 3


class MetaphorTrap(_Model):
    phrases: Phrases = []
    context: Phrases = Field(min_length=1)
    hard: Phrases = Field(min_length=1)


class PeacefulTrap(_Model):
    phrases: Phrases = Field(min_length=1)
    context: Phrases = []


class TrapsModel(_Model):
    negation: WindowTrap
    hypothetical: WindowTrap
    historical: HistoricalTrap
    metaphor: MetaphorTrap
    peaceful: PeacefulTrap


class EventModel(_Model):
    triggers: Phrases = Field(min_length=1)
    exclude: Phrases = []
    refine: dict[str, Phrases] = {}


class CasualtiesModel(_Model):
    terms: Phrases = Field(min_length=1)
    number_words: dict[str, int] = Field(min_length=1)


class LexiconModel(_Model):
    """One language's file; the format is the module docstring's and mirrors the taxonomy."""

    language: str
    stemmer: str | None = None
    prefixes: list[str] = []
    max_prefixes: int = Field(2, ge=0, le=4)
    spaced: bool = True
    gap_words: int = Field(4, ge=0, le=10)
    gap_chars: int = Field(12, ge=0, le=40)
    sentence_ends: str = ".!?"
    clause: Phrases = []
    armed_context: Phrases = Field(min_length=1)
    # the taxonomy's other requirement lists (`contexts:` there: actors, explosive, naval, ...)
    contexts: dict[str, Phrases] = {}
    events: dict[str, EventModel]
    weapons: dict[str, Phrases]
    casualties: CasualtiesModel
    traps: TrapsModel

    @field_validator("stemmer")
    @classmethod
    def _known_stemmer(cls, v: str | None) -> str | None:
        if v is not None and v not in Stemmer.algorithms():
            raise ValueError(f"unknown stemmer {v!r}; PyStemmer has {Stemmer.algorithms()}")
        return v


# ---- errors with lines --------------------------------------------------------------------
class LexiconError(ValueError):
    """Every problem of a file as `path:line: message`, so the author can jump to each."""

    def __init__(self, messages: Sequence[str]) -> None:
        super().__init__("\n".join(messages))
        self.messages = list(messages)


def _line_of(node: yaml.Node | None, loc: Sequence[str | int]) -> int:
    """The 1-based line of the deepest node on `loc` (a pydantic error location)."""
    line = node.start_mark.line + 1 if node is not None else 1
    for key in loc:
        if isinstance(node, yaml.MappingNode):
            found = next((kv for kv in node.value if kv[0].value == str(key)), None)
            if found is None:
                break
            # a bad key is reported on the key, a bad value on the value
            node = found[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
        else:
            break
        line = node.start_mark.line + 1
    return line


def _taxonomy_ids() -> tuple[frozenset[str], frozenset[str]]:
    doc = yaml.safe_load(TAXONOMY.read_text(encoding="utf-8"))
    return frozenset(doc["events"]), frozenset(doc["weapons"])


@lru_cache(maxsize=1)
def requirements() -> dict[str, str]:
    """By event id, the lexicon set an event's `requires` is in the taxonomy: "armed_context",
    or "contexts/<name>" for a list of the taxonomy's `contexts:` (the English file writes them
    as YAML aliases, so the list is recognised by its content)."""
    doc = yaml.safe_load(TAXONOMY.read_text(encoding="utf-8"))
    contexts: dict[str, Any] = doc.get("contexts") or {}
    out: dict[str, str] = {}
    for eid, ev in doc["events"].items():
        req = ev.get("requires")
        if not req:
            continue
        name = next((k for k, terms in contexts.items() if terms == req), None)
        out[eid] = f"contexts/{name}" if name is not None else "armed_context"
    return out


def _structure_errors(model: LexiconModel, path: Path, root: yaml.Node | None) -> list[str]:
    """What pydantic cannot see: the ids must be the taxonomy's, the language the file's name."""
    events, weapons = _taxonomy_ids()
    out: list[str] = []
    if model.language != path.name.split(".")[0]:
        out.append(
            f"{path}:{_line_of(root, ['language'])}: language {model.language!r} is not the file's"
        )
    for eid in sorted(events - model.events.keys()):
        out.append(f"{path}:{_line_of(root, ['events'])}: event type {eid!r} missing")
    for eid in sorted(model.events.keys() - events):
        out.append(f"{path}:{_line_of(root, ['events', eid])}: unknown event type {eid!r}")
    for eid, ev in model.events.items():
        for rid in sorted(ev.refine.keys() - events):
            line = _line_of(root, ["events", eid, "refine", rid])
            out.append(f"{path}:{line}: refine to unknown event type {rid!r}")
    for wid in sorted(model.weapons.keys() - weapons):
        out.append(f"{path}:{_line_of(root, ['weapons', wid])}: unknown weapon class {wid!r}")
    needed = {r.split("/", 1)[1]: e for e, r in requirements().items() if r.startswith("contexts/")}
    for name in sorted(needed.keys() - model.contexts.keys()):
        line = _line_of(root, ["contexts"])
        out.append(f"{path}:{line}: context {name!r} (required by {needed[name]!r}) missing")
    for name in sorted(model.contexts.keys() - needed.keys()):
        out.append(f"{path}:{_line_of(root, ['contexts', name])}: unknown context {name!r}")
    return out


def _phrase_lists(model: LexiconModel) -> Iterator[tuple[tuple[str | int, ...], list[str]]]:
    """Every phrase list of a file with its location (for errors and for compiling)."""
    yield ("clause",), model.clause
    yield ("armed_context",), model.armed_context
    for name, terms in model.contexts.items():
        yield ("contexts", name), terms
    for eid, ev in model.events.items():
        yield ("events", eid, "triggers"), ev.triggers
        yield ("events", eid, "exclude"), ev.exclude
        for rid, terms in ev.refine.items():
            yield ("events", eid, "refine", rid), terms
    for wid, terms in model.weapons.items():
        yield ("weapons", wid), terms
    yield ("casualties", "terms"), model.casualties.terms
    t = model.traps
    for name, trap in (("negation", t.negation), ("hypothetical", t.hypothetical)):
        yield ("traps", name, "cues"), trap.cues
        yield ("traps", name, "after"), trap.after
    yield ("traps", "historical", "cues"), t.historical.cues
    yield ("traps", "metaphor", "phrases"), t.metaphor.phrases
    yield ("traps", "metaphor", "context"), t.metaphor.context
    yield ("traps", "metaphor", "hard"), t.metaphor.hard
    yield ("traps", "peaceful", "phrases"), t.peaceful.phrases
    yield ("traps", "peaceful", "context"), t.peaceful.context


def parse(path: Path) -> LexiconModel:
    """The validated model of a lexicon file, or LexiconError with every `path:line: message`."""
    text = path.read_text(encoding="utf-8")
    try:
        root = yaml.compose(text)
        doc: Any = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        raise LexiconError([f"{path}:{line}: {getattr(exc, 'problem', exc)}"]) from exc
    if not isinstance(doc, dict):
        raise LexiconError([f"{path}:1: a lexicon is a mapping"])
    try:
        model = LexiconModel.model_validate(doc)
    except ValidationError as exc:
        raise LexiconError(
            [
                f"{path}:{_line_of(root, e['loc'])}: {'.'.join(map(str, e['loc']))}: {e['msg']}"
                for e in exc.errors()
            ]
        ) from exc
    errors = _structure_errors(model, path, root)
    compiler = Compiler.of(model)
    for loc, phrases in _phrase_lists(model):
        for i, p in enumerate(phrases):
            try:
                compiler.phrase_regex(p)
            except ValueError as exc:
                errors.append(f"{path}:{_line_of(root, [*loc, i])}: {exc}")
    if errors:
        raise LexiconError(errors)
    return model


# ---- compiling phrases --------------------------------------------------------------------
_WORDCH = r"[\w'-]"


@dataclass(frozen=True)
class Compiler:
    """Turns phrases of one language into regex source over folded text."""

    stemmer: Any
    affix: str  # an optional clitic group put before every word, or ""
    spaced: bool
    gap_words: int
    gap_chars: int
    ends: str

    @classmethod
    def of(cls, model: LexiconModel) -> Compiler:
        stemmer = Stemmer.Stemmer(model.stemmer) if model.stemmer else None
        affix = ""
        if model.prefixes and model.max_prefixes:
            alts = sorted({fold_word(p) for p in model.prefixes}, key=len, reverse=True)
            affix = "(?:" + "|".join(map(re.escape, alts)) + "){0," + str(model.max_prefixes) + "}"
        ends = re.escape(model.sentence_ends + "؟。！？;؛")
        return cls(stemmer, affix, model.spaced, model.gap_words, model.gap_chars, ends)

    def anchor(self, word: str) -> str:
        """The literal, folded start of a word as compiled: text without it cannot match."""
        w = word.removeprefix("=")
        if w.endswith("*"):
            return fold_word(w[:-1])
        return self._stem(fold_word(w))

    def _stem(self, w: str) -> str:
        """The prefix a plain word is matched by: its stem (cut to what it shares with the word,
        since a stemmer may change letters), or the whole word when that would be too short."""
        return self._stemmed(w)[0]

    def _stemmed(self, w: str) -> tuple[str, bool]:
        """(literal, matched as a prefix?) of a plain folded word."""
        if self.stemmer is None or not self.spaced:
            return w, False
        stem = self.stemmer.stemWord(w)
        n = 0
        while n < min(len(stem), len(w)) and stem[n] == w[n]:
            n += 1
        return (w[:n], True) if n >= MIN_STEM else (w, False)

    def word_regex(self, word: str) -> str:
        if not self.spaced:
            return re.escape(fold_word(word.removeprefix("=").rstrip("*")))
        if word.startswith("="):
            return self.affix + re.escape(fold_word(word[1:]))
        if word.endswith("*") and len(word) > 1:
            return self.affix + re.escape(fold_word(word[:-1])) + r"\w*"
        stem, prefix = self._stemmed(fold_word(word))
        return self.affix + re.escape(stem) + (r"\w*" if prefix else "")

    def phrase_regex(self, phrase: str) -> str:
        words = phrase.split()
        if not words or words[0] == "..." or words[-1] == "...":
            raise ValueError(f"bad phrase {phrase!r}: empty, or starts or ends with '...'")
        if any(w in ("*", "=") for w in words):
            raise ValueError(f"bad phrase {phrase!r}: a lone '*' or '='")
        if self.spaced:
            sep = r"[^\w" + self.ends + r",،\"«»“”()]+"
            gap = gap_regex(r"[^\w" + self.ends + "]++", r"\w++", "['-]", self.gap_words)
        else:
            sep = r"\s?"
            gap = r"[^" + self.ends + r"\n]{0," + str(self.gap_chars) + "}?"
        parts: list[str] = []
        pending_gap = False
        for w in words:
            if w == "...":
                pending_gap = True
                continue
            if parts:
                parts.append(gap if pending_gap else sep)
            parts.append(self.word_regex(w))
            pending_gap = False
        return "".join(parts)


@dataclass(frozen=True)
class PhraseSet:
    """A compiled phrase list and the literal starts of its phrases (for the anchor scan)."""

    regex: re.Pattern[str]
    anchors: frozenset[str]

    def search(self, text: str) -> re.Match[str] | None:
        """Search a short folded string (a window of words)."""
        return self.regex.search(text)


def compile_set(compiler: Compiler, phrases: Sequence[str]) -> PhraseSet | None:
    """One alternation, longest first so the widest match wins; None for an empty list."""
    ps = [p.strip() for p in phrases if p.strip()]
    if not ps:
        return None
    alts = sorted({compiler.phrase_regex(p) for p in ps}, key=len, reverse=True)
    body = "(?:" + "|".join(alts) + ")"
    source = body if not compiler.spaced else r"(?<![\w-])" + body + r"(?!\w)"
    return PhraseSet(re.compile(source), frozenset(compiler.anchor(p.split()[0]) for p in ps))


@dataclass
class Scanner:
    """Finds every compiled set's matches in a folded text from one Aho-Corasick pass over the
    anchors of all sets: a set's regex is tried only at word starts where one of its anchors
    occurs, instead of at every position of a long article for each of dozens of sets."""

    sets: dict[str, PhraseSet]
    spaced: bool
    automaton: Any = field(init=False)

    def __post_init__(self) -> None:
        owners: dict[str, set[str]] = {}
        for name, ps in self.sets.items():
            for a in ps.anchors:
                owners.setdefault(a, set()).add(name)
        auto = ahocorasick.Automaton()
        for a, names in owners.items():
            if a:
                auto.add_word(a, (len(a), frozenset(names)))
        auto.make_automaton()
        self.automaton = auto
        # sets with an empty anchor (a phrase starting with "*") are always scanned in full
        self.always = frozenset(n for n, ps in self.sets.items() if "" in ps.anchors)

    def candidates(self, text: str) -> dict[str, list[int]]:
        """By set name: sorted positions (word starts, or any for unspaced text) to try."""
        found: dict[str, set[int]] = {}
        spaced = self.spaced
        for end, (n, names) in self.automaton.iter(text):
            at = end - n + 1
            if spaced:
                while at > 0 and (text[at - 1].isalnum() or text[at - 1] == "_"):
                    at -= 1
            for name in names:
                found.setdefault(name, set()).add(at)
        return {k: sorted(v) for k, v in found.items()}

    def matches(self, name: str, text: str, cands: dict[str, list[int]]) -> list[tuple[int, int]]:
        """Non-overlapping (start, end) of set `name` in `text`, leftmost first."""
        ps = self.sets.get(name)
        if ps is None:
            return []
        if name in self.always:
            return [m.span() for m in ps.regex.finditer(text)]
        out: list[tuple[int, int]] = []
        floor = 0
        match = ps.regex.match
        for p in cands.get(name, ()):
            if p < floor:
                continue
            m = match(text, p)
            if m is not None and m.end() > m.start():
                out.append(m.span())
                floor = m.end()
        return out


@dataclass(frozen=True)
class Lexicon:
    """A language's compiled lexicon: window trap sets, and the sets found by the scanner."""

    language: str
    model: LexiconModel
    compiler: Compiler
    scanner: Scanner
    negation: PhraseSet
    negation_after: PhraseSet | None
    hypothetical: PhraseSet
    hypothetical_after: PhraseSet | None
    clause: re.Pattern[str]
    number_words: tuple[tuple[str, bool, int], ...]  # folded word, prefix?, value; longest first


def _clause_regex(compiler: Compiler, words: Sequence[str]) -> re.Pattern[str]:
    """Where a clause ends inside a sentence: ; : — and the language's contrastive conjunctions."""
    alts = [compiler.phrase_regex(w) for w in words]
    bounds = r"(?<!\w)(?:" + "|".join(alts) + r")(?!\w)" if alts and compiler.spaced else ""
    if alts and not compiler.spaced:
        bounds = "(?:" + "|".join(alts) + ")"
    return re.compile(r"[;:—؛；：]" + ("|" + bounds if bounds else ""))


@lru_cache(maxsize=32)
def load(language: str, directory: Path = LEXICONS) -> Lexicon:
    """The compiled lexicon of a language (cached: compiling is done once per process)."""
    model = parse(directory / f"{language}.yaml")
    return compile_lexicon(model)


def compile_lexicon(model: LexiconModel) -> Lexicon:
    c = Compiler.of(model)
    sets: dict[str, PhraseSet] = {}
    for loc, phrases in _phrase_lists(model):
        name = "/".join(map(str, loc))
        if loc[0] == "traps" and loc[1] in ("negation", "hypothetical"):
            continue
        if (ps := compile_set(c, phrases)) is not None:
            sets[name] = ps
    t = model.traps
    neg = compile_set(c, t.negation.cues)
    hyp = compile_set(c, t.hypothetical.cues)
    assert neg is not None and hyp is not None  # the model requires cues
    numbers = sorted(
        (
            (fold_word(k.rstrip("*")), k.endswith("*"), v)
            for k, v in model.casualties.number_words.items()
        ),
        key=lambda x: len(x[0]),
        reverse=True,
    )
    return Lexicon(
        language=model.language,
        model=model,
        compiler=c,
        scanner=Scanner(sets, model.spaced),
        negation=neg,
        negation_after=compile_set(c, t.negation.after),
        hypothetical=hyp,
        hypothetical_after=compile_set(c, t.hypothetical.after),
        clause=_clause_regex(c, model.clause),
        number_words=tuple(numbers),
    )
