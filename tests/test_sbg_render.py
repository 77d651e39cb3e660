"""Rendering imported SBaGen sequences: measured answers on small hand-written sequences, and a
short window of every real fixture with its targets measured."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from resonator.measure.binaural import measure_binaural
from resonator.measure.modulation import am_rate_depth
from resonator.recipe.session import build_session
from resonator.render import render_array
from resonator.sbg.convert import load_sbg_recipe

SR = 8000
REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO.parent / "shared" / "sbg"      # the repository's parent holds shared/


def session_of(tmp_path, text, name="t.sbg", sr=SR, **kw):
    p = tmp_path / name
    p.write_text(text)
    recipe = load_sbg_recipe(p, **kw)
    return build_session(recipe, sr=sr)


def layer(session, name):
    return next(i for i in session.layers if i.name == name)


def window(node, start, dur, sr=SR):
    return render_array(node, dur, sr=sr, start_s=start)


def ears(x, sr=SR, hint=None):
    return measure_binaural(x[0], x[1], sr, carrier_hint_hz=hint)


def amp(x):
    return float(np.sqrt(np.mean(x ** 2)) * math.sqrt(2))


# ------------------------------------------------------------------------ tones
def test_binaural_left_205_right_195(tmp_path):
    s = session_of(tmp_path, "-SE -F 2000\na: 200+10/20\noff: -\n00:00 a\n00:00:20 off\n")
    r = ears(window(s.node, 8.0, 2.0), hint=200)
    assert r["left_hz"] == pytest.approx(205.0, abs=1e-3)
    assert r["right_hz"] == pytest.approx(195.0, abs=1e-3)
    # amplitude 20 of 100 -> 0.2 of full scale per ear (before loudness normalisation)
    assert amp(window(s.node, 8.0, 2.0)[0]) == pytest.approx(0.2, rel=0.01)


def test_negative_beat_puts_the_higher_tone_right(tmp_path):
    s = session_of(tmp_path, "-SE -F 2000\na: 300-8/20\noff: -\n00:00 a\n00:00:20 off\n")
    r = ears(window(s.node, 8.0, 2.0), hint=300)
    assert r["left_hz"] == pytest.approx(296.0, abs=1e-3)
    assert r["right_hz"] == pytest.approx(304.0, abs=1e-3)
    assert r["left_minus_right_hz"] == pytest.approx(-8.0, abs=1e-3)


def test_plain_tone_and_amplitude_ratio(tmp_path):
    s = session_of(tmp_path, "-SE -F 2000\na: 200+10/40 410/10\noff: -\n00:00 a\n00:00:20 off\n")
    assert {i.kind for i in s.layers} == {"binaural", "tone"}
    x = window(s.node, 8.0, 2.0)
    spec = np.abs(np.fft.rfft(x[0])) / len(x[0]) * 2       # 0.5 Hz bins, tones on bins
    f = np.fft.rfftfreq(len(x[0]), 1 / SR)
    a205 = spec[np.argmin(abs(f - 205))]
    a410 = spec[np.argmin(abs(f - 410))]
    assert a205 == pytest.approx(0.40, rel=0.01)
    assert a410 == pytest.approx(0.10, rel=0.01)
    r = ears(window(layer(s, "s2-tone").node, 8.0, 2.0), hint=410)
    assert r["left_hz"] == pytest.approx(410.0, abs=1e-3) and r["beat_hz"] < 1e-3


def test_crossfade_through_silence_is_linear(tmp_path):
    # a 200+4 -> 300+8 change under "--" crosses silence: linear to 0 at the change time
    s = session_of(tmp_path, "-SE -F 10000\na: 200+4/20\nb: 300+8/20\noff: -\n"
                   "00:00 a\n00:00:20 b\n00:00:40 off\n")
    node = layer(s, "s1-binaural").node
    for t, expected in [(13.0, 0.2), (16.25, 0.15), (18.75, 0.05), (21.25, 0.05),
                        (23.75, 0.15), (27.0, 0.2)]:
        x = window(node, t - 0.1, 0.2)
        assert amp(x[0]) == pytest.approx(expected, abs=0.006), t
    r = ears(window(node, 27.0, 2.0), hint=300)
    assert r["left_minus_right_hz"] == pytest.approx(8.0, abs=1e-3)


def test_continuing_tone_keeps_playing_through_a_change(tmp_path):
    # same frequencies on both sides: the tone continues, only its level moves (no dip)
    s = session_of(tmp_path, "-SE -F 10000\na: 200+10/20\nb: 200+10/40\noff: -\n"
                   "00:00 a\n00:00:20 b\n00:00:40 off\n")
    node = layer(s, "s1-binaural").node
    levels = [amp(window(node, t - 0.1, 0.2)[0]) for t in (15.0, 17.5, 20.0, 22.5, 25.0)]
    assert levels == pytest.approx([0.2, 0.25, 0.3, 0.35, 0.4], abs=0.006)
    # and its phase is continuous: the carrier measured across the change is still 205/195
    r = ears(window(node, 19.0, 2.0), hint=200)
    assert r["left_hz"] == pytest.approx(205.0, abs=1e-3)


def test_slide_with_equals_marks_glides_linearly(tmp_path):
    s = session_of(tmp_path, "-SE -F 20000\na: 200+4/20\nb: 300+12/20\noff: -\n"
                   "00:00 -= a\n00:00:30 =- b\n00:01:00 off\n")
    assert len(s.layers) == 1
    node = s.layers[0].node
    for t, c, b in [(25.0, 225.0, 6.0), (30.0, 250.0, 8.0), (35.0, 275.0, 10.0)]:
        r = ears(window(node, t - 1.0, 2.0), hint=c)
        assert r["carrier_hz"] == pytest.approx(c, abs=0.01), t
        assert r["left_minus_right_hz"] == pytest.approx(b, abs=0.01), t
    # level stays up through the slide (no crossfade dip)
    assert amp(window(node, 29.9, 0.2)[0]) == pytest.approx(0.2, abs=0.005)


def test_arrow_makes_the_whole_period_a_slide(tmp_path):
    s = session_of(tmp_path, "-SE -F 4000\na: 200+10/20\nb: 400+2/20\noff: -\n"
                   "00:00 a ->\n00:01:00 b\n00:01:20 off\n")
    node = s.layers[0].node
    for t in (15.0, 30.0, 45.0):
        c, b = 200 + 200 * t / 60, 10 - 8 * t / 60
        r = ears(window(node, t - 1.0, 2.0), hint=c)
        assert r["carrier_hz"] == pytest.approx(c, abs=0.02), t
        assert r["left_minus_right_hz"] == pytest.approx(b, abs=0.02), t


def test_fade_in_and_out_marks(tmp_path):
    # "<" on b: through silence even though frequencies are equal
    s = session_of(tmp_path, "-SE -F 10000\na: 200+10/20\nb: 200+10/20\noff: -\n"
                   "00:00 a\n00:00:20 <- b\n00:00:40 off\n")
    node = s.layers[0].node
    assert amp(window(node, 19.9, 0.2)[0]) < 0.01
    assert amp(window(node, 12.0, 0.2)[0]) == pytest.approx(0.2, abs=0.005)


def test_relative_times_blocks_and_now(tmp_path):
    text = ("-SE -F 2000\na: 200+4/20\nb: 200+8/20\nc: 200+12/20\noff: -\n"
            "blk: {\n  +00:00 a\n  +00:00:20 b\n}\n"
            "NOW blk\nNOW+00:00:40 c\n+00:01:00 off\n")
    s = session_of(tmp_path, text)
    node = s.layers[0].node
    for t, beat in [(10.0, 4.0), (30.0, 8.0), (50.0, 12.0)]:
        r = ears(window(node, t - 1, 2.0), hint=200)
        assert r["left_minus_right_hz"] == pytest.approx(beat, abs=1e-3), t
    assert s.duration_s == pytest.approx(60.0)


def test_clock_schedule_over_midnight_renders_first_to_last(tmp_path):
    text = "-F 2000\na: 200+4/20\nb: 200+8/20\noff: -\n23:59:00 a\n00:00:30 b\n00:01:00 off\n"
    s = session_of(tmp_path, text)
    assert s.duration_s == pytest.approx(120.0)
    r = ears(window(s.layers[0].node, 100.0, 2.0), hint=200)
    assert r["left_minus_right_hz"] == pytest.approx(8.0, abs=1e-3)


# ------------------------------------------------------------------------ noise, spin, pulses
def test_noise_is_mono_by_default_and_decorrelated_on_request(tmp_path):
    text = "-SE -F 2000\na: pink/30\noff: -\n00:00 a\n00:00:20 off\n"
    x = window(session_of(tmp_path, text).node, 8.0, 2.0)
    assert np.array_equal(x[0], x[1])
    # SBaGen's pink noise at 100 has an RMS of 0.152 x full scale
    assert np.sqrt(np.mean(x[0] ** 2)) == pytest.approx(0.3 * 0.152, rel=0.1)
    y = window(session_of(tmp_path, text, name="s.sbg", stereo_noise=True).node, 8.0, 2.0)
    assert abs(np.corrcoef(y[0], y[1])[0, 1]) < 0.1


def test_spin_swings_the_inter_ear_delay(tmp_path):
    sr = 16000
    s = session_of(tmp_path, "-SE -F 2000\na: spin:300+1/50\noff: -\n00:00 a\n00:00:20 off\n",
                   sr=sr)
    lags = []
    for t in (8.25, 8.75):            # swing at +1 and -1 (rate 1 Hz, sin phase)
        x = window(s.node, t - 0.05, 0.1, sr)
        c = np.correlate(x[0], x[1], "full")
        lags.append((np.argmax(c) - (x.shape[1] - 1)))
    expect = 2 * 300e-6 * sr          # 9.6 samples between the ears at the extremes
    assert abs(lags[0]) == pytest.approx(expect, abs=1.5)
    assert abs(lags[1]) == pytest.approx(expect, abs=1.5)
    assert np.sign(lags[0]) == -np.sign(lags[1])


def test_isochronic_pulses_at_the_rate(tmp_path):
    s = session_of(tmp_path, "-SE -F 2000\na: 300@7/40\noff: -\n00:00 a\n00:00:20 off\n")
    rate, depth = am_rate_depth(window(s.node, 6.0, 4.0), SR)
    assert rate == pytest.approx(7.0, abs=0.02)
    assert depth > 0.5


def test_bell_strikes_and_decays_like_sbagen(tmp_path):
    s = session_of(tmp_path, "-SE -F 2000\na: 200+10/10\nb: 200+10/10 bell+400/50\noff: -\n"
                   "00:00 a\n00:00:10 b\n00:00:20 off\n")
    chime = layer(s, "s2-bell").node
    a1 = amp(window(chime, 10.2, 0.1)[0])
    a2 = amp(window(chime, 11.2, 0.1)[0])
    assert 20 * math.log10(a2 / a1) == pytest.approx(-15.1, abs=0.3)
    assert a1 == pytest.approx(0.5 * 10 ** (-15.1 * 0.25 / 20), rel=0.05)


def test_user_waveform_binaural_pair(tmp_path):
    from resonator.layers.sbg_voices import user_wave_harmonics

    text = ("-SE -F 2000\nwave00: 0 1 0.5 0.2\na: wave00:200+10/40\noff: -\n"
            "00:00 a\n00:00:20 off\n")
    x = window(session_of(tmp_path, text).node, 8.0, 2.0)
    r = ears(x, hint=200)
    assert (r["left_hz"], r["right_hz"]) == pytest.approx((205.0, 195.0), abs=1e-3)
    ks, a, b = user_wave_harmonics([0, 1, 0.5, 0.2])
    spec = np.abs(np.fft.rfft(x[0])) / len(x[0]) * 2
    f = np.fft.rfftfreq(len(x[0]), 1 / SR)
    ratio = spec[np.argmin(abs(f - 615))] / spec[np.argmin(abs(f - 205))]
    assert ratio == pytest.approx(math.hypot(a[1], b[1]) / math.hypot(a[0], b[0]), rel=0.02)
    assert np.max(np.abs(x)) <= 0.4 + 1e-6


def test_square_waveform_is_band_limited(tmp_path):
    text = "-SE -F 2000\na: square:1500+10/40\noff: -\n00:00 a\n00:00:20 off\n"
    x = window(session_of(tmp_path, text).node, 8.0, 2.0)
    spec = np.abs(np.fft.rfft(x[0] * np.hanning(x.shape[1])))
    f = np.fft.rfftfreq(x.shape[1], 1 / SR)
    fund = spec[np.argmin(abs(f - 1505))]
    # the 3rd harmonic (4515 Hz) would alias to 3485 Hz at 8 kHz: it must be absent
    alias = spec[np.argmin(abs(f - 3485))]
    assert alias / fund < 1e-3


def test_drop_program_renders_its_slide(tmp_path):
    s = session_of(tmp_path, "-p drop 00ds pink/20\n")
    b = s.layers[0]
    assert b.kind == "binaural"
    r = ears(window(b.node, 900.0 - 1, 2.0), hint=204)
    # carrier 205 -> 200 Hz over the session, beat 10 -> 2.5 Hz geometrically over 30 min
    assert 200 < r["carrier_hz"] < 205
    assert 2.5 < r["left_minus_right_hz"] < 10


# ------------------------------------------------------------------------ real fixtures
def _fixture_files():
    if not FIXTURES.is_dir():
        return []
    return sorted(FIXTURES.rglob("*.sbg"))


def _hz(v) -> float:
    return float(v.split()[0]) if isinstance(v, str) else float(v)


def _check_targets(session, sr, limit=12):
    """Measure up to ``limit`` binaural_beat / am_rate targets (explicit and implied) on the
    target's layer alone, in a 2 s window at the target's centre."""
    targets = [t for t in session.targets if t["kind"] in ("binaural_beat", "am_rate")]
    if len(targets) > limit:
        idx = np.linspace(0, len(targets) - 1, limit).round().astype(int)
        targets = [targets[i] for i in idx]
    infos = {i.name: i for i in session.layers}
    checked = 0
    for t in targets:
        info = infos[t["layer"]]
        c = 0.5 * (t["start_s"] + t["end_s"])
        w = min(2.0, t["end_s"] - t["start_s"])
        x = render_array(info.node, w, sr=sr, start_s=c - w / 2)
        exp = _hz(t["expected"])
        if t["kind"] == "am_rate":
            rate, _ = am_rate_depth(x, sr, rate_hint_hz=exp)
            assert rate == pytest.approx(exp, abs=_hz(t["tolerance"]) + 0.3), t["name"]
        else:
            hint = t.get("carrier_hz")
            if hint is None:
                from resonator.layers._common import sample
                hint = float(sample(info.params["carrier"], [c], sr)[0]) \
                    if "carrier" in info.params else None
            r = measure_binaural(x[0], x[1], sr, carrier_hint_hz=hint)
            assert r["left_minus_right_hz"] == pytest.approx(exp, abs=_hz(t["tolerance"])), \
                (t["name"], t["start_s"], t["end_s"])
        checked += 1
    return checked


@pytest.mark.parametrize("path", _fixture_files(), ids=lambda p: p.name)
def test_fixture_renders_and_meets_its_targets(path):
    recipe = load_sbg_recipe(path)
    session = build_session(recipe, sr=SR)
    # a 2 s window around the first change after the start (or the middle)
    starts = [p.start_s for p in recipe.phases[1:]] or [recipe.duration_s / 2]
    t0 = min(max(0.0, starts[0] - 1.0), recipe.duration_s - 2.0)
    x = render_array(session.node, 2.0, sr=SR, start_s=t0)
    assert x.shape == (2, 2 * SR) and np.all(np.isfinite(x))
    _check_targets(session, SR)


def test_fixtures_present_or_skipped():
    if not FIXTURES.is_dir():
        pytest.skip(f"the shared SBaGen fixtures are not at {FIXTURES}")
    assert len(_fixture_files()) == 35
