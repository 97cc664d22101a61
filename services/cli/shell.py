"""What every command module shares: the settings, the severity choices, Ctrl-C handling."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Coroutine
from typing import Any, TypeVar

import click
from aiokafka.errors import KafkaError
from redis.exceptions import RedisError

from schemas import SEVERITIES
from services.common.settings import Settings, get_settings

__all__ = ["SEVERITIES", "_run", "_settings", "_stop_on_signals"]
T = TypeVar("T")


def _settings() -> Settings:
    return get_settings()


def _interrupt_once(signum: int, frame: object) -> None:
    """First Ctrl-C or SIGTERM stops everything; further ones must not abort that clean-up."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise KeyboardInterrupt


def _stop_on_signals() -> None:
    signal.signal(signal.SIGINT, _interrupt_once)
    signal.signal(signal.SIGTERM, _interrupt_once)


def _run(coro: Coroutine[Any, Any, T]) -> T:
    """Run an admin coroutine; an unreachable Kafka or Redis is a one-line error, not a traceback."""
    try:
        return asyncio.run(coro)
    except (KafkaError, RedisError, OSError) as exc:
        s = get_settings()
        raise click.ClickException(
            f"{type(exc).__name__}: {exc} (Kafka {s.bootstrap}, Redis {s.redis_shown})"
        ) from exc
