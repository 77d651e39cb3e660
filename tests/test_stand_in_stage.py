"""Stand-in stages: a stretched music layer's gain from its stand-in, its peaks from its own
samples, so a window renders only its neighbourhood exactly and still equals a full render."""
from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf

import resonator.mastering as mastering
from resonator.mastering import (ENVELOPE_REACH_HOPS, SLOPE_DB_PER_HOP, has_stand_ins,
                                 plan_envelope, stage_span)
from resonator.measure.loudness import true_peak_dbtp
from resonator.recipe import render_recipe
from resonator.recipe.session import build_session

SR = 16000
BURSTS_S = (6.0, 20.3, 21.1, 33.0)  # music time of the loud bursts

RECIPE = """
sample_rate = 16000
loudness = "-14 LUFS"
fade_in = "1s"
fade_out = "1s"
[temperature]
start = 1.0
[[phase]]
name = "main"
duration = "40s"
temperature = { to = 0.0 }
[[layer]]
name = "m"
kind = "music"
file = "m.wav"
tempo = TEMPO
[[layer]]
name = "air"
kind = "noise"
gain = "-40 dB"
"""


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("RESONATOR_CACHE_DIR", str(tmp_path / "cache"))


def _music(path, seconds=45.0):
    """Quiet noise with a few short loud tone bursts (raised-cosine gated): at -14 LUFS the
    bursts pass the ceiling, so the stage limits them."""
    rng = np.random.default_rng(5)
    n = int(seconds * SR)
    x = 0.02 * rng.standard_normal((n, 2))
    for t0 in BURSTS_S:
        a, m = int(t0 * SR), int(0.05 * SR)
        t = np.arange(m) / SR
        gate = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(m) / m)
        x[a:a + m] += (0.6 * gate * np.sin(2 * np.pi * 1000 * t))[:, None]
    sf.write(str(path), x.astype(np.float32), SR, subtype="FLOAT")


def _recipe(tmp_path, tempo='{ temperature = "0.85..1.0" }'):
    _music(tmp_path / "m.wav")
    p = tmp_path / "r.toml"
    p.write_text(RECIPE.replace("TEMPO", tempo))
    return p


class _Stretches:
    """Counts Rubber Band calls (one per stretched segment)."""

    def __init__(self, monkeypatch):
        import pedalboard

        self.n = 0
        real = pedalboard.time_stretch

        def counted(*a, **k):
            self.n += 1
            return real(*a, **k)
        monkeypatch.setattr(pedalboard, "time_stretch", counted)


class _Passes:
    """Counts the frames of the measuring passes, stand-in (estimate) and exact."""

    def __init__(self, monkeypatch):
        self.stand_in, self.exact = 0, 0
        real = mastering.iter_blocks

        def counted(node, duration_s, *, sr, estimate=False, **kw):
            frames = int(round(duration_s * sr))
            if estimate:
                self.stand_in += frames
            else:
                self.exact += frames
            return real(node, duration_s, sr=sr, estimate=estimate, **kw)
        monkeypatch.setattr(mastering, "iter_blocks", counted)


def _read(path):
    return sf.read(str(path), always_2d=True, dtype="float32")[0]


def test_stretched_or_shifted_music_stands_in_and_plain_music_does_not(tmp_path):
    stretched = build_session(_recipe(tmp_path))
    assert has_stand_ins(stretched.node)
    plain = build_session(_recipe(tmp_path, tempo="1.0"))
    assert not has_stand_ins(plain.node)
    shifted = (tmp_path / "r.toml").read_text().replace(
        'tempo = 1.0', 'tempo = 1.0\nbinaural_shift = "4 Hz"')
    (tmp_path / "s.toml").write_text(shifted)
    assert has_stand_ins(build_session(tmp_path / "s.toml").node)


def test_a_window_renders_its_neighbourhood_only_and_equals_the_full_render(
        tmp_path, monkeypatch):
    p = _recipe(tmp_path)
    stretches, passes = _Stretches(monkeypatch), _Passes(monkeypatch)
    full = render_recipe(p, tmp_path / "full.wav", bits="32f", mastering_cache=False)
    rep = full.mastering
    assert rep["gain_measured_on"] == "stand-ins" and rep["limited_hops"] > 0
    frames = 40 * SR
    # the full render: one stand-in pass and one exact pass over the whole session
    warm = 4 * SR // 10  # (a second lane settles its K-weighting over 0.4 s)
    assert passes.stand_in in (frames, frames + warm)
    assert passes.exact in (frames, frames + warm)
    full_stretches = stretches.n
    assert full_stretches >= 10  # 40 s in 4 s segments
    # every burst passes the ceiling at this gain; the output stays under it
    out = _read(tmp_path / "full.wav")
    assert true_peak_dbtp(out.T.astype(np.float64), SR) <= -1.0 + 1e-6
    # a window over two bursts: the same samples, from a stand-in pass and ~5 s of exact
    # samples (3 s and the reach of a reduction on each side)
    stretches.n, passes.stand_in, passes.exact = 0, 0, 0
    win = render_recipe(p, tmp_path / "win.wav", bits="32f", start="19s", duration="3s",
                        mastering_cache=False)
    lo, hi = stage_span(19 * SR, 3 * SR, frames, SR)
    assert passes.stand_in in (frames, frames + warm) and passes.exact == hi - lo
    assert stretches.n <= 3 < full_stretches
    assert win.mastering["gain_db"] == rep["gain_db"]
    assert win.mastering["limited_hops"] > 0  # the bursts near the window are limited
    w = _read(tmp_path / "win.wav")
    assert w.shape == (3 * SR, 2)
    assert np.array_equal(out[19 * SR:22 * SR], w)
    assert win.mastering["max_reduction_db"] > 0.5


def test_a_window_stores_the_stand_in_loudness_and_the_next_skips_the_stand_in_pass(
        tmp_path, monkeypatch):
    p = _recipe(tmp_path)
    cache = tmp_path / "cache"
    a = render_recipe(p, tmp_path / "a.wav", bits="32f", start="10s", duration="2s")
    assert a.mastering["gain_measured_on"] == "stand-ins"
    # the window's plan covers its neighbourhood only: the stage is not cached, the
    # loudness it came from is
    assert not list(cache.glob("mastering/*.json"))
    entries = list((cache / "loudness").glob("*.json"))
    assert len(entries) == 1
    stored = json.loads(entries[0].read_text())["payload"]
    assert round(stored["lufs"], 3) == a.mastering["measured_lufs"]
    passes = _Passes(monkeypatch)
    b = render_recipe(p, tmp_path / "b.wav", bits="32f", start="10s", duration="2s")
    assert passes.stand_in == 0 and 0 < passes.exact < 6 * SR
    assert np.array_equal(_read(tmp_path / "a.wav"), _read(tmp_path / "b.wav"))
    assert b.mastering["gain_db"] == a.mastering["gain_db"]
    # a full render takes the gain from the cached loudness too, and caches the whole stage
    passes.stand_in = passes.exact = 0
    full = render_recipe(p, tmp_path / "full.wav", bits="32f")
    assert passes.stand_in == 0 and passes.exact >= 40 * SR
    assert full.mastering["gain_db"] == a.mastering["gain_db"]
    assert len(list((cache / "mastering").glob("*.json"))) == 1
    assert np.array_equal(_read(tmp_path / "full.wav")[10 * SR:12 * SR], _read(tmp_path / "a.wav"))
    # from then on a window takes the whole stage from the cache: no measuring pass at all
    passes.stand_in = passes.exact = 0
    c = render_recipe(p, tmp_path / "c.wav", bits="32f", start="20s", duration="2s")
    assert (passes.stand_in, passes.exact) == (0, 0)
    assert json.loads(c.sidecar.read_text())["loudness"]["stage"] == "cached"
    assert np.array_equal(_read(tmp_path / "full.wav")[20 * SR:22 * SR], _read(tmp_path / "c.wav"))


def test_a_stage_without_stand_ins_ignores_the_window(tmp_path):
    s = build_session(_recipe(tmp_path, tempo="1.0"))
    kw = dict(sr=s.sr, seed=s.seed, target_lufs=-14.0, ceiling_dbtp=-1.0)
    whole = mastering.master(s.node, s.duration_s, **kw)
    part = mastering.master(s.node, s.duration_s, window=(19.0, 3.0), **kw)
    assert whole.span is None and part.span is None and not part.stand_in
    assert whole.gain_db == part.gain_db and whole.measured_lufs == whole.exact_lufs
    assert mastering.stage_to_dict(whole) == mastering.stage_to_dict(part)
    # with stand-ins the window's plan is partial, and a partial plan is never cached
    s2 = build_session(_recipe(tmp_path))
    m = mastering.master(s2.node, s2.duration_s, window=(19.0, 3.0), **kw)
    assert m.stand_in and m.span == stage_span(19 * SR, 3 * SR, 40 * SR, SR)
    with pytest.raises(ValueError):
        mastering.store_stage(s2, m)


def _bound(curve, hops):
    return curve.evaluate(np.asarray(hops, dtype=np.float64) * 0.01)


def test_a_reduction_is_slope_limited_and_a_deep_one_ramps_within_the_reach():
    n, j = 1000, 500
    step_db = SLOPE_DB_PER_HOP
    for depth_db in (6.0, 40.0, 80.0):
        peaks = np.zeros(n)
        peaks[j] = 10 ** (depth_db / 20)  # gain 1, ceiling 1: this hop needs -depth_db
        curve, limited, deepest = plan_envelope(peaks, 1.0, 1.0, 0.01)
        assert limited == 1 and deepest == pytest.approx(depth_db)
        d = np.arange(0, ENVELOPE_REACH_HOPS + 3)
        before = -20 * np.log10(_bound(curve, j - d))  # boundaries j, j-1, ...
        after = -20 * np.log10(_bound(curve, j + 1 + d))  # boundaries j+1, j+2, ...
        slope = max(step_db, depth_db / (ENVELOPE_REACH_HOPS + 1))
        want = np.maximum(depth_db - slope * d, 0.0)
        assert np.allclose(before, want, atol=1e-9) and np.allclose(after, want, atol=1e-9)
        # nothing beyond the reach: a 40 dB reduction keeps the slope of 0.6 dB a hop
        assert before[ENVELOPE_REACH_HOPS + 1] == 0.0 and after[ENVELOPE_REACH_HOPS + 1] == 0.0
        assert (slope == step_db) == (depth_db <= step_db * (ENVELOPE_REACH_HOPS + 1))


def test_a_plan_over_part_of_the_peaks_equals_the_whole_plan_inside_it():
    rng = np.random.default_rng(2)
    n = 6000
    peaks = rng.uniform(0.0, 0.8, n)
    loud = rng.choice(n, 60, replace=False)
    peaks[loud] = 10 ** (rng.uniform(0.2, 70.0, loud.size) / 20)  # 0.2 .. 70 dB over
    a, b = 2500, 3000  # hops of a window
    # reductions outside it that reach into it: 50 dB at 0.6 dB a hop (83 hops), and 70 dB,
    # deeper than the slope undoes within the reach (100 hops, steeper)
    peaks[a - 60], peaks[b + 90] = 10 ** (50 / 20), 10 ** (70 / 20)
    whole, _, _ = plan_envelope(peaks, 1.0, 1.0, 0.01)
    pad = ENVELOPE_REACH_HOPS + 4
    part = np.zeros(n)
    part[a - pad:b + pad] = peaks[a - pad:b + pad]
    local, _, _ = plan_envelope(part, 1.0, 1.0, 0.01)
    t = np.arange(a * 160, b * 160) / 16000.0  # every frame of the window at 16 kHz
    assert np.array_equal(whole.evaluate(t), local.evaluate(t))
    assert np.min(whole.evaluate(t)) < 0.5  # (the window is limited)
    # with too little context the plans differ: the test can fail
    short = np.zeros(n)
    short[a - 5:b + 5] = peaks[a - 5:b + 5]
    other, _, _ = plan_envelope(short, 1.0, 1.0, 0.01)
    assert not np.array_equal(whole.evaluate(t), other.evaluate(t))


def test_the_background_measurement_of_play_measures_the_stand_in_stage_and_caches_both(
        tmp_path, monkeypatch):
    p = _recipe(tmp_path)
    full = render_recipe(p, tmp_path / "full.wav", bits="32f", mastering_cache=False)
    s = build_session(p)
    job = mastering.BackgroundMeasurement(s)
    m = job.wait(120)
    assert job.error is None and m is not None and m.stand_in and m.span is None
    assert round(m.gain_db, 3) == full.mastering["gain_db"]
    assert m.limited_hops == full.mastering["limited_hops"]
    cached = mastering.cached_stage(s)
    assert cached is not None and cached.stand_in and cached.gain_db == m.gain_db
    assert mastering.cached_loudness(s).lufs == m.measured_lufs
    # with the stand-ins' loudness cached (as a window render leaves it), the next background
    # measurement makes no stand-in pass
    import shutil

    shutil.rmtree(tmp_path / "cache" / "mastering")
    passes = _Passes(monkeypatch)
    again = mastering.BackgroundMeasurement(build_session(p)).wait(120)
    assert passes.stand_in == 0 and passes.exact >= 40 * SR
    assert again.gain_db == m.gain_db and again.limited_hops == m.limited_hops


def test_a_disk_without_room_for_the_wav_is_refused_before_any_measuring(
        tmp_path, monkeypatch):
    import os

    from resonator.outputs import OutputError

    p = _recipe(tmp_path)
    passes = _Passes(monkeypatch)

    class St:
        f_bavail, f_frsize = 100, 4096  # 410 kB free; the 3 s 32-bit window needs 384 kB + reserve
    monkeypatch.setattr(os, "statvfs", lambda path: St())
    with pytest.raises(OutputError, match="needs 388.1 kB but only 409.6 kB is free"):
        render_recipe(p, tmp_path / "w.wav", bits="32f", start="19s", duration="3s")
    assert (passes.stand_in, passes.exact) == (0, 0)
    assert not (tmp_path / "w.wav").exists()
