"""Archive replay: files and folders of .txt/.md/.json/.jsonl/.csv/.xml (each optionally .gz), paced.

Reading is pure (paths + mapping -> items with a progress fraction); `replay_archive` is the shell
that paces (`rate`, or the original inter-arrival times scaled by `speedup`), de-duplicates within a
pass, publishes in batches and reports progress and a closing summary.
"""

from __future__ import annotations

import asyncio
import csv
import fnmatch
import gzip
import io
import re
import sys
import time
import xml.etree.ElementTree as ET
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Literal, TextIO, cast

import yaml
from pydantic import BaseModel, Field

from schemas import RawArticle
from services.common.retrying import Backoff
from services.common.settings import PROJECT_ROOT, Settings
from services.ingest.parse import (
    ArticleError,
    Check,
    Item,
    checker,
    from_mapping,
    items_of_text,
    jsonl_items,
)
from services.ingest.publisher import Publisher

TEXT_SUFFIXES = (".txt", ".md", ".json", ".jsonl")
TABLE_SUFFIXES = (".csv", ".tsv")
XML_SUFFIXES = (".xml", ".sgm")
RESEND = Backoff(base_s=0.5, cap_s=5.0)  # a batch Kafka did not acknowledge
KEEP_IDS = 100_000
MAX_LINE = 4 * 1024 * 1024  # characters of one JSONL or CSV line: far above any article's
DEFAULT_MAX_FILE_BYTES: int = Settings.model_fields[
    "replay_max_file_bytes"
].default  # a --loop replay counts forever but keeps only this many ids
SUFFIXES = TEXT_SUFFIXES + TABLE_SUFFIXES + XML_SUFFIXES
MAPPINGS_DIR = PROJECT_ROOT / "services" / "ingest" / "data" / "mappings"
_CONTROL_REFS = re.compile(r"&#(?:[0-8]|1[0-9]|2[0-9]|3[01]|11|12);")
_DOCTYPE = re.compile(r"<!DOCTYPE[^>]*>", re.I)


class Mapping(BaseModel):
    """How records of a table or an XML archive become article fields (a data file, not code)."""

    format: Literal["csv", "xml"] = "csv"
    fields: dict[str, str] = Field(
        default_factory=dict,
        description="article field -> CSV column (name, or 0-based index without a header) or XML path",
    )
    header: bool = True
    delimiter: str | None = None
    record: str = "REUTERS"
    date_format: str | None = None
    body_fallback: str | None = None
    source: str | None = None


def load_mapping(name_or_path: str) -> Mapping:
    """A built-in mapping by name (services/ingest/data/mappings/NAME.yaml) or a YAML file."""
    path = Path(name_or_path)
    if not path.exists():
        path = MAPPINGS_DIR / f"{name_or_path}.yaml"
    if not path.exists():
        known = ", ".join(sorted(p.stem for p in MAPPINGS_DIR.glob("*.yaml")))
        raise ValueError(f"no mapping {name_or_path!r}: give a YAML file or one of {known}")
    return Mapping.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))


def parse_columns(pairs: list[str]) -> dict[str, str]:
    """`title=headline` style pairs from the command line."""
    out = {}
    for pair in pairs:
        name, sep, column = pair.partition("=")
        if not sep or not name.strip() or not column.strip():
            raise ValueError(f"expected FIELD=COLUMN, got {pair!r}")
        out[name.strip()] = column.strip()
    return out


def _date(value: str, fmt: str | None) -> str:
    value = value.strip()
    if not fmt:
        return value
    when = datetime.strptime(value, fmt)
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).isoformat()


def record_to_article(values: dict[str, str | None], m: Mapping, src: str) -> RawArticle:
    """Mapped values -> a RawArticle; the error names the field that is wrong."""
    data: dict[str, Any] = {k: v.strip() for k, v in values.items() if v and v.strip()}
    if "body" not in data and m.body_fallback and data.get(m.body_fallback):
        data["body"] = data[m.body_fallback]
    if "published_at" in data:
        try:
            data["published_at"] = _date(data["published_at"], m.date_format)
        except ValueError as exc:
            raise ArticleError(f"published_at: {exc}") from exc
    return from_mapping(data, m.source or src)


def _csv_items(path: Path, stream: Iterable[str], m: Mapping, suffix: str) -> Iterator[Item]:
    """Rows streamed; a row the reader cannot take (an over-long field) is reported with its line
    and skipped, the rest of the file goes on."""
    delimiter = m.delimiter or ("\t" if suffix == ".tsv" else ",")
    rows = csv.reader(stream, delimiter=delimiter)
    try:
        header: list[str] | None = next(rows, None) if m.header else None
    except csv.Error as exc:
        yield Item(path, rows.line_num, None, f"unreadable header: {exc}")
        return
    fields = m.fields or {f: f for f in ("title", "body", "url", "published_at", "source")}
    index: dict[str, int] = {}
    for name, column in fields.items():
        if header is not None and column in header:
            index[name] = header.index(column)
        elif column.isdigit():
            index[name] = int(column)
        elif header is not None and name in ("url", "published_at", "source") and column == name:
            continue  # optional default columns
        else:
            yield Item(path, None, None, f"column {column!r} for {name} not in the header")
            return
    while True:
        try:
            row = next(rows)
        except StopIteration:
            return
        except csv.Error as exc:
            yield Item(path, rows.line_num, None, f"unreadable row: {exc}")
            continue
        if not row:
            continue
        values = {name: row[i] if i < len(row) else None for name, i in index.items()}
        try:
            yield Item(path, rows.line_num, record_to_article(values, m, str(path)))
        except ArticleError as exc:
            yield Item(path, rows.line_num, None, str(exc))


def _xml_root(text: str) -> ET.Element:
    try:
        return ET.fromstring(text)
    except ET.ParseError:  # original SGML: no root element, control-character references
        body = _DOCTYPE.sub("", _CONTROL_REFS.sub(" ", text))
        return ET.fromstring(f"<ARCHIVE>{body}</ARCHIVE>")


def _xml_items(path: Path, text: str, m: Mapping) -> Iterator[Item]:
    try:
        root = _xml_root(text)
    except ET.ParseError as exc:
        yield Item(path, None, None, f"not XML: {exc}")
        return
    records = [root] if root.tag == m.record else root.iter(m.record)
    for n, rec in enumerate(records, 1):
        values = {name: rec.findtext(xpath) for name, xpath in m.fields.items()}
        try:
            yield Item(path, n, record_to_article(values, m, str(path)))
        except ArticleError as exc:
            yield Item(path, n, None, str(exc))


def _inner_suffix(path: Path) -> str:
    return Path(path.stem).suffix.lower() if path.suffix.lower() == ".gz" else path.suffix.lower()


class FileTooLarge(ValueError):
    """A file (after decompression) over the replay's byte cap."""


class _Capped(io.RawIOBase):
    """A binary stream that refuses to give more than `cap` bytes: decompression stays bounded
    however well the input compresses."""

    def __init__(self, inner: IO[bytes], cap: int) -> None:
        self.inner, self.cap, self.count = inner, cap, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        data = self.inner.read(min(len(view), self.cap + 1 - self.count))
        self.count += len(data)
        if self.count > self.cap:
            raise FileTooLarge(f"more than {self.cap} bytes (NEWSWIRE_REPLAY_MAX_FILE_BYTES)")
        view[: len(data)] = data
        return len(data)


READ_ERRORS = (OSError, EOFError, gzip.BadGzipFile, UnicodeDecodeError, zlib.error, FileTooLarge)


def _bounded_lines(stream: TextIO, overlong: list[int]) -> Iterator[str]:
    """The stream's lines; one longer than MAX_LINE is read past in pieces (memory stays bounded),
    stands as an empty line, and its number goes to `overlong`."""
    n = 0
    while line := stream.readline(MAX_LINE + 1):
        n += 1
        if len(line) > MAX_LINE and not line.endswith(("\n", "\r")):
            while (rest := stream.readline(MAX_LINE)) and not rest.endswith(("\n", "\r")):
                pass
            overlong.append(n)
            line = "\n"
        yield line


def _positioned_items(
    path: Path, mapping: Mapping | None, max_bytes: int
) -> Iterator[tuple[Item, int]]:
    """Items of one file with the compressed bytes read so far. JSONL and CSV are streamed line
    by line (no line over MAX_LINE characters); other formats are read whole, but never more than
    `max_bytes` after decompression."""
    suffix = _inner_suffix(path)
    if suffix not in SUFFIXES:
        yield Item(path, None, None, f"unknown format {suffix!r}; known: {', '.join(SUFFIXES)}"), 0
        return
    try:
        raw = path.open("rb")
    except OSError as exc:
        yield Item(path, None, None, f"cannot read: {exc}"), 0
        return
    with raw:
        inner: IO[bytes] = raw
        if path.suffix.lower() == ".gz":
            inner = cast(IO[bytes], gzip.GzipFile(fileobj=raw))
        streamed = suffix == ".jsonl" or suffix in TABLE_SUFFIXES
        cap = sys.maxsize if streamed else max_bytes
        stream = io.TextIOWrapper(
            io.BufferedReader(_Capped(inner, cap)), encoding="utf-8", newline=""
        )
        overlong: list[int] = []
        items: Iterator[Item]
        if suffix == ".jsonl":
            items = jsonl_items(path, _bounded_lines(stream, overlong))
        elif suffix in TABLE_SUFFIXES:
            items = _csv_items(path, _bounded_lines(stream, overlong), mapping or Mapping(), suffix)
        else:
            items = _whole_file_items(path, stream, suffix, mapping)

        def too_long() -> Iterator[tuple[Item, int]]:
            while overlong:
                line = overlong.pop(0)
                yield Item(path, line, None, f"line longer than {MAX_LINE} characters"), raw.tell()

        try:
            for item in items:
                yield from too_long()
                yield item, raw.tell()
            yield from too_long()
        except READ_ERRORS as exc:
            yield Item(path, None, None, f"cannot read: {exc}"), raw.tell()


def _whole_file_items(
    path: Path, stream: TextIO, suffix: str, mapping: Mapping | None
) -> Iterator[Item]:
    text = stream.read()
    if suffix in TEXT_SUFFIXES:
        yield from items_of_text(path, suffix, text)
    else:
        yield from _xml_items(path, text, mapping or load_mapping("reuters21578"))


def items_of_archive_file(
    path: Path, mapping: Mapping | None = None, max_bytes: int = DEFAULT_MAX_FILE_BYTES
) -> Iterator[Item]:
    """One file (maybe gzip-compressed); XML defaults to the Reuters-21578 mapping."""
    for item, _ in _positioned_items(path, mapping, max_bytes):
        yield item


def archive_files(paths: list[Path], include: str | None = None) -> Iterator[Path]:
    """Files as given, folders recursively (sorted), keeping known suffixes (and `include`, a glob
    on the file name) inside folders."""
    for p in paths:
        if p.is_dir():
            for f in sorted(p.rglob("*")):
                if (
                    f.is_file()
                    and _inner_suffix(f) in SUFFIXES
                    and (include is None or fnmatch.fnmatch(f.name, include))
                ):
                    yield f
        else:
            yield p


def read_archive(
    paths: list[Path],
    mapping: Mapping | None = None,
    include: str | None = None,
    max_bytes: int = DEFAULT_MAX_FILE_BYTES,
) -> Iterator[tuple[Item, float]]:
    """Items with the fraction of the input (by bytes on disk) read so far, for a progress ETA."""
    files = list(archive_files(paths, include))
    sizes = {f: f.stat().st_size if f.is_file() else 0 for f in files}
    total = sum(sizes.values()) or 1
    done = 0
    for f in files:
        if not f.is_file():
            yield Item(f, None, None, "no such file or folder"), done / total
            continue
        for item, position in _positioned_items(f, mapping, max_bytes):
            yield item, (done + min(position, sizes[f])) / total
        done += sizes[f]


def gap_s(previous: datetime | None, current: datetime | None, speedup: float) -> float:
    """Wait before `current` to keep the original inter-arrival time scaled by `speedup`."""
    if previous is None or current is None:
        return 0.0
    return max(0.0, (current - previous).total_seconds() / speedup)


@dataclass
class Progress:
    count: int = 0
    published: int = 0
    duplicates: int = 0
    skipped: int = 0
    failed: int = 0
    elapsed_s: float = 0.0
    fraction: float | None = None

    @property
    def rate(self) -> float:
        return self.count / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def eta_s(self) -> float | None:
        if not self.fraction or self.fraction >= 1.0:
            return None if not self.fraction else 0.0
        return self.elapsed_s * (1 - self.fraction) / self.fraction


def format_progress(p: Progress, width: int = 24) -> str:
    eta = "--:--" if p.eta_s is None else time.strftime("%M:%S", time.gmtime(p.eta_s))
    if p.fraction is None:
        bar = ""
    else:
        filled = int(width * min(1.0, p.fraction))
        bar = f"[{'#' * filled}{'.' * (width - filled)}] {100 * p.fraction:5.1f}% "
    return f"{bar}{p.count} read, {p.published} published, {p.rate:.0f}/s, ETA {eta}"


@dataclass
class ArchiveReport:
    published: list[str] = field(default_factory=list)  # ids, the first KEEP_IDS of them
    published_count: int = 0
    duplicates: int = 0
    skipped: list[Item] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (article id, reason)
    passes: int = 0
    retries: int = 0  # batch sends Kafka did not acknowledge and that were sent again
    elapsed_s: float = 0.0

    def reasons(self) -> Counter[str]:
        """Skip and failure reasons with their counts (line-specific details folded)."""
        out: Counter[str] = Counter(f"skipped: {i.error}" for i in self.skipped)
        out.update(f"failed: {r}" for _, r in self.failed)
        return out

    def summary(self) -> str:
        rate = self.published_count / self.elapsed_s if self.elapsed_s > 0 else 0.0
        lines = [
            f"published {self.published_count}, duplicates {self.duplicates}, "
            f"skipped {len(self.skipped)}, failed {len(self.failed)}, retries {self.retries} "
            f"in {self.elapsed_s:.1f}s ({rate:.0f}/s)"
            + (f", {self.passes} passes" if self.passes > 1 else "")
        ]
        lines += [f"  {n} x {reason}" for reason, n in self.reasons().most_common(10)]
        return "\n".join(lines)


@dataclass
class ReplayOptions:
    rate: float | None = None  # articles per second
    speedup: float | None = None  # original inter-arrival times divided by this
    loop: bool = False
    batch: int = 500
    mapping: Mapping | None = None
    include: str | None = None  # glob on file names inside folders
    progress: Callable[[Progress], None] | None = None
    progress_every_s: float = 0.5
    retry_for_s: float = 120.0  # resend an unacknowledged batch with backoff for this long
    check: Check | None = None  # raises ArticleError to skip; unset: the settings' (`checker`)


async def publish_with_retry(
    publisher: Publisher, batch: list[RawArticle], report: ArchiveReport, retry_for_s: float
) -> None:
    """Sends again with backoff while Kafka does not acknowledge (a resend is safe: ids are
    deterministic and consumers dedupe); after `retry_for_s` the batch is counted as failed."""
    attempts = 0
    try:
        async for attempt in RESEND.async_retrying(
            (Exception,), deadline_s=retry_for_s, what="replay batch"
        ):
            with attempt:
                attempts += 1
                ids = await publisher.publish(batch)
    except Exception as exc:
        report.retries += attempts - 1
        reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        report.failed += [(a.id, reason) for a in batch]
        return
    report.retries += attempts - 1
    report.published_count += len(ids)
    report.published += ids[: max(0, KEEP_IDS - len(report.published))]


async def replay_archive(
    settings: Settings,
    paths: list[Path],
    opts: ReplayOptions | None = None,
    report: ArchiveReport | None = None,
) -> ArchiveReport:
    """Fills `report` (pass your own to keep the figures when the replay is cancelled)."""
    o = opts or ReplayOptions()
    check = o.check or checker(settings)  # the same gate as HTTP ingest and feeds
    report = report if report is not None else ArchiveReport()
    prog = Progress()
    publisher = Publisher(settings)
    await publisher.start()
    start = time.monotonic()
    last_shown = 0.0
    pending: list[RawArticle] = []

    async def flush() -> None:
        nonlocal pending
        if not pending:
            return
        batch, pending = pending, []
        await publish_with_retry(publisher, batch, report, o.retry_for_s)
        prog.published, prog.failed = report.published_count, len(report.failed)

    def show(force: bool = False) -> None:
        nonlocal last_shown
        prog.elapsed_s = time.monotonic() - start
        if o.progress and (force or prog.elapsed_s - last_shown >= o.progress_every_s):
            last_shown = prog.elapsed_s
            o.progress(prog)

    try:
        while True:
            report.passes += 1
            seen: set[str] = set()
            previous: datetime | None = None
            items = read_archive(paths, o.mapping, o.include, settings.replay_max_file_bytes)
            for item, fraction in items:
                prog.count += 1
                prog.fraction = None if o.loop else fraction
                if item.article is not None:
                    try:
                        item = replace(item, article=check(item.article))
                    except ArticleError as exc:
                        item = replace(item, article=None, error=str(exc))
                a = item.article
                if a is None:
                    report.skipped.append(item)
                    prog.skipped += 1
                elif a.id in seen:
                    report.duplicates += 1
                    prog.duplicates += 1
                else:
                    seen.add(a.id)
                    wait = 0.0
                    if o.speedup:
                        wait = gap_s(previous, a.times.published, o.speedup)
                        previous = a.times.published or previous
                    if o.rate:
                        sent = prog.published + prog.failed + len(pending)
                        wait = max(wait, start + sent / o.rate - time.monotonic())
                    if wait > 0.01:  # shorter waits are caught up by the schedule
                        await flush()
                        show()
                        await asyncio.sleep(wait)
                    pending.append(a)
                    if len(pending) >= o.batch:
                        await flush()
                show()
            await flush()
            if not o.loop:
                break
    finally:
        await publisher.stop()
        report.elapsed_s = time.monotonic() - start
        show(force=True)
    return report
