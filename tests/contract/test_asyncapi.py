"""The committed AsyncAPI document describes the topics and events the code has."""

from __future__ import annotations

import json

from contracts.schema_files import ASYNCAPI_FILE, SCHEMA_DIR, asyncapi_document, render
from contracts.topics import TOPICS


def test_committed_asyncapi_matches_the_code() -> None:
    assert ASYNCAPI_FILE.read_text() == render(asyncapi_document()), (
        "contracts/asyncapi.json is out of date: run make schemas"
    )


def test_every_topic_is_a_channel_and_every_message_points_at_a_committed_schema() -> None:
    document = json.loads(ASYNCAPI_FILE.read_text())
    assert set(document["channels"]) == {t.name for t in TOPICS}
    messages = document["components"]["messages"]
    assert messages, "no event is described"
    for name, message in messages.items():
        schema = SCHEMA_DIR.parent / message["payload"]["$ref"]
        assert schema.exists(), name
        assert json.loads(schema.read_text())["x-event-type"] == message["name"]
    sales = document["channels"]["crm.sales.events"]["messages"]
    assert "crm.sales.deal_stage_changed.v1" in sales
    assert "crm.support.complaint_filed.v1" not in sales
