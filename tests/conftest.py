"""Shared helpers for the test suite: known-answer measurement utilities."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import settings

# property tests explore the same examples on every run: CI never turns red by chance
settings.register_profile("resonator", derandomize=True, deadline=None)
settings.load_profile("resonator")


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory, monkeypatch):
    """Every test gets its own empty user cache (never the real ~/.cache/resonator)."""
    monkeypatch.setenv("RESONATOR_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))


def peak_hz(x: np.ndarray, sr: int, fmin: float = 0.0, fmax: float | None = None) -> float:
    """Peak frequency with a Hann window, 8x zero padding and parabolic interpolation."""
    n = len(x)
    w = np.hanning(n)
    nfft = 8 * int(2 ** np.ceil(np.log2(n)))
    mag = np.abs(np.fft.rfft(x * w, nfft))
    f = np.fft.rfftfreq(nfft, 1 / sr)
    lo = np.searchsorted(f, fmin)
    hi = len(f) if fmax is None else np.searchsorted(f, fmax)
    k = lo + int(np.argmax(mag[lo:hi]))
    a, b, c = np.log(mag[k - 1 : k + 2] + 1e-300)
    p = 0.5 * (a - c) / (a - 2 * b + c)
    return float((k + p) * sr / nfft)


def spectral_slope_db_per_decade(x: np.ndarray, sr: int, lo: float = 50, hi: float = 10000):
    """(slope, worst deviation in dB) of a Welch PSD fitted on log-spaced points in [lo, hi]."""
    from scipy import signal

    f, p = signal.welch(x, sr, nperseg=1 << 15)
    centres = np.geomspace(lo, hi, 25)
    vals = []
    for fc in centres:  # third-octave-ish band averages
        m = (f >= fc / 2 ** (1 / 6)) & (f < fc * 2 ** (1 / 6))
        vals.append(10 * np.log10(np.mean(p[m])))
    vals = np.array(vals)
    slope, icpt = np.polyfit(np.log10(centres), vals, 1)
    dev = vals - (slope * np.log10(centres) + icpt)
    return float(slope), float(np.max(np.abs(dev)))


@pytest.fixture
def sr48():
    return 48000


# ---------------------------------------------------------------- browser tests (studio)
def pytest_terminal_summary(terminalreporter):
    """Say how many browser tests ran (they need Chromium: never a silent skip)."""
    counts = {"passed": 0, "failed": 0, "skipped": 0, "error": 0}
    reasons = set()
    for key in counts:
        for rep in terminalreporter.stats.get(key, []):
            if "browser" not in getattr(rep, "keywords", {}) or rep.when not in ("call", "setup"):
                continue
            if key == "skipped":
                reasons.add(str(rep.longrepr[-1]) if isinstance(rep.longrepr, tuple) else "")
            if rep.when == "call" or key in ("skipped", "error"):
                counts[key] += 1
    total = sum(counts.values())
    if not total:
        return
    ran = counts["passed"] + counts["failed"] + counts["error"]
    line = f"browser tests: {ran} ran in Chromium ({counts['passed']} passed, " \
           f"{counts['failed'] + counts['error']} failed), {counts['skipped']} skipped"
    if reasons:
        line += f": {'; '.join(sorted(r for r in reasons if r))}"
    terminalreporter.write_line(line)

