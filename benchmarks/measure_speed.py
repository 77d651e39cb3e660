"""Time the streaming measurement primitives over a long 48 kHz stereo signal.

Synthesises the audio block by block (binaural 205/195 Hz tones, 10 Hz isochronic-style AM,
pink-ish noise) so the whole session never sits in memory, and feeds every block to the
streaming measures. Prints seconds per measure and peak RSS.

    .venv/bin/python benchmarks/measure_speed.py            # 60 minutes
    .venv/bin/python benchmarks/measure_speed.py --minutes 5
"""
from __future__ import annotations

import argparse
import resource
import time

import numpy as np
from scipy import signal

from resonator.measure.dynamics import ClickDetector
from resonator.measure.loudness import LoudnessMeter
from resonator.measure.modulation import EnvelopeStream, am_rate_depth_from_envelope


def blocks(minutes: float, sr: int, block: int):
    n_total = int(minutes * 60 * sr)
    rng = np.random.default_rng(0)
    b, a = signal.butter(1, 200, fs=sr)
    zi = np.zeros((2, 1))
    for start in range(0, n_total, block):
        n = min(block, n_total - start)
        t = (start + np.arange(n)) / sr
        am = 0.75 + 0.25 * np.cos(2 * np.pi * 10 * t)
        tones = np.vstack([np.sin(2 * np.pi * 205 * t), np.sin(2 * np.pi * 195 * t)]) * am
        noise, zi = signal.lfilter(b, a, rng.standard_normal((2, n)), axis=1, zi=zi)
        yield 0.2 * tones + 0.05 * noise


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=60.0)
    ap.add_argument("--sr", type=int, default=48000)
    ap.add_argument("--block", type=int, default=65536)
    args = ap.parse_args()
    sr = args.sr
    meters = {
        "loudness (K-weighting, gating blocks)": LoudnessMeter(sr, 2, true_peak=False),
        "true peak (4x polyphase)": LoudnessMeter(sr, 2, true_peak=True),
        "clicks (3rd difference, local RMS)": ClickDetector(sr, 2),
        "envelope (Hilbert, decimated to 256 Hz)": EnvelopeStream(sr, 2, max_hz=64),
    }
    spent = dict.fromkeys(meters, 0.0)
    gen = 0.0
    t0 = time.perf_counter()
    for blk in blocks(args.minutes, sr, args.block):
        gen -= time.perf_counter()
        gen += time.perf_counter()
        for name, m in meters.items():
            s = time.perf_counter()
            if name.startswith("true peak"):
                m._update_true_peak(blk)  # only the true-peak part of the meter
            else:
                m.update(blk)
            spent[name] += time.perf_counter() - s
    for name in ("clicks (3rd difference, local RMS)", "envelope (Hilbert, decimated to 256 Hz)"):
        s = time.perf_counter()
        meters[name].finish()
        spent[name] += time.perf_counter() - s
    s = time.perf_counter()
    lm = meters["loudness (K-weighting, gating blocks)"]
    res = (lm.integrated(), lm.loudness_range(), lm.short_term()[1].size)
    spent["loudness (K-weighting, gating blocks)"] += time.perf_counter() - s
    s = time.perf_counter()
    env = meters["envelope (Hilbert, decimated to 256 Hz)"]
    rate, depth = am_rate_depth_from_envelope(env.envelope, env.env_sr)
    spent["envelope (Hilbert, decimated to 256 Hz)"] += time.perf_counter() - s
    wall = time.perf_counter() - t0
    print(f"{args.minutes:g} min of {sr} Hz stereo, blocks of {args.block} frames")
    for name, sec in spent.items():
        print(f"  {name:42s} {sec:7.2f} s")
    print(f"  {'total incl. synthesis':42s} {wall:7.2f} s")
    print(f"  integrated {res[0]:.2f} LUFS, LRA {res[1]:.2f} LU, {res[2]} short-term values, "
          f"true peak {meters['true peak (4x polyphase)'].true_peak_dbtp():.2f} dBTP, "
          f"AM {rate:.4f} Hz depth {depth:.3f}, clicks {len(meters['clicks (3rd difference, local RMS)'].clicks)}")
    print(f"  peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
