"""Synthetic known-answer signals for the metrical level (used by ``tune_levels.py``).

Three textures, each with an unambiguous notated beat, rendered with plain additive tones (no
soundfont, no randomness):

- :func:`waltz`: oom-pah-pah in 3/4, bass on the downbeat, the chord on beats 2 and 3, a melody
  note on every beat, no subdivision; accented downbeats.
- :func:`clicks`: a click on every beat with accented downbeats (louder click and a low thump),
  optionally softer clicks on the subdivisions.
- :func:`texture`: a bass note and a stepwise melody note on every beat, the bar's chord
  repeated on every subdivision (softer off the beat), one chord a bar, accented downbeats: at
  56 BPM a slow movement with an eighth-note surface, at 152 BPM an Allegro.

:func:`known_answers` lists the cases with their beat tempo: fast 3/4 must not be taken at the
bar (56) or at two beats (84), slow pieces with a subdivision must not be doubled.
"""
from __future__ import annotations

import numpy as np

SR = 22050
CHORDS = [(48, (60, 64, 67)), (53, (60, 65, 69)), (55, (59, 62, 67)), (48, (60, 64, 67))]
LINE = [76, 77, 79, 77, 76, 74, 72, 74]


def _midi(n: float) -> float:
    return 440.0 * 2.0 ** ((n - 69) / 12.0)


def tone(freqs, dur: float, amp: float, sr: int = SR) -> np.ndarray:
    """Four harmonics per pitch (1/h^1.5), 4 ms attack, exponential decay."""
    t = np.arange(int(dur * sr)) / sr
    y = np.zeros(t.size)
    fs = np.atleast_1d(freqs)
    for f in fs:
        for h in range(1, 5):
            if f * h < sr / 2:
                y += np.sin(2 * np.pi * f * h * t) / h ** 1.5
    env = np.minimum(t / 0.004, 1.0) * np.exp(-t / (0.25 * dur + 0.05))
    return amp * y * env / fs.size


def _add(x: np.ndarray, t: float, y: np.ndarray, sr: int) -> None:
    k = int(round(t * sr))
    n = min(y.size, x.size - k)
    if n > 0:
        x[k:k + n] += y[:n]


def waltz(bpm: float, seconds: float = 30.0, accent: float = 1.25, sr: int = SR) -> np.ndarray:
    """Oom-pah-pah in 3/4 at ``bpm`` quarter notes a minute."""
    x = np.zeros(int((seconds + 2) * sr))
    p = 60.0 / bpm
    for b in range(int((seconds - 0.5) / p)):
        bar, pos = divmod(b, 3)
        bass, ch = CHORDS[bar % 4]
        t = 0.25 + b * p
        a = accent if pos == 0 else 1.0
        if pos == 0:
            _add(x, t, tone(_midi(bass - 12), min(p, 0.8), 0.5 * a, sr), sr)
        else:
            _add(x, t, tone([_midi(n) for n in ch], min(p, 0.6), 0.35, sr), sr)
        _add(x, t, tone(_midi(LINE[b % len(LINE)]), p, 0.25 * a, sr), sr)
    return x[: int(seconds * sr)]


def clicks(bpm: float, meter: int, seconds: float = 30.0, accent: float = 1.5, division: int = 1,
           sub_amp: float = 0.4, sr: int = SR) -> np.ndarray:
    """A 1.5 kHz click on every beat, ``accent`` times louder plus an 80 Hz thump on downbeats;
    ``division - 1`` softer clicks (``sub_amp``) between beats."""
    x = np.zeros(int((seconds + 1) * sr))
    p = 60.0 / bpm
    t = np.arange(int(0.03 * sr)) / sr
    click = np.sin(2 * np.pi * 1500 * t) * np.exp(-t / 0.006)
    t2 = np.arange(int(0.12 * sr)) / sr
    thump = np.sin(2 * np.pi * 80 * t2) * np.exp(-t2 / 0.006)
    b, tb = 0, 0.3
    while tb < seconds - 0.2:
        down = b % meter == 0
        _add(x, tb, 0.3 * (accent if down else 1.0) * click, sr)
        if down:
            _add(x, tb, 0.4 * thump, sr)
        for j in range(1, division):
            _add(x, tb + j * p / division, 0.3 * sub_amp * click, sr)
        tb += p
        b += 1
    return x[: int(seconds * sr)]


def texture(bpm: float, meter: int, division: int = 2, seconds: float = 40.0, accent: float = 1.2,
            sr: int = SR) -> np.ndarray:
    """Bass and melody on every beat, the chord repeated on every subdivision (see module)."""
    x = np.zeros(int((seconds + 3) * sr))
    p = 60.0 / bpm
    for b in range(int((seconds - 0.5) / p)):
        bar, pos = divmod(b, meter)
        bass, ch = CHORDS[bar % 4]
        t = 0.25 + b * p
        a = accent if pos == 0 else 1.0
        _add(x, t, tone(_midi(bass - 12), p, 0.45 * a, sr), sr)
        _add(x, t, tone(_midi(LINE[b % len(LINE)]), p, 0.3 * a, sr), sr)
        for j in range(division):
            _add(x, t + j * p / division,
                 tone([_midi(n) for n in ch], p / division, 0.25 * (a if j == 0 else 0.7), sr), sr)
    return x[: int(seconds * sr)]


def known_answers() -> list[tuple[str, np.ndarray, float]]:
    """(name, signal at :data:`SR`, beat tempo in BPM) for every synthetic case."""
    cases = [(f"waltz {b}", waltz(b), b) for b in (150, 168, 180)]
    cases += [(f"3/4 clicks 168 accent {a}", clicks(168, 3, accent=a), 168) for a in (1.3, 1.5)]
    for bpm, meter, div in [(50, 4, 2), (56, 4, 2), (60, 4, 2), (60, 3, 2), (66, 2, 2), (72, 4, 2),
                            (56, 4, 4), (90, 4, 2), (100, 4, 2), (120, 4, 2), (132, 3, 2),
                            (144, 2, 2), (152, 2, 2), (168, 3, 2)]:
        cases.append((f"texture {bpm} {meter}/4 /{div}", texture(bpm, meter, div), bpm))
    return cases
