"""The one retry policy: capped exponential backoff with jitter, from tenacity.

Every loop that waits and tries again (Kafka and Redis start-up waits, HTTP deliveries, SMTP,
reconnecting readers) takes its waits from a `Backoff`, so the arithmetic and the jitter live in
one place. Jitter spreads the retries of many replicas that failed together (a broker restart)
instead of sending them back in lock step.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    stop_after_delay,
    stop_any,
    stop_never,
)
from tenacity.stop import stop_base
from tenacity.wait import wait_base

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Backoff:
    """Waits of `base_s * 2**n`, capped at `cap_s`, plus up to `jitter` of the wait at random."""

    base_s: float = 0.5
    cap_s: float = 5.0
    jitter: float = 0.25  # a fraction of the wait added at random (0: none)

    def wait(self) -> wait_base:
        """The tenacity wait strategy of this policy."""
        return _JitteredExponential(self)

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        """The wait after failed attempt number `attempt` (1-based)."""
        raw = min(self.cap_s, self.base_s * float(2 ** max(0, attempt - 1)))
        spread = float((rng or random).random())
        return raw + raw * self.jitter * spread

    def delays(self, attempts: int, rng: random.Random | None = None) -> list[float]:
        """The waits between `attempts` attempts (one fewer than attempts), for loops that must
        also honour a wait the other side asks for (an HTTP 429's Retry-After)."""
        return [self.delay(i, rng) for i in range(1, max(0, attempts))]

    def iter_delays(self, rng: random.Random | None = None) -> Iterator[float]:
        """Endless waits, for a loop that retries for as long as it takes."""
        attempt = 1
        while True:
            yield self.delay(attempt, rng)
            attempt += 1

    def stop(self, attempts: int | None = None, deadline_s: float | None = None) -> stop_base:
        parts: list[stop_base] = []
        if attempts is not None:
            parts.append(stop_after_attempt(attempts))
        if deadline_s is not None:
            parts.append(stop_after_delay(deadline_s))
        return stop_any(*parts) if parts else stop_never

    def retrying(
        self,
        on: tuple[type[BaseException], ...],
        *,
        attempts: int | None = None,
        deadline_s: float | None = None,
        what: str = "operation",
    ) -> Retrying:
        """A synchronous tenacity loop retrying the `on` exceptions, re-raising the last."""
        return Retrying(**self._loop(on, attempts, deadline_s, what))

    def async_retrying(
        self,
        on: tuple[type[BaseException], ...],
        *,
        attempts: int | None = None,
        deadline_s: float | None = None,
        what: str = "operation",
    ) -> AsyncRetrying:
        """An asyncio tenacity loop retrying the `on` exceptions, re-raising the last."""
        return AsyncRetrying(**self._loop(on, attempts, deadline_s, what))

    def _loop(
        self,
        on: tuple[type[BaseException], ...],
        attempts: int | None,
        deadline_s: float | None,
        what: str,
    ) -> dict[str, Any]:
        """The options both tenacity loops take, so the sync and async forms cannot drift."""
        return {
            "wait": self.wait(),
            "stop": self.stop(attempts, deadline_s),
            "retry": retry_if_exception_type(on),
            "before_sleep": _logger(what),
            "reraise": True,
        }


class _JitteredExponential(wait_base):
    """tenacity's wait, computed by `Backoff.delay` so both forms of the policy agree."""

    def __init__(self, policy: Backoff) -> None:
        self.policy = policy

    def __call__(self, retry_state: RetryCallState) -> float:
        return self.policy.delay(retry_state.attempt_number)


def _logger(what: str) -> Callable[[RetryCallState], None]:
    def before_sleep(state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0.0
        log.warning("%s failed (%s); retrying in %.1fs", what, type(exc).__name__, wait)

    return before_sleep


# Named policies: one place to read how hard each kind of loop tries.
STARTUP = Backoff(base_s=0.5, cap_s=5.0)  # waiting for Kafka or Redis to come up
DELIVERY = Backoff(base_s=1.0, cap_s=30.0)  # an HTTP or SMTP target that failed
RECONNECT = Backoff(base_s=0.2, cap_s=5.0)  # a long-lived reader whose connection dropped
COMMAND = Backoff(base_s=0.1, cap_s=2.0)  # a Redis command retried in place by its client

__all__ = ["COMMAND", "DELIVERY", "RECONNECT", "STARTUP", "Backoff"]
