"""Pure parsing of articles from JSON objects and files; errors say what to fix."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from pydantic import ValidationError

from schemas import RawArticle, StageTimes
from schemas.base import utcnow

if TYPE_CHECKING:
    from services.common.settings import Settings

SUFFIXES = (".txt", ".md", ".json", ".jsonl")
_FIRST_SENTENCE = re.compile(r"^(.{10,300}?[.!?])(?:\s|$)", re.S)


class ArticleError(ValueError):
    """An input that is not an article; the message names the field or line to fix."""


def describe(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or 'article'}: {e['msg']}" for e in exc.errors()
    )


def from_mapping(obj: Any, source: str | None = None) -> RawArticle:
    if not isinstance(obj, dict):
        raise ArticleError(f"expected a JSON object with title and body, got {type(obj).__name__}")
    # Derived or stamped by ingest, never taken from the input (a spoofed `client` is dropped).
    data = {k: v for k, v in obj.items() if k not in ("id", "times", "schema_version", "client")}
    published = data.pop("published_at", None)
    if source and "source" not in data:
        data["source"] = source
    try:
        return RawArticle.model_validate({**data, "times": StageTimes(published=published)})
    except ValidationError as exc:
        raise ArticleError(describe(exc)) from exc


# C0 controls except tab/newline/carriage return, DEL, and C1 controls.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class Limits:
    """What an accepted article must satisfy beyond its schema (hostile or broken sources)."""

    max_past: timedelta = timedelta(days=36500)
    max_future: timedelta = timedelta(days=1)
    not_before: datetime = datetime(1980, 1, 1, tzinfo=UTC)  # Settings.ingest_not_before


def limits_of(settings: Settings) -> Limits:
    """The limits every input path applies (HTTP, replay, feeds), from the settings."""
    not_before = settings.ingest_not_before
    return Limits(
        max_past=timedelta(days=settings.max_past_days),
        max_future=timedelta(seconds=settings.max_future_s),
        not_before=not_before if not_before.tzinfo else not_before.replace(tzinfo=UTC),
    )


Check = Callable[[RawArticle], RawArticle]


def checker(settings: Settings) -> Check:
    """`check_article` with the settings' limits at the current time: the one gate of every path."""
    limits = limits_of(settings)
    return lambda article: check_article(article, utcnow(), limits)


def _absolute_http_url(url: str) -> bool:
    """`http(s)://host...`: the url is the article's identity (its id), so it must be one."""
    try:
        parts = urlsplit(url)
        _ = parts.port  # a malformed port raises
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname) and " " not in url


def check_article(article: RawArticle, now: datetime, limits: Limits = Limits()) -> RawArticle:
    """Rejects blank text, control characters, unencodable strings, a url that is not an
    absolute http(s) URL and implausible dates."""
    fields = {
        "title": article.title,
        "body": article.body,
        "url": article.url,
        "source": article.source,
        "language": article.language,
        "client": article.client,
    }
    for name, value in fields.items():
        if value is None:
            continue
        if name in ("title", "body") and not value.strip():
            raise ArticleError(f"{name}: must not be blank")
        if m := _CONTROL.search(value):
            raise ArticleError(
                f"{name}: control character U+{ord(m.group(0)):04X} at position {m.start()}"
            )
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise ArticleError(f"{name}: not valid Unicode ({exc.reason})") from None
    if article.url is not None and not _absolute_http_url(article.url):
        raise ArticleError(f"url: must be an absolute http(s) URL, got {article.url[:80]!r}")
    published = article.times.published
    if published is not None:
        aware = published if published.tzinfo else published.replace(tzinfo=UTC)
        if aware < limits.not_before:
            raise ArticleError(
                f"published_at: {published.isoformat()} is before "
                f"{limits.not_before.date().isoformat()} (NEWSWIRE_INGEST_NOT_BEFORE)"
            )
        if aware < now - limits.max_past:
            raise ArticleError(
                f"published_at: {published.isoformat()} is more than "
                f"{limits.max_past.days} days in the past"
            )
        if aware > now + limits.max_future:
            raise ArticleError(
                f"published_at: {published.isoformat()} is more than "
                f"{int(limits.max_future.total_seconds())} s in the future"
            )
    return article


def from_text(text: str, source: str | None = None) -> RawArticle:
    """Title: a Markdown heading or short first line, else the first sentence; body: the rest."""
    text = text.strip()
    if not text:
        raise ArticleError("empty file")
    first, _, rest = text.partition("\n")
    heading = first.lstrip("#").strip()
    if rest.strip() and (first.startswith("#") or len(first) <= 200):
        title, body = heading, rest.strip()
    else:
        m = _FIRST_SENTENCE.match(text)
        title = m.group(1) if m else text[:200]
        body = text
    return from_mapping({"title": title, "body": body}, source)


@dataclass(frozen=True)
class Item:
    """One article read from a file, or the reason it could not be read."""

    path: Path
    line: int | None
    article: RawArticle | None
    error: str | None = None


def _items_of_file(path: Path) -> Iterator[Item]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        yield Item(path, None, None, f"cannot read: {exc}")
        return
    yield from items_of_text(path, path.suffix, text)


def jsonl_items(path: Path, lines: Iterable[str]) -> Iterator[Item]:
    """One article per line, streamed; a bad line is reported with its number and skipped."""
    src = str(path)
    for n, line in enumerate(lines, 1):
        if line.strip():
            try:
                yield Item(path, n, from_mapping(json.loads(line), src))
            except (ValueError, ArticleError) as exc:  # JSON errors, a 4,301-digit integer
                yield Item(path, n, None, str(exc))
            except RecursionError:
                yield Item(path, n, None, "invalid JSON: nested too deeply")


def items_of_text(path: Path, suffix: str, text: str) -> Iterator[Item]:
    """Articles of one file's text; `suffix` decides the format (it differs from path's for .gz)."""
    src = str(path)
    try:
        if suffix == ".jsonl":
            yield from jsonl_items(path, text.splitlines())
        elif suffix == ".json":
            doc = json.loads(text)
            for n, obj in enumerate(doc if isinstance(doc, list) else [doc], 1):
                try:
                    yield Item(path, n, from_mapping(obj, src))
                except ArticleError as exc:
                    yield Item(path, n, None, str(exc))
        else:
            yield Item(path, None, from_text(text, src))
    except (ValueError, ArticleError) as exc:
        yield Item(path, None, None, str(exc))
    except RecursionError:
        yield Item(path, None, None, "invalid JSON: nested too deeply")


def read_paths(paths: list[Path]) -> Iterator[Item]:
    """Files and folders (recursive, sorted); unknown suffixes inside folders are skipped."""
    for p in paths:
        if p.is_dir():
            for f in sorted(p.rglob("*")):
                if f.is_file() and f.suffix in SUFFIXES:
                    yield from _items_of_file(f)
        elif p.is_file():
            yield from _items_of_file(p)
        else:
            yield Item(p, None, None, "no such file or folder")
