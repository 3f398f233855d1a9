"""glibc heap thresholds raised by ``import ddlib`` (ddlib.core.allocator).

Each case runs in a fresh interpreter, because mallopt settings are per process. The effect is
counted in minor page faults over 20 passes of a forward-pass-like pattern (8 MiB tensors of
2,048 pages of 4 KiB, allocated, combined and freed). With glibc's default mmap threshold fixed
(128 KiB) every pass faults in fresh pages (measured 18,441 per pass); with its dynamic default the
count depends on the heap's layout (measured 0 to 10,000 per pass), so no test pins it; with freed
memory retained the warmed-up passes fault in none (measured 0).
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

COUNT_FAULTS = """
import resource, sys, torch
if sys.argv[1] == "ddlib":
    import ddlib
def one_pass():
    x = torch.empty(2**21).fill_(1.0)
    for _ in range(4):
        y = torch.empty(2**21).fill_(1.0)
        x = x + y
for _ in range(3):
    one_pass()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(20):
    one_pass()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""
PAGES_PER_TENSOR = 2**23 // 4096

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="mallopt is glibc's (Linux)"
)


def _faults(mode: str, **environment: str) -> int:
    env = {key: value for key, value in os.environ.items() if not key.startswith("MALLOC_")}
    env.update(environment)
    result = subprocess.run(
        [sys.executable, "-c", COUNT_FAULTS, mode],
        capture_output=True, text=True, check=True, env=env, timeout=120,
    )
    return int(result.stdout.strip().splitlines()[-1])


def test_importing_ddlib_reuses_freed_memory() -> None:
    assert _faults("ddlib") < PAGES_PER_TENSOR


def test_user_thresholds_are_left_alone() -> None:
    # the user's own glibc setting (here: glibc's default mmap threshold, fixed) wins over ddlib's
    assert _faults("ddlib", MALLOC_MMAP_THRESHOLD_="131072") >= 20 * PAGES_PER_TENSOR


def test_retain_freed_memory_reports_what_it_did(monkeypatch: pytest.MonkeyPatch) -> None:
    from ddlib.core.allocator import retain_freed_memory

    assert retain_freed_memory() is True
    for opt_out in ("MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_", "DDLIB_MALLOC_DEFAULTS"):
        with monkeypatch.context() as patch:
            patch.setenv(opt_out, "131072")
            assert retain_freed_memory() is False
