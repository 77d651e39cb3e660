"""Known-answer tests for the metrical-level choice (resonator.analysis.metre): fast 3/4 is not
taken at the bar or at two beats, slow movements with a subdivision are not doubled, a 2/4
Allegro is not halved; the hemiola and accent features on constructed inputs."""
from __future__ import annotations

import numpy as np
import pytest

from resonator.analysis import analyze_signal, metre
from resonator.analysis.tempo import local_autocorrelation

SR = 22050
CHORDS = [(48, (60, 64, 67)), (53, (60, 65, 69)), (55, (59, 62, 67)), (48, (60, 64, 67))]
LINE = [76, 77, 79, 77, 76, 74, 72, 74]


def _hz(n):
    return 440.0 * 2.0 ** ((n - 69) / 12.0)


def _tone(freqs, dur, amp):
    t = np.arange(int(dur * SR)) / SR
    fs = np.atleast_1d(freqs)
    y = sum(np.sin(2 * np.pi * f * h * t) / h ** 1.5 for f in fs for h in range(1, 5))
    return amp * y * np.minimum(t / 0.004, 1.0) * np.exp(-t / (0.25 * dur + 0.05)) / fs.size


def _add(x, t, y):
    k = int(round(t * SR))
    n = min(y.size, x.size - k)
    x[k:k + n] += y[:n]


def waltz(bpm, seconds=30.0, accent=1.25):
    """Oom-pah-pah: bass on the downbeat, chord on beats 2 and 3, a melody note on every beat."""
    x, p = np.zeros(int((seconds + 2) * SR)), 60.0 / bpm
    for b in range(int((seconds - 0.5) / p)):
        bar, pos = divmod(b, 3)
        bass, ch = CHORDS[bar % 4]
        t, a = 0.25 + b * p, (accent if pos == 0 else 1.0)
        if pos == 0:
            _add(x, t, _tone(_hz(bass - 12), min(p, 0.8), 0.5 * a))
        else:
            _add(x, t, _tone([_hz(n) for n in ch], min(p, 0.6), 0.35))
        _add(x, t, _tone(_hz(LINE[b % 8]), p, 0.25 * a))
    return x[: int(seconds * SR)]


def clicks(bpm, meter, seconds=30.0, accent=1.5):
    """A click on every beat; downbeats louder and with a low thump."""
    x, p = np.zeros(int((seconds + 1) * SR)), 60.0 / bpm
    t = np.arange(int(0.03 * SR)) / SR
    click = np.sin(2 * np.pi * 1500 * t) * np.exp(-t / 0.006)
    t2 = np.arange(int(0.12 * SR)) / SR
    thump = np.sin(2 * np.pi * 80 * t2) * np.exp(-t2 / 0.006)
    for b in range(int((seconds - 0.5) / p)):
        down = b % meter == 0
        _add(x, 0.3 + b * p, 0.3 * (accent if down else 1.0) * click)
        if down:
            _add(x, 0.3 + b * p, 0.4 * thump)
    return x[: int(seconds * SR)]


def texture(bpm, meter, division=2, seconds=40.0, accent=1.2):
    """Bass and a stepwise melody note on every beat, the bar's chord repeated on every
    subdivision (softer off the beat), one chord a bar."""
    x, p = np.zeros(int((seconds + 3) * SR)), 60.0 / bpm
    for b in range(int((seconds - 0.5) / p)):
        bar, pos = divmod(b, meter)
        bass, ch = CHORDS[bar % 4]
        t, a = 0.25 + b * p, (accent if pos == 0 else 1.0)
        _add(x, t, _tone(_hz(bass - 12), p, 0.45 * a))
        _add(x, t, _tone(_hz(LINE[b % 8]), p, 0.3 * a))
        for j in range(division):
            _add(x, t + j * p / division, _tone([_hz(n) for n in ch], p / division, 0.25 * (a if j == 0 else 0.7)))
    return x[: int(seconds * SR)]


def _bpm(x):
    return analyze_signal(x, SR, loudness=False)["tempo"]["bpm"]


@pytest.mark.parametrize("bpm", [168, 180])
def test_fast_waltz_is_the_quarter_not_the_bar_or_two_beats(bpm):
    # before the metre terms: 84 (two beats, a bar of 1.5 "beats") for 168, 90 for 180
    assert _bpm(waltz(bpm)) == pytest.approx(bpm, rel=0.04)


def test_accented_3_4_clicks_at_168():
    # clicks only, downbeats 3.5 dB louder with a low thump: 168, not 84 or 56
    assert _bpm(clicks(168, 3)) == pytest.approx(168, rel=0.04)


@pytest.mark.parametrize("bpm,meter", [(56, 4), (60, 3)])
def test_slow_movement_with_eighth_note_surface_is_not_doubled(bpm, meter):
    # before the metre terms: 112 and 120
    assert _bpm(texture(bpm, meter, 2)) == pytest.approx(bpm, rel=0.04)


def test_allegro_in_2_4_is_not_halved():
    assert _bpm(texture(152, 2, 2)) == pytest.approx(152, rel=0.04)


def _impulses(times_s, heights, fps, seconds, smooth=0.0):
    o = np.zeros(int(seconds * fps))
    for t, h in zip(times_s, heights):
        o[int(round(t * fps))] += h
    if smooth:  # onset envelopes are a few frames wide
        from scipy import ndimage

        o = ndimage.gaussian_filter1d(o, smooth)
    return o


def test_hemiola_flags_two_beats_of_a_waltz():
    # an onset train at 168 BPM in 3/4, downbeats twice as strong
    fps, p = 172.265625, 60.0 / 168
    t = 0.5 + p * np.arange(int(58 / p))
    o = _impulses(t, np.where(np.arange(t.size) % 3 == 0, 2.0, 1.0), fps, 60.0, smooth=3.0)
    acf = local_autocorrelation(o, fps)[1].mean(axis=0)
    assert metre.hemiola(acf, fps, 84.0) > 0.05       # the bar is 1.5 of these "beats"
    assert metre.hemiola(acf, fps, 168.0) < -0.5      # nothing at 1.5 beats
    assert metre.hemiola(acf, fps, 56.0) < 0.0        # the bar level is consistent too
    assert metre.hemiola(acf, fps, 12.0) == 0.0       # lags out of range: no evidence


def test_accent_features_read_the_subdivision_ratio():
    fps, p = 172.265625, 0.6
    beats = 1.0 + p * np.arange(60)
    eighths = beats[:-1] + p / 2
    s = _impulses(np.concatenate((beats, eighths)),
                  np.concatenate((np.ones(beats.size), np.full(eighths.size, 0.3))), fps, 40.0)
    even, subdiv = metre.accent_features(s, fps, beats)
    assert even == pytest.approx(0.0, abs=0.01)             # beats all alike
    assert subdiv == pytest.approx(np.log(0.3), abs=0.02)   # eighths at 0.3 of the beat
    grid = np.sort(np.concatenate((beats[:-1], eighths)))
    even2, _ = metre.accent_features(s, fps, grid)          # a grid at the eighths
    assert even2 == pytest.approx(np.log(0.3), abs=0.02)
    assert np.isnan(metre.accent_features(s, fps, beats[:5])[0])


def test_level_scores_penalties_and_old_feature_arrays():
    f = np.array([[0.0, -0.1, 0.5, -0.5, -0.2, -1.5],    # clean beat level
                  [0.0, -0.1, 0.5, 0.3, -0.2, -1.5],     # hemiola
                  [0.0, -0.1, 0.5, -0.5, -1.8, -1.5],    # uneven points
                  [0.0, -0.1, 0.5, -0.5, -0.2, -0.05]])  # subdivisions as strong as the grid
    s = metre.level_scores(f)
    assert s[0] == pytest.approx(-0.1 + metre.HARM_WEIGHT * metre.HARM_SAT)
    assert s[1] == pytest.approx(s[0] - metre.HEMIOLA_WEIGHT * (0.3 - metre.HEMIOLA_FREE))
    assert s[2] == pytest.approx(s[0] - metre.EVEN_WEIGHT * (1.8 - metre.EVEN_FREE))
    assert s[3] == pytest.approx(s[0] - metre.SUBDIV_WEIGHT * (metre.SUBDIV_FREE - 0.05))
    assert metre.choose_level(np.arange(4.0), f) == 0
    np.testing.assert_allclose(metre.level_scores(f[:, :3]), s[0])


def test_level_probabilities_are_the_tempered_softmax_of_the_scores():
    f = np.array([[0.0, -0.1, 0.5, -0.5, -0.2, -1.5],
                  [-0.3, -0.6, 0.1, -0.5, -0.2, -1.5],
                  [0.0, -0.1, 0.5, -0.5, -1.8, -1.5]])
    s = metre.level_scores(f)
    p = metre.level_probabilities(f)
    want = np.exp(s / metre.LEVEL_TEMPERATURE) / np.exp(s / metre.LEVEL_TEMPERATURE).sum()
    np.testing.assert_allclose(p, want, rtol=1e-12)
    assert int(np.argmax(p)) == metre.choose_level(np.arange(3.0), f)
    cold = metre.level_probabilities(f, temperature=0.01)
    np.testing.assert_allclose(cold, [1.0, 0.0, 0.0], atol=1e-12)
    assert metre.level_probabilities(np.zeros((0, 6))).size == 0


def test_level_alternatives_scale_with_the_reported_tempo():
    cands = np.array([88.0, 176.0, 44.0, 29.333, 58.667])
    probs = np.array([0.6, 0.04, 0.3, 0.0, 0.06])
    alt = metre.level_alternatives(cands, probs, 0, 88.4)
    assert [a["ratio"] for a in alt] == [0.5, 0.667]          # 176 (4 %) is left out
    assert alt[0] == {"bpm": 44.2, "ratio": 0.5, "probability": 0.3}
    assert alt[1]["bpm"] == pytest.approx(88.4 * 2 / 3, abs=0.01)
    assert metre.level_alternatives(cands, probs, 0, 88.4, limit=1) == alt[:1]


def test_report_names_the_runner_up_level_of_a_slow_movement():
    # slow 4/4 at 56 with an eighth-note surface: reported at 56, the doubled reading named
    r = analyze_signal(texture(56, 4, 2), SR, loudness=False)["tempo"]
    assert r["bpm"] == pytest.approx(56, rel=0.04)
    assert 0.5 < r["level_probability"] <= 1.0
    ratios = [a["ratio"] for a in r["alternatives"]]
    assert 2.0 in ratios
    a2 = r["alternatives"][ratios.index(2.0)]
    assert a2["bpm"] == pytest.approx(2 * r["bpm"], abs=0.02)
    assert r["level_probability"] + sum(a["probability"] for a in r["alternatives"]) <= 1.0 + 1e-9


def test_tempo_prior_moves_the_level_and_is_validated():
    from resonator.errors import ResonatorError

    # the prior adds -0.5 * log2(bpm / centre)^2 to each level's score, so moving the centre from
    # 120 to 200 BPM raises the log-odds of 112 against 56 by log2(200 / 120) / temperature
    x = texture(56, 4, 2)

    def log_odds(centre):
        t = analyze_signal(x, SR, loudness=False, prior_bpm=centre)["tempo"]
        p = {a["ratio"]: a["probability"] for a in t["alternatives"]}
        assert t["bpm"] == pytest.approx(56, rel=0.04)
        return np.log(p[2.0] / t["level_probability"])

    want = np.log2(200 / 120) / metre.LEVEL_TEMPERATURE
    assert log_odds(200.0) - log_odds(120.0) == pytest.approx(want, abs=0.02)
    with pytest.raises(ResonatorError, match="40-240 BPM"):
        analyze_signal(x, SR, loudness=False, prior_bpm=20.0)


def _train(times, height, fps, seconds, smooth):
    return _impulses(times, np.full(len(times), height), fps, seconds, smooth=smooth)


def test_bass_lag_is_the_swell_delay_and_only_that():
    from resonator.analysis.beats import bass_lag

    fps = 172.265625
    t = 0.5 + 0.75 * np.arange(78)
    onset = _train(t, 1.0, fps, 60.0, 1.5)
    assert bass_lag(onset, _train(t + 0.08, 3.0, fps, 60.0, 4.0), fps) == round(0.08 * fps)
    assert bass_lag(onset, _train(t - 0.05, 3.0, fps, 60.0, 4.0), fps) == 0   # bass early
    assert bass_lag(onset, _train(t + 0.30, 3.0, fps, 60.0, 4.0), fps) == 0   # beyond 120 ms
    assert bass_lag(onset, np.zeros_like(onset), fps) == 0


def test_aligned_swelling_bass_no_longer_pulls_the_beats_late():
    # organ-like envelopes: the all-band flux peaks 20 ms after each note start and stays up,
    # the bass flux peaks at 87 ms (the rendered organ chorale's measured shape)
    from resonator.analysis.beats import align_bass, track_beats

    fps = 172.265625
    t = 0.5 + 0.75 * np.arange(78)
    onset = _train(t + 0.02, 1.0, fps, 60.0, 2.0) + _train(t + 0.06, 0.7, fps, 60.0, 3.0)
    low = _train(t + 0.087, 1.0, fps, 60.0, 3.0)

    def offset_ms(beats):
        j = np.clip(np.searchsorted(t, beats), 1, t.size - 1)
        near = np.where(np.abs(t[j] - beats) < np.abs(t[j - 1] - beats), t[j], t[j - 1])
        return 1000 * np.median(beats - near)

    assert offset_ms(track_beats(onset, fps, 80.0, onset_low=low)) > 40.0
    aligned = align_bass(onset, low, fps)
    assert offset_ms(track_beats(onset, fps, 80.0, onset_low=aligned)) == pytest.approx(20.0, abs=6.0)
    assert align_bass(onset, onset, fps) is onset


def test_adopt_timing_takes_agreeing_beats_only():
    from resonator.analysis.beats import adopt_timing

    beats = np.array([1.0, 2.0, 3.0, 4.0])
    timing = np.array([0.9, 2.05, 3.3, 3.5])
    # period 1 s, within 0.2 s: 0.9 and 2.05 adopted, 3.3 (0.3 away) and 3.5 (0.5) not
    np.testing.assert_allclose(adopt_timing(beats, timing), [0.9, 2.05, 3.0, 4.0])
    np.testing.assert_allclose(adopt_timing(beats, timing, within=0.35), [0.9, 2.05, 3.3, 4.0])
    np.testing.assert_allclose(adopt_timing(beats, np.zeros(0)), beats)


def test_rise_starts_move_swells_back_and_leave_strikes():
    from resonator.analysis.beats import RISE_SELF_S, rise_starts

    fps = 172.265625
    n = int(60 * fps)
    starts = (0.5 + 0.75 * np.arange(78)) * fps
    swell, strike, long = np.zeros(n), np.zeros(n), np.zeros(n)
    for s0 in starts.astype(int):
        swell[s0:s0 + 16] = np.arange(16) / 15.0                  # 87 ms linear rise
        swell[s0 + 16:s0 + 40] = np.exp(-np.arange(24) / 6.0)
        strike[s0] = 1.0
        long[s0:s0 + 41] = np.arange(41) / 40.0                   # 232 ms rise
    peaks = (starts.astype(int) + 15) / fps
    moved = rise_starts(swell, fps, peaks)
    # back to where the smoothed rise passes 20 % of the peak's height, plus the self rise
    assert np.median(peaks - moved) == pytest.approx(15 / fps * 0.8 - RISE_SELF_S, abs=2.5 / fps)
    assert np.all(moved <= peaks)
    kept = rise_starts(strike, fps, starts.astype(int) / fps)
    np.testing.assert_allclose(kept, starts.astype(int) / fps)
    capped = rise_starts(long, fps, (starts.astype(int) + 40) / fps)
    assert np.max((starts.astype(int) + 40) / fps - capped) <= 0.1 + 1e-9
