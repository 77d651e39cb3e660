"""Every shipped recipe's render passes its written and implied targets (short windows), and
the full-session checks (loudness, true peak, fades) on a small normalised recipe."""
from __future__ import annotations

import json
import textwrap
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from resonator.check import check_file
from resonator.cli import main
from resonator.recipe import render_recipe

RECIPES = Path(__file__).resolve().parents[1] / "recipes"

# (recipe, start, duration, target kinds that must be among the evaluated ones)
WINDOWS = [
    ("focus", "0s", "30s", {"fade_in", "am_rate", "am_depth", "lr_correlation"}),
    ("focus", "380s", "30s", {"am_rate", "am_depth"}),  # a sample of the depth at 392-396 s
    # the end of the bed's glide into "focus" (3:00-4:30) and after: the written 16 Hz
    # target is read after the glide (it started at 4:00 and failed such a window)
    ("focus", "250s", "40s", {"am_rate"}),
    ("gamma-40", "100s", "20s", {"am_rate", "gamma_share"}),
    ("gamma-40", "3560s", "40s", {"fade_out"}),
    ("mettannealing", "400s", "60s", {"am_rate", "am_depth", "gamma_share", "breath_rate"}),
    ("mettannealing-fast-cooling", "1500s", "130s",
     {"loudness_trend", "centroid_trend", "binaural_beat", "binaural_carrier", "breath_rate"}),
    ("mettannealing-hot", "300s", "30s", {"am_depth"}),
    ("mettannealing-music", "145s", "60s", {"music_track", "music_tempo", "music_beat_lock",
                                            "music_join", "music_boundary", "music_shift"}),
    ("mettannealing-preload", "30s", "30s", {"clicks"}),
    ("mettannealing-slow-cooling", "2000s", "30s", {"binaural_carrier"}),
    ("resonance-breathing", "0s", "60s", {"breath_rate", "lr_correlation", "fade_in"}),
    ("sleep-descent", "560s", "60s", {"binaural_beat", "binaural_carrier", "lr_correlation"}),
    ("theta-pulse", "960s", "40s", {"am_rate"}),
]


def test_every_shipped_recipe_has_a_window():
    assert {w[0] for w in WINDOWS} == {p.stem for p in RECIPES.glob("*.toml")}


@pytest.mark.parametrize("name,start,duration,kinds", WINDOWS,
                         ids=[f"{w[0]}@{w[1]}" for w in WINDOWS])
def test_shipped_recipe_window_passes(tmp_path, name, start, duration, kinds):
    out = tmp_path / f"{name}.wav"
    render_recipe(RECIPES / f"{name}.toml", out, start=start, duration=duration,
                  normalize=False)
    rep = check_file(out)
    failed = [(r.target.kind, r.target.layer, r.measured, r.target.expected, r.detail)
              for r in rep.results if not r.passed]
    assert rep.passed, failed
    assert kinds <= {r.target.kind for r in rep.results}
    # windows are in file seconds, inside the file
    assert all(0 <= r.target.start_s < r.target.end_s <= rep.duration_s + 1e-6
               for r in rep.results)
    assert any("normalised" in why for _, why in rep.skipped)


SMALL = textwrap.dedent("""
    title = "small"
    sample_rate = 16000
    fade_in = "3s"
    fade_out = "4s"
    loudness = "-23 LUFS"
    true_peak = "-2 dBTP"
    [[phase]]
    name = "one"
    duration = "25s"
    [[layer]]
    name = "beat"
    kind = "binaural"
    carrier = "300 Hz"
    beat = "6 Hz"
    gain = "-6 dB"
    [[layer]]
    name = "bed"
    kind = "noise"
    color = "pink"
    gain = "-12 dB"
    [[target]]
    kind = "binaural_beat"
    layer = "beat"
    window = "one"
    expected = "6 Hz"
    tolerance = "0.02 Hz"
    """).lstrip()


@pytest.fixture
def small(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    p = tmp_path / "small.toml"
    p.write_text(SMALL)
    return p


def test_full_normalised_render_and_cli(small, tmp_path, capsys):
    assert main(["render", str(small), "-o", "small.wav", "--check", "-q"]) == 0
    out = capsys.readouterr().out
    assert "PASS" in out
    assert main(["check", "small.wav", "--json", "r.json", "--plot", "r.png"]) == 0
    data = json.loads(Path("r.json").read_text())
    kinds = {r["kind"] for r in data["results"]}
    assert {"loudness", "true_peak", "fade_in", "fade_out", "clicks", "binaural_beat",
            "binaural_carrier", "lr_correlation"} <= kinds
    loud = next(r for r in data["results"] if r["kind"] == "loudness")
    assert abs(loud["measured"] + 23) <= 0.5 and loud["passed"]
    assert Path("r.png").stat().st_size > 10000
    # a render without its fades fails them
    x, sr = sf.read("small.wav", always_2d=True)
    t = np.arange(x.shape[0]) / sr
    g = np.clip(np.minimum(t / 3, (t[-1] - t) / 4), 0, 1)
    g = 0.5 - 0.5 * np.cos(np.pi * g)
    y = x / np.maximum(g, 1e-3)[:, None] * 0.5
    sf.write("nofade.wav", np.clip(y, -1, 1), sr)
    rep = check_file("nofade.wav", small)
    fades = {r.target.kind: r.passed for r in rep.results if r.target.kind.startswith("fade")}
    assert fades == {"fade_in": False, "fade_out": False}


def test_window_render_targets_move_with_the_window(small, capsys):
    assert main(["render", str(small), "-o", "w.wav", "--start", "10s", "--duration", "8s",
                 "-q", "--no-normalize"]) == 0
    rep = check_file("w.wav")
    beat = next(r for r in rep.results if r.target.kind == "binaural_beat")
    assert rep.offset_s == 10.0 and beat.passed
    assert beat.target.start_s == 0.0 and beat.target.end_s == pytest.approx(8.0)
    skipped = {t.kind for t, _ in rep.skipped}
    assert {"fade_in", "fade_out", "loudness"} <= skipped
    assert main(["check", "w.wav", "--tolerance-scale", "0"]) == 2
