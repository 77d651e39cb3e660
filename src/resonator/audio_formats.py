"""The audio formats resonator writes, and the choices of the lossy ones: light (no numpy),
for the command line's options and for :mod:`resonator.render`."""
from __future__ import annotations

import math

from .errors import ResonatorError

FORMATS = ("wav", "flac", "mp3", "ogg", "opus")
#: lossy formats: (container, subtype, sample rates the encoder takes or None for any,
#: default quality); quality 0 (smallest) .. 1 (best) is libsndfile's compression level
#: 1 - quality. The defaults give about 150-180 kbit/s for a stereo session.
LOSSY = {
    "mp3": ("MP3", "MPEG_LAYER_III", (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100,
                                      48000), 0.8),
    "ogg": ("OGG", "VORBIS", None, 0.6),
    "opus": ("OGG", "OPUS", (8000, 12000, 16000, 24000, 48000), 0.3),
}


def lossy_rate(fmt: str, sr: int) -> int | None:
    """The sample rate a lossy ``fmt`` would encode instead of ``sr`` (None: ``sr`` is fine):
    the nearest rate its encoder takes, rounding up (Opus: 48000 for 44100)."""
    rates = LOSSY.get(fmt, (None, None, None))[2]
    if rates is None or sr in rates:
        return None
    above = [r for r in rates if r >= sr]
    return above[0] if above else rates[-1]


def check_quality(quality, fmt: str | None, where: str = "--quality") -> float | None:
    """A lossy format's quality: a number from 0 (smallest file) to 1 (best); None for the
    format's default. Refused for formats that are not lossy."""
    if quality is None:
        return None
    if fmt not in LOSSY:
        raise ResonatorError(f"applies to the lossy formats ({', '.join(LOSSY)}), not to "
                             f"{fmt or 'wav'}", where)
    try:
        q = float(quality)
    except (TypeError, ValueError):
        q = math.nan
    if not (0.0 <= q <= 1.0):
        raise ResonatorError(f"{quality!r} is not a quality: give a number from 0 (smallest "
                             "file) to 1 (best)", where)
    return q
