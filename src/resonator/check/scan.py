"""One streaming pass over a file for the session-wide measures.

:class:`Scan` reads the file once in 65536-frame float32 blocks and feeds (the loudness,
true-peak and spectrum consumers on a worker thread beside the others: the same calls in the
same order, so the same results, on two cores):

- a BS.1770 :class:`~resonator.measure.loudness.LoudnessMeter` (integrated, short-term,
  loudness range) without its FFT true-peak stage;
- :class:`~resonator.measure.loudness.ScreenedTruePeak`: the same 4x polyphase interpolator
  as the meter, evaluated only around local maxima of ``|x|`` within 4 dB of the running
  peak (the meter interpolates every block: about 3x slower);
- :class:`~resonator.measure.dynamics.ClickStream`: the same ratio as
  :class:`~resonator.measure.dynamics.ClickDetector` (third difference over its local RMS,
  threshold 12), computed exactly only in frames whose upper bound can pass the threshold;
- :class:`~resonator.measure.spectrum.SpectrumStream`: a per-second spectrum (4096-point
  Hann frame at every whole second, 48 log-spaced bands from 20 Hz) for the spectral
  centroid and the plot, and a 50 ms RMS envelope for the plot.

State is O(duration / 50 ms) numbers: a 2-hour file costs a few MB beyond one block.
"""
from __future__ import annotations

import numpy as np

from ..measure.dynamics import ClickStream
from ..measure.loudness import LoudnessMeter, ScreenedTruePeak
from ..measure.spectrum import SpectrumStream
from ..pipeline import pipeline

BLOCK = 1 << 16


class Scan:
    """Session-wide measures of a file from one streaming pass (see the module notes).

    Parameters
    ----------
    path : str
        Audio file.
    true_peak, clicks, spectra : bool
        Which optional measures to run.
    progress : callable(done_frames, total_frames), optional

    Attributes
    ----------
    sr, channels, frames : int
    meter : LoudnessMeter
    true_peak_dbtp : float or None
    clicks : list of (time_s, ratio) or None
    click_score : float or None
    spec_times_s : np.ndarray [shape=(m,)]
        Centres of the per-second spectrum frames.
    spec_bands_hz : np.ndarray [shape=(48,)]
        Band centres.
    spec_db : np.ndarray [shape=(m, 48)]
        Band power in dB (channel mean).
    centroid_hz : np.ndarray [shape=(m,)]
        Spectral centroid of each frame (20 Hz to Nyquist); nan for silence.
    rms_times_s, rms_db : np.ndarray
        50 ms RMS (channel mean power) in dBFS.
    """

    def __init__(self, path, *, true_peak: bool = True, clicks: bool = True,
                 spectra: bool = True, progress=None):
        import soundfile as sf

        from ..measure.io import open_audio

        info = open_audio(path)
        self.sr, self.channels, self.frames = info.sr, info.channels, info.frames
        sr = self.sr
        self.meter = LoudnessMeter(sr, self.channels, true_peak=False) if sr >= 4000 \
            else None
        tp = ScreenedTruePeak(self.channels) if true_peak else None
        ck = ClickStream(sr, self.channels) if clicks else None
        hop = max(1, int(round(0.05 * sr)))
        rms: list[np.ndarray] = []
        acc = np.zeros(0)
        spec = SpectrumStream(sr, self.channels) if spectra else None
        pos = 0
        from ..measure.io import _reason, read_frames
        from ..errors import AudioFileError

        try:
            f = sf.SoundFile(info.path)
        except Exception as exc:  # noqa: BLE001
            raise AudioFileError(f"cannot read ({_reason(exc)})", info.path) from None

        def blocks():  # read on this thread; the clicks, RMS and spectra overlap the worker
            nonlocal pos, acc
            with f:
                while True:
                    try:
                        data = read_frames(f, BLOCK)
                    except Exception as exc:  # noqa: BLE001
                        raise AudioFileError(f"read failed ({_reason(exc)})",
                                             info.path) from None
                    if data.shape[0] == 0:
                        break
                    x = np.ascontiguousarray(data.T)
                    n = x.shape[1]
                    if not np.all(np.isfinite(x)):
                        raise AudioFileError("holds NaN or infinite samples", info.path)
                    yield (x,)
                    if ck is not None:
                        ck.update(x)
                    # 50 ms RMS
                    p = np.einsum("cn,cn->n", x, x, dtype=np.float64) / x.shape[0]
                    acc = np.concatenate((acc, p))
                    whole = (acc.size // hop) * hop
                    if whole:
                        rms.append(acc[:whole].reshape(-1, hop).mean(axis=1))
                        acc = acc[whole:]
                    pos += n
                    if progress:
                        progress(pos, self.frames)

        def consume(x):  # on the worker: the loudness meter, true peak and spectra
            if self.meter is not None:
                self.meter.update(x)
            if tp is not None:
                tp.update(x)
            if spec is not None:
                spec.update(x)

        pipeline(blocks(), consume)
        if ck is not None:
            ck.finish()
        self.frames = pos
        self.duration_s = pos / sr
        self.true_peak_dbtp = tp.dbtp() if tp is not None else None
        self.sample_peak = tp.peak if tp is not None else None
        self.clicks = ck.clicks if ck is not None else None
        self.click_score = ck.score if ck is not None else None
        r = np.concatenate(rms) if rms else np.zeros(0)
        self.rms_times_s = (np.arange(r.size) + 0.5) * hop / sr
        with np.errstate(divide="ignore"):
            self.rms_db = 10 * np.log10(np.maximum(r, 1e-20))
        sp = spec or SpectrumStream(sr, self.channels)
        self.spec_times_s = sp.times_s
        self.spec_bands_hz = sp.bands_hz
        self.spec_db = sp.band_db
        self.centroid_hz = sp.centroid_hz
