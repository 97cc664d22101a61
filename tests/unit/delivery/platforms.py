"""Validators of each chat platform's documented incoming shape (required keys, types, limits).

Shared by the unit tests (payloads as built) and the local receivers of the integration tests
(payloads as received over HTTP). Each returns the list of problems; empty means valid.
"""

from __future__ import annotations

import html
from html.parser import HTMLParser
from typing import Any

SLACK_BLOCKS = {"header", "section", "context", "actions", "divider"}
TELEGRAM_TAGS = {
    "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre",
    "blockquote", "tg-spoiler", "span",
}  # fmt: skip


def _text_obj(o: Any, kind: str | None, limit: int, where: str) -> list[str]:
    if not isinstance(o, dict) or o.get("type") not in (
        {kind} if kind else {"plain_text", "mrkdwn"}
    ):
        return [f"{where}: text object of type {kind}"]
    t = o.get("text")
    if not isinstance(t, str) or not 1 <= len(t) <= limit:
        return [f"{where}: text of 1..{limit} characters"]
    return []


def slack(p: Any) -> list[str]:
    """Slack incoming webhook with Block Kit (api.slack.com/reference/block-kit)."""
    err: list[str] = []
    if not isinstance(p, dict):
        return ["payload is an object"]
    if not isinstance(p.get("text"), str) or not p["text"]:
        err.append("text: the notification fallback is required with blocks")
    blocks = p.get("blocks")
    if not isinstance(blocks, list) or not 1 <= len(blocks) <= 50:
        return [*err, "blocks: 1..50"]
    for i, b in enumerate(blocks):
        t = b.get("type")
        if t not in SLACK_BLOCKS:
            err.append(f"blocks[{i}]: unknown type {t}")
        elif t == "header":
            err += _text_obj(b.get("text"), "plain_text", 150, f"blocks[{i}].text")
        elif t == "section":
            err += _text_obj(b.get("text"), None, 3000, f"blocks[{i}].text")
        elif t == "context":
            els = b.get("elements")
            if not isinstance(els, list) or not 1 <= len(els) <= 10:
                err.append(f"blocks[{i}].elements: 1..10")
            else:
                for j, e in enumerate(els):
                    err += _text_obj(e, None, 3000, f"blocks[{i}].elements[{j}]")
        elif t == "actions":
            els = b.get("elements")
            if not isinstance(els, list) or not 1 <= len(els) <= 25:
                err.append(f"blocks[{i}].elements: 1..25")
                continue
            for j, e in enumerate(els):
                if e.get("type") != "button":
                    err.append(f"blocks[{i}].elements[{j}]: button")
                    continue
                err += _text_obj(e.get("text"), "plain_text", 75, f"blocks[{i}].elements[{j}].text")
                url = e.get("url")
                if not isinstance(url, str) or not url.startswith("http") or len(url) > 3000:
                    err.append(f"blocks[{i}].elements[{j}].url: http(s), <= 3000")
    return err


def slack_unescaped(p: dict[str, Any]) -> list[str]:
    """mrkdwn and fallback text: `<` and `>` only as link brackets, `&` only as an entity."""
    err = []
    texts = (
        [p["text"]]
        + [b["text"]["text"] for b in p["blocks"] if b["type"] == "section"]
        + [e["text"] for b in p["blocks"] if b["type"] == "context" for e in b["elements"]]
    )
    for t in texts:
        stripped = t
        while "<http" in stripped:  # a link <url|text>
            a = stripped.index("<http")
            b = stripped.index(">", a)
            stripped = stripped[:a] + stripped[a + 1 : b].partition("|")[2] + stripped[b + 1 :]
        if "<" in stripped or ">" in stripped.replace("\n> ", "\n").removeprefix("> "):
            err.append(f"unescaped < or > in {t!r}")
        for part in stripped.split("&")[1:]:
            if not part.startswith(("amp;", "lt;", "gt;")):
                err.append(f"bare & in {t!r}")
    return err


def teams(p: Any) -> list[str]:
    """Teams webhook: a message whose attachment is an Adaptive Card (adaptivecards.io, <= 28 KB)."""
    import json

    err: list[str] = []
    if not isinstance(p, dict) or p.get("type") != "message":
        return ["type: message"]
    if len(json.dumps(p).encode()) > 28 * 1024:
        err.append("payload over 28 KB")
    atts = p.get("attachments")
    if not isinstance(atts, list) or len(atts) != 1:
        return [*err, "attachments: one card"]
    a = atts[0]
    if a.get("contentType") != "application/vnd.microsoft.card.adaptive":
        err.append("contentType")
    card = a.get("content") or {}
    if card.get("type") != "AdaptiveCard" or card.get("version") not in {
        "1.2",
        "1.3",
        "1.4",
        "1.5",
    }:
        err.append("content: AdaptiveCard 1.2-1.5")
    body = card.get("body")
    if not isinstance(body, list) or not body:
        err.append("body: elements")
    for i, el in enumerate(body or []):
        if el.get("type") == "TextBlock":
            if not isinstance(el.get("text"), str) or not el["text"]:
                err.append(f"body[{i}].text")
        elif el.get("type") == "FactSet":
            for f in el.get("facts", []):
                if not (isinstance(f.get("title"), str) and isinstance(f.get("value"), str)):
                    err.append(f"body[{i}].facts: title and value strings")
        else:
            err.append(f"body[{i}]: unexpected {el.get('type')}")
    for i, ac in enumerate(card.get("actions", [])):
        if ac.get("type") != "Action.OpenUrl" or not str(ac.get("url", "")).startswith("http"):
            err.append(f"actions[{i}]: Action.OpenUrl with url")
        if not ac.get("title"):
            err.append(f"actions[{i}].title")
    return err


class _TgHTML(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in TELEGRAM_TAGS:
            self.errors.append(f"tag <{tag}> not allowed")
        if tag == "a" and [k for k, _ in attrs] != ["href"]:
            self.errors.append("<a> takes href only")
        if tag != "a" and attrs:
            self.errors.append(f"<{tag}> takes no attributes here")
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack.pop() != tag:
            self.errors.append(f"</{tag}> not nested")

    def handle_data(self, data: str) -> None:
        if "<" in data or ">" in data:
            self.errors.append(f"raw < or > in {data!r}")
        self.text.append(data)

    def handle_entityref(self, name: str) -> None:
        if name not in {"lt", "gt", "amp", "quot"}:
            self.errors.append(f"entity &{name}; not supported")
        self.text.append(html.unescape(f"&{name};"))

    def handle_charref(self, name: str) -> None:
        self.text.append(html.unescape(f"&#{name};"))


def telegram(p: Any) -> list[str]:
    """Bot API sendMessage (core.telegram.org/bots/api#sendmessage), HTML parse mode."""
    err: list[str] = []
    if not isinstance(p, dict):
        return ["payload is an object"]
    if not isinstance(p.get("chat_id"), int | str) or p.get("chat_id") in ("", None):
        err.append("chat_id: integer or @channel string")
    if p.get("parse_mode") != "HTML":
        err.append("parse_mode: HTML")
    text = p.get("text")
    if not isinstance(text, str):
        return [*err, "text: string"]
    parser = _TgHTML()
    parser.feed(text)
    parser.close()
    err += parser.errors
    if parser.stack:
        err.append(f"unclosed {parser.stack}")
    visible = "".join(parser.text)
    if not 1 <= len(visible) <= 4096:
        err.append(f"text: 1..4096 characters after entity parsing, got {len(visible)}")
    return err


def telegram_visible(text: str) -> str:
    parser = _TgHTML()
    parser.feed(text)
    return "".join(parser.text)


def discord(p: Any) -> list[str]:
    """Discord execute-webhook with embeds (discord.com/developers/docs/resources/webhook)."""
    err: list[str] = []
    if not isinstance(p, dict):
        return ["payload is an object"]
    if not (p.get("content") or p.get("embeds")):
        err.append("content or embeds required")
    if len(p.get("content") or "") > 2000:
        err.append("content <= 2000")
    embeds = p.get("embeds") or []
    if not isinstance(embeds, list) or len(embeds) > 10:
        return [*err, "embeds: <= 10"]
    total = 0
    for i, e in enumerate(embeds):
        for key, limit in (("title", 256), ("description", 4096)):
            v = e.get(key, "")
            if not isinstance(v, str) or len(v) > limit:
                err.append(f"embeds[{i}].{key} <= {limit}")
            total += len(v)
        if not isinstance(e.get("color", 0), int) or not 0 <= e.get("color", 0) <= 0xFFFFFF:
            err.append(f"embeds[{i}].color: 0..0xFFFFFF")
        fields = e.get("fields", [])
        if len(fields) > 25:
            err.append(f"embeds[{i}].fields <= 25")
        for j, f in enumerate(fields):
            n, v = f.get("name"), f.get("value")
            if not isinstance(n, str) or not 1 <= len(n) <= 256:
                err.append(f"embeds[{i}].fields[{j}].name 1..256")
            if not isinstance(v, str) or not 1 <= len(v) <= 1024:
                err.append(f"embeds[{i}].fields[{j}].value 1..1024")
            total += len(n or "") + len(v or "")
        footer = (e.get("footer") or {}).get("text", "")
        if len(footer) > 2048:
            err.append(f"embeds[{i}].footer.text <= 2048")
        total += len(footer)
        if "url" in e and not str(e["url"]).startswith("http"):
            err.append(f"embeds[{i}].url")
    if total > 6000:
        err.append(f"embeds: {total} > 6000 characters in all")
    if p.get("allowed_mentions") != {"parse": []}:
        err.append("allowed_mentions must be {parse: []} (article text must never ping)")
    return err
