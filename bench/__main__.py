"""``make bench``: run the benchmarks, write bench/results/<name>.json, print one line each."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys

from bench import (
    backbone,
    faults,
    gateway,
    privacy,
    projections,
    sales,
    support,
    support_detection,
    support_sla,
)
from bench.common import endpoints, machine, write_result

BENCHMARKS = {
    "append": backbone.bench_append,
    "relay": backbone.bench_relay,
    "end_to_end": backbone.bench_end_to_end,
    "sales_api": sales.bench_sales_api,
    "replay": projections.bench_replay,
    "search": projections.bench_search,
    "timeline_page": projections.bench_timeline_page,
    "gateway": gateway.bench_gateway,
    "faults": faults.bench_faults,
    "privacy_append": privacy.bench_privacy_append,
    "privacy_replay": privacy.bench_privacy_replay,
    "erasure": privacy.bench_erasure,
    "support_cases": support.bench_support_cases,
    "support_detection": support_detection.bench_support_detection,
    "support_sla": support_sla.bench_support_sla,
}


async def main(names: list[str]) -> int:
    if not os.environ.get("CRM_MASTER_KEY") and not os.environ.get("CRM_KEY_PROVIDER"):
        # The local installation's key, as `make run` and the tests use.
        from deploy.local.config import ensure_master_key

        os.environ["CRM_MASTER_KEY"] = ensure_master_key()
    ep = endpoints()
    about = await machine(ep.database_url)
    for name in names:
        result = await BENCHMARKS[name](ep)
        result["machine"] = about
        path = write_result(name, result)
        verdict = "meets" if result.get("target_met") else "MISSES"
        print(
            f"{name}: {result['value']} {result['unit']} vs baseline {result['baseline_value']} "
            f"(ratio {result['ratio']}); target {result['target']}: {verdict}  -> {path}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("names", nargs="*", help=f"any of {', '.join(BENCHMARKS)} (default all)")
    args = parser.parse_args()
    unknown = set(args.names) - set(BENCHMARKS)
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    sys.exit(asyncio.run(main(args.names or list(BENCHMARKS))))
