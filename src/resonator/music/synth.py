"""Synthesized drum-and-bass loops at known tempi: the bundled music and test material.

:func:`groove` renders a few bars of kick, snare, hi-hats and a bass line (plus an optional
pad) on an exact grid, so its beat times are known: beat ``k`` starts at ``k * 60 / bpm``
seconds (the kick or snare onset). Everything is seeded, so the same arguments always give
the same samples. The bundled folder ``resonator/data/music`` was written by
:func:`write_bundled` (OGG/Vorbis; the pieces are the project's own work, licensed like
resonator, GPL-3.0-or-later).
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

#: the bundled pieces: file stem -> (bpm, bars, root Hz, pattern, seed)
BUNDLED = {
    "01-drive-132": (132.0, 16, 55.0, "drive", 1),
    "02-stride-124": (124.0, 16, 49.0, "stride", 2),
    "03-sway-108": (108.0, 12, 43.65, "sway", 3),
    "04-drift-92": (92.0, 10, 41.2, "drift", 4),
}

_PATTERNS = {
    # 16 steps per bar: kick, snare, closed hat, open hat, bass note (scale degree or -1)
    "drive": ("x...x...x...x...", "....x.......x...", "x.x.x.x.x.x.x.x.", "......x.......x.",
              [0, -1, 0, 7, -1, 0, 10, -1, 0, -1, 0, 7, -1, 12, 10, 7]),
    "stride": ("x.....x...x.....", "....x.......x...", "xxx.xxx.xxx.xxx.", "..............x.",
               [0, -1, -1, 0, -1, -1, 3, -1, 5, -1, -1, 5, -1, 3, -1, -1]),
    "sway": ("x.......x.......", "....x.......x...", "x...x...x...x...", "..x.......x.....",
             [0, -1, -1, -1, 7, -1, -1, -1, 5, -1, -1, -1, 3, -1, 2, -1]),
    "drift": ("x.........x.....", "....x.......x...", "x...x...x...x...", "........x.......",
              [0, -1, -1, -1, -1, -1, -1, -1, -5, -1, -1, -1, -1, -1, -3, -1]),
}


def _env(n: int, sr: int, attack_s: float, decay_s: float) -> np.ndarray:
    t = np.arange(n) / sr
    a = np.clip(t / attack_s, 0.0, 1.0)
    a = 0.5 - 0.5 * np.cos(np.pi * a)
    return a * np.exp(-np.maximum(t - attack_s, 0.0) / decay_s)


def _kick(sr: int) -> np.ndarray:
    n = int(0.35 * sr)
    t = np.arange(n) / sr
    f = 45.0 + 90.0 * np.exp(-t / 0.03)
    ph = 2 * np.pi * np.cumsum(f) / sr
    return 0.9 * np.sin(ph) * _env(n, sr, 0.002, 0.09)


def _noise_hit(sr: int, rng, length_s: float, decay_s: float, lo_hz: float, hi_hz: float,
               tone_hz: float = 0.0) -> np.ndarray:
    from scipy.signal import butter, sosfilt

    n = int(length_s * sr)
    x = rng.standard_normal(n)
    sos = butter(2, [lo_hz, min(hi_hz, 0.45 * sr)], btype="band", fs=sr, output="sos")
    x = sosfilt(sos, x)
    x /= max(np.max(np.abs(x)), 1e-9)
    if tone_hz:
        x = 0.6 * x + 0.5 * np.sin(2 * np.pi * tone_hz * np.arange(n) / sr)
    return x * _env(n, sr, 0.001, decay_s)


def _bass_note(sr: int, freq: float, length_s: float) -> np.ndarray:
    """A band-limited saw (12 partials) through a decaying brightness, soft edges."""
    n = int(length_s * sr)
    t = np.arange(n) / sr
    bright = np.exp(-t / 0.12)
    x = np.zeros(n)
    for k in range(1, 13):
        if k * freq >= 0.45 * sr:
            break
        x += np.sin(2 * np.pi * k * freq * t) / k * (bright ** (0.3 * (k - 1)) if k > 1 else 1)
    edge = np.minimum(1.0, np.minimum(t / 0.004, (length_s - t) / 0.02))
    return 0.35 * x * np.clip(edge, 0.0, 1.0)


def groove(bpm: float, bars: int, sr: int = 44100, *, root_hz: float = 55.0,
           pattern: str = "drive", seed: int = 0, pad: bool = True) -> np.ndarray:
    """A loop of ``bars`` 4/4 bars at ``bpm``: float32 (2, frames), peak about 0.9.

    Parameters
    ----------
    bpm : number in (40, 240)
        Beats per minute (a beat = a quarter note; 16th-note grid).
    bars : int >= 1
    sr : int
    root_hz : number
        The bass line's root.
    pattern : str
        One of ``drive``, ``stride``, ``sway``, ``drift``.
    seed : int
        Seeds the noise of snares and hats.
    pad : bool
        Add a soft two-chord pad (stereo).

    Returns
    -------
    np.ndarray [shape=(2, round(bars * 4 * 60 / bpm * sr))]
        The loop; beat k starts at frame ``round(k * 60 / bpm * sr)``. It loops seamlessly
        (tails wrap around to the start).
    """
    kick_p, snare_p, hat_p, ohat_p, bass = _PATTERNS[pattern]
    rng = np.random.default_rng(seed)
    step_s = 60.0 / bpm / 4.0
    n = int(round(bars * 16 * step_s * sr))
    out = np.zeros((2, n))
    kick = _kick(sr)
    snare = _noise_hit(sr, rng, 0.25, 0.06, 900.0, 7000.0, tone_hz=190.0)
    hat = _noise_hit(sr, rng, 0.06, 0.012, 6000.0, 16000.0)
    ohat = _noise_hit(sr, rng, 0.3, 0.09, 5000.0, 15000.0)

    def place(sound, frame, gain, pan=0.0):
        idx = (frame + np.arange(sound.size)) % n
        out[0, idx] += sound * gain * math.sqrt(0.5 * (1 - pan))
        out[1, idx] += sound * gain * math.sqrt(0.5 * (1 + pan))

    for bar in range(bars):
        for s in range(16):
            f = int(round((bar * 16 + s) * step_s * sr))
            if kick_p[s] == "x":
                place(kick, f, 1.0)
            if snare_p[s] == "x":
                place(snare, f, 0.55, 0.1)
            if hat_p[s] == "x":
                place(hat, f, 0.18 if s % 4 else 0.24, -0.35)
            if ohat_p[s] == "x":
                place(ohat, f, 0.12, 0.35)
            deg = bass[s]
            if deg >= -12 and deg != -1:
                length = step_s * (2 if bass[(s + 1) % 16] == -1 else 1) * 0.95
                place(_bass_note(sr, root_hz * 2 ** (deg / 12), length), f, 0.9)
    if pad:
        chord_s = 8 * 4 * step_s * 4 / 4  # two bars per chord
        t = np.arange(n) / sr
        for c, degs in enumerate(([12, 19, 24, 28], [10, 17, 22, 27])):
            seg = ((t // chord_s) % 2) == c
            for j, deg in enumerate(degs):
                f = root_hz * 2 ** (deg / 12)
                det = 1.0 + 0.0015 * (1 if j % 2 else -1)
                env = np.sin(np.pi * ((t % chord_s) / chord_s)) ** 2
                out[0] += 0.03 * seg * env * np.sin(2 * np.pi * f * det * t)
                out[1] += 0.03 * seg * env * np.sin(2 * np.pi * f / det * t)
    out *= 0.9 / max(np.max(np.abs(out)), 1e-9)
    return out.astype(np.float32)


def write_bundled(folder, sr: int = 44100) -> list[Path]:
    """Write the bundled pieces (:data:`BUNDLED`) as OGG/Vorbis files into ``folder``."""
    import soundfile as sf

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for stem, (bpm, bars, root, pattern, seed) in BUNDLED.items():
        x = groove(bpm, bars, sr, root_hz=root, pattern=pattern, seed=seed)
        p = folder / f"{stem}.ogg"
        sf.write(str(p), x.T, sr, format="OGG", subtype="VORBIS")
        out.append(p)
    return out


if __name__ == "__main__":  # pragma: no cover - regenerate the bundled folder
    import sys

    for p in write_bundled(sys.argv[1] if len(sys.argv) > 1 else "music"):
        print(p)
