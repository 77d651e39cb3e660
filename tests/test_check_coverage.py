"""A long target is sampled over its whole span: a fault between the few windows a long span
used to be read in (a 41-minute am_rate target was read in three 15 s windows) fails it."""
from __future__ import annotations

import math
import textwrap
from pathlib import Path

import numpy as np
import soundfile as sf

from resonator.check import check_file, parse_target_arg
from resonator.check.kinds import base
from resonator.check.kinds.base import MAX_GAP_S, spread
from resonator.check.targets import targets_from_session
from resonator.layers._common import GLIDE_GAP_S
from resonator.recipe import build_session, load_recipe, render_recipe

RECIPE = textwrap.dedent("""\
    title = "coverage"
    sample_rate = 8000
    [[phase]]
    name = "main"
    duration = "8m"
    [[layer]]
    name = "bed"
    kind = "noise"
    color = "pink"
    lowpass = "3 kHz"
    mod_rate = "16 Hz"
    mod_depth = DEPTH
    gain = "-14 dB"
    [[target]]
    kind = "am_rate"
    layer = "bed"
    window = "main"
    expected = "16 Hz"
    tolerance = "0.1 Hz"
    """)


def test_windows_cover_a_long_span_with_gaps_of_at_most_max_gap():
    for a, b, length, count in [(180.0, 2700.0, 15.0, 3), (0.0, 3600.0, 4.0, 5),
                                (0.0, 600.0, 12.0, 3)]:
        w = spread(a, b, length, count)
        edges = [a] + [x for ab in w for x in ab] + [b]
        gaps = [edges[i + 1] - edges[i] for i in range(0, len(edges), 2)]
        assert all(x1 - x0 == length for x0, x1 in w)
        assert max(gaps) <= MAX_GAP_S + 1e-6 and len(w) >= count
        assert w == spread(a, b, length, count)  # deterministic
    # 42 minutes of 15 s windows: 19 of them (3 before), every gap under 2 minutes
    assert len(spread(180.0, 2700.0, 15.0, 3)) == 19
    # short spans are read as before; the count is capped on very long ones
    assert spread(0.0, 60.0, 15.0, 3) == [(7.5, 22.5), (22.5, 37.5), (37.5, 52.5)]
    assert len(spread(0.0, 8 * 3600.0, 4.0, 5)) == base.MAX_WINDOWS
    # a steady property pooled over windows keeps its count
    assert len(spread(0.0, 3600.0, 30.0, 4, cover_span=False)) == 4


def _am_rate(path, recipe=None):
    """The recipe's am_rate target (a whole check), or the same span as a --target."""
    if recipe is None:
        return check_file(path, targets=[parse_target_arg("am_rate:0-8m:16Hz:0.1")],
                          use_sidecar=False).results[0]
    rep = check_file(path, recipe)
    (r,) = [r for r in rep.results if r.target.kind == "am_rate" and r.target.source == "recipe"]
    return r


def test_modulation_missing_between_the_old_sample_windows_fails(tmp_path, monkeypatch):
    """An 8-minute bed modulated at 16 Hz whose modulation is gone from 110 s to 215 s (the
    bed rendered unmodulated there, spliced in): the three old 15 s windows (near 77-92,
    232-247 and 387-402 s) all miss the fault and pass it; the four windows now spread over
    the span (gaps under MAX_GAP_S) catch it."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "good.toml").write_text(RECIPE.replace("DEPTH", "0.6"))
    (tmp_path / "flat.toml").write_text(RECIPE.replace("DEPTH", "0.0"))
    render_recipe(tmp_path / "good.toml", "good.wav", seed=7, normalize=False)
    render_recipe(tmp_path / "flat.toml", "flat.wav", seed=7, normalize=False, start="110s",
                  duration="105s")
    good, sr = sf.read("good.wav", dtype="float32")
    flat, _ = sf.read("flat.wav", dtype="float32")
    bad = good.copy()
    bad[110 * sr:215 * sr] = flat
    sf.write("bad.wav", bad, sr, subtype="FLOAT")

    ok = _am_rate("good.wav")
    assert ok.passed and abs(ok.measured - 16.0) < 0.02 and len(ok.detail["windows"]) == 4
    broken = _am_rate("bad.wav", tmp_path / "good.toml")
    assert broken.passed is False
    failed = [w for w in broken.detail["windows"] if not w["significant"]]
    assert len(failed) == 1 and 110 < failed[0]["start_s"] < failed[0]["end_s"] < 215
    # read as before (three windows): the same fault passed
    monkeypatch.setattr(base, "MAX_GAP_S", math.inf)
    old = _am_rate("bad.wav")
    assert old.passed and len(old.detail["windows"]) == 3
    assert all(w["end_s"] < 110 or w["start_s"] > 215 for w in old.detail["windows"])


def test_a_long_glide_is_sampled_at_most_glide_gap_apart():
    """sleep-descent's 40-minute descent glides the beat: it was read at five 4 s points
    468 s apart; now every stretch between two samples is under GLIDE_GAP_S."""
    s = build_session(load_recipe(Path(__file__).resolve().parents[1] / "recipes"
                                  / "sleep-descent.toml"))
    (a, b), = [(p0, p1) for name, p0, p1 in s.phases if name == "descent"]
    w = sorted((t.start_s, t.end_s) for t in targets_from_session(s)
               if t.kind == "binaural_beat" and t.phase == "descent")
    assert len(w) == 19 and all(abs((y - x) - 4.0) < 1e-6 for x, y in w)
    gaps = [w[0][0] - a] + [n[0] - p[1] for p, n in zip(w, w[1:])] + [b - w[-1][1]]
    assert max(gaps) <= GLIDE_GAP_S


def test_a_brown_bed_replaced_by_white_noise_fails_its_implied_colour(tmp_path):
    """sleep-descent's bed is brown noise (-20 dB/decade): its implied noise_slope target
    (read over 296-1250 Hz, where the bed alone plays, below half its low-pass) passes the
    render and fails the same render with the bed white (0 dB/decade)."""
    src = Path(__file__).resolve().parents[1] / "recipes" / "sleep-descent.toml"
    white = tmp_path / "white.toml"
    white.write_text(src.read_text().replace('color = "brown"', 'color = "white"'))
    slopes = {}
    for name, recipe in (("brown", src), ("white", white)):
        out = tmp_path / f"{name}.wav"
        render_recipe(recipe, out, start="100s", duration="25s", sr=16000, normalize=False)
        rep = check_file(out, src)
        (r,) = [r for r in rep.results if r.target.kind == "noise_slope"]
        slopes[name] = r
    assert slopes["brown"].passed and abs(slopes["brown"].measured + 20.0) < 3.0
    assert slopes["white"].passed is False and abs(slopes["white"].measured) < 5.0
    assert slopes["brown"].detail["band_hz"][1] <= 1250.0
