"""One streaming pass over a file for the session-wide measures.

:class:`Scan` reads the file once in 65536-frame float32 blocks and feeds:

- a BS.1770 :class:`~resonator.measure.loudness.LoudnessMeter` (integrated, short-term,
  loudness range) without its FFT true-peak stage;
- :class:`FastTruePeak`: the same 4x polyphase interpolator as the meter, evaluated only
  around local maxima of ``|x|`` within 4 dB of the running peak (the meter interpolates
  every block: about 3x slower);
- :class:`FastClicks`: the same ratio as :class:`~resonator.measure.dynamics.ClickDetector`
  (third difference over its local RMS, threshold 12), computed exactly only in 128-sample
  frames whose rigorous upper bound can pass the threshold;
- a per-second spectrum (4096-point Hann frame at every whole second, 48 log-spaced bands
  from 20 Hz) for the spectral centroid and the plot, and a 50 ms RMS envelope for the plot.

State is O(duration / 50 ms) numbers: a 2-hour file costs a few MB beyond one block.
"""
from __future__ import annotations

import math

import numpy as np
from scipy import ndimage

from ..measure.dynamics import DEFAULT_CLICK_THRESHOLD
from ..measure.loudness import LoudnessMeter
from ..measure.loudness import ScreenedTruePeak as FastTruePeak

BLOCK = 1 << 16
_FLOOR = 1e-4
_EXCLUDE = 3


class FastClicks:
    """Click finder giving the same clicks as ClickDetector (order 3, +/- 5 ms, threshold 12).

    Parameters
    ----------
    sr : number
    channels : int
    threshold : float
    merge_s : float
        Detections closer than this to the previous one are the same click.
    """

    FRAME = 128

    def __init__(self, sr, channels: int, threshold: float = DEFAULT_CLICK_THRESHOLD,
                 merge_s: float = 0.01):
        self.sr = float(sr)
        self.h = max(_EXCLUDE + 2, int(round(5.0 * self.sr / 1000.0)))
        self.threshold = float(threshold)
        self.merge = merge_s
        self.ch = channels
        self.tail = np.zeros((channels, 0), dtype=np.float32)
        self.tail_start = 0  # absolute index of tail[:, 0]
        self.done = 0  # differences before this absolute index are evaluated
        self.score = 0.0
        self.clicks: list[tuple[float, float]] = []

    def update(self, x: np.ndarray, final: bool = False) -> None:
        """Add a (channels, n) block (``final`` for the last call)."""
        x = np.asarray(x, dtype=np.float32)
        buf = np.concatenate((self.tail, x), axis=1) if self.tail.shape[1] else x
        n = buf.shape[1]
        if n <= 3:
            self.tail = buf
            return
        # third difference (float32 for the frame bounds; flagged frames are recomputed
        # in float64): d[k] belongs to absolute frame tail_start + k
        d = buf[:, 3:] - buf[:, :-3] + 3.0 * (buf[:, 1:-2] - buf[:, 2:-1])
        m = d.shape[1]
        k0 = self.done - self.tail_start
        k1 = m if final else m - self.h - _EXCLUDE - 1
        F = max(8, min(self.FRAME, self.h))  # the +/- h window must cover a whole frame
        if k1 - k0 >= 1:
            nf = (k1 - k0) // F if not final else -(-(k1 - k0) // F)
            if nf > 0:
                k1 = min(m, k0 + nf * F)
                seg = d[:, k0:k1]
                pad = nf * F - seg.shape[1]
                if pad:
                    seg = np.pad(seg, ((0, 0), (0, pad)))
                fr = seg.reshape(self.ch, nf, F)
                mx = np.max(np.abs(fr), axis=2)
                pw = np.einsum("cfk,cfk->cf", fr, fr)
                # float32 rounding of d (relative 1e-6) cannot move a ratio across 0.1 %
                lower = np.sqrt(np.maximum(pw - 7.0 * mx * mx, 0.0) / (2 * self.h))
                bound = mx / (lower + _FLOOR) * 1.001
                flagged = np.flatnonzero(np.max(bound, axis=0) > self.threshold)
                for f in flagged:
                    self._exact(buf, k0 + f * F, min(k0 + (f + 1) * F, k1), m)
                self.done = self.tail_start + k1
        keep = max(0, (self.done - self.tail_start) - self.h - 8)
        self.tail = buf[:, keep:]
        self.tail_start += keep

    def _exact(self, buf, a, b, m) -> None:
        lo, hi = max(0, a - self.h - 1), min(m, b + self.h + 1)
        seg = np.diff(buf[:, lo : hi + 3].astype(np.float64), n=3, axis=1)
        p = seg * seg
        wide, narrow = 2 * self.h + 1, 2 * _EXCLUDE + 1
        tot = (ndimage.uniform_filter1d(p, wide, axis=1, mode="constant") * wide
               - ndimage.uniform_filter1d(p, narrow, axis=1, mode="constant") * narrow)
        i = np.arange(a, b)  # indices in d
        cnt = (np.minimum(i + self.h, m - 1) - np.maximum(i - self.h, 0)) - (
            np.minimum(i + _EXCLUDE, m - 1) - np.maximum(i - _EXCLUDE, 0))
        tot = tot[:, a - lo : b - lo]
        rms = np.sqrt(np.maximum(tot, 0) / np.maximum(cnt, 1))
        ratio = (np.abs(seg[:, a - lo : b - lo]) / (rms + _FLOOR)).max(axis=0)
        self.score = max(self.score, float(ratio.max()))
        for j in np.flatnonzero(ratio > self.threshold):
            t = (self.tail_start + a + j + 1.5) / self.sr
            if self.clicks and t - self.clicks[-1][0] <= self.merge:
                if ratio[j] > self.clicks[-1][1]:
                    self.clicks[-1] = (self.clicks[-1][0], float(ratio[j]))
                continue
            self.clicks.append((t, float(ratio[j])))

    def finish(self) -> None:
        """Evaluate the last samples."""
        self.update(np.zeros((self.ch, 0)), final=True)


class SpectrumStream:
    """One 4096-point Hann spectrum per second of audio given block by block.

    Keeps, per frame, the spectral centroid (20 Hz to Nyquist) and the power in 48
    log-spaced bands from 20 Hz (channel mean). Frames start at every whole second.
    """

    NFFT = 4096
    NBANDS = 48

    def __init__(self, sr, channels: int):
        self.sr = int(sr)
        nfft = self.NFFT
        self.win = np.hanning(nfft).astype(np.float32)
        self.freqs = np.fft.rfftfreq(nfft, 1.0 / self.sr)
        self.edges = np.geomspace(20.0, self.sr / 2, self.NBANDS + 1)
        self.band_of = np.searchsorted(self.edges, self.freqs, side="right") - 1
        self.valid = (self.band_of >= 0) & (self.band_of < self.NBANDS)
        self.sel = self.freqs >= 20.0
        self.next = 0
        self.carry = np.zeros((channels, 0), dtype=np.float32)
        self.carry_start = 0
        self.specs, self.cents, self.times = [], [], []

    def update(self, x: np.ndarray) -> None:
        """Add a (channels, n) block."""
        nfft, sr = self.NFFT, self.sr
        buf = np.concatenate((self.carry, x), axis=1) if self.carry.shape[1] else x
        end = self.carry_start + buf.shape[1]
        frames = []
        while self.next + nfft <= end:
            s = self.next - self.carry_start
            frames.append(buf[:, s : s + nfft])
            self.times.append((self.next + nfft / 2) / sr)
            self.next += sr
        if frames:
            fr = np.stack(frames, axis=1) * self.win  # (ch, k, nfft)
            pw = (np.abs(np.fft.rfft(fr, axis=-1)) ** 2).mean(axis=0)  # (k, bins)
            tot = pw[:, self.sel].sum(axis=1)
            with np.errstate(invalid="ignore", divide="ignore"):
                self.cents.append(np.where(tot > 0, pw[:, self.sel] @ self.freqs[self.sel]
                                           / tot, np.nan))
            bands = np.zeros((pw.shape[0], self.NBANDS))
            for j in range(pw.shape[0]):
                bands[j] = np.bincount(self.band_of[self.valid], pw[j, self.valid],
                                       minlength=self.NBANDS)
            self.specs.append(bands)
        keep_from = max(self.carry_start, min(self.next, end))
        self.carry = np.array(buf[:, keep_from - self.carry_start :], dtype=np.float32)
        self.carry_start = keep_from

    @property
    def centroid_hz(self) -> np.ndarray:
        return np.concatenate(self.cents) if self.cents else np.zeros(0)

    @property
    def times_s(self) -> np.ndarray:
        return np.array(self.times)

    @property
    def band_db(self) -> np.ndarray:
        return 10 * np.log10(np.maximum(np.concatenate(self.specs), 1e-20)) if self.specs \
            else np.zeros((0, self.NBANDS))

    @property
    def bands_hz(self) -> np.ndarray:
        return np.sqrt(self.edges[:-1] * self.edges[1:])


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
        tp = FastTruePeak(self.channels) if true_peak else None
        ck = FastClicks(sr, self.channels) if clicks else None
        hop = max(1, int(round(0.05 * sr)))
        rms: list[np.ndarray] = []
        acc = np.zeros(0)
        spec = SpectrumStream(sr, self.channels) if spectra else None
        pos = 0
        from ..measure.io import _reason
        from ..errors import AudioFileError

        try:
            f = sf.SoundFile(info.path)
        except Exception as exc:  # noqa: BLE001
            raise AudioFileError(f"cannot read ({_reason(exc)})", info.path) from None
        with f:
            while True:
                try:
                    data = f.read(BLOCK, dtype="float32", always_2d=True)
                except Exception as exc:  # noqa: BLE001
                    raise AudioFileError(f"read failed ({_reason(exc)})", info.path) from None
                if data.shape[0] == 0:
                    break
                x = np.ascontiguousarray(data.T)
                n = x.shape[1]
                if not np.all(np.isfinite(x)):
                    raise AudioFileError("holds NaN or infinite samples", info.path)
                if self.meter is not None:
                    self.meter.update(x)
                if tp is not None:
                    tp.update(x)
                if ck is not None:
                    ck.update(x)
                # 50 ms RMS
                p = np.einsum("cn,cn->n", x, x, dtype=np.float64) / x.shape[0]
                acc = np.concatenate((acc, p))
                whole = (acc.size // hop) * hop
                if whole:
                    rms.append(acc[:whole].reshape(-1, hop).mean(axis=1))
                    acc = acc[whole:]
                if spec is not None:
                    spec.update(x)
                pos += n
                if progress:
                    progress(pos, self.frames)
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
