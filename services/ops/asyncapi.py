"""The AsyncAPI 3 document of every Kafka topic and Redis channel, generated from `schemas/`.

Written to schemas/asyncapi.yaml by `newswire schemas`; a test fails when it drifts from the models,
the topic specs or the Redis key layout. Names are the defaults (prefix `newswire`).
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel

from schemas import MODELS, SEVERITIES, Digest
from schemas.deadletter import DEAD_LETTER_HEADERS
from services.common.kafka_admin import topic_specs
from services.common.settings import PROJECT_ROOT, Settings
from services.common.topics import RedisKeys, Topics
from services.common.topology import CHANNELS, consumers, group_id, producers

ASYNCAPI_FILE = PROJECT_ROOT / "schemas" / "asyncapi.yaml"


def _version() -> str:
    doc = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return str(doc["project"]["version"])


def _hoist(models: dict[str, type[BaseModel]]) -> dict[str, Any]:
    """Every model and its sub-models as components/schemas, refs rewritten to point there."""
    out: dict[str, Any] = {}
    for name, model in models.items():
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        for sub, body in {**schema.pop("$defs", {}), name: schema}.items():
            if sub in out and out[sub] != body:
                raise ValueError(f"two different schemas are both called {sub}")
            out[sub] = body
    return dict(sorted(out.items()))


def _ref(path: str) -> dict[str, str]:
    return {"$ref": path}


def render() -> dict[str, Any]:
    settings = Settings.model_construct()  # defaults only: the document must not depend on env
    topics = Topics.from_settings(settings)
    keys = RedisKeys(settings.redis_prefix)
    specs = {s.name: s for s in topic_specs(settings)}
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}

    for cid, (attr, message, key) in CHANNELS.items():
        payload = message
        senders = producers(attr) if attr != "deadletter" else ["anyStage"]
        address = getattr(topics, attr)
        spec = specs[address]
        messages[message] = {
            "name": message,
            "title": message,
            "contentType": "application/json",
            "payload": _ref(f"#/components/schemas/{payload}"),
            "bindings": {
                "kafka": {
                    "key": {"type": "string", "description": key},
                    "bindingVersion": "0.5.0",
                }
            },
        }
        channels[cid] = {
            "address": address,
            "title": address,
            "servers": [_ref("#/servers/kafka")],
            "messages": {message: _ref(f"#/components/messages/{message}")},
            "bindings": {
                "kafka": {
                    "topic": address,
                    "topicConfiguration": {
                        "cleanup.policy": spec.configs["cleanup.policy"].split(","),
                        "retention.ms": int(spec.configs["retention.ms"]),
                    },
                    "bindingVersion": "0.5.0",
                }
            },
        }
        msg_ref = [_ref(f"#/channels/{cid}/messages/{message}")]
        for producer in senders:
            operations[f"{producer}Sends{message}"] = {
                "action": "send",
                "channel": _ref(f"#/channels/{cid}"),
                "messages": msg_ref,
            }
        for consumer in consumers(attr):
            operations[f"{consumer}Receives{message}"] = {
                "action": "receive",
                "channel": _ref(f"#/channels/{cid}"),
                "messages": msg_ref,
                "description": f"Consumer group {group_id(settings, consumer.removesuffix('Trends'))}.",
            }
    messages["DeadLetter"]["headers"] = {
        "type": "object",
        "properties": {
            h: {"type": "string", "description": d} for h, d in DEAD_LETTER_HEADERS.items()
        },
    }

    redis_channels = {
        "redisAlerts": (keys.all_alerts, "Every alert.", {}),
        "redisAlertsBySeverity": (
            keys.severity("{severity}"),
            "Alerts of one severity.",
            {"severity": {"enum": list(SEVERITIES), "description": "Alert severity."}},
        ),
        "redisAlertsByRule": (
            keys.rule("{ruleId}"),
            "Alerts of one rule.",
            {"ruleId": {"description": "Rule id from the rules file."}},
        ),
        "redisAlertsByCountry": (
            keys.country("{country}"),
            "Alerts about one country.",
            {"country": {"description": "ISO 3166-1 alpha-2 code."}},
        ),
    }
    messages["AlertPublished"] = {
        "name": "AlertPublished",
        "title": "Alert (Redis PUBLISH)",
        "contentType": "application/json",
        "payload": _ref("#/components/schemas/Alert"),
    }
    for cid, (address, description, params) in redis_channels.items():
        channels[cid] = {
            "address": address,
            "description": description + " Pub/sub is at-most-once; the stream is the history.",
            "servers": [_ref("#/servers/redis")],
            "messages": {"AlertPublished": _ref("#/components/messages/AlertPublished")},
            **({"parameters": params} if params else {}),
        }
        msg_ref = [_ref(f"#/channels/{cid}/messages/AlertPublished")]
        operations[f"alertsPublishes{cid[len('redis') :]}"] = {
            "action": "send",
            "channel": _ref(f"#/channels/{cid}"),
            "messages": msg_ref,
        }
        operations[f"subscriberReceives{cid[len('redis') :]}"] = {
            "action": "receive",
            "channel": _ref(f"#/channels/{cid}"),
            "messages": msg_ref,
            "description": "SUBSCRIBE (or PSUBSCRIBE with a pattern), e.g. `newswire subscribe`.",
        }

    messages["SubscriptionDigest"] = {
        "name": "SubscriptionDigest",
        "title": "Digest of alerts over a subscription's rate limit",
        "contentType": "application/json",
        "payload": _ref("#/components/schemas/Digest"),
    }
    channels["redisSubscription"] = {
        "address": keys.subscription("{name}"),
        "description": "A named subscription's matches (`newswire subscribe --subscription`); alerts "
        "over its rate limit arrive folded into one digest per window.",
        "servers": [_ref("#/servers/redis")],
        "parameters": {"name": {"description": "Subscription name."}},
        "messages": {
            "AlertPublished": _ref("#/components/messages/AlertPublished"),
            "SubscriptionDigest": _ref("#/components/messages/SubscriptionDigest"),
        },
    }
    sub_refs = [
        _ref("#/channels/redisSubscription/messages/AlertPublished"),
        _ref("#/channels/redisSubscription/messages/SubscriptionDigest"),
    ]
    operations["alertsPublishesSubscription"] = {
        "action": "send",
        "channel": _ref("#/channels/redisSubscription"),
        "messages": sub_refs,
    }
    operations["subscriberReceivesSubscription"] = {
        "action": "receive",
        "channel": _ref("#/channels/redisSubscription"),
        "messages": sub_refs,
    }

    messages["AlertStreamEntry"] = {
        "name": "AlertStreamEntry",
        "title": "Alert history stream entry (XADD)",
        "payload": _ref("#/components/schemas/AlertStreamEntry"),
    }
    channels["redisAlertStream"] = {
        "address": keys.stream,
        "description": f"Capped stream (MAXLEN ~ {settings.alerts_stream_maxlen}); "
        "XREAD from the last id seen to miss nothing.",
        "servers": [_ref("#/servers/redis")],
        "messages": {"AlertStreamEntry": _ref("#/components/messages/AlertStreamEntry")},
    }
    stream_ref = [_ref("#/channels/redisAlertStream/messages/AlertStreamEntry")]
    operations["alertsAppendsAlertStream"] = {
        "action": "send",
        "channel": _ref("#/channels/redisAlertStream"),
        "messages": stream_ref,
    }
    operations["subscriberReadsAlertStream"] = {
        "action": "receive",
        "channel": _ref("#/channels/redisAlertStream"),
        "messages": stream_ref,
    }

    schemas = _hoist({**MODELS, "Digest": Digest})
    schemas["AlertStreamEntry"] = {
        "type": "object",
        "description": "Stream entry fields; `alert` is the Alert as JSON text.",
        "required": ["id", "severity", "rule", "alert"],
        "properties": {
            "id": {"type": "string"},
            "severity": {"type": "string", "enum": list(SEVERITIES)},
            "rule": {"type": "string"},
            "alert": {"type": "string", "contentMediaType": "application/json"},
        },
    }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "newswire",
            "version": _version(),
            "description": "Topics and channels of newswire. Generated from schemas/ by "
            "`newswire schemas`; do not edit.",
            "license": {"name": "Apache-2.0"},
        },
        "defaultContentType": "application/json",
        "servers": {
            "kafka": {
                "host": f"localhost:{settings.kafka_port}",
                "protocol": "kafka",
                "description": "KAFKA_BOOTSTRAP_SERVERS",
            },
            "redis": {
                "host": f"localhost:{settings.redis_port}",
                "protocol": "redis",
                "description": "REDIS_URL",
            },
        },
        "channels": channels,
        "operations": operations,
        "components": {"messages": dict(sorted(messages.items())), "schemas": schemas},
    }


def dump() -> str:
    return yaml.safe_dump(render(), sort_keys=False, allow_unicode=True, width=100)


def write(path: Path = ASYNCAPI_FILE) -> Path:
    path.write_text(dump(), encoding="utf-8")
    return path
