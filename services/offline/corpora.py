"""Readers of the public corpora in ../shared/corpora, as labelled sentences for the classifier.

Each reader yields `Example`s with a split ("train" or "dev") and a label: 1 a violent or
military event, 0 not, `UNLABELLED` for text that is only described (alert rate) and never
trained on, because its labels do not say violent-or-not at the sentence level. The choices per
source are written down in services/text/data/models/MODEL_CARD.md; the test splits of the
ConfliBERT sets are not here and are never read.
"""

from __future__ import annotations

import csv
import json
import re
import xml.etree.ElementTree as ET
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

UNLABELLED = -1
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=\S)")
_SPACE = re.compile(r"\s+")
MIN_WORDS = 3


@dataclass(frozen=True, slots=True)
class Example:
    """One text with its label, where it came from and which document it belongs to.

    `group` keeps a document's sentences in one cross-validation fold, so no fold is scored on
    sentences of a document it was trained on.
    """

    text: str
    label: int
    source: str
    group: str
    split: str


def sentences(text: str) -> list[str]:
    """Plain sentence split on end punctuation; short fragments ("lucknow:") are dropped."""
    flat = _SPACE.sub(" ", text).strip()
    return [s for s in _SENTENCE_END.split(flat) if len(s.split()) >= MIN_WORDS]


def _bucket(key: str, n: int) -> int:
    """A stable bucket of a key (crc32): the same dev split on every machine and run."""
    return zlib.crc32(key.encode()) % n


def _tsv(path: Path) -> Iterator[list[str]]:
    with path.open(encoding="utf-8", newline="") as f:
        for line in f:
            row = line.rstrip("\r\n").split("\t")
            if row and row[0].strip():
                yield row


CAMEO_SOURCES = {2: "cameo-coop-neutral", 3: "cameo-verbal-conflict", 4: "cameo-material-conflict"}


def cameo(root: Path) -> Iterator[Example]:
    """CAMEO quad class: 4 material conflict is positive, 0–2 negative, 3 (verbal conflict) only
    described; its only split here is train, so a fifth of it (by hash) is the dev split."""
    for i, row in enumerate(_tsv(root / "conflibert-cameo-quadclass" / "train.tsv")):
        text, quad = row[0], int(row[1])
        label = 1 if quad == 4 else 0 if quad <= 2 else UNLABELLED
        source = CAMEO_SOURCES[max(quad, 2)]
        split = "dev" if _bucket(text, 5) == 0 else "train"
        yield Example(text, label, source, f"cameo:{i}", split)


def satp(root: Path) -> Iterator[Example]:
    """SATP: every row is an attack report (each has an attack-type label): a positive as a whole,
    since its text has little punctuation to split on."""
    for split in ("train", "dev"):
        for i, row in enumerate(_tsv(root / "conflibert-satp-attacks" / f"{split}.tsv")):
            yield Example(row[0], 1, "satp", f"satp:{split}:{i}", split)


def india_police(root: Path) -> Iterator[Example]:
    """IndiaPoliceEvents: police KILL (column 1) or FORCE (column 5) sentences are positive; the
    rest are only described, since a sentence without police action may still tell of a riot."""
    for split in ("train", "dev"):
        path = root / "conflibert-indiapoliceevents-sents" / f"{split}.tsv"
        for i, row in enumerate(_tsv(path)):
            if len(row[0].split()) < MIN_WORDS:
                continue
            violent = row[1] == "1" or row[5] == "1"
            label = 1 if violent else UNLABELLED
            source = "ipe-kill-force" if violent else "ipe-other"
            yield Example(row[0], label, source, f"ipe:{split}:{i // 20}", split)


def _fillers(roles: dict[str, list[list[str]]]) -> list[str]:
    return [name for slot in roles.values() for names in slot for name in names if name]


def muc4(root: Path) -> Iterator[Example]:
    """MUC-4: in an incident report (a role filled), a sentence naming a perpetrator, target or
    instrument is positive; other sentences, and non-incident reports, are only described (MUC
    counts army-guerrilla combat as non-incident, so those are no negatives)."""
    for split in ("train", "dev"):
        docs = json.loads((root / "conflibert-muc4" / f"{split}.json").read_text(encoding="utf-8"))
        for doc_id, doc in docs.items():
            fillers = [f.lower() for f in _fillers(doc["roles"])]
            for s in sentences(doc["doc"]):
                low = s.lower()
                hit = bool(fillers) and any(f in low for f in fillers)
                source = "muc4-incident" if hit else "muc4-other"
                yield Example(s, 1 if hit else UNLABELLED, source, f"muc4:{doc_id}", split)


def insight_crime(root: Path) -> Iterator[Example]:
    """InSight Crime: article-level crime categories, not violence per sentence: only described."""
    for split in ("train", "dev"):
        for i, row in enumerate(_tsv(root / "conflibert-insightcrime" / f"{split}.tsv")):
            for s in sentences(row[0]):
                yield Example(s, UNLABELLED, "insightcrime", f"ic:{split}:{i}", split)


def bbc(root: Path) -> Iterator[Example]:
    """BBC News (business, entertainment, politics, sport, tech): every sentence negative."""
    for split in ("train", "dev"):
        for i, row in enumerate(_tsv(root / "conflibert-bbc-news" / f"{split}.tsv")):
            for s in sentences(row[0]):
                yield Example(s, 0, "bbc", f"bbc:{split}:{i}", split)


AG_CLASSES = {"1": "ag-world", "2": "ag-sports", "3": "ag-business", "4": "ag-scitech"}


def ag_news(root: Path) -> Iterator[Example]:
    """AG News (its test split is all there is here): Sports, Business and Sci/Tech negative,
    World only described; half of the items (by hash) are the dev split."""
    path = root / "ag-news-test" / "test.csv"
    with path.open(encoding="utf-8", newline="") as f:
        for i, (cls, title, desc) in enumerate(csv.reader(f)):
            source = AG_CLASSES[cls]
            label = UNLABELLED if cls == "1" else 0
            split = "dev" if _bucket(title, 2) == 0 else "train"
            text = f"{title}. {desc.replace(chr(92) + 'n', ' ')}"
            for s in sentences(text):
                yield Example(s, label, source, f"ag:{i}", split)


def reuters(root: Path) -> Iterator[Example]:
    """Reuters-21578 (1987 business wire): negatives; reut2-008 and -009 are the dev split."""
    for path in sorted((root / "reuters21578-xml").glob("reut2-*.xml")):
        split = "dev" if path.stem >= "reut2-008" else "train"
        tree = ET.parse(path)
        for doc in tree.getroot().iter("REUTERS"):
            title = doc.findtext("TEXT/TITLE") or ""
            body = doc.findtext("TEXT/BODY") or ""
            group = f"reuters:{doc.get('NEWID')}"
            for s in sentences(f"{title.capitalize()}. {body}" if title else body):
                yield Example(s, 0, "reuters", group, split)


READERS = (cameo, satp, india_police, muc4, insight_crime, bbc, ag_news, reuters)


def load_all(root: Path) -> list[Example]:
    """Every reader's examples; a missing corpus folder is an error, not a silent gap."""
    missing = [
        p for p in ("conflibert-cameo-quadclass", "reuters21578-xml") if not (root / p).is_dir()
    ]
    if missing:
        raise FileNotFoundError(f"corpora not found under {root}: {', '.join(missing)}")
    return [e for read in READERS for e in read(root)]
