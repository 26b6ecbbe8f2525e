"""``crm topics``: partitions, end offsets and each consumer group's lag; ``crm topics
create`` creates the catalogue's topics."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from aiokafka import TopicPartition

from contracts.topics import TOPICS
from services.platform.cli.common import cli_context, print_json, run, table
from services.platform.cli.kafka_io import admin_client, describe, reader_for, stop_reader
from services.platform.kafka import ensure_topics

topics_app = typer.Typer(
    help="Topics (all non-internal, or --prefix) with partitions, end offsets (records) and "
    "the lag of each consumer group that committed offsets on them: the sum over those "
    "partitions of end offset - committed offset. `crm topics create` creates the catalogue.",
    invoke_without_command=True,
)


async def topics_report(bootstrap: str, prefix: str | None = None) -> list[dict[str, Any]]:
    """Partitions, offsets and per-group lag of every non-internal topic (or ``prefix``)."""
    admin = admin_client(bootstrap)
    await admin.start()
    reader = reader_for(bootstrap)
    try:
        await reader.start()
        described = await describe(admin)
        names = sorted(
            name
            for name, meta in described.items()
            if not meta.get("is_internal")
            and not name.startswith("__")
            and (prefix is None or name.startswith(prefix))
        )
        tps = [
            TopicPartition(name, int(p["partition"]))
            for name in names
            for p in described[name]["partitions"]
        ]
        starts: dict[Any, int] = await reader.beginning_offsets(tps) if tps else {}
        ends: dict[Any, int] = await reader.end_offsets(tps) if tps else {}
        report: dict[str, dict[str, Any]] = {}
        for name in names:
            own = sorted((tp for tp in tps if tp.topic == name), key=lambda tp: tp.partition)
            report[name] = {
                "topic": name,
                "partitions": len(own),
                "end_offset": sum(ends[tp] for tp in own),
                "records": sum(ends[tp] - starts[tp] for tp in own),
                "partition_offsets": {
                    str(tp.partition): {"start": starts[tp], "end": ends[tp]} for tp in own
                },
                "groups": {},
            }
        if tps:
            groups = sorted({str(g[0]) for g in await admin.list_consumer_groups()})
            for group in groups:
                committed = await admin.list_consumer_group_offsets(group, partitions=tps)
                _add_group_lag(report, group, committed, ends)
        return [report[name] for name in names]
    finally:
        await stop_reader(reader)
        await admin.close()


def _add_group_lag(
    report: dict[str, dict[str, Any]], group: str, committed: dict[Any, Any], ends: dict[Any, int]
) -> None:
    by_topic: dict[str, dict[int, int]] = {}
    for tp, meta in committed.items():
        if tp.topic in report and meta.offset >= 0:
            by_topic.setdefault(tp.topic, {})[tp.partition] = int(meta.offset)
    for topic, offsets in by_topic.items():
        entry = report[topic]
        partitions = {}
        for partition, offset in sorted(offsets.items()):
            end = ends[TopicPartition(topic, partition)]
            partitions[str(partition)] = {
                "committed": offset,
                "end": end,
                "lag": max(0, end - offset),
            }
        entry["groups"][group] = {
            "lag": sum(p["lag"] for p in partitions.values()),
            "partitions": partitions,
            # A partition without a commit is not counted: where the group would start
            # there depends on its auto.offset.reset, which the broker does not know.
            "uncommitted_partitions": [
                int(p) for p in entry["partition_offsets"] if int(p) not in offsets
            ],
        }


@topics_app.callback()
def topics(
    ctx: typer.Context,
    prefix: Annotated[str | None, typer.Option(help="Only topics whose name starts so")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Topics: partitions, end offsets (records), and each consumer group's lag.

    A group's lag on a topic is the sum over the partitions where it committed an
    offset of (end offset - committed offset). Run `crm topics create` to create the
    catalogue topics.
    """
    if ctx.invoked_subcommand is not None:
        return
    bootstrap = cli_context(ctx).bootstrap
    report = run(topics_report(bootstrap, prefix), f"Kafka at {bootstrap}")
    if as_json:
        print_json({"topics": report})
        return
    if not report:
        typer.echo("no topics" + (f" starting with {prefix!r}" if prefix else ""))
        return
    rows: list[list[Any]] = []
    for entry in report:
        groups = sorted(entry["groups"].items())
        first = [entry["topic"], entry["partitions"], entry["end_offset"], entry["records"]]
        if not groups:
            rows.append([*first, "-", ""])
        for index, (group, info) in enumerate(groups):
            rows.append([*(first if index == 0 else ["", "", "", ""]), group, info["lag"]])
    table(["topic", "partitions", "end offset", "records", "group", "lag"], rows)


@topics_app.command("create")
def topics_create(ctx: typer.Context) -> None:
    """Create the catalogue topics that are missing (existing ones are left as they are)."""
    bootstrap = cli_context(ctx).bootstrap

    async def create() -> set[str]:
        admin = admin_client(bootstrap)
        await admin.start()
        try:
            before = set(await admin.list_topics())
        finally:
            await admin.close()
        await ensure_topics(bootstrap, TOPICS)
        return before

    before = run(create(), f"Kafka at {bootstrap}")
    for spec in TOPICS:
        state = "exists" if spec.name in before else "created"
        typer.echo(f"{spec.name:<24} {spec.partitions:>2} partitions  {state}")
