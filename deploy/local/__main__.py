"""Command line: ``python -m deploy.local up|down|status|restart-kafka [--hard]``."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from deploy.local.launcher import (
    LauncherError,
    LocalConfig,
    down,
    ensure_up,
    start_kafka,
    status,
    stop_kafka,
)

# Exit code of `status` when something is not running, as in LSB init scripts and pg_ctl.
NOT_RUNNING = 3


def _healthy(report: dict[str, dict[str, Any]]) -> bool:
    return all(part["running"] and part["healthy"] for part in report.values())


def _print_status(report: dict[str, dict[str, Any]]) -> None:
    for name, part in report.items():
        if part["running"]:
            state = "running" if part["healthy"] else "running, NOT answering"
            pid = f"pid {part['pid']}"
        else:
            state, pid = "stopped", "pid -"
        print(f"{name:<9} {state:<8} {pid:<11} port {part['port']:<6} log {part['log']}")
        if part.get("note"):
            print(f"{'':<9} note: {part['note']}")


def _print_endpoints(config: LocalConfig) -> None:
    endpoints = config.endpoints
    print(f"kafka bootstrap: {endpoints.kafka_bootstrap}")
    print(f"database url:    {endpoints.database_url}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m deploy.local",
        description="Run Kafka and PostgreSQL locally without Docker "
        "(settings: CRM_LOCAL_DIR, CRM_KAFKA_PORT, CRM_KAFKA_CONTROLLER_PORT, "
        "CRM_KAFKA_HEAP, CRM_PG_PORT).",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("up", help="start what is not running and wait until ready")
    commands.add_parser("down", help="stop both (data is kept)")
    commands.add_parser("status", help=f"show each component; exit {NOT_RUNNING} if one is down")
    restart = commands.add_parser("restart-kafka", help="stop and start the broker")
    restart.add_argument("--hard", action="store_true", help="SIGKILL instead of SIGTERM")
    args = parser.parse_args(argv)

    try:
        config = LocalConfig.from_env()
        if args.command == "up":
            if _healthy(status(config)):
                print("already running and healthy")
            else:
                ensure_up(config)
                print("up")
            _print_endpoints(config)
        elif args.command == "down":
            down(config)
            print("down")
        elif args.command == "status":
            report = status(config)
            _print_status(report)
            return 0 if _healthy(report) else NOT_RUNNING
        elif args.command == "restart-kafka":
            stop_kafka(config, hard=args.hard)
            start_kafka(config)
            print("kafka restarted")
    except LauncherError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
