"""Calibrate the pulse-significance test (``tempo.pulse_z``) on signals without a pulse and on music.

Null signals, each at 6, 12, 20, 30 and 90 s and ``--seeds`` seeds: white, pink and brown noise,
random clicks (Poisson, 3 a second, decaying noise bursts), rain-like noise (40 small drops a
second over a noise floor), a noisy drone (five harmonics of 55 Hz at random phases under brown
noise) and a gliding binaural pair (200 Hz, its beat gliding 3 -> 1.5 Hz over the signal, as a
sleep-descent render's; stereo, analysed as the mono mix, where it is a slowly changing beat). For each the analysis reports a tempo anyway; the script prints the largest ``pulse_z``
per kind and duration class (shorter than two 12 s windows, or not) and how many reach the
thresholds ``tempo.PULSE_Z_SHORT`` / ``tempo.PULSE_Z``, and the largest ``pulse_contrast``
(``tempo.pulse_contrast``: the salience over the whole tempogram) among them. Then the rendered corpus pieces of
``build_dataset.py`` (all batches: none of this touches the level choice or the beats) give the
music side: quantiles of ``pulse_z`` and the pieces below the threshold.

Usage::

    .venv/bin/python benchmarks/analysis/pulse_null.py [--seeds 8] [--no-corpus]
"""
from __future__ import annotations

import argparse
import json
import warnings
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parents[1] / "out" / "analysis"
SR = 22050
KINDS = ("white", "pink", "brown", "clicks", "rain", "drone", "glide")
DURATIONS_S = (6.0, 12.0, 20.0, 30.0, 90.0)


def null_signal(kind: str, seconds: float, seed: int) -> np.ndarray:
    """A pulse-free test signal, 0.1 RMS."""
    rng = np.random.default_rng(seed)
    n = int(seconds * SR)
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.arange(spec.size, dtype=np.float64)
    f[0] = 1.0
    if kind == "white":
        x = rng.standard_normal(n)
    elif kind == "pink":
        x = np.fft.irfft(spec / np.sqrt(f), n)
    elif kind == "brown":
        x = np.fft.irfft(spec / f, n)
    elif kind == "clicks":
        x = np.zeros(n)
        hit = rng.random(n) < 3.0 / SR
        x[hit] = rng.choice([-1.0, 1.0], hit.sum())
        x = np.convolve(x, np.exp(-np.arange(2000) / 200.0) * rng.standard_normal(2000), "same")
    elif kind == "rain":
        x = np.zeros(n)
        hit = rng.random(n) < 40.0 / SR
        x[hit] = rng.random(hit.sum())
        x = np.convolve(x, np.exp(-np.arange(400) / 60.0) * rng.standard_normal(400), "same")
        x = x + 0.05 * np.std(x) * rng.standard_normal(n)
    elif kind == "glide":
        t = np.arange(n) / SR
        half = 0.5 * (3.0 * t - 1.5 * t ** 2 / (2 * seconds))
        x = np.stack([np.sin(2 * np.pi * (200.0 * t + half)), np.sin(2 * np.pi * (200.0 * t - half))])
        return 0.1 * x / np.std(x)
    elif kind == "drone":
        t = np.arange(n) / SR
        x = sum(np.sin(2 * np.pi * 55.0 * h * t + rng.uniform(0, 2 * np.pi)) for h in range(1, 6))
        b = np.fft.irfft(spec / f, n)
        x = x + 2.0 * b / np.std(b)
    else:
        raise ValueError(kind)
    return 0.1 * x / np.std(x)


def tempo_of(feat) -> dict:
    from resonator.analysis.tempo import estimate_tempo

    return estimate_tempo(feat.onset, feat.fps, onset_low=feat.onset_low, chroma=feat.chroma,
                          chroma_fps=feat.chroma_fps)


def main(argv=None):
    from resonator.analysis.features import features_from_file, features_from_signal
    from resonator.analysis.tempo import PULSE_Z, PULSE_Z_SHORT, WIN_S

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=8, help="signals per kind and duration")
    ap.add_argument("--no-corpus", action="store_true", help="skip the rendered corpus pieces")
    args = ap.parse_args(argv)
    warnings.filterwarnings("ignore")
    print(f"thresholds: pulse_z >= {PULSE_Z_SHORT} below {2 * WIN_S:g} s, >= {PULSE_Z} from there")
    print("| null signal | duration | signals | largest pulse_z | its pulse_contrast | significant |")
    print("|---|---|---|---|---|---|")
    worst = {False: 0.0, True: 0.0}
    false_pos = {False: 0, True: 0}
    total = {False: 0, True: 0}
    for kind in KINDS:
        for d in DURATIONS_S:
            zs, cs, sig = [], [], 0
            for seed in range(args.seeds):
                t = tempo_of(features_from_signal(null_signal(kind, d, 1000 * seed + int(d)), SR,
                                                  loudness=False))
                zs.append(t.get("pulse_z", 0.0))
                cs.append(t.get("pulse_contrast", 0.0))
                sig += bool(t.get("significant"))
            long = d >= 2 * WIN_S
            worst[long] = max(worst[long], max(zs))
            false_pos[long] += sig
            total[long] += len(zs)
            c = cs[int(np.argmax(zs))]
            print(f"| {kind} | {d:g} s | {len(zs)} | {max(zs):.2f} | {c:.2f} | {sig} |", flush=True)
    for long in (False, True):
        print(f"{'>= 24 s' if long else '< 24 s'}: largest pulse_z {worst[long]:.2f}, "
              f"significant {false_pos[long]} of {total[long]}")
    if args.no_corpus:
        return
    manifest = json.loads((OUT / "manifest.json").read_text())
    rows = []
    for m in manifest:
        wav = OUT / f"{m['id']}.wav"
        if not wav.exists():
            continue
        t = tempo_of(features_from_file(wav, loudness=False))
        ok = t["bpm"] is not None and abs(t["bpm"] / m["bpm"] - 1) <= 0.04
        rows.append((t.get("pulse_z", 0.0), m["id"], bool(t.get("significant")), ok,
                     t.get("pulse_contrast", 0.0)))
    z = np.array([r[0] for r in rows])
    print(f"\ncorpus: {len(rows)} pieces, pulse_z quantiles 0/5/25/50 %: "
          + ", ".join(f"{q:.1f}" for q in np.percentile(z, [0, 5, 25, 50])))
    c = np.array([r[4] for r in rows if r[0] >= 4.0])
    print("pulse_contrast of the pieces with pulse_z >= 4, quantiles 0/5/25/50 %: "
          + ", ".join(f"{q:.1f}" for q in np.percentile(c, [0, 5, 25, 50])))
    low = sorted(r for r in rows if not r[2])
    print(f"not significant: {len(low)} of {len(rows)}")
    for zz, pid, _, ok, cc in low:
        print(f"  {pid}: pulse_z {zz:.2f}, pulse_contrast {cc:.1f}, tempo "
              f"{'right' if ok else 'wrong'} level")


if __name__ == "__main__":
    main()
