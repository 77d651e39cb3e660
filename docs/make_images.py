"""Draw the README's three pictures into docs/images/ (plan, check, analyze), small PNGs.

Usage::

    .venv/bin/python docs/make_images.py

- plan: ``recipes/mettannealing.toml``;
- check: ``recipes/theta-pulse.toml`` rendered at 16 kHz (25 minutes) and checked, with one
  extra target that expects the wrong rate (a failure to show);
- analyze: 40 s of a synthetic drum pattern at 100 BPM (kick on the beats, hats on the
  eighths, a little noise), made here (no music ships with resonator).
"""
from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "images"
DPI = 60


def drums(path: Path, seconds: float = 40.0, sr: int = 22050, bpm: float = 100.0) -> None:
    import soundfile as sf

    rng = np.random.default_rng(7)
    x = 0.01 * rng.standard_normal(int(seconds * sr))
    beat = 60.0 / bpm
    n = int(0.2 * sr)
    tt = np.arange(n) / sr
    kick = 0.7 * np.exp(-tt / 0.05) * np.sin(2 * np.pi * (50 + 60 * np.exp(-tt / 0.02)) * tt)
    hat = 0.15 * np.exp(-tt / 0.01) * rng.standard_normal(n)
    for k, t0 in enumerate(np.arange(0.25, seconds - 0.3, beat / 2)):
        i = int(t0 * sr)
        x[i:i + n] += (kick if k % 2 == 0 else 0) + hat
    sf.write(path, x, sr)


def main() -> int:
    import matplotlib.pyplot as plt

    from resonator.analysis.features import features_from_file
    from resonator.analysis.plot import analysis_figure
    from resonator.analysis.report import _analyze
    from resonator.check import check_file, parse_target_arg
    from resonator.check.plot import check_figure
    from resonator.recipe import render_recipe
    from resonator.recipe.plan_plot import plan_figure

    OUT.mkdir(parents=True, exist_ok=True)
    fig = plan_figure(ROOT / "recipes" / "mettannealing.toml", points=1000)
    fig.savefig(OUT / "plan.png", dpi=DPI)
    plt.close(fig)
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "theta-pulse.wav"
        render_recipe(ROOT / "recipes" / "theta-pulse.toml", wav, sr=16000)
        report = check_file(wav, targets=[parse_target_arg("am_rate:20m-24m:4Hz:0.05")])
        report.file = "renders/theta-pulse.wav"
        fig = check_figure(report)
        fig.savefig(OUT / "check.png", dpi=DPI)
        plt.close(fig)
        song = Path(tmp) / "drums.wav"
        drums(song)
        report, internals = _analyze(features_from_file(song, peaks=True), keep_acf=True,
                                     release=False)
        report["path"] = "drums.wav"
        fig = analysis_figure(report, internals)
        fig.savefig(OUT / "analyze.png", dpi=DPI)
        plt.close(fig)
    for p in sorted(OUT.glob("*.png")):
        print(f"{p.relative_to(ROOT)}: {p.stat().st_size // 1024} KiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
