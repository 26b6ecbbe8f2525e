"""The benchmarks' CPU meter reads /proc the way ps does: a busy process's seconds grow,
a server's children are found by their parent."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from bench.cpu import CpuMeter, ms_per_request, postmaster_of, spent_between

pytestmark = pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="Linux /proc")


def test_a_busy_child_is_charged_its_cpu_and_found_by_its_parent() -> None:
    busy = subprocess.Popen([sys.executable, "-c", "import time\nend = time.process_time() + 0.3\n"
                             "while time.process_time() < end: pass\ntime.sleep(30)"])  # fmt: skip
    try:
        meter = CpuMeter({}, postmaster=os.getpid())  # this test is the child's "server"
        assert postmaster_of(busy.pid) == os.getpid()
        before = meter.snapshot()
        deadline = time.monotonic() + 20
        while spent_between(before, meter.snapshot())["postgres"] < 0.25:
            assert time.monotonic() < deadline, "the child's CPU never showed"
            time.sleep(0.05)
    finally:
        busy.kill()
        busy.wait()


def test_milliseconds_per_request() -> None:
    assert ms_per_request({"gateway": 1.5, "client": 0.25}, 500) == {"gateway": 3.0, "client": 0.5}
