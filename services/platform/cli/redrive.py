"""``crm dlq redrive``: re-publish chosen dead letters to their source topics, every one
checked before anything is published."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any

import typer
from aiokafka import TopicPartition

from contracts.topics import DEAD_LETTER
from services.platform.cli.common import CliError, cli_context, print_json, run
from services.platform.cli.dead_letters import DLT_PREFIX, dlq_app, event_summary
from services.platform.cli.kafka_io import (
    READ_TIMEOUT,
    admin_client,
    describe,
    header,
    partitions_of,
    read_to_end,
    reader_for,
    stop_reader,
)
from services.platform.kafka import make_producer

REDRIVEN_FROM = "dlt.redriven.from"


def parse_offset(text: str) -> tuple[int, int]:
    """``P:O`` (partition:offset of the dead-letter topic) as a pair of integers."""
    partition, sep, offset = text.partition(":")
    try:
        if not sep:
            raise ValueError
        parsed = int(partition), int(offset)
    except ValueError:
        raise typer.BadParameter(
            f"{text!r} is not PARTITION:OFFSET", param_hint="--offset"
        ) from None
    if parsed[0] < 0 or parsed[1] < 0:
        raise typer.BadParameter(f"{text!r}: negative partition or offset", param_hint="--offset")
    return parsed


@dataclass(frozen=True)
class Redrive:
    record: Any
    dlq_topic: str

    @property
    def source_topic(self) -> str | None:
        return header(self.record, "dlt.source.topic")

    @property
    def origin(self) -> str:
        return f"{self.dlq_topic}:{self.record.partition}:{self.record.offset}"

    def headers(self) -> list[tuple[str, bytes]]:
        kept = [
            (str(k), bytes(v or b""))
            for k, v in self.record.headers or ()
            if not str(k).startswith(DLT_PREFIX)
        ]
        return [*kept, (REDRIVEN_FROM, self.origin.encode())]


async def _fetch_one(reader: Any, tp: Any, offset: int) -> Any | None:
    """The record at exactly ``offset``, or None when the log has a gap there."""
    reader.seek(tp, offset)
    deadline = time.monotonic() + READ_TIMEOUT
    while time.monotonic() < deadline:
        batch = await reader.getmany(tp, timeout_ms=500, max_records=1)
        for record in batch.get(tp, ()):
            return record if record.offset == offset else None
    raise TimeoutError(f"no answer reading {tp.topic}:{tp.partition}:{offset}")


async def _select(
    admin: Any,
    reader: Any,
    dlq_topic: str,
    offsets: Sequence[tuple[int, int]],
    take_all: bool,
    group: str | None,
) -> list[Redrive]:
    partitions = await partitions_of(admin, dlq_topic)
    if take_all:
        await reader.start()
        records = await read_to_end(reader, dlq_topic, partitions)
        records.sort(key=lambda r: (r.partition, r.offset))
        chosen = [Redrive(r, dlq_topic) for r in records]
        if group is not None:
            chosen = [c for c in chosen if header(c.record, "dlt.consumer.group") == group]
        return chosen
    tps = {p: TopicPartition(dlq_topic, p) for p in partitions}
    for partition, _ in offsets:
        if partition not in tps:
            raise CliError(f"{dlq_topic} has no partition {partition} (partitions: {sorted(tps)})")
    wanted = sorted(set(offsets))
    await reader.start()
    reader.assign([tps[p] for p in sorted({p for p, _ in wanted})])
    starts: dict[Any, int] = await reader.beginning_offsets([tps[p] for p, _ in wanted])
    ends: dict[Any, int] = await reader.end_offsets([tps[p] for p, _ in wanted])
    chosen = []
    for partition, offset in wanted:
        tp = tps[partition]
        if not starts[tp] <= offset < ends[tp]:
            held = (
                f"holds offsets {starts[tp]}..{ends[tp] - 1}"
                if ends[tp] > starts[tp]
                else "is empty"
            )
            raise CliError(
                f"{dlq_topic}:{partition}:{offset} does not exist (partition {partition} {held})"
            )
        record = await _fetch_one(reader, tp, offset)
        if record is None:
            raise CliError(f"{dlq_topic}:{partition}:{offset} does not exist (no record there)")
        chosen.append(Redrive(record, dlq_topic))
    return chosen


async def redrive(
    bootstrap: str,
    dlq_topic: str,
    offsets: Sequence[tuple[int, int]],
    *,
    take_all: bool = False,
    group: str | None = None,
    dry_run: bool = False,
) -> list[dict[str, Any]]:
    """Re-publish chosen dead letters to their source topics; all are checked first.

    Nothing is published unless every chosen record exists and names an existing source
    topic. Returns one entry per record (with the new partition/offset unless dry run).
    """
    admin = admin_client(bootstrap)
    await admin.start()
    reader = reader_for(bootstrap)
    try:
        chosen = await _select(admin, reader, dlq_topic, offsets, take_all, group)
        missing_source = [c.origin for c in chosen if not c.source_topic]
        if missing_source:
            raise CliError(
                f"no dlt.source.topic header on {', '.join(missing_source)}: "
                "cannot tell where to re-drive it"
            )
        sources = sorted({str(c.source_topic) for c in chosen})
        known = await describe(admin, sources) if sources else {}
        unknown = [s for s in sources if s not in known]
        if unknown:
            raise CliError(f"source topic(s) {', '.join(unknown)} do not exist")
    finally:
        await stop_reader(reader)
        await admin.close()

    results = [
        {
            "from": c.origin,
            "to_topic": c.source_topic,
            "key": None if c.record.key is None else bytes(c.record.key).decode("utf-8", "replace"),
            "event": event_summary(c.record),
            "consumer_group": header(c.record, "dlt.consumer.group"),
        }
        for c in chosen
    ]
    if dry_run or not chosen:
        return results
    producer = make_producer(bootstrap)
    await producer.start()
    try:
        # Send all, then await every acknowledgement: the idempotent producer keeps
        # their order per partition, so one key's events go back in DLQ order.
        futures = [
            await producer.send(
                str(c.source_topic), value=c.record.value, key=c.record.key, headers=c.headers()
            )
            for c in chosen
        ]
        acks = await asyncio.gather(*futures)
    finally:
        await producer.stop()
    for result, ack in zip(results, acks, strict=True):
        result["to_partition"] = ack.partition
        result["to_offset"] = ack.offset
    return results


@dlq_app.command("redrive")
def dlq_redrive(
    ctx: typer.Context,
    offset: Annotated[
        list[str] | None,
        typer.Option(
            "--offset", help="PARTITION:OFFSET of a record in the dead-letter topic (repeatable)"
        ),
    ] = None,
    take_all: Annotated[
        bool, typer.Option("--all", help="Every record now in the dead-letter topic")
    ] = False,
    group: Annotated[
        str | None,
        typer.Option(help="With --all: only records dead-lettered by this consumer group"),
    ] = None,
    topic: Annotated[str, typer.Option(help="Dead-letter topic")] = DEAD_LETTER.name,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would be re-driven; publish nothing")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Re-publish dead-lettered records to their source topic (header dlt.source.topic).

    Same key and value; the original headers without the dlt.* ones, plus
    dlt.redriven.from=<dlq topic>:<partition>:<offset>. Idempotent producer, acks=all.
    Every chosen record is checked before anything is published: an offset that does
    not exist or a record without dlt.source.topic is refused (exit 2).

    The source topic redelivers the record to EVERY consumer group reading it, not only
    the one that failed. That is safe: groups that already handled the event skip it by
    their inbox (consumer, event id). --group only selects which dead letters to take.
    A record that still cannot be handled is dead-lettered again (at a new offset).
    """
    parsed = [parse_offset(o) for o in offset or ()]
    if take_all == bool(parsed):
        raise typer.BadParameter("give either --offset P:O (one or more) or --all")
    if group is not None and not take_all:
        raise typer.BadParameter("--group selects among --all; with --offset it is not used")
    bootstrap = cli_context(ctx).bootstrap
    results = run(
        redrive(bootstrap, topic, parsed, take_all=take_all, group=group, dry_run=dry_run),
        f"Kafka at {bootstrap}",
    )
    if as_json:
        print_json({"dry_run": dry_run, "records": results})
        return
    if not results:
        typer.echo(f"{topic}: nothing to re-drive")
        return
    for r in results:
        event = r["event"]
        what = event.get("id") or (
            f"bytes {event['preview']!r}" if "preview" in event else "(no value)"
        )
        if dry_run:
            typer.echo(f"would re-drive {r['from']} -> {r['to_topic']} (key {r['key']}, {what})")
        else:
            typer.echo(
                f"re-drove {r['from']} -> {r['to_topic']}:{r['to_partition']}:{r['to_offset']} "
                f"(key {r['key']}, {what})"
            )
    verb = "would re-drive" if dry_run else "re-drove"
    typer.echo(f"{verb} {len(results)} record(s)")
