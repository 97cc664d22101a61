"""Is Kafka there, is Redis there: one metadata request, one PING. Used by readiness (`/readyz`),
`newswire health` and the local stack's start-up wait."""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from services.common.settings import Settings


def kafka_probe_kwargs(settings: Settings) -> dict[str, Any]:
    """The probe's admin client options: the shared bootstrap and security options (TLS, SASL),
    so a broker that requires a login (prod's SCRAM listener) is probed as the workers reach it."""
    from services.common.kafka import client_kwargs

    return {**client_kwargs(settings), "request_timeout_ms": 3000}


async def kafka_ready(settings: Settings) -> bool:
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(**kafka_probe_kwargs(settings))
    quiet = logging.getLogger("aiokafka")
    level = quiet.level
    quiet.setLevel(logging.CRITICAL)  # connection refused is expected while the broker starts
    try:
        await admin.start()
        await admin.list_topics()
    except Exception:
        return False
    finally:
        with contextlib.suppress(Exception):
            await admin.close()
        quiet.setLevel(level)
    return True


async def redis_ready(settings: Settings) -> bool:
    """PING with the shared client options: a `rediss://` Redis with a private CA is ready too."""
    from services.common.redisconn import make_probe_client

    client = make_probe_client(settings)
    try:
        return bool(await client.ping())
    except Exception:
        return False
    finally:
        await client.aclose()
