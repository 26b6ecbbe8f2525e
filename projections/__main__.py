"""Run or rebuild a projection.

``python -m projections run timeline``      keep the live version up to date (a process)
``python -m projections rebuild timeline``  replay from offset 0 into a new version, swap it in

Options for tests and benchmarks: ``--topic`` (repeatable) and ``--dlt`` replace the
catalogue's topics.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
from functools import partial

from projections.registry import spec as projection_spec
from services.platform.consumer import consuming_within
from services.platform.logging import configure_logging
from services.platform.projection import ProjectionSpec, rebuild, run_live
from services.platform.runtime import run_process, serve_health
from services.platform.settings import Settings


def _spec(args: argparse.Namespace) -> ProjectionSpec:
    spec = projection_spec(args.name)
    if args.topic:
        spec = dataclasses.replace(spec, topics=tuple(args.topic))
    if args.dlt:
        spec = dataclasses.replace(spec, dead_letter_topic=args.dlt)
    if args.as_name:
        spec = dataclasses.replace(spec, name=args.as_name)
    return spec


async def _run(spec: ProjectionSpec, settings: Settings, stop: asyncio.Event) -> None:
    async def ready() -> bool:
        # Ready means serving fresh rows: consuming (partitions assigned; a projector
        # standing by for the writer lock is not) and within CRM_READY_MAX_LAG records.
        return await consuming_within(settings.ready_max_lag)

    health = asyncio.create_task(
        serve_health(settings.http_port, {"process": ready}, stop, f"projection:{spec.name}",
                     host=settings.http_host)
    )  # fmt: skip
    await run_live(settings.kafka_bootstrap, settings.database_url, spec, stop)
    await health


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m projections", description=__doc__)
    parser.add_argument("action", choices=["run", "rebuild"])
    parser.add_argument("name")
    parser.add_argument("--topic", action="append")
    parser.add_argument("--dlt")
    parser.add_argument("--as", dest="as_name", help="run under another name (own schemas)")
    parser.add_argument("--max-lag", type=int, default=0, help="rebuild: swap once lag <= this")
    parser.add_argument(
        "--workers", type=int, help="rebuild: replaying processes (default: one per core)"
    )
    args = parser.parse_args()
    spec = _spec(args)
    if args.action == "run":
        run_process(f"projection:{spec.name}", partial(_run, spec))
        return
    settings = Settings()
    configure_logging(settings.log_level, settings.log_json)
    version = asyncio.run(
        rebuild(
            settings.kafka_bootstrap,
            settings.database_url,
            spec,
            max_lag=args.max_lag,
            workers=args.workers,
        )
    )
    print(f"{spec.name}: version {version.number} is live (schema {version.schema})")


if __name__ == "__main__":
    main()
