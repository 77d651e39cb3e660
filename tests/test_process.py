"""The command line's whole-process settings (resonator._process): one BLAS thread, a malloc
top pad. Each case runs in a fresh interpreter (the BLAS setting only acts before numpy loads)."""
import os
import subprocess
import sys

import pytest

# a block loop shaped like the analysis pass: FFT, magnitude, log of 256 x 1024 frames
_LOOP = """
import resource
import numpy as np
x = np.random.default_rng(0).standard_normal((256, 1024)).astype(np.float32)
f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for i in range(100):
    s = np.fft.rfft(x * 2, axis=1)
    m = np.abs(s) ** 2
    del s
    y = np.log1p(m)
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0)
"""


def _run(code: str, tuned: bool, **env) -> str:
    head = "from resonator._process import tune\ntune()\n" if tuned else ""
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith("MALLOC_") and k not in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
    return subprocess.run([sys.executable, "-c", head + code], capture_output=True, text=True,
                          check=True, env={**clean, **env}).stdout.strip()


_BLAS = """
import threadpoolctl
import numpy as np
np.ones((64, 64)) @ np.ones((64, 64))
import os
print(os.environ.get("OPENBLAS_NUM_THREADS"),
      min(p["num_threads"] for p in threadpoolctl.threadpool_info() if p["user_api"] == "blas"))
"""


def test_blas_gets_one_thread_unless_the_user_chose():
    pytest.importorskip("threadpoolctl")
    if os.cpu_count() < 2:
        pytest.skip("one core: BLAS has one thread anyway")
    assert _run(_BLAS, tuned=True) == "1 1"
    assert _run(_BLAS, tuned=True, OPENBLAS_NUM_THREADS="2") == "2 2"
    assert _run(_BLAS, tuned=False).startswith("None ")  # (the machine's default: not asserted)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc mallopt only")
def test_freed_blocks_stay_mapped():
    # 100 loops of ~3 MB of temporaries: glibc alone returns them to the kernel and faults
    # about 100 thousand fresh pages in again; with the top pad about 1.6 thousand
    tuned, plain = int(_run(_LOOP, tuned=True)), int(_run(_LOOP, tuned=False))
    assert tuned < 10_000
    assert plain > 3 * tuned  # the loop does provoke the faults the pad avoids
    # a MALLOC_* variable means the user tunes malloc: left alone
    assert int(_run(_LOOP, tuned=True, MALLOC_ARENA_MAX="4")) > 3 * tuned
