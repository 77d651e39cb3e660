"""Bounded resources and nothing left behind: limits that refuse clearly, costs that follow the
work asked for, and default output folders that go again when a run fails."""
from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf

from resonator.cli import main
from resonator.errors import RecipeError
from resonator.recipe.loader import MAX_ENTRIES, load_raw

NOISE = """title = "t"
max_duration = "100h"
fade_in = "1s"
fade_out = "1s"

[[phase]]
name = "a"
duration = "{duration}"

[[layer]]
name = "bed"
kind = "noise"
color = "pink"
gain = "-14 dB"
"""


def test_a_window_of_a_very_long_session_is_not_measured_whole(tmp_path, capsys):
    """A 40-hour session: a 1 s window gets the estimated stage (48 short windows), so it
    takes seconds, and is still at the recipe's loudness (stationary pink noise)."""
    (tmp_path / "long.toml").write_text(NOISE.format(duration="40h"))
    out = tmp_path / "w.wav"
    assert main(["render", str(tmp_path / "long.toml"), "--start", "20h", "--duration", "3s",
                 "-o", str(out), "-q"]) == 0
    side = json.loads(out.with_suffix(".json").read_text())
    assert side["loudness"]["stage"] == "estimated"
    assert any("estimated from 48 short windows" in w for w in side["warnings"])
    import pyloudnorm

    x, sr = sf.read(out)
    lufs = pyloudnorm.Meter(sr).integrated_loudness(x)
    assert abs(lufs - (-20.0)) < 1.0, lufs


def test_a_window_of_a_session_under_the_limit_is_still_measured(tmp_path):
    (tmp_path / "short.toml").write_text(NOISE.format(duration="30s"))
    out = tmp_path / "w.wav"
    assert main(["render", str(tmp_path / "short.toml"), "--start", "10s", "--duration", "1s",
                 "-o", str(out), "-q"]) == 0
    assert json.loads(out.with_suffix(".json").read_text())["loudness"]["stage"] == "measured"


def test_the_layer_limit_counts_what_extends_brings(tmp_path):
    most = MAX_ENTRIES["layer"]
    layers = "".join(f'[[layer]]\nname = "n{i}"\nkind = "noise"\ngain = "-60 dB"\n'
                     for i in range(most - 2))  # (and bed)
    (tmp_path / "base.toml").write_text(NOISE.format(duration="1m") + layers)
    (tmp_path / "one-more.toml").write_text(
        'extends = "base.toml"\n[[layer]]\nname = "x"\nkind = "noise"\ngain = "-60 dB"\n')
    (tmp_path / "two-more.toml").write_text(
        'extends = "one-more.toml"\n[[layer]]\nname = "y"\nkind = "noise"\ngain = "-60 dB"\n')
    assert len(load_raw(tmp_path / "one-more.toml").data["layer"]) == most
    with pytest.raises(RecipeError, match=rf"two-more\.toml: layer: {most + 1} \[\[layer\]\] "
                                          rf"tables; a recipe may hold at most {most}$"):
        load_raw(tmp_path / "two-more.toml")


def test_a_failed_render_leaves_no_default_folder(tmp_path, monkeypatch, capsys):
    """renders/ is made for the output before the session is built; a layer that cannot be
    built (a music file that is a folder) must not leave it behind."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "m.toml").write_text(NOISE.format(duration="1m") + (
        '[[layer]]\nname = "m"\nkind = "music"\nfile = "."\n'))
    assert main(["render", "m.toml"]) == 2
    assert "is a folder, not a music file" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.toml"]
    (tmp_path / "renders").mkdir()  # a folder that was there stays
    assert main(["render", "m.toml"]) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.toml", "renders"]


def test_a_failed_sweep_leaves_no_folders(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "r.toml").write_text(NOISE.format(duration="1m"))
    assert main(["sweep", "r.toml", "--vary", "layer.bed.gain=-10dB,loud"]) == 2
    err = capsys.readouterr().err
    assert err == ('resonator sweep: error: --vary: layer.bed.gain=loud makes an invalid recipe: '
                   '"loud" is not a gain: expected decibels ("-18 dB", "-18dB", "-18") or "off" '
                   "(-inf dB)\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.toml"]
    assert main(["sweep", "r.toml", "--vary", "layer.bed.gain=-10dB", "--duration", "0"]) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.toml"]


def test_analyze_plots_of_files_with_one_name_do_not_overwrite_each_other(tmp_path, capsys):
    t = np.arange(48000 * 4) / 48000
    for folder, f in (("a", 2.0), ("b", 4.0)):
        (tmp_path / folder).mkdir()
        x = 0.3 * np.sin(2 * np.pi * 220 * t) * (0.6 + 0.4 * np.sin(2 * np.pi * f * t))
        sf.write(tmp_path / folder / "take.wav", x, 48000)
    plots = tmp_path / "plots"
    assert main(["analyze", str(tmp_path / "a" / "take.wav"), str(tmp_path / "b" / "take.wav"),
                 "--plot", str(plots), "--no-loudness"]) == 0
    out = capsys.readouterr().out
    names = sorted(p.name for p in plots.iterdir())
    assert len(names) == 2 and names[0] != names[1], names
    for n in names:  # analyze says where each plot went
        assert f"  plot {plots / n}\n" in out
