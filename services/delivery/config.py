"""What the delivery channels are configured with: the dispatcher's part of `Settings`."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from services.common.settings import Settings


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int = 587
    starttls: bool = True
    user: str | None = None
    password: str | None = None
    sender: str = "newswire@localhost"
    ca_file: Path | None = None
    timeout_s: float = 30.0

    def __repr__(self) -> str:  # the password never reaches a log line
        return f"SmtpConfig(host={self.host!r}, port={self.port}, starttls={self.starttls}, user={self.user!r})"

    @classmethod
    def from_settings(cls, s: Settings) -> SmtpConfig | None:
        if not s.smtp_host:
            return None
        return cls(
            host=s.smtp_host,
            port=s.smtp_port,
            starttls=s.smtp_starttls,
            user=s.smtp_user,
            password=s.smtp_password.get_secret_value() if s.smtp_password else None,
            sender=s.smtp_from,
            ca_file=s.smtp_ca_file,
            timeout_s=s.smtp_timeout_s,
        )


@dataclass(frozen=True)
class Config:
    dashboard: str = "http://127.0.0.1:8081"
    webhook_secret: str | None = field(default=None, repr=False)
    telegram_api: str = "https://api.telegram.org"
    telegram_token: str | None = field(default=None, repr=False)
    smtp: SmtpConfig | None = None
    max_retry_after_s: float = 60.0
    subscription_key: str | None = field(default=None, repr=False)
    outbound_allow: tuple[str, ...] = ()  # internal networks webhooks and chats may reach
    http_timeout_s: float = 10.0  # bound on one attempt of one HTTP message

    @classmethod
    def from_settings(cls, s: Settings) -> Config:
        return cls(
            dashboard=s.public_dashboard,
            webhook_secret=s.webhook_secret.get_secret_value() if s.webhook_secret else None,
            telegram_api=s.telegram_api_url,
            telegram_token=(
                s.telegram_bot_token.get_secret_value() if s.telegram_bot_token else None
            ),
            smtp=SmtpConfig.from_settings(s),
            max_retry_after_s=s.chat_max_retry_after_s,
            subscription_key=(
                s.subscription_key.get_secret_value() if s.subscription_key else None
            ),
            outbound_allow=tuple(s.outbound_allow),
        )
