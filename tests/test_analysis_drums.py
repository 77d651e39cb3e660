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
