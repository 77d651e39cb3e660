"""A breathing pace that fits the music: a whole number of beats per breath, near 6 per minute."""
from __future__ import annotations

import math

TARGET_PER_MIN = 6.0


def breathing_pace(bpm: float | None, *, target_per_min: float = TARGET_PER_MIN,
                   max_beats: int = 96) -> dict | None:
    """The beat multiple whose breathing rate is nearest ``target_per_min`` (in log ratio).

    Breath lengths are whole multiples of the beat that are multiples of 2 or 3 (so a breath
    spans whole half-bars or bars in duple and triple meters), from 2 to ``max_beats`` beats.
    The breath is split into an inhale of about 40 % and a longer exhale, in whole beats.

    Parameters
    ----------
    bpm : number > 0 or None
        Tempo in beats per minute; None gives None.
    target_per_min : number > 0
        Wanted breaths per minute (6: resonance breathing, a 10 s cycle).
    max_beats : int >= 2
        Longest breath in beats.

    Returns
    -------
    dict or None
        ``breaths_per_min``, ``beats_per_breath``, ``cycle_s``, ``inhale_beats``,
        ``exhale_beats``.

    Examples
    --------
    >>> breathing_pace(120.0)["beats_per_breath"]
    20
    """
    if bpm is None or not (bpm > 0) or not math.isfinite(bpm):
        return None
    cands = [n for n in range(2, max_beats + 1) if n % 2 == 0 or n % 3 == 0]
    n = min(cands, key=lambda k: (abs(math.log(bpm / k / target_per_min)), k))
    inhale = max(1, int(round(0.4 * n)))
    return {
        "breaths_per_min": round(bpm / n, 3),
        "beats_per_breath": n,
        "cycle_s": round(60.0 * n / bpm, 3),
        "inhale_beats": inhale,
        "exhale_beats": n - inhale,
    }
