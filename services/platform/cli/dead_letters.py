"""``crm dlq list``: the dead-lettered records with the dlt.* headers naming their source
and error, read by assignment from offset 0."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from contracts.topics import DEAD_LETTER
from services.platform.cli.common import cli_context, print_json, run, table
from services.platform.cli.kafka_io import (
    admin_client,
    header,
    partitions_of,
    read_to_end,
    reader_for,
    stop_reader,
)

DLT_PREFIX = "dlt."

dlq_app = typer.Typer(help="Inspect and re-drive dead-lettered records.", no_args_is_help=True)


def event_summary(record: Any) -> dict[str, Any]:
    """The CloudEvent's id and type when readable, else a preview of the value."""
    ce_id, ce_type = header(record, "ce_id"), header(record, "ce_type")
    if ce_id or ce_type:
        return {"id": ce_id, "type": ce_type}
    value = record.value
    if value is None:
        return {"preview": None}
    try:
        parsed = json.loads(value)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict) and ("id" in parsed or "type" in parsed):
        return {"id": parsed.get("id"), "type": parsed.get("type")}
    return {"preview": bytes(value[:64]).decode("utf-8", "replace")}


def describe_dead_letter(record: Any) -> dict[str, Any]:
    """One dead-lettered record as the `dlq list` command shows it."""
    dlt = {
        str(k): (None if v is None else bytes(v).decode("utf-8", "replace"))
        for k, v in record.headers or ()
        if str(k).startswith(DLT_PREFIX)
    }
    source_partition = dlt.get("dlt.source.partition")
    source_offset = dlt.get("dlt.source.offset")
    attempts = dlt.get("dlt.attempts")
    return {
        "partition": record.partition,
        "offset": record.offset,
        "key": None if record.key is None else bytes(record.key).decode("utf-8", "replace"),
        "source_topic": dlt.get("dlt.source.topic"),
        "source_partition": _int_or_none(source_partition),
        "source_offset": _int_or_none(source_offset),
        "consumer_group": dlt.get("dlt.consumer.group"),
        "error_class": dlt.get("dlt.error.class"),
        "error_message": dlt.get("dlt.error.message"),
        "attempts": _int_or_none(attempts),
        "failed_at": dlt.get("dlt.failed.at"),
        "event": event_summary(record),
        "dlt_headers": dlt,
    }


def _int_or_none(text: str | None) -> int | None:
    try:
        return None if text is None else int(text)
    except ValueError:
        return None


async def read_dead_letters(bootstrap: str, topic: str) -> list[dict[str, Any]]:
    """Every record of the dead-letter topic, oldest first; joins no consumer group."""
    admin = admin_client(bootstrap)
    await admin.start()
    reader = reader_for(bootstrap)
    try:
        partitions = await partitions_of(admin, topic)
        await reader.start()
        records = await read_to_end(reader, topic, partitions)
    finally:
        await stop_reader(reader)
        await admin.close()
    records.sort(key=lambda r: (r.timestamp, r.partition, r.offset))
    return [describe_dead_letter(r) for r in records]


@dlq_app.command("list")
def dlq_list(
    ctx: typer.Context,
    topic: Annotated[str, typer.Option(help="Dead-letter topic")] = DEAD_LETTER.name,
    group: Annotated[
        str | None, typer.Option(help="Only records dead-lettered by this consumer group")
    ] = None,
    limit: Annotated[int, typer.Option(min=0, help="Show at most this many (0: all)")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """List dead-lettered records, oldest first, with the dlt.* headers naming their
    source and error. Reads from offset 0 by assignment: no consumer group, no commit."""
    bootstrap = cli_context(ctx).bootstrap
    found = run(read_dead_letters(bootstrap, topic), f"Kafka at {bootstrap}")
    if group is not None:
        found = [d for d in found if d["consumer_group"] == group]
    shown = found[:limit] if limit else found
    if as_json:
        print_json({"topic": topic, "total": len(found), "records": shown})
        return
    if not found:
        typer.echo(f"{topic}: no dead-lettered records")
        return
    rows = []
    for d in shown:
        event = d["event"]
        what = (
            f"{event.get('type')} {event.get('id')}"
            if "preview" not in event
            else f"bytes {event['preview']!r}"
        )
        message = d["error_message"] or ""
        rows.append(
            [
                f"{d['partition']}:{d['offset']}",
                f"{d['source_topic']}:{d['source_partition']}:{d['source_offset']}",
                d["consumer_group"],
                f"{d['error_class']}: {message[:60]}",
                d["attempts"],
                d["failed_at"],
                what,
            ]
        )
    table(["dlq p:o", "source", "group", "error", "attempts", "failed at", "event"], rows)
    typer.echo(f"{len(shown)} of {len(found)} dead-lettered record(s) in {topic}")
