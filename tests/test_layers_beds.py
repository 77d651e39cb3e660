"""Known-answer tests for the bed layers (noise, drone, bell), the breath layer and music."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from scipy import signal

from resonator.errors import RecipeError
from resonator.graph import Constant, Curve, FunctionOfTime
from resonator.layers import LAYER_KINDS, LayerContext
from resonator.measure.breath import breath_rate
from resonator.measure.dynamics import click_score
from resonator.measure.frequency import peak_frequency
from resonator.measure.modulation import am_rate_depth
from resonator.measure.spectrum import band_energy_db, lr_correlation, noise_slope_db_per_decade
from resonator.render import render_array

from layer_helpers import NON_NUMERIC, build, make_params, render  # noqa: F401
from layer_helpers import make_ctx as _make_ctx


def make_ctx(*args, name="bed", **kw):
    return _make_ctx(*args, name=name, **kw)


def render(kind, duration_s=4.0, sr=16000, ctx=None, **given):  # noqa: F811
    ctx = ctx or make_ctx(sr, duration_s)
    return render_array(build(kind, ctx, **given), duration_s, sr=ctx.sr)


def tone_amplitude(x, sr, f):
    """Amplitude of the component at f Hz (Hann-windowed DTFT, coherent gain corrected)."""
    n = np.arange(x.size)
    w = np.hanning(x.size)
    return 2 * abs(np.sum(w * x * np.exp(-2j * np.pi * f * n / sr))) / w.sum()


# ----------------------------------------------------------------------------- noise
@pytest.mark.parametrize("color,slope", [("white", 0.0), ("pink", -10.0), ("brown", -20.0)])
def test_noise_colour_slopes(color, slope):
    sr = 16000
    x = render("noise", 4.0, sr, color=color)
    assert abs(noise_slope_db_per_decade(x[0], sr, 50, 5000) - slope) < 2.0
    assert abs(lr_correlation(x)) < 0.05  # independent ears by default


def test_noise_mono_and_layer_names_give_distinct_noise():
    sr = 16000
    x = render("noise", 2.0, sr, stereo=False)
    assert lr_correlation(x) > 0.999
    a = render("noise", 1.0, sr, ctx=make_ctx(sr, 1.0, name="one"))
    b = render("noise", 1.0, sr, ctx=make_ctx(sr, 1.0, name="two"))
    assert abs(np.corrcoef(a[0], b[0])[0, 1]) < 0.1


def test_noise_lowpass_and_automated_highpass():
    sr = 16000
    x = render("noise", 3.0, sr, color="white", lowpass=1000.0)
    assert band_energy_db(x, sr, 4000, 7000) < band_energy_db(x, sr, 200, 800) - 20
    cutoff = Curve([(0, 200.0), (3.0, 3000.0)])
    x = render("noise", 3.0, sr, color="white", highpass=cutoff)
    early, late = x[:, : sr], x[:, 2 * sr:]
    # the sweeping high-pass removes more of the low band late in the render
    assert band_energy_db(late, sr, 100, 400) < band_energy_db(early, sr, 100, 400) - 10


@pytest.mark.parametrize("rate, depth", [(16.0, 0.5), (8.0, 0.9)])
def test_noise_amplitude_modulation_rate_and_depth(rate, depth):
    """The Brain.fm approach over a noise bed: the envelope measures the asked rate and depth."""
    # pink noise has its own energy at the modulation rate: measure the envelope of the band
    # above 300 Hz, where the carrier is well above the modulation (the Hilbert envelope of the
    # raw bed reads about 20 % low)
    sos = signal.butter(4, 300, "highpass", fs=16000, output="sos")
    x = signal.sosfiltfilt(sos, render("noise", duration_s=10.0, mod_rate=rate, mod_depth=depth))
    r, d = am_rate_depth(x, 16000, rate_hint_hz=rate)
    assert r == pytest.approx(rate, abs=0.02)
    assert d == pytest.approx(depth, abs=0.05)
    plain = signal.sosfiltfilt(sos, render("noise", duration_s=10.0))
    _, d0 = am_rate_depth(plain, 16000, rate_hint_hz=rate)
    assert d0 < 0.1  # an unmodulated bed measures no such depth
    kinds = {t["kind"] for t in LAYER_KINDS["noise"].targets(
        make_params("noise", mod_rate=rate, mod_depth=depth), make_ctx(16000, 10.0))}
    assert {"am_rate", "am_depth"} <= kinds


def test_noise_cutoff_above_nyquist_is_a_recipe_error():
    with pytest.raises(RecipeError, match="lowpass"):
        render("noise", 1.0, 16000, lowpass=9000.0)


# ----------------------------------------------------------------------------- drone
def test_drone_partials_detune_and_just_ratios():
    sr = 16000
    x = render("drone", 4.0, sr, root=110.0, ratios=[1, "3:2", "2/1"], detune_cents=10.0)
    up, down = 2 ** (10 / 2400), 2 ** (-10 / 2400)
    assert abs(peak_frequency(x[0], sr, 100, 120) - 110 * up) < 1e-3
    assert abs(peak_frequency(x[1], sr, 100, 120) - 110 * down) < 1e-3
    assert abs(peak_frequency(x[0], sr, 150, 180) - 165 * up) < 1e-3
    assert abs(peak_frequency(x[0], sr, 200, 240) - 220 * up) < 1e-3
    assert click_score(x, sr) < 3


def test_drone_brightness_tilts_the_levels():
    sr = 16000
    amps = {}
    for b in (0.0, 1.0):
        x = render("drone", 2.0, sr, brightness=b, detune_cents=0.0)
        amps[b] = [tone_amplitude(x[0], sr, 110 * r) for r in (1.0, 2.5)]
        assert abs(sum(tone_amplitude(x[0], sr, 110 * r) for r in (1, 1.5, 2, 2.5)) - 1) < 0.01
    # upper/root level ratio follows 2.5 ** -(2.5 - 2 b)
    for b, (root, tenth) in amps.items():
        assert abs(tenth / root - 2.5 ** -(2.5 - 2 * b)) < 0.01
    # brightness bound to a curve: the tenth grows over the render
    x = render("drone", 8.0, sr, brightness=Curve([(0, 0.0), (8, 1.0)]), detune_cents=0.0)
    early = tone_amplitude(x[0, : 2 * sr], sr, 275.0)
    late = tone_amplitude(x[0, 6 * sr:], sr, 275.0)
    assert late > 2 * early


def test_drone_drift_moves_partial_levels_slowly():
    sr = 8000
    x = render("drone", 40.0, sr, drift=1.0, detune_cents=0.0)
    levels = [tone_amplitude(x[0, i * sr: (i + 2) * sr], sr, 220.0) for i in range(0, 38, 4)]
    assert max(levels) > 1.5 * min(levels)
    assert click_score(x, sr) < 3


def test_drone_partials_list_in_hz():
    sr = 16000
    x = render("drone", 2.0, sr, partials=[100.0, 250.0], detune_cents=0.0)
    assert abs(peak_frequency(x[0], sr, 80, 120) - 100.0) < 1e-3
    assert abs(peak_frequency(x[0], sr, 200, 300) - 250.0) < 1e-3


# ----------------------------------------------------------------------------- bell
def _onsets(x, sr):
    env = np.abs(signal.hilbert(x[0]))
    env = signal.sosfiltfilt(signal.butter(2, 40, fs=sr, output="sos"), env)
    d = np.diff(env) * sr
    peaks, _ = signal.find_peaks(d, height=0.2 * d.max(), distance=int(0.2 * sr))
    return peaks / sr


def test_bell_strikes_at_phase_starts():
    sr, dur = 16000, 12.0
    ctx = make_ctx(sr, dur, phases=[("a", 0.0, 3.0), ("b", 3.0, 7.5), ("c", 7.5, dur)])
    x = render_array(build("bell", ctx, decay_s=2.0), dur, sr=sr)
    on = _onsets(x, sr)
    np.testing.assert_allclose(on, [0.0, 3.0, 7.5], atol=0.01)
    t = LAYER_KINDS["bell"].targets(make_params("bell"), ctx)
    assert t[0]["kind"] == "bell_strikes" and t[0]["expected"] == 3
    assert click_score(x, sr) < 5
    assert abs(peak_frequency(x[0, : 3 * sr], sr, 150, 300) - 220.0) < 0.2


def test_bell_given_times_and_decay():
    sr, dur = 16000, 10.0
    x = render("bell", dur, sr, times=["1s", "0:04", 6.5], decay_s=6.0)
    np.testing.assert_allclose(_onsets(x, sr), [1.0, 4.0, 6.5], atol=0.01)
    # fundamental decays 60 dB per decay_s: 10 dB per second
    band = signal.sosfiltfilt(signal.butter(4, [180, 260], btype="band", fs=sr, output="sos"),
                              x[0])
    env = np.abs(signal.hilbert(band))
    a = env[int(1.5 * sr): int(1.6 * sr)].mean()
    b = env[int(3.5 * sr): int(3.6 * sr)].mean()
    assert abs(20 * np.log10(b / a) + 20.0) < 1.0


def test_bell_at_times_without_times_is_an_error():
    with pytest.raises(RecipeError, match="times"):
        render("bell", 1.0, at="times")


# ----------------------------------------------------------------------------- breath
@pytest.mark.parametrize("given,bpm", [({}, 6.0), ({"rate": 4.5, "ratio": "3:7"}, 4.5),
                                       ({"pattern": "box", "side_s": 3.0}, 5.0),
                                       ({"pattern": "coherent"}, 5.0)])
def test_breath_rate_from_the_slow_envelope(given, bpm):
    sr = 8000
    dur = 4 * 60.0 / bpm
    x = render("breath", dur, sr, ctx=make_ctx(sr, dur), **given)
    assert abs(breath_rate(x, sr) - bpm) < 0.1
    assert click_score(x, sr) < 3


def test_breath_upper_partials_swell_more_than_the_root():
    sr, root = 8000, 110.0
    x = render("breath", 10.0, sr, ctx=make_ctx(sr, 10.0), detune_cents=0.0, root=root)
    full = x[0, int(4.5 * sr): int(5.5 * sr)]  # 6/min 1:1: full lungs at 5 s
    empty = x[0, int(9.0 * sr): int(10.0 * sr)]  # settled near 10 s
    swing = [tone_amplitude(full, sr, root * r) / tone_amplitude(empty, sr, root * r)
             for r in (1.0, 1.5, 2.0, 2.5)]
    assert all(s > 1.3 for s in swing)
    assert swing[0] < swing[1] < swing[2] < swing[3]


def test_breath_cues_mark_each_phase_start():
    sr, dur = 8000, 32.0
    ctx = make_ctx(sr, dur)
    x = render("breath", dur, sr, ctx=ctx, pattern="box", side_s=4.0, cues=True)
    # cue blips are the only energy at 660 Hz (inhale) and 440 Hz (exhale)
    for f, times in ((660.0, [0, 16]), (440.0, [8, 24]), (550.0, [4, 12, 20, 28])):
        band = signal.sosfiltfilt(signal.butter(4, [f - 20, f + 20], btype="band", fs=sr,
                                                output="sos"), x[0])
        env = np.abs(signal.hilbert(band))
        peaks, _ = signal.find_peaks(env, height=0.5 * env.max(), distance=int(0.5 * sr))
        np.testing.assert_allclose(peaks / sr, np.array(times) + 0.06, atol=0.02)
    assert click_score(x, sr) < 4


def test_breath_rate_bound_to_temperature_follows_it():
    sr, dur = 4000, 180.0
    rate = FunctionOfTime(lambda t: 7.0 - 2.0 * np.asarray(t) / dur, bounds=(5.0, 7.0))
    ctx = make_ctx(sr, dur)
    params = make_params("breath", rate=rate)
    targets = LAYER_KINDS["breath"].targets(params, ctx)
    assert len(targets) >= 2
    x = render_array(LAYER_KINDS["breath"].build(params, ctx), dur, sr=sr)
    for tg in targets:
        seg = x[:, int(tg["start_s"] * sr): int(tg["end_s"] * sr)]
        assert abs(breath_rate(seg, sr) - tg["expected"]) < tg["tolerance"] + 0.1
    assert targets[0]["expected"] > targets[-1]["expected"] + 0.6
    # every breath's full-lungs moment shows as a peak of the slow envelope, on time
    env = np.abs(signal.hilbert(x[0]))  # one ear: the ears are detuned
    env = signal.sosfiltfilt(signal.butter(2, 0.5, fs=sr, output="sos"), env)
    peaks, _ = signal.find_peaks(env, distance=int(4 * sr))
    from resonator.layers.breath import breath_timeline
    tl = breath_timeline(params, ctx)
    full = np.array([t for t, v, _ in tl.points if v == 1.0 and t < dur - 1])
    assert len(peaks) == len(full)
    np.testing.assert_allclose(peaks / sr, full, atol=0.35)


def test_breath_errors_and_warnings():
    with pytest.raises(RecipeError, match="pattern"):
        render("breath", 1.0, pattern="panting")
    with pytest.raises(RecipeError, match="rate"):
        render("breath", 1.0, pattern="wim-hof", rate=FunctionOfTime(lambda t: 6.0 + 0 * t))
    with pytest.raises(RecipeError, match="side_s"):
        render("breath", 1.0, pattern="box", side_s=50.0)
    warnings = []
    render("breath", 1.0, ctx=make_ctx(8000, 1.0, warnings=warnings), side_s=4.0)
    assert any("side_s" in w for w in warnings)


# ----------------------------------------------------------------------------- music
def _write(path, seconds, sr, freq=300.0, channels=1):
    t = np.arange(int(seconds * sr)) / sr
    x = 0.5 * np.sin(2 * np.pi * freq * t)
    sf.write(str(path), np.stack([x] * channels, axis=1) if channels > 1 else x, sr)
    return x


def test_music_resamples_and_modulates(tmp_path):
    _write(tmp_path / "m.flac", 2.0, 22050, freq=300.0, channels=2)
    sr = 16000
    x = render("music", 6.0, sr, ctx=make_ctx(sr, 6.0, recipe_dir=tmp_path), file="m.flac",
               crossfade_s=0.0)
    assert abs(peak_frequency(x[0, : sr], sr, 100, 1000) - 300.0) < 1e-3
    x = render("music", 4.0, sr, ctx=make_ctx(sr, 4.0, recipe_dir=tmp_path), file="m.flac",
               mod_depth=0.5, mod_rate=16.0)
    rate, depth = am_rate_depth(x[:, : sr], sr, rate_hint_hz=16.0)
    assert abs(rate - 16.0) < 0.05 and abs(depth - 0.5) < 0.03


def test_drone_bank_interpolates_grid_levels_exactly_as_the_level_bank():
    """The fused kernel (levels interpolated inside SineBank) gives the bits of the level
    bank's own per-sample block read by the bank, for any window and block size."""
    from resonator.graph.bank import SineBank
    from resonator.graph.core import Node
    from resonator.graph.curves import Curve
    from resonator.layers.beds import LevelBank
    from resonator.render import render_array

    class Opaque(Node):  # hides grid_block: the bank reads the per-sample block
        def __init__(self, n):
            super().__init__()
            self.n, self.channels = n, n.channels

        def inputs(self):
            return {"n": self.n}

        def _process(self, ctx, start, frames):
            return ctx.pull(self.n, start, frames)

    ratios = np.array([1.0, 1.5, 2.0, 2.5])
    levels = LevelBank(ratios, Curve([(0, 0.1), (30, 0.9, "exp")]), None)
    freqs = [[110.0 * r * 1.001, 110.0 * r * 0.999] for r in ratios]
    fused = SineBank(freqs, [(levels, k, 1.0, 0.0) for k in range(4)])
    plain = SineBank(freqs, [(Opaque(levels), k, 1.0, 0.0) for k in range(4)])
    for start_s, bf in ((0.0, 32768), (12.3, 777), (20.0, 1000)):
        a = render_array(fused, 2.0, sr=16000, start_s=start_s, block_frames=bf)
        b = render_array(plain, 2.0, sr=16000, start_s=start_s, block_frames=bf)
        assert np.array_equal(a, b)
    assert np.abs(a).max() > 0.1
