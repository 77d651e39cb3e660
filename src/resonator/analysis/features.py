"""One streaming pass over an audio file: every feature the music analysis needs, bounded memory.

The audio is read in blocks at its own rate (loudness is measured there), resampled chunk by chunk
to 22.05 kHz (``soxr`` streaming resampler), and reduced on the fly to

- three onset-strength envelopes at ``FPS`` = 22050/128 = 172.3 frames/s: log-compressed mel
  spectral flux over all bands less ``FLUX_FLOOR`` (the ripple of a steady tone is no onset),
  magnitude flux of the mel bands below 300 Hz (bass onsets: kick drum, bass notes), and the
  same for the bands below 120 Hz (the kick drum without the snare's body);
- a 12-bin chroma (pitch-class energy, 110-2100 Hz, 4096-point frames) at ``CHROMA_FPS`` =
  22050/512 = 43.1 frames/s, for the harmonic-change (chord change) evidence of the metre;
- a channel-averaged amplitude envelope at ``ENV_SR`` = 22050/88 = 250.6 Hz (full-wave rectified,
  8th-order Butterworth low-pass at 100 Hz with carried state, decimated), for the modulation
  spectrum up to 64 Hz;
- each channel's average power spectrum below 1500 Hz (Hann, 2^17-point segments = 5.9 s,
  0.168 Hz bins, 50 % overlap), for binaural-beat detection;
- the treble flatness: the spectral flatness (geometric over arithmetic mean of the power) of
  the 3-10 kHz bins of each onset-analysis frame, averaged with the frames' 3-10 kHz energy as
  weights.
  Cymbals, hi-hats and snares are noise there (0.3-0.6 in a frame); pitched instruments put
  their treble energy in partials (0.01-0.1). None when that band holds less than
  ``TREBLE_MIN_SHARE`` (-27 dB) of all the energy. It is three running sums, the drum-kit
  evidence of :func:`resonator.analysis.drums.drum_kit`.

What is kept is float32, about 6.2 kB per second of audio (onsets 2.1 kB, envelope and peaks
2.0 kB, chroma 2.1 kB; an hour: about 22 MB, 18 MB without the plot-only peaks), whatever the
input rate or length, in :class:`~resonator.analysis.framewise.FrameStore` s: in arrays made
once at the input's expected size, or (``spill=True``, what :func:`features_from_file` does)
beyond 256 kB each in an anonymous temporary file, read back in slices
(:class:`~resonator.analysis.framewise.SpilledArray`): then the memory held does not grow with
the duration. The audio itself is never held whole. The analysis after the pass reads the
features block by block (:mod:`resonator.analysis.framewise`).
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass, field

import numpy as np
from scipy import fft as sfft
from scipy import signal

from ..errors import AudioFileError
from .framewise import FrameStore

SR = 22050
HOP = 128
N_FFT = 1024
FPS = SR / HOP
ENV_Q = 88
ENV_SR = SR / ENV_Q
SPEC_N = 1 << 17
SPEC_FMAX_HZ = 1500.0
N_MELS = 64
LOW_HZ = 300.0
KICK_HZ = 120.0
FLUX_LAG = 2
FLUX_FLOOR = 3e-3
READ_FRAMES = 1 << 16
CHROMA_N = 4096
CHROMA_HOP = 4 * HOP
CHROMA_FPS = SR / CHROMA_HOP
CHROMA_FMIN_HZ, CHROMA_FMAX_HZ = 110.0, 2100.0
TREBLE_HZ = (3000.0, 10000.0)
# of all the frames' energy: below it (-27 dB) the treble is too faint to judge (the spectral
# leakage of a pitched click is smooth, so flat; drum kits: 0.0009-0.37, 5th percentile 0.005)
TREBLE_MIN_SHARE = 2e-3


def chroma_filterbank(sr: float = SR, n_fft: int = CHROMA_N, fmin_hz: float = CHROMA_FMIN_HZ,
                      fmax_hz: float = CHROMA_FMAX_HZ) -> np.ndarray:
    """Pitch-class weights of the FFT bins: Gaussian around each semitone (0.25 semitone wide).

    Returns
    -------
    fb : np.ndarray [shape=(12, n_fft // 2 + 1)]
        Row ``c`` weights bins near pitch class ``c`` (0 = C); 0 outside [fmin_hz, fmax_hz].
    """
    f = np.fft.rfftfreq(n_fft, 1.0 / sr)
    ok = (f >= fmin_hz) & (f <= fmax_hz)
    midi = np.zeros_like(f)
    midi[ok] = 69.0 + 12.0 * np.log2(f[ok] / 440.0)
    near = np.round(midi)
    w = np.where(ok, np.exp(-0.5 * ((midi - near) / 0.25) ** 2), 0.0)
    fb = np.zeros((12, f.size))
    fb[(near.astype(int) % 12)[ok], np.flatnonzero(ok)] = w[ok]
    return fb.astype(np.float32)


def mel_filterbank(sr: float, n_fft: int, n_mels: int, fmin_hz: float = 30.0,
                   fmax_hz: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Triangular mel filters (HTK mel scale), unit peak.

    Parameters
    ----------
    sr : number > 0
        Sample rate in Hz.
    n_fft : int > 0
        FFT size in samples.
    n_mels : int > 0
        Number of bands.
    fmin_hz, fmax_hz : number, 0 <= fmin_hz < fmax_hz <= sr/2
        Band edges in Hz (fmax_hz defaults to sr/2).

    Returns
    -------
    fb : np.ndarray [shape=(n_mels, n_fft // 2 + 1)]
        Filter weights.
    centers_hz : np.ndarray [shape=(n_mels,)]
        Centre frequency of each band in Hz.
    """
    fmax_hz = sr / 2 if fmax_hz is None else fmax_hz

    def mel(f):
        return 2595.0 * np.log10(1.0 + np.asarray(f) / 700.0)

    def hz(m):
        return 700.0 * (10.0 ** (np.asarray(m) / 2595.0) - 1.0)

    edges = hz(np.linspace(mel(fmin_hz), mel(fmax_hz), n_mels + 2))
    bins = np.fft.rfftfreq(n_fft, 1.0 / sr)
    lo, c, hi = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    up = (bins[None, :] - lo) / np.maximum(c - lo, 1e-9)
    down = (hi - bins[None, :]) / np.maximum(hi - c, 1e-9)
    fb = np.clip(np.minimum(up, down), 0.0, None)
    return fb.astype(np.float32), edges[1:-1]


@dataclass
class Features:
    """What one pass over the audio leaves behind (all arrays small: a few per second).

    The per-frame arrays (``onset``, ``onset_low``, ``onset_kick``, ``chroma``, ``env``,
    ``peak``) are numpy arrays, or, from a spilling :class:`FeatureStream` (what
    :func:`features_from_file` makes), :class:`~resonator.analysis.framewise.SpilledArray` s
    when longer than a few hundred kB: the same values, read by slices (``x[a:b]``) or whole
    with ``np.asarray(x)``.

    Attributes
    ----------
    path : str or None
        Source file.
    sr_in : int
        The file's sample rate in Hz.
    channels : int
        The file's channel count.
    duration_s : float
        Duration in seconds.
    onset : np.ndarray [shape=(n_frames,)]
        All-band onset strength (float32), frame k at time ``k / FPS`` seconds.
    onset_low : np.ndarray [shape=(n_frames,)]
        Onset strength of the bands below 300 Hz (float32).
    onset_kick : np.ndarray [shape=(n_frames,)] or None
        Onset strength of the bands below 120 Hz (float32).
    chroma : np.ndarray [shape=(n_chroma, 12)]
        Pitch-class magnitudes (float32), frame k centred at ``k / CHROMA_FPS`` seconds.
    env : np.ndarray [shape=(m,)]
        Channel-averaged amplitude envelope at ``ENV_SR`` Hz (float32).
    peak : np.ndarray [shape=(m,) or (0,)]
        Largest absolute sample of the mono mix in each envelope hop (float32, for plots; empty
        when the extraction was asked for no peaks).
    spec_freqs_hz : np.ndarray [shape=(k,)]
        Frequencies of the long-term spectra, 0 to 1500 Hz.
    spec : np.ndarray [shape=(channels, k)]
        Average power spectrum of each channel (Hann, 2^17 points at 22.05 kHz).
    loudness : dict
        ``integrated_lufs``, ``loudness_range_lu``, ``true_peak_dbtp`` (None when too short).
    treble_flatness : float or None
        Energy-weighted spectral flatness of the 3-10 kHz band (0-1; None when that band holds
        less than ``TREBLE_MIN_SHARE`` of the energy): noise-like treble (a drum kit's cymbals,
        hats and snares) against partials.
    """

    path: str | None
    sr_in: int
    channels: int
    duration_s: float
    onset: np.ndarray
    onset_low: np.ndarray
    env: np.ndarray
    peak: np.ndarray
    spec_freqs_hz: np.ndarray
    spec: np.ndarray
    loudness: dict = field(default_factory=dict)
    fps: float = FPS
    env_sr: float = ENV_SR
    chroma: np.ndarray | None = None
    chroma_fps: float = CHROMA_FPS
    onset_kick: np.ndarray | None = None
    treble_flatness: float | None = None


class FeatureStream:
    """Streaming feature extractor: feed blocks of audio in time order, then :meth:`finish`.

    Parameters
    ----------
    sr : number > 0
        Sample rate of the blocks in Hz.
    channels : int >= 1
        Channel count of the blocks.
    loudness : bool
        Measure loudness (integrated, range, true peak) at the input rate.
    peaks : bool
        Keep the per-hop sample peaks (``Features.peak``, used by plots only).
    frames : int >= 0, optional
        The input's expected length in frames, if known: the features' arrays are made at
        their size once (:class:`FrameStore`).
    spill : bool
        Keep at most a few hundred kB of each feature in memory, the rest in an anonymous
        temporary file (:class:`~resonator.analysis.framewise.FrameStore`): memory that does
        not grow with the duration. The features are then
        :class:`~resonator.analysis.framewise.SpilledArray` s beyond that size; the values
        and every result from them are the same.
    """

    def __init__(self, sr: float, channels: int, *, loudness: bool = True, peaks: bool = True,
                 frames: int | None = None, spill: bool = False):
        self.sr_in = float(sr)
        seconds = max(0, int(frames or 0)) / self.sr_in
        self._peaks = bool(peaks)
        self.channels = int(channels)
        self.n_in = 0
        self._meter = None
        if loudness:
            from ..measure.loudness import LoudnessMeter

            self._meter = LoudnessMeter(self.sr_in, self.channels, frames=frames)
        self._rs = None
        if abs(self.sr_in - SR) > 1e-9:
            import soxr

            self._rs = soxr.ResampleStream(self.sr_in, SR, self.channels, dtype="float32", quality="HQ")
        # onset framing
        self._win = signal.windows.hann(N_FFT, sym=False).astype(np.float32)
        self._fb, centers = mel_filterbank(SR, N_FFT, N_MELS, 30.0, SR / 2)
        self._low = centers < LOW_HZ
        self._kick = np.flatnonzero(centers[self._low] < KICK_HZ)  # within the bass bands
        self._buf = np.zeros(N_FFT // 2, dtype=np.float32)  # centred frames
        self._prev = None  # last FLUX_LAG log-mel frames
        rows = int(seconds * FPS) + 16
        self._onset, self._onset_low, self._onset_kick = (FrameStore(rows, spill=spill)
                                                           for _ in range(3))
        bins = np.fft.rfftfreq(N_FFT, 1.0 / SR)
        self._treble = slice(int(np.searchsorted(bins, TREBLE_HZ[0])),
                             int(np.searchsorted(bins, TREBLE_HZ[1], side="right")))
        self._treble_sums = [0.0, 0.0, 0.0]  # sum of energy * flatness, of energy, of all energy
        # chroma framing (centred frames, 4x the onset hop)
        self._cwin = signal.windows.hann(CHROMA_N, sym=False).astype(np.float32)
        self._cfb = chroma_filterbank()
        self._cbins = np.flatnonzero(self._cfb.any(axis=0))
        self._cfb = np.ascontiguousarray(self._cfb[:, self._cbins].T)
        self._cbuf = np.zeros(CHROMA_N // 2, dtype=np.float32)
        self._chroma = FrameStore(int(seconds * CHROMA_FPS) + 16, 12, spill=spill)
        # envelope
        self._sos = signal.butter(8, 100.0, fs=SR, output="sos")
        self._zi = np.zeros((self._sos.shape[0], self.channels, 2))
        self._env_phase = 0
        self._env = FrameStore(int(seconds * ENV_SR) + 16, spill=spill)
        self._peak = FrameStore(int(seconds * ENV_SR) + 16 if self._peaks else 0, spill=spill)
        # long-term spectra
        self._sbuf = np.zeros((self.channels, 0), dtype=np.float32)
        self._swin = signal.windows.hann(SPEC_N, sym=False).astype(np.float32)
        self._nbins = int(SPEC_FMAX_HZ * SPEC_N / SR) + 2
        self._spec = np.zeros((self.channels, self._nbins))
        self._nspec = 0
        self._tail = None  # short inputs: keep the whole (short) signal for one zero-padded segment

    # -- input --------------------------------------------------------------------------------
    def update(self, block: np.ndarray) -> None:
        """Feed a block.

        Parameters
        ----------
        block : np.ndarray [shape=(n, channels)]
            Audio samples (float), frames first, as soundfile returns them.
        """
        block = self._as_block(block)
        if block.shape[0]:
            y = self._resample(block)
            self._measure(block, y)
            self._extract(y)

    @staticmethod
    def _as_block(block) -> np.ndarray:
        block = np.asarray(block, dtype=np.float32)
        return block[:, None] if block.ndim == 1 else block

    def _resample(self, block: np.ndarray) -> np.ndarray:
        """The block at 22.05 kHz, (channels, m) contiguous."""
        self.n_in += block.shape[0]
        y = self._rs.resample_chunk(block) if self._rs is not None else block
        return np.ascontiguousarray(y.T)

    def _measure(self, block: np.ndarray, y: np.ndarray) -> None:
        """The loudness (at the input rate) and the long-term spectra of :meth:`update`:
        independent of the rest, so they may run on another thread, block after block."""
        if self._meter is not None:
            self._meter.update(block.T)
        if y.shape[1]:
            self._spectrum(y)

    def _extract(self, y: np.ndarray) -> None:
        """The onsets, chroma and envelope of :meth:`update` (``y`` from :meth:`_resample`)."""
        if y.shape[1]:
            mono = y.mean(axis=0)
            self._frames(mono)
            self._chroma_frames(mono)
            self._envelope(y, mono)

    def feed(self, blocks, progress=None) -> None:
        """:meth:`update` with every block of an iterable, the loudness meter and the
        long-term spectra on a second thread beside the rest (the same calls in the same
        order: the same results). ``progress()`` is called after each block."""
        from ..pipeline import pipeline

        def items():
            for block in blocks:
                block = self._as_block(block)
                if block.shape[0]:
                    y = self._resample(block)
                    yield block, y
                    self._extract(y)
                if progress is not None:
                    progress()

        pipeline(items(), self._measure)

    def _process(self, y: np.ndarray) -> None:
        if y.shape[0]:
            y = np.ascontiguousarray(y.T)  # (channels, m)
            self._extract(y)
            self._spectrum(y)

    def _frames(self, mono: np.ndarray, final: bool = False) -> None:
        buf = np.concatenate((self._buf, mono))
        real = buf.size
        if final:
            buf = np.concatenate((buf, np.zeros(N_FFT // 2, dtype=np.float32)))
        n = 0 if buf.size < N_FFT else 1 + (buf.size - N_FFT) // HOP
        if n:
            fr = np.lib.stride_tricks.sliding_window_view(buf, N_FFT)[: n * HOP : HOP] * self._win
            mag = np.abs(sfft.rfft(fr, axis=1)).astype(np.float32) ** 2
            mel = mag @ self._fb.T  # (n, mels) power
            self._treble_flatness(mag)
            # all bands: log-compressed flux (level independent); bass bands: flux of the
            # magnitude (square root of power), so loud bass hits outweigh the faint low
            # end of bright sounds
            lm = np.concatenate((np.log1p(1e4 * mel), np.sqrt(mel[:, self._low])), axis=1)
            if self._prev is None:
                self._prev = np.repeat(lm[:1], FLUX_LAG, axis=0)
            full = np.concatenate((self._prev, lm))
            ref = full[:-FLUX_LAG, :N_MELS]
            # SuperFlux-style: compare with the max of the neighbouring bands in the earlier frame
            ref = np.maximum(ref, np.maximum(np.roll(ref, 1, axis=1), np.roll(ref, -1, axis=1)))
            d = np.maximum(full[FLUX_LAG:, :N_MELS] - ref, 0.0)
            dl = np.maximum(full[FLUX_LAG:, N_MELS:] - full[:-FLUX_LAG, N_MELS:], 0.0)
            # below FLUX_FLOOR is the frame-to-frame ripple of steady tones (1e-6 to 2e-3 for
            # sines from 110 Hz up), not onsets: music's onsets reach 0.3-2.4
            o, ol = np.maximum(d.mean(axis=1) - FLUX_FLOOR, 0.0), dl.sum(axis=1)
            ok = dl[:, self._kick].sum(axis=1)
            if final:
                # frames reaching into the zero padding see the input stop: that cut splashes
                # flux over every band (a steady tone's false last onset), so they get none
                cut = np.arange(n) * HOP + N_FFT > real
                o[cut], ol[cut], ok[cut] = 0.0, 0.0, 0.0
            self._onset.append(o)
            self._onset_low.append(ol)
            self._onset_kick.append(ok)
            self._prev = full[-FLUX_LAG:]
        self._buf = buf[n * HOP:]

    def _treble_flatness(self, mag: np.ndarray) -> None:
        self._treble_sums[2] += float(mag.sum(dtype=np.float64))
        power = mag[:, self._treble]
        e = power.sum(axis=1, dtype=np.float64)
        ok = e > 0
        if not ok.any():
            return
        p = power[ok] + np.float32(1e-20)
        flat = np.exp(np.log(p).mean(axis=1, dtype=np.float64)) / p.mean(axis=1, dtype=np.float64)
        self._treble_sums[0] += float(np.dot(e[ok], flat))
        self._treble_sums[1] += float(e[ok].sum())

    def _chroma_frames(self, mono: np.ndarray, final: bool = False) -> None:
        buf = np.concatenate((self._cbuf, mono))
        if final:
            buf = np.concatenate((buf, np.zeros(CHROMA_N // 2, dtype=np.float32)))
        n = 0 if buf.size < CHROMA_N else 1 + (buf.size - CHROMA_N) // CHROMA_HOP
        if n:
            fr = np.lib.stride_tricks.sliding_window_view(buf, CHROMA_N)[: n * CHROMA_HOP: CHROMA_HOP]
            mag = np.abs(sfft.rfft(fr * self._cwin, axis=1)[:, self._cbins]).astype(np.float32)
            self._chroma.append(mag @ self._cfb)
        self._cbuf = buf[n * CHROMA_HOP:]

    def _envelope(self, y: np.ndarray, mono: np.ndarray) -> None:
        r, self._zi = signal.sosfilt(self._sos, np.abs(y), axis=1, zi=self._zi)
        r = r.mean(axis=0)
        start = (-self._env_phase) % ENV_Q
        self._env.append(r[start::ENV_Q].astype(np.float32))
        if not self._peaks:
            self._env_phase = (self._env_phase + y.shape[1]) % ENV_Q
            return
        # block peaks aligned to the same hop
        a = np.abs(mono)
        idx = np.arange(start, a.size, ENV_Q)
        if idx.size:
            self._peak.append(np.maximum.reduceat(a, idx) if a.size else a[:0])
        self._env_phase = (self._env_phase + y.shape[1]) % ENV_Q

    def _spectrum(self, y: np.ndarray, final: bool = False) -> None:
        self._sbuf = np.concatenate((self._sbuf, y), axis=1)
        hop = SPEC_N // 2
        while self._sbuf.shape[1] >= SPEC_N:
            seg = self._sbuf[:, :SPEC_N] * self._swin
            self._spec += np.abs(sfft.rfft(seg, axis=1)[:, : self._nbins]) ** 2
            self._nspec += 1
            self._sbuf = self._sbuf[:, hop:]
        if final and self._nspec == 0 and self._sbuf.shape[1] > 0:
            # shorter than one segment: one zero-padded segment with a window of its own length
            m = self._sbuf.shape[1]
            seg = self._sbuf * signal.windows.hann(m, sym=False)
            self._spec += np.abs(np.fft.rfft(seg, n=SPEC_N, axis=1)[:, : self._nbins]) ** 2
            self._nspec = 1

    # -- output -------------------------------------------------------------------------------
    def finish(self, path: str | None = None) -> Features:
        """Flush the resampler and the framers and return the :class:`Features`."""
        if self._rs is not None:
            self._process(self._rs.resample_chunk(np.zeros((0, self.channels), np.float32), last=True))
        self._frames(np.zeros(0, np.float32), final=True)
        self._chroma_frames(np.zeros(0, np.float32), final=True)
        self._spectrum(np.zeros((self.channels, 0), np.float32), final=True)

        duration = self.n_in / self.sr_in
        nfr = int(math.floor(duration * FPS)) + 1
        onset = self._onset.array(nfr)
        onset_low = self._onset_low.array(nfr)
        onset_kick = self._onset_kick.array(nfr)
        env = self._env.array()
        peak = self._peak.array(env.size)
        spec = self._spec / max(self._nspec, 1)
        ncf = int(math.floor(duration * CHROMA_FPS)) + 1
        chroma = self._chroma.array(ncf)
        freqs = np.arange(self._nbins) * SR / SPEC_N
        loud = {"integrated_lufs": None, "loudness_range_lu": None, "true_peak_dbtp": None}
        if self._meter is not None:
            def finite(v):
                v = float(v)
                return round(v, 2) if math.isfinite(v) else None

            loud = {
                "integrated_lufs": finite(self._meter.integrated()),
                "loudness_range_lu": finite(self._meter.loudness_range()),
                "true_peak_dbtp": finite(self._meter.true_peak_dbtp()),
            }
        num, den, whole = self._treble_sums
        return Features(path, int(round(self.sr_in)), self.channels, duration, onset, onset_low,
                        env, peak, freqs, spec, loud, chroma=chroma, onset_kick=onset_kick,
                        treble_flatness=num / den if den > TREBLE_MIN_SHARE * whole > 0 else None)


def features_from_signal(x: np.ndarray, sr: float, *, loudness: bool = True,
                         peaks: bool = True, spill: bool = False) -> Features:
    """Run :class:`FeatureStream` over an in-memory signal.

    Parameters
    ----------
    x : np.ndarray [shape=(n,) or (channels, n)]
        Audio samples.
    sr : number > 0
        Sample rate in Hz.
    loudness : bool
        Measure loudness.
    peaks : bool
        Keep the per-hop sample peaks (plots only).
    spill : bool
        Keep the longer features in a temporary file (:class:`FeatureStream`).

    Returns
    -------
    Features
    """
    x = np.asarray(x, dtype=np.float32)
    if x.ndim == 1:
        x = x[None, :]
    fs = FeatureStream(sr, x.shape[0], loudness=loudness, peaks=peaks, frames=x.shape[1],
                       spill=spill)
    fs.feed(x[:, i:i + READ_FRAMES].T for i in range(0, x.shape[1], READ_FRAMES))
    return fs.finish()


def features_from_file(path, *, loudness: bool = True, block_frames: int = READ_FRAMES,
                       peaks: bool = True, progress=None, spill: bool = True) -> Features:
    """Read an audio file block by block and extract its :class:`Features`.

    Parameters
    ----------
    path : str or os.PathLike
        WAV, FLAC, OGG or MP3 file (anything libsndfile reads), any rate, any channel count.
    loudness : bool
        Measure loudness at the file's own rate.
    block_frames : int > 0
        Frames read per block.
    peaks : bool
        Keep the per-hop sample peaks (plots only; 3.4 MB an hour).
    progress : callable(stage, done, total), optional
        Called after each block with ``("reading", frames read, frames in the file)``
        (:class:`resonator.progress.TerminalProgress` draws it).
    spill : bool
        Keep each feature beyond a few hundred kB in an anonymous temporary file (the
        default: memory flat in the duration; :class:`FeatureStream`).

    Raises
    ------
    AudioFileError
        The file is missing, unreadable, empty or not audio.
    """
    import soundfile as sf

    from ..measure.io import read_frames

    p = str(path)
    if os.path.exists(p) and not (os.path.isfile(p) or os.path.isdir(p)):
        # opening a FIFO with no writer would wait for ever
        raise AudioFileError("is a device, pipe or socket, not an audio file", p)
    try:
        f = sf.SoundFile(p)
    except Exception as exc:  # soundfile raises LibsndfileError / RuntimeError / OSError
        detail = str(exc).split(":")[-1].strip() or type(exc).__name__
        raise AudioFileError(
            f"cannot read audio ({detail}); allowed: WAV, FLAC, OGG/Vorbis, MP3 and other formats "
            "libsndfile reads", p) from None
    with f:
        if f.frames == 0 and f.seekable():
            raise AudioFileError("the file holds no audio frames", p)
        fs = FeatureStream(f.samplerate, f.channels, loudness=loudness, peaks=peaks,
                           frames=f.frames if f.seekable() and 0 < f.frames < 1 << 40 else None,
                           spill=spill)

        def blocks():
            while True:
                try:
                    block = read_frames(f, block_frames)  # (not f.read: MP3, see read_frames)
                except Exception as exc:  # a damaged file: say where it broke
                    raise AudioFileError(f"reading failed after {fs.n_in / f.samplerate:.1f} "
                                         f"s ({exc})", p) from None
                if block.shape[0] == 0:
                    return
                if not np.isfinite(block).all():
                    raise AudioFileError("the audio contains NaN or infinite samples", p)
                yield block

        fs.feed(blocks(), None if progress is None else
                lambda: progress("reading", fs.n_in, max(f.frames, fs.n_in)))
    if fs.n_in == 0:
        raise AudioFileError("the file holds no audio frames", p)
    return fs.finish(p)
