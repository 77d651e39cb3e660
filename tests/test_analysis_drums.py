"""Known answers for music with a drum kit: the beat grid sits on the kick, not on a louder snare or
chord between the kicks (the half-period and third-period phase checks on the kick band)."""
from __future__ import annotations

import numpy as np
import pytest

from resonator.analysis import beats as beats_module
from resonator.analysis.beats import track_beats
from resonator.analysis.features import features_from_signal

SR = 22050


def _kick(rng):
    t = np.arange(int(0.25 * SR)) / SR
    f = 55.0 + 60.0 * np.exp(-t / 0.02)  # the usual pitch drop
    return 0.9 * np.sin(2 * np.pi * np.cumsum(f) / SR) * np.exp(-t / 0.08)


def _snare(rng):
    t = np.arange(int(0.2 * SR)) / SR
    noise = np.diff(rng.standard_normal(t.size + 1))  # bright noise
    return (0.5 * noise + 0.3 * np.sin(2 * np.pi * 190 * t)) * np.exp(-t / 0.05)


def _chord(rng):
    t = np.arange(int(0.18 * SR)) / SR
    y = sum(np.sin(2 * np.pi * f * h * t) / h for f in (392.0, 494.0, 587.0) for h in (1, 2, 3))
    return 0.35 * y * np.minimum(t / 0.003, 1.0) * np.exp(-t / 0.06)


def _place(x, y, t_s):
    k = int(round(t_s * SR))
    n = min(y.size, x.size - k)
    if n > 0:
        x[k:k + n] += y[:n]


def _track(x, bpm):
    f = features_from_signal(x, SR, loudness=False, peaks=False)
    return (track_beats(f.onset, f.fps, bpm, onset_low=f.onset_low, onset_kick=f.onset_kick),
            track_beats(f.onset, f.fps, bpm, onset_low=f.onset_low))


def _on(ref, est, window=0.07):
    """Share of the estimated beats within ``window`` of a reference time."""
    d = np.min(np.abs(est[:, None] - ref[None, :]), axis=1)
    return float(np.mean(d < window))


def test_kick_on_the_beat_wins_over_a_louder_offbeat_snare():
    """Skate punk at 180: a kick on every beat, a louder snare on every off-beat eighth."""
    rng = np.random.default_rng(4)
    bpm, seconds = 180.0, 24.0
    p = 60.0 / bpm
    x = np.zeros(int(seconds * SR))
    kicks = 0.3 + p * np.arange(int((seconds - 1) / p))
    for t in kicks:
        _place(x, 0.5 * _kick(rng), t)
        _place(x, 1.6 * _snare(rng), t + p / 2)
    with_kick, without = _track(x, bpm)
    assert _on(kicks, with_kick) > 0.95
    assert _on(kicks, without) < 0.1  # the all-band and < 300 Hz onsets alone take the snare


def test_compound_beat_on_the_bass_not_the_chord_on_its_third_eighth(monkeypatch):
    """A 6/8 march at a dotted quarter of 100: bass drum and kick on the beat, a loud chord on the
    third eighth of every beat (the "pah" before the next beat)."""
    rng = np.random.default_rng(5)
    bpm, seconds = 100.0, 24.0
    p = 60.0 / bpm
    x = np.zeros(int(seconds * SR))
    beats = 0.3 + p * np.arange(int((seconds - 1) / p))
    for t in beats:
        _place(x, 0.6 * _kick(rng), t)
        _place(x, 3.0 * _chord(rng), t + 2 * p / 3)
    with_kick, _ = _track(x, bpm)
    assert _on(beats, with_kick) > 0.95
    monkeypatch.setattr(beats_module, "PHASE_SHIFTS", (0.5,))  # no third-period shift
    halves_only, _ = _track(x, bpm)
    assert _on(beats, halves_only) < 0.1  # the dynamic programming alone takes the chord


# --- the metrical level of drum grooves (resonator.analysis.drums) --------------------------------

def _hat(rng):
    t = np.arange(int(0.05 * SR)) / SR
    return 0.12 * np.diff(np.diff(rng.standard_normal(t.size + 2))) * np.exp(-t / 0.015)


def _bass(freq_hz, dur_s):
    t = np.arange(int(dur_s * SR)) / SR
    return 0.3 * np.sin(2 * np.pi * freq_hz * t) * np.exp(-t / 0.3) * np.minimum(t / 0.005, 1.0)


def groove(bpm, pattern, steps_per_beat, beats_per_bar, seconds=30.0, swing=0.0, seed=1,
           eighths=False):
    """A drum kit (kick, snare, closed hat) and a bass note on each downbeat.

    ``pattern`` maps "k", "s", "h" to the steps of a bar at which they play (``steps_per_beat``
    steps a beat); ``swing`` delays every second step by that share of a step; ``eighths``: the
    bass and a chord on every eighth note instead (a punk or rock band's drive).
    """
    rng = np.random.default_rng(seed)
    make = {"k": lambda: 0.6 * _kick(rng), "s": lambda: 0.8 * _snare(rng), "h": lambda: _hat(rng)}
    x = np.zeros(int(seconds * SR))
    step_s, bar_s = 60.0 / bpm / steps_per_beat, 60.0 / bpm * beats_per_bar
    for b in range(int((seconds - 1.3) / bar_s)):
        t0 = 0.3 + b * bar_s
        for inst, steps in pattern.items():
            for s in steps:
                _place(x, make[inst](), t0 + (s + (swing if s % 2 else 0.0)) * step_s)
        root_hz = 55.0 * (1.0, 1.5, 4 / 3, 1.5)[b % 4]
        if not eighths:
            _place(x, _bass(root_hz, 0.9 * bar_s), t0)
            continue
        eighth_s = 30.0 / bpm
        for k in range(int(round(bar_s / eighth_s))):
            _place(x, 0.5 * _bass(root_hz, 0.9 * eighth_s), t0 + k * eighth_s)
            _place(x, 0.3 * _chord(rng)[: int(0.9 * eighth_s * SR)], t0 + k * eighth_s)
    return x


ROCK = {"k": [0, 4], "s": [2, 6], "h": list(range(8))}  # eighths: kick 1 and 3, snare 2 and 4
SIX_EIGHT = {"k": [0], "s": [3], "h": list(range(6))}  # two dotted quarters a bar


def _tempo(x):
    from resonator.analysis.report import analyze_signal

    r = analyze_signal(x, SR, loudness=False)
    return r["tempo"]["bpm"], r


@pytest.mark.parametrize("name, bpm, pattern, steps, beats, swing, eighths", [
    ("punk band at 180, not 90", 180.0, ROCK, 2, 4, 0.0, True),
    ("the same band at 92, not 184", 92.0, ROCK, 2, 4, 0.0, True),
    ("rock kit at 92, not 184", 92.0, ROCK, 2, 4, 0.0, False),
    ("swung shuffle at 140, not 70", 140.0, ROCK, 2, 4, 1 / 3, False),
    ("6/8 at a dotted quarter of 100, not the eighth", 100.0, SIX_EIGHT, 3, 2, 0.0, False),
])
def test_tap_along_level_of_a_groove(name, bpm, pattern, steps, beats, swing, eighths):
    got, r = _tempo(groove(bpm, pattern, steps, beats, swing=swing, eighths=eighths))
    assert r["drum_kit"]["detected"] and r["tempo"]["level_model"] == "drum kit"
    assert abs(got / bpm - 1.0) < 0.02, f"{name}: read {got}"


def test_drum_kit_is_noise_in_the_treble_and_chords_are_not():
    from resonator.analysis.drums import DRUM_FLATNESS, drum_kit

    def feats(x):
        return features_from_signal(x, SR, loudness=False, peaks=False)

    kit = feats(groove(120.0, ROCK, 2, 4, seconds=8.0))
    t = np.arange(int(0.4 * SR)) / SR
    bright = sum(np.sin(2 * np.pi * f * h * t) / h for f in (392.0, 494.0, 587.0) for h in range(1, 25))
    bright *= np.minimum(t / 0.003, 1.0) * np.exp(-t / 0.15)  # a plucked chord, partials to 14 kHz
    dull = np.zeros(8 * SR)
    x = np.zeros(8 * SR)
    for t0 in 0.3 + 0.5 * np.arange(14):
        _place(x, 0.1 * bright, t0)
        _place(dull, _chord(None), t0)  # partials below 1.8 kHz only
    assert kit.treble_flatness > 2 * DRUM_FLATNESS and drum_kit(kit.treble_flatness)
    chords = feats(x).treble_flatness
    assert chords < 0.7 * DRUM_FLATNESS and not drum_kit(chords)
    assert feats(dull).treble_flatness is None and not drum_kit(None)  # no treble to judge
    t = np.arange(int(0.03 * SR)) / SR
    beep = np.zeros(8 * SR)  # a metronome's pitched click: its treble is smooth leakage, faint
    for t0 in 0.3 + 0.5 * np.arange(14):
        _place(beep, 0.3 * np.sin(2 * np.pi * 1500 * t) * np.exp(-t / 0.006), t0)
    assert feats(beep).treble_flatness is None


def test_bass_band_repetition_is_read_at_the_candidate_beat():
    """The drum model's bass-band features are the bass envelope's autocorrelation at half a beat,
    one, two and four beats of each candidate (fractional lags interpolated)."""
    from resonator.analysis import drums

    fps = 100.0
    low = np.zeros(600)
    low[100] = 1.0  # the bass repeats every second: one beat at 60 BPM, two at 120, half at 30
    zeros = np.zeros(600)
    cands = np.array([60.0, 120.0, 30.0, 80.0])
    feats = drums.level_features(cands, np.zeros((4, 6)), zeros, zeros, low, fps)
    got = feats[:, [drums.FEATURES.index(f"acf_low_{q}") for q in drums.LOW_LAGS_QUARTERS]]
    want = np.array([[0, 1, 0, 0],    # 60: at one beat
                     [0, 0, 1, 0],    # 120: at two beats
                     [1, 0, 0, 0],    # 30: at half a beat
                     [0, 0, 0, 0]])   # 80: lags of 37.5, 75, 150 and 300 frames miss frame 100
    np.testing.assert_allclose(got, want, atol=1e-12)
    assert feats.shape == (4, len(drums.FEATURES)) and len(drums.WEIGHTS) == len(drums.FEATURES)
