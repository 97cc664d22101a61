"""schemas/asyncapi.yaml: generated from the models, every reference resolves, payloads are usable.

No AsyncAPI 3 meta-schema ships in a PyPI package, so the document's structure is checked here and
its payload schemas are exercised with jsonschema against real events.
"""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest
import yaml
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from schemas import MODELS, Alert, DeadLetter, RawArticle
from services.common.settings import Settings
from services.common.topics import RedisKeys, Topics
from services.enrichment.core import enrich
from services.ops.asyncapi import ASYNCAPI_FILE, dump
from services.tagging.core import tag
from services.text.taxonomy import load_taxonomy

DOC: dict[str, Any] = yaml.safe_load(dump())


def test_committed_document_matches_the_models() -> None:
    assert ASYNCAPI_FILE.read_text(encoding="utf-8") == dump(), (
        "schemas/asyncapi.yaml drifted: run `newswire schemas` and commit"
    )


def _resolve(ref: str) -> Any:
    node: Any = DOC
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [v for k, v in node.items() if k == "$ref"] + [
            r for v in node.values() for r in _refs(v)
        ]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


def test_every_reference_resolves_and_operations_use_their_channels_messages() -> None:
    assert DOC["asyncapi"] == "3.0.0"
    for ref in _refs(DOC):
        assert ref.startswith("#/"), ref
        _resolve(ref)
    for name, op in DOC["operations"].items():
        assert op["action"] in {"send", "receive"}, name
        channel = op["channel"]["$ref"]
        for m in op["messages"]:
            assert m["$ref"].startswith(channel + "/messages/"), name


def test_every_topic_and_redis_channel_is_documented() -> None:
    s = Settings.model_construct()
    keys = RedisKeys(s.redis_prefix)
    addresses = {c["address"] for c in DOC["channels"].values()}
    assert set(Topics.from_settings(s).all()) <= addresses
    assert {keys.all_alerts, keys.stream, keys.severity("{severity}")} <= addresses
    for channel in DOC["channels"].values():
        for param in channel.get("parameters", {}):
            assert "{" + param + "}" in channel["address"]
    assert set(MODELS) <= set(DOC["components"]["schemas"])


def _validator(name: str) -> jsonschema.Draft202012Validator:
    uri = "urn:newswire:asyncapi"
    registry: Registry[Any] = Registry().with_resource(uri, DRAFT202012.create_resource(DOC))
    return jsonschema.Draft202012Validator(
        {"$ref": f"{uri}#/components/schemas/{name}"}, registry=registry
    )


def test_payload_schemas_accept_real_events_and_reject_broken_ones() -> None:
    raw = RawArticle(title="Missile strike on Kyiv", body="A missile strike hit Kyiv.")  # type: ignore[call-arg]
    tagged = tag(enrich(raw), load_taxonomy(Settings().taxonomy_file))
    events = {"RawArticle": raw, "EnrichedArticle": tagged.article, "TaggedArticle": tagged}
    for name, event in events.items():
        _validator(name).validate(event.model_dump(mode="json"))
    with pytest.raises(jsonschema.ValidationError):
        _validator("RawArticle").validate({**raw.model_dump(mode="json"), "title": 5})
    with pytest.raises(jsonschema.ValidationError):
        _validator("DeadLetter").validate({"stage": "x"})
    assert DOC["components"]["messages"]["DeadLetter"]["headers"]["properties"]
    assert (
        Alert.__name__ in DOC["components"]["schemas"]
        and DeadLetter.__name__ in DOC["components"]["schemas"]
    )
