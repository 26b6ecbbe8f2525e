"""``crm``: the operators' command line (local infrastructure, topics, dead letters, relays).

Settings come from the environment (``CRM_KAFKA_BOOTSTRAP``, ``CRM_DATABASE_URL``) or
the global ``--bootstrap`` / ``--database-url`` options. Exit codes: 0 ok, 1 the
infrastructure failed or did not answer (one line on stderr, no traceback), 2 the
request itself is wrong (unknown offset, unknown topic or schema, bad arguments).

Every read here is passive: no consumer group is joined and no offset is committed, so
inspecting a topic or the dead-letter topic never disturbs a running consumer.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import time
from collections.abc import Coroutine, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, NoReturn, TypeVar

import asyncpg
import typer
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from contracts.topics import DEAD_LETTER, TOPICS
from services.platform.db import check_schema_name
from services.platform.kafka import ensure_topics, make_producer, stop_consumer
from services.platform.settings import Settings

T = TypeVar("T")

DLT_PREFIX = "dlt."
REDRIVEN_FROM = "dlt.redriven.from"
READ_TIMEOUT = 30.0
"""Seconds allowed to read a topic up to the end offsets seen when the command started."""

INFRA_ERRORS: tuple[type[BaseException], ...] = (
    KafkaError,
    OSError,
    TimeoutError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
)

app = typer.Typer(
    name="crm",
    help="Operate the CRM: local infrastructure, Kafka topics, dead letters, outbox relays.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
infra_app = typer.Typer(
    help="Local Kafka and PostgreSQL without Docker (deploy/local launcher; "
    "settings CRM_LOCAL_DIR, CRM_KAFKA_PORT, CRM_PG_PORT, ...).",
    no_args_is_help=True,
)
topics_app = typer.Typer(
    help="Topics (all non-internal, or --prefix) with partitions, end offsets (records) and "
    "the lag of each consumer group that committed offsets on them: the sum over those "
    "partitions of end offset - committed offset. `crm topics create` creates the catalogue.",
    invoke_without_command=True,
)
dlq_app = typer.Typer(help="Inspect and re-drive dead-lettered records.", no_args_is_help=True)
app.add_typer(infra_app, name="infra")
app.add_typer(topics_app, name="topics")
app.add_typer(dlq_app, name="dlq")


class CliError(Exception):
    """A failure with a message for the operator and the exit code to end with."""

    def __init__(self, message: str, code: int = 2) -> None:
        super().__init__(message)
        self.code = code


@dataclass
class Context:
    bootstrap_option: str | None = None
    database_url_option: str | None = None
    _settings: Settings | None = field(default=None, repr=False)

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            try:
                self._settings = Settings()
            except ValueError as exc:  # pydantic's ValidationError is a ValueError
                _fail(f"invalid CRM_* settings in the environment: {exc}", 2)
        return self._settings

    @property
    def bootstrap(self) -> str:
        return self.bootstrap_option or self.settings.kafka_bootstrap

    @property
    def database_url(self) -> str:
        return self.database_url_option or self.settings.database_url


def _fail(message: str, code: int) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def _run(coro: Coroutine[Any, Any, T], target: str) -> T:
    """Run one command's async work; map failures to a one-line message and exit code."""
    try:
        return asyncio.run(coro)
    except CliError as exc:
        _fail(str(exc), exc.code)
    except INFRA_ERRORS as exc:
        name = type(exc).__name__
        detail = str(exc) or "no answer"
        # aiokafka's messages often start with the class name already.
        if not detail.startswith(name):
            detail = f"{name}: {detail}"
        _fail(f"{target}: {detail}", 1)


def _ctx(ctx: typer.Context) -> Context:
    obj = ctx.find_object(Context)
    return obj if obj is not None else Context()


def _print_json(value: Any) -> None:
    typer.echo(json.dumps(value, indent=2, default=str))


def _table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    text_rows = [[("" if cell is None else str(cell)) for cell in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in text_rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]
    for row in [list(headers), *text_rows]:
        typer.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())


@app.callback()
def _root(
    ctx: typer.Context,
    bootstrap: Annotated[
        str | None,
        typer.Option(help="Kafka bootstrap servers [default: $CRM_KAFKA_BOOTSTRAP]"),
    ] = None,
    database_url: Annotated[
        str | None, typer.Option(help="PostgreSQL URL [default: $CRM_DATABASE_URL]")
    ] = None,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Log client libraries to stderr")
    ] = False,
) -> None:
    if verbose:
        logging.basicConfig(stream=sys.stderr, level=logging.INFO)
    else:
        # aiokafka logs every refused connection; the command's own error says it once.
        logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    ctx.obj = Context(bootstrap, database_url)


# --------------------------------------------------------------------------- infra


def _launcher_config() -> Any:
    from deploy.local.launcher import LauncherError, LocalConfig

    try:
        return LocalConfig.from_env()
    except LauncherError as exc:
        _fail(str(exc), 2)


@infra_app.command("up")
def infra_up() -> None:
    """Start what is not running, wait until ready, print the endpoints."""
    from deploy.local.launcher import LauncherError, ensure_up

    config = _launcher_config()
    try:
        endpoints = ensure_up(config)
    except LauncherError as exc:
        _fail(str(exc), 1)
    typer.echo(f"kafka bootstrap: {endpoints.kafka_bootstrap}")
    typer.echo(f"database url:    {endpoints.database_url}")
    typer.echo(
        f"export CRM_KAFKA_BOOTSTRAP={endpoints.kafka_bootstrap} "
        f"CRM_DATABASE_URL={endpoints.database_url}"
    )


@infra_app.command("down")
def infra_down() -> None:
    """Stop Kafka and PostgreSQL (their data is kept)."""
    from deploy.local.launcher import LauncherError, down

    config = _launcher_config()
    try:
        down(config)
    except LauncherError as exc:
        _fail(str(exc), 1)
    typer.echo("down (data kept)")


@infra_app.command("status")
def infra_status(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Show each component; exit 1 if one is not running and answering."""
    from deploy.local.launcher import LauncherError, status

    config = _launcher_config()
    try:
        report: dict[str, dict[str, Any]] = status(config)
    except LauncherError as exc:
        _fail(str(exc), 1)
    if as_json:
        _print_json(report)
    else:
        rows = []
        for name, part in report.items():
            if part["running"]:
                state = "running" if part["healthy"] else "running, NOT answering"
            else:
                state = "stopped"
            rows.append([name, state, part["pid"] or "-", part["port"], part["log"]])
        _table(["component", "state", "pid", "port", "log"], rows)
        for name, part in report.items():
            if part.get("note"):
                typer.echo(f"{name}: {part['note']}")
    if not all(part["running"] and part["healthy"] for part in report.values()):
        raise typer.Exit(1)


# --------------------------------------------------------------------------- Kafka helpers


def _admin(bootstrap: str) -> Any:
    return AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=15000)


def _reader(bootstrap: str) -> Any:
    """A consumer without a group: it can only be assigned partitions, never commits."""
    return AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        request_timeout_ms=15000,
    )


async def _stop_reader(reader: Any) -> None:
    await stop_consumer(reader)


async def _describe(admin: Any, topics: list[str] | None = None) -> dict[str, dict[str, Any]]:
    """Topic metadata by name; topics the broker does not know are left out."""
    described: list[dict[str, Any]] = await admin.describe_topics(topics)
    return {t["topic"]: t for t in described if t["error_code"] == 0}


async def _partitions_of(admin: Any, topic: str) -> list[int]:
    found = (await _describe(admin, [topic])).get(topic)
    if found is None:
        raise CliError(f"topic {topic} does not exist")
    return sorted(int(p["partition"]) for p in found["partitions"])


# --------------------------------------------------------------------------- topics


async def topics_report(bootstrap: str, prefix: str | None = None) -> list[dict[str, Any]]:
    """Partitions, offsets and per-group lag of every non-internal topic (or ``prefix``)."""
    admin = _admin(bootstrap)
    await admin.start()
    reader = _reader(bootstrap)
    try:
        await reader.start()
        described = await _describe(admin)
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
        await _stop_reader(reader)
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
    bootstrap = _ctx(ctx).bootstrap
    report = _run(topics_report(bootstrap, prefix), f"Kafka at {bootstrap}")
    if as_json:
        _print_json({"topics": report})
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
    _table(["topic", "partitions", "end offset", "records", "group", "lag"], rows)


@topics_app.command("create")
def topics_create(ctx: typer.Context) -> None:
    """Create the catalogue topics that are missing (existing ones are left as they are)."""
    bootstrap = _ctx(ctx).bootstrap

    async def create() -> set[str]:
        admin = _admin(bootstrap)
        await admin.start()
        try:
            before = set(await admin.list_topics())
        finally:
            await admin.close()
        await ensure_topics(bootstrap, TOPICS)
        return before

    before = _run(create(), f"Kafka at {bootstrap}")
    for spec in TOPICS:
        state = "exists" if spec.name in before else "created"
        typer.echo(f"{spec.name:<24} {spec.partitions:>2} partitions  {state}")


# --------------------------------------------------------------------------- dead letters


def _header(record: Any, name: str) -> str | None:
    for key, value in record.headers or ():
        if key == name:
            return None if value is None else bytes(value).decode("utf-8", "replace")
    return None


def _event_summary(record: Any) -> dict[str, Any]:
    """The CloudEvent's id and type when readable, else a preview of the value."""
    ce_id, ce_type = _header(record, "ce_id"), _header(record, "ce_type")
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
        "event": _event_summary(record),
        "dlt_headers": dlt,
    }


def _int_or_none(text: str | None) -> int | None:
    try:
        return None if text is None else int(text)
    except ValueError:
        return None


async def _read_to_end(reader: Any, topic: str, partitions: list[int]) -> list[Any]:
    """Every record of ``topic`` up to the end offsets as they are now, by assign()."""
    tps = [TopicPartition(topic, p) for p in partitions]
    reader.assign(tps)
    starts: dict[Any, int] = await reader.beginning_offsets(tps)
    ends: dict[Any, int] = await reader.end_offsets(tps)
    remaining = set()
    for tp in tps:
        if ends[tp] > starts[tp]:
            reader.seek(tp, starts[tp])
            remaining.add(tp)
    records: list[Any] = []
    deadline = time.monotonic() + READ_TIMEOUT
    while remaining:
        if time.monotonic() > deadline:
            raise TimeoutError(f"reading {topic} did not reach its end offsets")
        batch = await reader.getmany(*remaining, timeout_ms=500)
        for tp, recs in batch.items():
            records.extend(r for r in recs if r.offset < ends[tp])
        for tp in list(remaining):
            if await reader.position(tp) >= ends[tp]:
                remaining.discard(tp)
    return records


async def read_dead_letters(bootstrap: str, topic: str) -> list[dict[str, Any]]:
    """Every record of the dead-letter topic, oldest first; joins no consumer group."""
    admin = _admin(bootstrap)
    await admin.start()
    reader = _reader(bootstrap)
    try:
        partitions = await _partitions_of(admin, topic)
        await reader.start()
        records = await _read_to_end(reader, topic, partitions)
    finally:
        await _stop_reader(reader)
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
    bootstrap = _ctx(ctx).bootstrap
    found = _run(read_dead_letters(bootstrap, topic), f"Kafka at {bootstrap}")
    if group is not None:
        found = [d for d in found if d["consumer_group"] == group]
    shown = found[:limit] if limit else found
    if as_json:
        _print_json({"topic": topic, "total": len(found), "records": shown})
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
    _table(["dlq p:o", "source", "group", "error", "attempts", "failed at", "event"], rows)
    typer.echo(f"{len(shown)} of {len(found)} dead-lettered record(s) in {topic}")


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
        return _header(self.record, "dlt.source.topic")

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
    partitions = await _partitions_of(admin, dlq_topic)
    if take_all:
        await reader.start()
        records = await _read_to_end(reader, dlq_topic, partitions)
        records.sort(key=lambda r: (r.partition, r.offset))
        chosen = [Redrive(r, dlq_topic) for r in records]
        if group is not None:
            chosen = [c for c in chosen if _header(c.record, "dlt.consumer.group") == group]
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
    admin = _admin(bootstrap)
    await admin.start()
    reader = _reader(bootstrap)
    try:
        chosen = await _select(admin, reader, dlq_topic, offsets, take_all, group)
        missing_source = [c.origin for c in chosen if not c.source_topic]
        if missing_source:
            raise CliError(
                f"no dlt.source.topic header on {', '.join(missing_source)}: "
                "cannot tell where to re-drive it"
            )
        sources = sorted({str(c.source_topic) for c in chosen})
        known = await _describe(admin, sources) if sources else {}
        unknown = [s for s in sources if s not in known]
        if unknown:
            raise CliError(f"source topic(s) {', '.join(unknown)} do not exist")
    finally:
        await _stop_reader(reader)
        await admin.close()

    results = [
        {
            "from": c.origin,
            "to_topic": c.source_topic,
            "key": None if c.record.key is None else bytes(c.record.key).decode("utf-8", "replace"),
            "event": _event_summary(c.record),
            "consumer_group": _header(c.record, "dlt.consumer.group"),
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
    bootstrap = _ctx(ctx).bootstrap
    results = _run(
        redrive(bootstrap, topic, parsed, take_all=take_all, group=group, dry_run=dry_run),
        f"Kafka at {bootstrap}",
    )
    if as_json:
        _print_json({"dry_run": dry_run, "records": results})
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


# --------------------------------------------------------------------------- relays


async def relay_status(database_url: str, schema: str) -> dict[str, Any]:
    """Each relay checkpoint of an event-store schema and the events after it (lag)."""
    try:
        check_schema_name(schema)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    conn = await asyncpg.connect(database_url, timeout=15)
    try:
        exists = await conn.fetchval(
            "SELECT to_regclass($1) IS NOT NULL AND to_regclass($2) IS NOT NULL",
            f'"{schema}".relay_checkpoints',
            f'"{schema}".events',
        )
        if not exists:
            raise CliError(f"schema {schema} has no event store (relay_checkpoints, events)")
        rows = await conn.fetch(
            f"""
            SELECT c.relay, c.last_transaction_id::text AS last_transaction_id,
                   c.last_position, c.published_total, c.updated_at,
                   (SELECT count(*) FROM "{schema}".events e
                    WHERE (e.transaction_id, e.global_position)
                          > (c.last_transaction_id, c.last_position)) AS lag
            FROM "{schema}".relay_checkpoints c ORDER BY c.relay
            """
        )
        total = await conn.fetchval(f'SELECT count(*) FROM "{schema}".events')
    finally:
        await conn.close()
    return {
        "schema": schema,
        "events": int(total),
        "relays": [
            {
                "relay": r["relay"],
                "last_transaction_id": r["last_transaction_id"],
                "last_position": r["last_position"],
                "published_total": r["published_total"],
                "updated_at": r["updated_at"].isoformat(),
                "lag": int(r["lag"]),
            }
            for r in rows
        ],
    }


@app.command("relay-status")
def relay_status_command(
    ctx: typer.Context,
    schema: Annotated[str, typer.Option(help="Event-store schema (bounded context)")] = "sales",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Outbox relay checkpoints and their lag (committed events not yet on Kafka)."""
    url = _ctx(ctx).database_url
    report = _run(relay_status(url, schema), "PostgreSQL")
    if as_json:
        _print_json(report)
        return
    if not report["relays"]:
        typer.echo(
            f"{schema}: no relay has checkpointed yet; {report['events']} event(s) in the store"
        )
        return
    _table(
        ["relay", "last xid", "last position", "published", "updated at", "lag"],
        [
            [
                r["relay"],
                r["last_transaction_id"],
                r["last_position"],
                r["published_total"],
                r["updated_at"],
                r["lag"],
            ]
            for r in report["relays"]
        ],
    )


token_app = typer.Typer(
    help="Gateway credentials: JWTs for people, API keys for other systems, key rotation "
    "(local key ring in .local/gateway/keys.json, or CRM_GATEWAY_JWT_KEYS).",
    no_args_is_help=True,
)
app.add_typer(token_app, name="auth")


@token_app.command("token")
def issue_token(
    subject: Annotated[str, typer.Option("--sub", help="Who: a user id, e.g. seller-sp-01")],
    role: Annotated[
        str,
        typer.Option(
            help="seller, sales_manager, service_agent, marketer, analyst, integration or admin"
        ),
    ],
    team: Annotated[str | None, typer.Option(help="Team (sellers, sales managers)")] = None,
    ttl: Annotated[int, typer.Option(help="Lifetime in seconds")] = 3600,
) -> None:
    """Print a signed bearer token for local use."""
    from services.gateway.auth import KeyRing

    try:
        typer.echo(KeyRing.load().issue(subject, role, team=team, ttl_seconds=ttl))
    except ValueError as exc:
        _fail(str(exc), 2)


@token_app.command("api-key")
def create_api_key(
    name: Annotated[str, typer.Option(help="The system it is for, e.g. shop")],
    role: Annotated[str, typer.Option(help="Usually integration")] = "integration",
    source: Annotated[
        list[str] | None,
        typer.Option(help="CloudEvent source its events must carry (repeatable; any if none)"),
    ] = None,
) -> None:
    """Create an API key; it is printed once, only its digest is stored."""
    from services.gateway.auth import KeyRing

    ring = KeyRing.load()
    try:
        _, key = ring.create_api_key(name, role, tuple(source or ()))
    except ValueError as exc:
        _fail(str(exc), 2)
    ring.save()
    typer.echo(key)


@token_app.command("rotate")
def rotate_signing_key() -> None:
    """Sign new tokens with a fresh key; tokens signed with the old keys still verify."""
    from services.gateway.auth import KeyRing

    ring = KeyRing.load()
    kid = ring.rotate()
    ring.save()
    typer.echo(f"now signing with {kid}; remove old keys from the ring once their tokens expire")


def main() -> None:
    """Console-script entry point (``crm``)."""
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
