"""E-mail alerts: critical ones at once, the rest in a digest every `digest_s` of the subscription.

Each e-mail is multipart/alternative (plain text, then HTML with inline styles only: mail clients
strip style sheets and scripts), with Message-ID, Date, List-Id and List-Unsubscribe headers.
Sent with the standard library's smtplib in a worker thread: e-mails are few (digests), so this
costs nothing and adds no dependency. STARTTLS verifies the server certificate (`smtp_ca_file`
for a private CA); AUTH only over TLS unless STARTTLS is switched off. The password is a
SecretStr and never appears in a log line or a dead letter.

The target lists the recipients and the digest period; the dispatcher holds the alerts of a digest
in Redis (`RedisKeys.held`), so a restart loses none.
"""

from __future__ import annotations

import asyncio
import html
import logging
import re
import smtplib
import ssl
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any
from urllib.parse import quote

from pydantic import Field, field_validator

from schemas import SEVERITY_RANK, Alert
from services.delivery.channel import Address, BaseChannel, Context, Failure, Message, Spec, dump
from services.delivery.config import SmtpConfig
from services.delivery.render import AlertView, clip, stamp, view

log = logging.getLogger(__name__)

HTML_COLOUR = {"critical": "#b00020", "high": "#e65100", "medium": "#f9a825", "low": "#9e9e9e"}


# ---- rendering -------------------------------------------------------------------------------


def _order(views: Sequence[AlertView]) -> list[AlertView]:
    return sorted(views, key=lambda v: (-SEVERITY_RANK.get(v.severity, 0), -v.when.timestamp()))


def subject(views: Sequence[AlertView], sub: str) -> str:
    if len(views) == 1:
        v = views[0]
        where = f" — {v.where}" if v.where else ""
        return clip(f"[{v.label}] {v.what}{where}: {v.headline}", 180)
    counts: dict[str, int] = {}
    for v in views:
        counts[v.severity] = counts.get(v.severity, 0) + 1
    parts = [
        f"{n} {sev}"
        for sev, n in sorted(counts.items(), key=lambda kv: -SEVERITY_RANK.get(kv[0], 0))
    ]
    return f"newswire digest ({sub}): {len(views)} alerts — {', '.join(parts)}"


def render_text(views: Sequence[AlertView], sub: str, unsubscribe: str) -> str:
    out = []
    for v in _order(views):
        out.append(f"{v.emoji} {v.label} · {v.what}")
        out.append(f"  {v.headline}")
        out.append(f"  Where: {v.where or '—'}   When: {stamp(v.when)}")
        out.extend(f"  “{clip(s, 500)}”" for s in v.evidence)
        if v.article_url:
            out.append(f"  Article:   {v.article_url}")
        out.append(f"  Dashboard: {v.dashboard_url}")
        out.append(f"  Rule: {', '.join(v.rules)} · score {v.score:.1f}")
        out.append("")
    out.append("--")
    out.append(f"Subscription {sub} of newswire. To stop: {unsubscribe}")
    return "\n".join(out) + "\n"


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def render_html(views: Sequence[AlertView], sub: str, unsubscribe: str) -> str:
    cards = []
    for v in _order(views):
        colour = HTML_COLOUR.get(v.severity, "#9e9e9e")
        title = _e(v.headline)
        if v.article_url:
            title = f'<a href="{_e(v.article_url)}" style="color:#0b3d91;text-decoration:none">{title}</a>'
        evidence = "".join(
            f'<blockquote style="margin:8px 0;padding:6px 10px;border-left:3px solid #ccc;'
            f'color:#444;font-style:italic">{_e(clip(s, 500))}</blockquote>'
            for s in v.evidence
        )
        links = [f'<a href="{_e(v.dashboard_url)}">Dashboard</a>']
        if v.article_url:
            links.insert(0, f'<a href="{_e(v.article_url)}">Article</a>')
        cards.append(
            f'<tr><td style="padding:12px 14px;border-left:6px solid {colour};background:#fff;'
            f'border-bottom:1px solid #eee">'
            f'<div><span style="background:{colour};color:#fff;font-weight:bold;font-size:12px;'
            f'padding:2px 6px;border-radius:3px">{_e(v.label)}</span> '
            f'<span style="font-weight:bold;color:#333">{_e(v.what)}</span></div>'
            f'<div style="font-size:17px;font-weight:bold;margin:6px 0">{title}</div>'
            f'<div style="color:#555;font-size:13px">📍 {_e(v.where or "—")} · '
            f"🕒 {_e(stamp(v.when))}</div>"
            f"{evidence}"
            f'<div style="font-size:13px">{" · ".join(links)} · '
            f'<span style="color:#777">rule {_e(", ".join(v.rules))} · score {v.score:.1f}</span>'
            f"</div></td></tr>"
        )
    head = _e(subject(views, sub))
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{head}</title></head>"
        '<body style="margin:0;padding:0;background:#f4f4f4;font-family:Arial,Helvetica,sans-serif">'
        '<table role="presentation" width="100%" cellspacing="0" cellpadding="0" '
        'style="max-width:640px;margin:0 auto;border-collapse:collapse">'
        f'<tr><td style="padding:14px;font-size:15px;color:#222"><b>newswire</b> · {head}</td></tr>'
        + "".join(cards)
        + f'<tr><td style="padding:14px;font-size:12px;color:#777">Subscription {_e(sub)}. '
        f"To stop these e-mails: {_e(unsubscribe)}</td></tr>"
        "</table></body></html>"
    )


def unsubscribe_mailto(sender: str, sub: str) -> str:
    return f"mailto:{sender}?subject={quote('unsubscribe ' + sub)}"


def build_message(
    alerts: Sequence[Alert],
    *,
    sub: str,
    to: Sequence[str],
    sender: str,
    dashboard: str,
) -> EmailMessage:
    views = [view(a, dashboard) for a in alerts]
    domain = sender.rpartition("@")[2] or "localhost"
    mailto = unsubscribe_mailto(sender, sub)
    how = f"`newswire subscriptions remove {sub}`, or reply with subject 'unsubscribe {sub}'"
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = ", ".join(to)
    msg["Subject"] = subject(views, sub)
    msg["Date"] = formatdate(usegmt=True)
    msg["Message-ID"] = make_msgid(idstring=f"{sub}.{len(views)}", domain=domain)
    msg["List-Id"] = f"newswire {sub} <{sub}.newswire.{domain}>"
    msg["List-Unsubscribe"] = f"<{mailto}>"
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-Newswire-Alert-Ids"] = ",".join(v.id for v in views)[:900]
    msg.set_content(render_text(views, sub, how))
    msg.add_alternative(render_html(views, sub, how), subtype="html")
    return msg


# ---- sending ---------------------------------------------------------------------------------


class PermanentMailError(Exception):
    pass


def _send_sync(msg: EmailMessage, cfg: SmtpConfig) -> None:
    with smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout_s) as smtp:
        smtp.ehlo()
        if cfg.starttls:
            ctx = ssl.create_default_context(cafile=str(cfg.ca_file) if cfg.ca_file else None)
            smtp.starttls(context=ctx)
            smtp.ehlo()
        if cfg.user:
            smtp.user, smtp.password = cfg.user, cfg.password or ""
            if "PLAIN" in smtp.esmtp_features.get("auth", "").upper().split():
                smtp.auth("PLAIN", smtp.auth_plain)  # a 535 is final: no fallback mechanism
            else:
                smtp.login(cfg.user, cfg.password or "")
        refused = smtp.send_message(msg)
        if refused:
            raise PermanentMailError(f"recipients refused: {sorted(refused)}")


def _permanent(exc: Exception) -> bool:
    if isinstance(
        exc, PermanentMailError | smtplib.SMTPRecipientsRefused | ssl.SSLCertVerificationError
    ):
        return True
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return True
    code = getattr(exc, "smtp_code", None)
    return isinstance(code, int) and 500 <= code < 600


_EMAIL = re.compile(r"^[^@\s<>,;:\"]+@[A-Za-z0-9.-]+$")


class EmailSpec(Spec):
    to: list[str] = Field(min_length=1, description="Recipients (a comma-separated string too).")
    digest_s: int = Field(
        900, ge=0, description="Digest period in seconds for non-critical alerts; 0: at once."
    )

    @field_validator("to", mode="before")
    @classmethod
    def _split(cls, v: Any) -> Any:
        return [a.strip() for a in v.split(",") if a.strip()] if isinstance(v, str) else v

    @field_validator("to")
    @classmethod
    def _addresses(cls, v: list[str]) -> list[str]:
        for addr in v:
            if not _EMAIL.match(addr):
                raise ValueError(f"not an e-mail address: {addr!r}")
        return v


class Email(BaseChannel):
    """Critical alerts at once, the rest in one digest every `digest_s` per subscription."""

    kind: str = "email"
    spec: type[Spec] = EmailSpec
    main: str = "to"
    attempts: int = 4

    def describe(self, spec: Any, sub: str) -> str:
        period = f"digest {spec.digest_s // 60}m" if spec.digest_s else "each alert"
        return f"email:{','.join(spec.to)} ({period}, critical at once)"

    def address(self, spec: Any, sub: str, ctx: Context) -> Address:
        cfg = ctx.config.smtp
        missing = None if cfg else "NEWSWIRE_SMTP_HOST unset: no e-mail"
        return Address(sub, f"email:{sub}", (cfg.password or "",) if cfg else (), missing)

    def digest_s(self, spec: Any) -> int | None:
        return int(spec.digest_s)

    def at_once(self, spec: Any, alert: Alert) -> bool:
        return alert.severity == "critical" or spec.digest_s == 0

    def render(
        self, spec: Any, alerts: Sequence[Alert], sub: str, ctx: Context, *, digest: bool = False
    ) -> list[Message]:
        """One e-mail: of the update's lead alert, or of every alert of the digest."""
        mailed = tuple(alerts) if digest else (alerts[0],)
        sender = ctx.config.smtp.sender if ctx.config.smtp else "newswire@localhost"
        msg = build_message(
            mailed, sub=sub, to=spec.to, sender=sender, dashboard=ctx.config.dashboard
        )
        return [Message(msg, mailed, [dump(a) for a in mailed])]

    async def send(self, spec: Any, address: Address, message: Message, ctx: Context) -> int | None:
        if ctx.config.smtp is None:
            raise PermanentMailError("no SMTP server configured")
        await asyncio.to_thread(_send_sync, message.payload, ctx.config.smtp)
        return None

    def classify(self, exc: Exception) -> Failure | None:
        """5xx replies, refused recipients and certificate failures are permanent."""
        if not isinstance(exc, smtplib.SMTPException | OSError | PermanentMailError):
            return None
        return Failure(f"{type(exc).__name__}: {exc}", permanent=_permanent(exc))


CHANNEL = Email()
